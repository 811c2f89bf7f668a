#!/usr/bin/env bash
# Runs the benches on the lent GPU machine from the folder bench/device/pack.sh
# made (carried as .device/bench), writing each one's output under $OUT.
#
#   bash bench/device/run.sh kernels|train|pytorch|all
#
# kernels  node bench/kernels.ts (squares up to 2048, the models' shapes), vs TF.js
# train    node bench/train.ts on the real E003 sample and on 6600 synthetic genes, vs TF.js
# pytorch  python3 bench/pytorch_train.py, eager on CUDA, the same two data sets
# all      the three in order (may not fit one 10-minute call: prefer one call each)
#
# Environment: OUT (required: where results go), PACK (default .device/bench),
# KERNELS_ARGS / TRAIN_ARGS / PYTORCH_ARGS (extra flags, word-split),
# LOCAL=1 to try the pack on this machine (no dpkg, no NVIDIA driver: Dawn
# falls back to SwiftShader as it does in the repository).
set -uo pipefail
MODE=${1:?usage: run.sh kernels|train|pytorch|all}
: "${OUT:?set OUT to the folder results go to}"
PACK=${PACK:-.device/bench}
NVIDIA_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
BIN=${BIN:-/tmp/simplechrome-bench}
mkdir -p "$OUT" "$BIN"

unxz_to() {
  if command -v xz >/dev/null; then xz -dc "$1" >"$2"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
  fi
}

prepare() {
  [ -f "$PACK/node.xz" ] || { echo "run.sh: no pack at $PACK (run bench/device/pack.sh here first and carry it)" >&2; exit 1; }
  if [ "${LOCAL:-0}" != 1 ]; then
    if ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
      for f in "$PACK"/gl/*.deb; do dpkg -x "$f" /; done
      ldconfig
    fi
    if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$NVIDIA_ICD" ]; then export VK_DRIVER_FILES=$NVIDIA_ICD; fi
  fi
  [ -x "$BIN/node" ] || { unxz_to "$PACK/node.xz" "$BIN/node" && chmod +x "$BIN/node"; }
  local dawn="$PACK/node_modules/webgpu/dist/linux-x64/dawn.node"
  [ -f "$dawn" ] || unxz_to "$dawn.xz" "$dawn"
  SIMPLECHROME_COMMIT=$(cat "$PACK/COMMIT")
  export SIMPLECHROME_COMMIT
  echo "node $("$BIN/node" --version), commit $SIMPLECHROME_COMMIT, VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
  if [ "${LOCAL:-0}" != 1 ] && command -v nvidia-smi >/dev/null; then nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1; fi
}

DATA="$PACK/data/E003_sample600"

run_kernels() {
  # shellcheck disable=SC2086
  "$BIN/node" "$PACK/app/bin/kernels.mjs" ${KERNELS_ARGS:-} 2>&1 | tee "$OUT/kernels.md"
}

run_train() {
  if [ -f "$DATA.train.csv.gz" ]; then
    # shellcheck disable=SC2086
    "$BIN/node" "$PACK/app/bin/train.mjs" --data "$DATA" ${TRAIN_ARGS:-} 2>&1 | tee "$OUT/train-E003.md"
  fi
  # shellcheck disable=SC2086
  "$BIN/node" "$PACK/app/bin/train.mjs" --synthetic 6600 ${TRAIN_ARGS:-} 2>&1 | tee "$OUT/train-synthetic6600.md"
}

run_pytorch() {
  export PYTHONUNBUFFERED=1
  if [ -f "$DATA.train.csv.gz" ]; then
    # shellcheck disable=SC2086
    python3 bench/pytorch_train.py --data "$DATA" ${PYTORCH_ARGS:-} 2>&1 | tee "$OUT/pytorch-E003.md"
  fi
  # shellcheck disable=SC2086
  python3 bench/pytorch_train.py --genes 6600 ${PYTORCH_ARGS:-} 2>&1 | tee "$OUT/pytorch-synthetic6600.md"
}

case "$MODE" in
  kernels) prepare; run_kernels ;;
  train) prepare; run_train ;;
  pytorch) run_pytorch ;;
  all) prepare; run_kernels; run_train; run_pytorch ;;
  *) echo "run.sh: unknown mode \"$MODE\" (kernels, train, pytorch, all)" >&2; exit 2 ;;
esac
