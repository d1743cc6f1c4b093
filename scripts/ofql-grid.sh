#!/usr/bin/env bash
# The OFQL paper's eta grid {0.001, 0.01, 0.1, 0.3, 0.5} against behaviour cloning, 3 training seeds,
# on medium, medium-replay and medium-expert for hopper and halfcheetah (issue 14): one
# scripts/ofql-study.sh per task, in the order the tasks are listed. Resumable like the study
# script: stop it at any time and start it again. On the project's 2-core machine one 30,000-step
# run takes about 15 minutes of one core, so the grid (108 runs) is about 27 core-hours: start it
# in the background, once per core with different --tasks, e.g.
#   nohup bash scripts/ofql-grid.sh --tasks hopper-medium,hopper-medium-replay,hopper-medium-expert &
#   nohup bash scripts/ofql-grid.sh --tasks halfcheetah-medium,halfcheetah-medium-replay,halfcheetah-medium-expert &
# Extra flags (--steps, --seeds, --etas, --source ars|sac, --out, --data) go to every study.
# After the studies: <out>/summary-<source>.md (scripts/study-summary.ts: data, BC and every
# evaluated OFQL eta per dataset, over all the seeds each has) and <out>/report-<source>/, or
# --report-dir (ofql-eval report over the result files of this call's etas and seeds on every
# dataset: the rliable aggregates across datasets, learning curves, SVG figures). --tasks with
# only some tasks summarises only those.
set -euo pipefail
cd "$(dirname "$0")/.."
TASKS=hopper-medium,hopper-medium-replay,hopper-medium-expert,halfcheetah-medium,halfcheetah-medium-replay,halfcheetah-medium-expert
ETAS=0.001,0.01,0.1,0.3,0.5
SOURCE=ars OUT=docs/results/study DATA=data SEEDS=0,1,2 REPORT_DIR=''
rest=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tasks) TASKS=$2; shift 2 ;;
    --etas) ETAS=$2; shift 2 ;;
    --source) SOURCE=$2; rest+=("$1" "$2"); shift 2 ;;
    --out) OUT=$2; rest+=("$1" "$2"); shift 2 ;;
    --data) DATA=$2; rest+=("$1" "$2"); shift 2 ;;
    --seeds) SEEDS=$2; rest+=("$1" "$2"); shift 2 ;;
    --report-dir) REPORT_DIR=$2; shift 2 ;;
    *) rest+=("$1"); shift ;;
  esac
done
studies=()
for task in ${TASKS//,/ }; do
  env_name=${task%%-*}
  bash scripts/ofql-study.sh --env "$env_name" --dataset "${task#*-}" --etas "$ETAS" "${rest[@]}"
  if [ "$SOURCE" = sac ]; then studies+=("$task-sac"); else studies+=("$task"); fi
done
summary_dirs=() results=() trains=()
for study in "${studies[@]}"; do
  summary_dirs+=("$OUT/$study")
  for seed in ${SEEDS//,/ }; do
    for run in $(for eta in ${ETAS//,/ }; do echo "ofql-eta$eta-seed$seed"; done) "bc-seed$seed"; do
      results+=("$OUT/$study/$run.json")
      trains+=("$DATA/runs/$study/$run")
    done
  done
done
node dist/scripts/study-summary.js "${summary_dirs[@]}" --data "$DATA" --out "$OUT/summary-$SOURCE.md"
node dist/src/cli.js report "${results[@]}" --train "${trains[@]}" -o "${REPORT_DIR:-$OUT/report-$SOURCE}" --format md html json svg
