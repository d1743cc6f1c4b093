#!/usr/bin/env bash
# Does the one-step policy lose return to the action noise it learned from the data? Evaluates the
# final checkpoints of a study (scripts/ofql-study.sh / ofql-grid.sh) again with the one-step
# noise scaled by --scale (0: deterministic, the map of eps = 0), 150 episodes, run seed 0 as the
# study's own evaluations, and reports both settings side by side (ofql-eval report: each setting
# is its own policy). Resumable: a result file that exists is not evaluated again.
#
#   bash scripts/noise-study.sh [--scale 0] [--runs ofql-eta0.01,bc] [--seeds 0,1,2] [--steps 30000]
#     [--tasks hopper-medium,...] [--data data] [--out docs/results/study] [--report-dir DIR]
#
# Writes <out>/<task>/<run>-seed<k>-noise<scale>.json and the report to <out>/noise<scale>/, or
# --report-dir (e.g. one per data source: the SAC studies' tasks are <task>-sac).
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=0 RUNS=ofql-eta0.01,bc SEEDS=0,1,2 STEPS=30000 DATA=data OUT=docs/results/study REPORT_DIR=''
TASKS=hopper-medium,hopper-medium-replay,hopper-medium-expert,halfcheetah-medium,halfcheetah-medium-replay,halfcheetah-medium-expert
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2 ;;
    --runs) RUNS=$2 ;;
    --seeds) SEEDS=$2 ;;
    --steps) STEPS=$2 ;;
    --tasks) TASKS=$2 ;;
    --data) DATA=$2 ;;
    --out) OUT=$2 ;;
    --report-dir) REPORT_DIR=$2 ;;
    *) echo "noise-study: unknown flag '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
  shift 2
done
CLI="node dist/src/cli.js"
files=()
for task in ${TASKS//,/ }; do
  for run in ${RUNS//,/ }; do
    for seed in ${SEEDS//,/ }; do
      name="$run-seed$seed"
      base="$OUT/$task/$name.json"
      [ -f "$base" ] || { echo "noise-study: no $base (run the study first: scripts/ofql-study.sh)" >&2; exit 2; }
      scaled="$OUT/$task/$name-noise$SCALE.json"
      if [ ! -f "$scaled" ]; then
        $CLI --ckpt "$DATA/runs/$task/$name@$STEPS" --episodes 150 --seed 0 --sampler one-step --noise-scale "$SCALE" \
          --workers 1 --progress off --json "$scaled"
      fi
      files+=("$base" "$scaled")
    done
  done
done
$CLI report "${files[@]}" -o "${REPORT_DIR:-$OUT/noise$SCALE}" --format md json
