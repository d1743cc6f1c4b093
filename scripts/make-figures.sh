#!/usr/bin/env bash
# `npm run figures`: the README's pictures and docs/report/, remade from committed inputs:
#   1. `ofql-eval report` over the reference results in docs/results/ (hopper and halfcheetah
#      medium: behaviour, BC, OFQL one-step, OFQL dql) -> docs/report/{report.md,report.html,report.json,figures/*.svg};
#   2. a recorded episode of the committed OFQL hopper checkpoint, its replay page
#      (not kept) and a screenshot of it (docs/img/replay-hopper.png).
# Needs the build (npm run build) and, for the screenshot, Chromium (/usr/bin/chromium or $CHROMIUM_PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=(node dist/src/cli.js)
shopt -s nullglob
inputs=(docs/results/{hopper,halfcheetah}-medium-{behaviour,bc-one-step,ofql-one-step,ofql-dql}.json)
"${CLI[@]}" report "${inputs[@]}" -o docs/report --format md html json svg
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"${CLI[@]}" --ckpt eval/checkpoints/ofql-hopper-medium --episodes 2 --record 1 --progress off --json "$tmp/r.json" > /dev/null
"${CLI[@]}" view "$tmp/r.json" -o "$tmp/replay-hopper.html"
mkdir -p docs/img
node dist/scripts/screenshot.js "$tmp/replay-hopper.html" docs/img/replay-hopper.png --step 150 --width 1220 --height 620
