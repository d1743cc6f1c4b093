#!/usr/bin/env bash
# Regenerate assets/{hopper,walker2d,half_cheetah,ant}.xml from gym 0.19.0's originals in
# assets/gym-original/. Needs gcc and Debian's native MuJoCo 2.2.2 (libmujoco-dev).
#
#   half_cheetah.xml, ant.xml: copied unchanged (they use local coordinates already).
#   hopper.xml, walker2d.xml:  coordinate="global", which MuJoCo >= 2.3.4 rejects, so:
#     1. pre-process: gym_fixup (lib.sh) replaces the arithmetic foot positions ("0.13/2 0 0.1")
#        with the values MuJoCo <= 2.2.0 actually read ("0.13 0 0"); 2.2.2 rejects the original;
#     2. convert-global (convert-global.c): compile with MuJoCo 2.2.2, mj_saveLastXML in local
#        coordinates at full precision, numbers respelled in their shortest exact form;
#     3. post-process: drop the <size njmax="500" nconmax="100"/> line that 2.2.2 writes (its
#        own defaults; gym's file has no <size>, and in MuJoCo 3.x these are memory settings
#        with other semantics), and prepend a provenance comment.
# test/model-equivalence.test.ts proves the result compiles (in @mujoco/mujoco 3.x) to the
# same model as MuJoCo 2.2.2 compiles from the original (test/fixtures/gym-models-mujoco222.json).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"
build_reference_tool convert-global

for name in half_cheetah ant; do
  cp "$root/assets/gym-original/$name.xml" "$root/assets/$name.xml"
  echo "assets/$name.xml: copied unchanged"
done

for name in hopper walker2d; do
  gym_fixup "$name" "$root/assets/gym-original/$name.xml" "$tmp/$name.fixed.xml"
  "$tmp/convert-global" "$tmp/$name.fixed.xml" "$tmp/$name.saved.xml"
  if [ "$(grep -c '^  <size njmax="500" nconmax="100"/>$' "$tmp/$name.saved.xml")" != 1 ]; then
    echo "convert-models: expected one '<size njmax=\"500\" nconmax=\"100\"/>' line in the saved $name.xml" >&2
    exit 1
  fi
  {
    cat <<COMMENT
<!--
  gym 0.19.0 $name.xml (MIT licence: assets/gym-original/LICENSE-gym.md), converted from
  coordinate="global" to local coordinates by scripts/reference/convert-models.sh: compiled
  with MuJoCo 2.2.2 and written back with mj_saveLastXML (angles in radians, fromto turned
  into pos/quat/size). Generated file, do not edit; see assets/README.md.
-->
COMMENT
    grep -v '^  <size njmax="500" nconmax="100"/>$' "$tmp/$name.saved.xml"
    # mj_saveLastXML ends the file without a newline
    echo
  } >"$root/assets/$name.xml"
  echo "assets/$name.xml: converted to local coordinates"
done
