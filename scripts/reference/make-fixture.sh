#!/usr/bin/env bash
# Write test/fixtures/gym-models-mujoco222.json: the compiled arrays of gym 0.19.0's four
# locomotion models (assets/gym-original/*.xml) as native MuJoCo 2.2.2 compiles them, keyed by
# model name. Needs gcc and Debian's native MuJoCo 2.2.2 (libmujoco-dev).
#
# hopper.xml and walker2d.xml go through gym_fixup (lib.sh) first: 2.2.2 rejects their
# arithmetic foot positions ("0.13/2 0 0.1"), which MuJoCo <= 2.2.0 read as "0.13 0 0".
# half_cheetah.xml and ant.xml are compiled as they are.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"
build_reference_tool dump-model

out="$root/test/fixtures/gym-models-mujoco222.json"
mkdir -p "$(dirname "$out")"
{
  echo '{'
  echo '"about": "Compiled gym 0.19.0 locomotion models (assets/gym-original/*.xml) as native MuJoCo 2.2.2 compiles them; written by scripts/reference/make-fixture.sh with scripts/reference/dump-model.c. hopper and walker2d: arithmetic foot positions replaced first (scripts/reference/lib.sh, gym_fixup). Arrays are flat, row-major, as in mjModel.",'
  echo '"models": {'
  sep=''
  for name in hopper walker2d half_cheetah ant; do
    gym_fixup "$name" "$root/assets/gym-original/$name.xml" "$tmp/$name.xml"
    printf '%s"%s": ' "$sep" "$name"
    "$tmp/dump-model" "$tmp/$name.xml"
    sep=','
  done
  echo '}'
  echo '}'
} >"$tmp/fixture.json"
# validate before replacing the committed file
node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$tmp/fixture.json"
cp "$tmp/fixture.json" "$out"
echo "wrote ${out#"$root"/}"
