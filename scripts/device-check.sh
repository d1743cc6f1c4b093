#!/usr/bin/env bash
# The GPU check of the training engine (scripts/device-check.ts), for a session lent a GPU machine.
#
#   bash scripts/device-check.sh pack   # here: build, bundle, and pack what the GPU machine lacks
#                                        # into .device-check/ (about 60 MiB, gitignored)
#   bash scripts/device-check.sh run    # there (device tool: carry [".device-check"]): Vulkan
#                                        # loader, Node and onnxruntime from the pack; parity vs CPU
#                                        # and steps/s; JSON into $OUT (or .device-check/out)
#
# Why a pack: the GPU machine has no Node, no npm registry and no Vulkan loader, and the working
# tree that travels is limited to 64 MiB, so node_modules (~700 MB) cannot go as it is. The pack
# holds the one bundled script, onnxruntime-node's Linux x64 binaries (its WebGPU provider is
# built in), this machine's node binary and Debian's libvulkan1, compressed.
set -euo pipefail
cd "$(dirname "$0")/.."
PACK=.device-check

pack() {
  rm -rf "$PACK" && mkdir -p "$PACK/debs"
  npx tsc -p tsconfig.json
  # One ESM file; onnxruntime-node stays external (native binding, loaded from the pack).
  node_modules/.bin/esbuild dist/scripts/device-check.js --bundle --platform=node --format=esm \
    --external:onnxruntime-node --log-level=warning --outfile="$PACK/device-check.mjs" \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
  tar -cJf "$PACK/ort.tar.xz" node_modules/onnxruntime-common \
    node_modules/onnxruntime-node/package.json node_modules/onnxruntime-node/dist \
    node_modules/onnxruntime-node/bin/napi-v6/linux/x64
  tar -cJf "$PACK/node.tar.xz" -C "$(dirname "$(readlink -f "$(command -v node)")")" node
  (cd "$PACK/debs" && apt-get download libvulkan1 >/dev/null)
  du -sh "$PACK"
}

run() {
  local out="${OUT:-$PACK/out}" work=/tmp/device-check
  mkdir -p "$out" "$work"
  for f in "$PACK"/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
  local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -f "$icd" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then export VK_DRIVER_FILES="$icd"; fi
  tar -xJf "$PACK/node.tar.xz" -C "$work"
  tar -xJf "$PACK/ort.tar.xz" -C "$work"
  cp "$PACK/device-check.mjs" "$work/"
  (nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true) | tee "$out/gpu.txt"
  set +e
  "$work/node" "$work/device-check.mjs" --json "$out/device-check.json" "$@" 2>&1 | tee "$out/device-check.log"
  local rc=${PIPESTATUS[0]}
  set -e
  echo "device-check exit $rc"
  return "$rc"
}

case "${1:-}" in
  pack) pack ;;
  run) shift; run "$@" ;;
  *) echo "usage: bash scripts/device-check.sh pack | run [device-check.ts flags]" >&2; exit 2 ;;
esac
