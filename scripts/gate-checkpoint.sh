#!/usr/bin/env bash
# A reference checkpoint for the score-regression gate (scripts/ci-gate.sh) from one of the
# project's datasets: train OFQL (resumable), export the final checkpoint into
# eval/checkpoints/ofql-<env>-<dataset>, evaluate it over 150 episodes into
# docs/results/gate/<env>-<dataset>-ofql.json, and record that as its baseline in
# eval/baselines/ofql-<env>-<dataset>.json. The gate then evaluates the checkpoint on every CI run.
#
#   bash scripts/gate-checkpoint.sh --env walker2d --dataset medium --source sac [--steps 30000] [--eta 0.01] [--seed 0]
#
# Needs data/<env>-<dataset>-<source>.hdf5 (npm run datasets [-- --source sac]) and a build.
set -euo pipefail
cd "$(dirname "$0")/.."
ENV_NAME='' DATASET=medium SOURCE=sac STEPS=30000 ETA=0.01 SEED=0
while [ $# -gt 0 ]; do
  case "$1" in
    --env) ENV_NAME=$2 ;;
    --dataset) DATASET=$2 ;;
    --source) SOURCE=$2 ;;
    --steps) STEPS=$2 ;;
    --eta) ETA=$2 ;;
    --seed) SEED=$2 ;;
    *) echo "gate-checkpoint: unknown flag '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
  shift 2
done
[ -n "$ENV_NAME" ] || { echo 'gate-checkpoint: give --env (e.g. --env walker2d)' >&2; exit 2; }
TASK="$ENV_NAME-$DATASET"
FILE="data/$TASK-$SOURCE.hdf5"
[ -f "$FILE" ] || { echo "gate-checkpoint: no dataset $FILE (npm run datasets -- --source $SOURCE --envs $ENV_NAME)" >&2; exit 2; }
RUN="data/runs/gate/$TASK-$SOURCE-ofql-eta$ETA-seed$SEED"
NAME="ofql-$TASK"
CLI="node dist/src/cli.js"

if [ ! -d "$RUN/$(printf 'step-%08d' "$STEPS")" ]; then
  if [ -e "$RUN/latest" ]; then resume=(--resume); else resume=(--time-emb 64 --eta "$ETA"); fi
  $CLI train -e "$TASK-v2" -d "$FILE" -o "$RUN" --steps "$STEPS" --seed "$SEED" --save-every 10000 --keep 0 \
    --eval-every 10000 --eval-episodes 20 --eval-sampler one-step --eval-blocking --progress lines "${resume[@]}"
fi
# Export beside the old checkpoint and swap, so a refused export (the run trained on other data)
# leaves the old one in place.
rm -rf "eval/checkpoints/.$NAME.new"
node dist/scripts/export-checkpoint.js --run "$RUN" --step "$STEPS" --dataset "$FILE" --out "eval/checkpoints/.$NAME.new"
rm -rf "eval/checkpoints/$NAME"
mv "eval/checkpoints/.$NAME.new" "eval/checkpoints/$NAME"
mkdir -p docs/results/gate
$CLI --ckpt "eval/checkpoints/$NAME" --sampler one-step --episodes 150 --seed 0 --workers 2 --progress off \
  --json "docs/results/gate/$TASK-ofql.json"
$CLI baseline --results "docs/results/gate/$TASK-ofql.json" --out "eval/baselines/$NAME.json" \
  --label "$NAME (reference checkpoint: OFQL eta $ETA, $STEPS steps on $FILE; scripts/gate-checkpoint.sh)"
echo "gate-checkpoint: eval/checkpoints/$NAME and eval/baselines/$NAME.json"
