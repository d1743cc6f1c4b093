#!/usr/bin/env bash
# OFQL vs behaviour cloning on one of our datasets, over training seeds and eta values:
# train (ofql-eval train), evaluate every final checkpoint over 150 episodes (one-step sampler),
# and aggregate with ofql-eval report (rliable statistics over seeds). Resumable: a run that has
# its final checkpoint is not trained again, a result file that exists is not evaluated again, and
# a run stopped part-way continues exactly (train --resume). docs/results.md cites its outputs.
#
#   bash scripts/ofql-study.sh --env hopper --dataset medium-replay [--etas 0.01,0.1] [--seeds 0,1,2]
#     [--steps 30000] [--bc yes|no] [--source ars|sac] [--data data] [--out docs/results/study] [--workers 1]
#
# Needs the dataset data/<env>-<dataset>-<source>.hdf5 (npm run datasets [-- --source sac]) and a
# build (npm run build). Runs go to <data>/runs/<study>/{ofql-eta<eta>,bc}-seed<k>, where <study> is
# <env>-<dataset> for ARS data and <env>-<dataset>-sac for SAC data; results to
# <out>/<study>/<run>.json; the report to <out>/<study>/report/, the learning curves beside the
# critic's mean TD target and the data's MC return to .../curves.md (both over every evaluated run
# of the study, whichever etas and seeds this call was given).
set -euo pipefail
cd "$(dirname "$0")/.."

ENV_NAME='' DATASET='' ETAS=0.01 SEEDS=0,1,2 STEPS=30000 BC=yes SOURCE=ars DATA=data OUT=docs/results/study WORKERS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --env) ENV_NAME=$2 ;;
    --dataset) DATASET=$2 ;;
    --etas) ETAS=$2 ;;
    --seeds) SEEDS=$2 ;;
    --steps) STEPS=$2 ;;
    --bc) BC=$2 ;;
    --source) SOURCE=$2 ;;
    --data) DATA=$2 ;;
    --out) OUT=$2 ;;
    --workers) WORKERS=$2 ;;
    *) echo "ofql-study: unknown flag '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
  shift 2
done
[ -n "$ENV_NAME" ] && [ -n "$DATASET" ] || { echo 'ofql-study: give --env and --dataset (e.g. --env hopper --dataset medium-replay)' >&2; exit 2; }
TASK="$ENV_NAME-$DATASET"
D4RL_ID="$TASK-v2"
case "$SOURCE" in
  ars) STUDY=$TASK ;;
  sac) STUDY=$TASK-sac ;;
  *) echo "ofql-study: --source must be ars or sac, got '$SOURCE'" >&2; exit 2 ;;
esac
FILE="$DATA/$TASK-$SOURCE.hdf5"
[ -f "$FILE" ] || { echo "ofql-study: --data: no dataset $FILE (make it with npm run datasets -- --source $SOURCE)" >&2; exit 2; }
RUNS="$DATA/runs/$STUDY"
RESULTS="$OUT/$STUDY"
mkdir -p "$RUNS" "$RESULTS"
CLI="node dist/src/cli.js"

# Train one run to STEPS (resuming a stopped one); $1 = run name, rest = its method flags.
train_run() {
  local name=$1 dir="$RUNS/$1" step
  shift
  step=$(printf 'step-%08d' "$STEPS")
  if [ -d "$dir/$step" ]; then return 0; fi
  local resume=()
  if [ -e "$dir/latest" ]; then resume=(--resume); else resume=(--time-emb 64 "$@"); fi
  $CLI train -e "$D4RL_ID" -d "$FILE" -o "$dir" --steps "$STEPS" --seed "${name##*-seed}" \
    --save-every 10000 --keep 0 --eval-every 10000 --eval-episodes 50 --eval-sampler one-step \
    --eval-blocking --progress lines "${resume[@]}"
}

# 150 one-step episodes of a run's final checkpoint, run seed 0.
evaluate_run() {
  local json="$RESULTS/$1.json"
  if [ -f "$json" ]; then return 0; fi
  $CLI --ckpt "$RUNS/$1@$STEPS" --episodes 150 --seed 0 --sampler one-step --workers "$WORKERS" --progress off --json "$json"
}

names=()
for seed in ${SEEDS//,/ }; do
  for eta in ${ETAS//,/ }; do
    names+=("ofql-eta$eta-seed$seed")
    train_run "ofql-eta$eta-seed$seed" --eta "$eta"
  done
  if [ "$BC" = yes ]; then
    names+=("bc-seed$seed")
    train_run "bc-seed$seed" --bc-only
  fi
done
for n in "${names[@]}"; do evaluate_run "$n"; done
# The report and curves cover every run of the study evaluated so far, not only this call's etas
# and seeds (a later call with other --etas adds to them instead of replacing them).
results=() trains=()
for json in "$RESULTS"/ofql-eta*.json "$RESULTS"/bc-*.json; do
  n=$(basename "$json" .json)
  if [[ $n =~ ^(ofql-eta[0-9.]+|bc)-seed[0-9]+$ ]] && [ -d "$RUNS/$n" ]; then
    results+=("$json")
    trains+=("$RUNS/$n")
  fi
done
$CLI report "${results[@]}" --train "${trains[@]}" -o "$RESULTS/report"
node dist/scripts/study-table.js "${trains[@]}" --out "$RESULTS/curves.md"
