# Shared by convert-models.sh and make-fixture.sh (source it; it defines functions only).
#
# gym 0.19.0's hopper.xml and walker2d.xml contain a body position written as an arithmetic
# expression, which no MuJoCo evaluates:
#   hopper.xml:    <body name="foot"      pos="0.13/2 0 0.1">
#   walker2d.xml:  <body name="foot"      pos="0.2/2 0 0.1">
#                  <body name="foot_left" pos="0.2/2 0 0.1">
# MuJoCo <= 2.2.0 (the versions gym 0.19, mujoco-py and D4RL ran) read such an attribute with
# `istringstream >> double` three times: the first read takes "0.13" and stops at '/', the
# second fails on '/' (a failed read stores 0) and the third is skipped because the stream is
# in the fail state, leaving the value the compiler initialised (0). No error was raised, so
# those models were compiled with pos="0.13 0 0" (hopper) and pos="0.2 0 0" (walker2d). See
# mjXUtil::ReadAttr in src/xml/xml_util.cc and mjCBody's constructor in src/user/user_objects.cc
# (pos = {NaN, 0, 0}, NaN meaning "not given") in MuJoCo 2.1.1, the first release published as
# source (2.0 and 2.1.0, which mujoco-py ran, were binary-only; the reader is assumed the same).
# MuJoCo 2.2.1 made attribute parsing strict (commit f3453cf, "Stricter parsing of XML array
# attributes"), so 2.2.2 rejects the file with "problem reading attribute 'pos'".
#
# gym_fixup NAME IN OUT writes IN to OUT with exactly those attributes replaced by the values
# MuJoCo <= 2.2.0 used; for half_cheetah and ant it copies IN unchanged. Because the models
# use coordinate="global", a body's pos only places the body's own frame: joint positions,
# geoms and inertia are given in global coordinates, so the dynamics do not depend on it.
gym_fixup() {
  local name="$1" in="$2" out="$3" expect
  case "$name" in
    hopper)
      sed 's#<body name="foot" pos="0.13/2 0 0.1">#<body name="foot" pos="0.13 0 0">#' "$in" >"$out"
      expect=1 ;;
    walker2d)
      sed -e 's#<body name="foot" pos="0.2/2 0 0.1">#<body name="foot" pos="0.2 0 0">#' \
          -e 's#<body name="foot_left" pos="0.2/2 0 0.1">#<body name="foot_left" pos="0.2 0 0">#' "$in" >"$out"
      expect=2 ;;
    half_cheetah | ant)
      cp "$in" "$out"
      expect=0 ;;
    *)
      echo "gym_fixup: unknown model $name" >&2
      return 1 ;;
  esac
  local changed
  changed=$(diff "$in" "$out" | grep -c '^>' || true)
  if [ "$changed" != "$expect" ]; then
    echo "gym_fixup: expected $expect changed lines in $name, got $changed (is $in gym 0.19.0's file?)" >&2
    return 1
  fi
  if grep -qE '="[^"]*[0-9]/[0-9]' "$out"; then
    echo "gym_fixup: $out still has an arithmetic attribute value" >&2
    return 1
  fi
}

# Fail early with a helpful message if native MuJoCo 2.2.2 (Debian's libmujoco-dev) is missing.
require_native_mujoco() {
  if [ ! -f /usr/include/mujoco/mujoco.h ]; then
    echo "native MuJoCo headers not found (/usr/include/mujoco/mujoco.h): apt-get install libmujoco-dev" >&2
    return 1
  fi
  local v
  v=$(sed -n 's/^#define mjVERSION_HEADER \([0-9]*\).*/\1/p' /usr/include/mujoco/mujoco.h)
  if [ "$v" != "222" ]; then
    echo "expected native MuJoCo 2.2.2 (mjVERSION_HEADER 222), found $v" >&2
    return 1
  fi
}

# build_reference_tool NAME: the setup both scripts share. Checks for native MuJoCo 2.2.2, makes a
# temporary directory $tmp (removed on exit) and compiles scripts/reference/NAME.c into $tmp/NAME.
build_reference_tool() {
  require_native_mujoco
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  gcc -O2 -Wall -o "$tmp/$1" "$(dirname "${BASH_SOURCE[0]}")/$1.c" -lmujoco -lm
}
