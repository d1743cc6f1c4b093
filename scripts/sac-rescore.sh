#!/usr/bin/env bash
# The late snapshots of a SAC run re-evaluated over more episodes than the run's own 10: its
# deterministic policy (policy-mean.onnx) through ofql-eval, run seed 0, one Markdown row per
# snapshot. docs/sac.md uses it to check which snapshot make-datasets' --sac-expert best picks.
#
#   bash scripts/sac-rescore.sh --env walker2d [--from 300000] [--to <step>] [--episodes 50] [--runs data/sac-runs] [--seed 0] [--out DIR]
#
# Result files go to <out>/<env>-step-<N>.json (default: a temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."
ENV_NAME='' FROM=300000 TO='' EPISODES=50 RUNS=data/sac-runs SEED=0 OUT=''
while [ $# -gt 0 ]; do
  case "$1" in
    --env) ENV_NAME=$2 ;;
    --from) FROM=$2 ;;
    --to) TO=$2 ;;
    --episodes) EPISODES=$2 ;;
    --runs) RUNS=$2 ;;
    --seed) SEED=$2 ;;
    --out) OUT=$2 ;;
    *) echo "sac-rescore: unknown flag '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
  shift 2
done
[ -n "$ENV_NAME" ] || { echo 'sac-rescore: give --env (e.g. --env walker2d)' >&2; exit 2; }
RUN="$RUNS/$ENV_NAME-s$SEED"
[ -d "$RUN" ] || { echo "sac-rescore: --runs: no SAC run $RUN (npm run sac:train -- --env $ENV_NAME --out $RUN)" >&2; exit 2; }
[ -n "$OUT" ] || OUT=$(mktemp -d)
mkdir -p "$OUT"
echo "| snapshot | run's evaluation (10 episodes) | normalised, $EPISODES episodes [95 % CI] | mean return | mean length |"
echo '|---|---:|---:|---:|---:|'
for snap in "$RUN"/step-*; do
  step=$((10#${snap##*step-}))
  [ "$step" -ge "$FROM" ] || continue
  [ -z "$TO" ] || [ "$step" -le "$TO" ] || continue
  json="$OUT/$ENV_NAME-step-$step.json"
  node dist/src/cli.js --env "$ENV_NAME-medium-v2" --policy "$snap/policy-mean.onnx" --episodes "$EPISODES" --seed 0 \
    --workers 1 --progress off --json "$json" > /dev/null
  node -e '
    const [json, cfg, step] = process.argv.slice(1);
    const s = JSON.parse(require("fs").readFileSync(json, "utf8")).results[0].summary;
    const run = JSON.parse(require("fs").readFileSync(cfg, "utf8")).evalReturn;
    const f = (x, d) => x.toFixed(d);
    console.log(`| ${Number(step).toLocaleString("en-US")} | ${f(run, 0)} | ${f(s.normalizedMean, 1)} [${f(s.normalizedCi95[0], 1)}, ${f(s.normalizedCi95[1], 1)}] | ${f(s.returnMean, 0)} | ${f(s.lengthMean, 0)} |`);
  ' "$json" "$snap/config.json" "$step"
done
