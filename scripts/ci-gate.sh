#!/usr/bin/env bash
# Score-regression gate of this repository (run by .ci/run after the tests; `npm run gate`):
#   1. every reference checkpoint in eval/checkpoints/ is evaluated and compared with its committed
#      baseline in eval/baselines/ (ofql-eval regress: one-sided Welch t-test, alpha 0.01, min effect 2);
#      it must pass;
#   2. negative control: a deliberately degraded copy of the hopper checkpoint (actor weights + noise,
#      eval/gate/negative-control.ts) must be reported as a regression (exit 1, not 0 and not 2).
# GATE_EPISODES (default 100) episodes per checkpoint; reports (Markdown, JUnit XML, JSON) go to
# GATE_OUT (default: a temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."
EPISODES="${GATE_EPISODES:-100}"
OUT="${GATE_OUT:-$(mktemp -d -t ofql-gate-XXXXXX)}"
DEGRADE_SCALE="${GATE_DEGRADE_SCALE:-0.05}"
CLI=(node dist/src/cli.js)
mkdir -p "$OUT"
echo "score-regression gate: $EPISODES episodes per checkpoint; reports in $OUT"

shopt -s nullglob
baselines=(eval/baselines/*.json)
[ "${#baselines[@]}" -gt 0 ] || { echo "gate: no baselines in eval/baselines/" >&2; exit 1; }
for baseline in "${baselines[@]}"; do
  name="$(basename "$baseline" .json)"
  ckpt="eval/checkpoints/$name"
  [ -d "$ckpt" ] || { echo "gate: $baseline has no checkpoint directory $ckpt" >&2; exit 1; }
  echo "== $name"
  "${CLI[@]}" regress --baseline "$baseline" --ckpt "$ckpt" --episodes "$EPISODES" --progress off \
    --markdown "$OUT/$name.md" --junit "$OUT/$name.xml" --json "$OUT/$name.json"
done

echo "== negative control: eval/checkpoints/ofql-hopper-medium with actor noise $DEGRADE_SCALE x RMS"
node dist/scripts/degrade-checkpoint.js --in eval/checkpoints/ofql-hopper-medium --out "$OUT/degraded-ofql-hopper-medium" \
  --scale "$DEGRADE_SCALE" --seed 0
set +e
"${CLI[@]}" regress --baseline eval/baselines/ofql-hopper-medium.json --ckpt "$OUT/degraded-ofql-hopper-medium" \
  --episodes "$EPISODES" --progress off --markdown "$OUT/negative-control.md" --junit "$OUT/negative-control.xml"
code=$?
set -e
if [ "$code" -ne 1 ]; then
  echo "gate: the negative control was NOT caught (regress exited $code, expected 1): the gate cannot see a broken policy" >&2
  exit 1
fi
echo "gate: OK (reference checkpoints pass; the degraded checkpoint is caught)"
