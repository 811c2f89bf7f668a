#!/usr/bin/env bash
# Runs the benches, or the command line, from the folder bench/device/pack.sh
# made (carried to the lent GPU machine as .device/bench), on a machine
# without Node, npm or a network, writing each bench's output under $OUT.
#
#   bash bench/device/run.sh kernels|train|pytorch|all
#   bash bench/device/run.sh cli [run.ts arguments …]
#
# kernels  node bench/kernels.ts (squares up to 2048, the models' shapes), vs TF.js
# train    node bench/train.ts on the real E003 sample and on 6600 synthetic genes, vs TF.js
# pytorch  python3 bench/pytorch_train.py, eager on CUDA, the same two data sets
# all      the three in order (may not fit one 10-minute call: prefer one call each)
# cli      run.ts with the arguments given, e.g. `cli --gpu --model mlp --out "$OUT/mlp"`,
#          `cli --experiment small-data --gpu --out "$OUT/small"`, `cli predict --model DIR --data PATH`.
#          Without --data it trains on the pack's E003 sample, as run.ts does beside a checkout;
#          relative paths are from the current directory. Its output also goes to $OUT/cli.log.
#
# Environment: OUT (required: where results go), PACK (default: the folder this
# script is in when it is a pack's copy, else .device/bench), BIN (where node is
# unpacked; default /tmp/simplechrome-bench), KERNELS_ARGS / TRAIN_ARGS /
# PYTORCH_ARGS (extra flags, word-split), TRAIN_SETS (the train mode's data
# sets, default "E003 synthetic6600"), LOCAL=1 to try the pack on this
# machine (no dpkg, no NVIDIA driver: Dawn falls back to SwiftShader as it does
# in the repository).
set -uo pipefail
MODE=${1:?usage: run.sh kernels|train|pytorch|all, or run.sh cli [run.ts arguments]}
shift
: "${OUT:?set OUT to the folder results go to}"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${PACK:-}" ]; then
  if [ -f "$HERE/node.xz" ]; then PACK=$HERE; else PACK=.device/bench; fi
fi
APP=$PACK/simplechrome
NVIDIA_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
BIN=${BIN:-/tmp/simplechrome-bench}
mkdir -p "$OUT" "$BIN"

unxz_to() {
  # Into a temporary name first: a stopped run must not leave half a binary that the next one trusts.
  if command -v xz >/dev/null; then xz -dc "$1" >"$2.part"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2.part"
  fi && mv "$2.part" "$2"
}

prepare() {
  [ -f "$PACK/node.xz" ] && [ -f "$APP/app/bin/run.mjs" ] || {
    echo "run.sh: no pack at $PACK (run bash bench/device/pack.sh where Node is, and carry or copy the folder it makes)" >&2
    exit 1
  }
  if [ "${LOCAL:-0}" != 1 ]; then
    if ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
      for f in "$PACK"/gl/*.deb; do dpkg -x "$f" /; done
      ldconfig
    fi
    if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$NVIDIA_ICD" ]; then export VK_DRIVER_FILES=$NVIDIA_ICD; fi
  fi
  [ -x "$BIN/node" ] || { unxz_to "$PACK/node.xz" "$BIN/node" && chmod +x "$BIN/node"; } || exit 1
  local dawn="$APP/node_modules/webgpu/dist/linux-x64/dawn.node"
  [ -f "$dawn" ] || unxz_to "$dawn.xz" "$dawn" || exit 1
  SIMPLECHROME_COMMIT=$(cat "$PACK/COMMIT")
  export SIMPLECHROME_COMMIT
  echo "node $("$BIN/node" --version) (from the pack), commit $SIMPLECHROME_COMMIT, VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}" >&2
  if [ "${LOCAL:-0}" != 1 ] && command -v nvidia-smi >/dev/null; then nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1; fi
}

DATA="$PACK/shared/datasets/derived_deepchrome_format/E003_sample600"

run_kernels() {
  # shellcheck disable=SC2086
  "$BIN/node" "$APP/app/bin/kernels.mjs" ${KERNELS_ARGS:-} 2>&1 | tee "$OUT/kernels.md"
}

run_train() {
  local sets=" ${TRAIN_SETS:-E003 synthetic6600} "
  if [[ $sets == *" E003 "* ]] && [ -f "$DATA.train.csv.gz" ]; then
    # shellcheck disable=SC2086
    "$BIN/node" "$APP/app/bin/train.mjs" --data "$DATA" ${TRAIN_ARGS:-} 2>&1 | tee "$OUT/train-E003.md"
  fi
  if [[ $sets == *" synthetic6600 "* ]]; then
    # shellcheck disable=SC2086
    "$BIN/node" "$APP/app/bin/train.mjs" --synthetic 6600 ${TRAIN_ARGS:-} 2>&1 | tee "$OUT/train-synthetic6600.md"
  fi
}

run_pytorch() {
  export PYTHONUNBUFFERED=1
  local script=bench/pytorch_train.py
  [ -f "$PACK/pytorch_train.py" ] && script=$PACK/pytorch_train.py
  if [ -f "$DATA.train.csv.gz" ]; then
    # shellcheck disable=SC2086
    python3 "$script" --data "$DATA" ${PYTORCH_ARGS:-} 2>&1 | tee "$OUT/pytorch-E003.md"
  fi
  # shellcheck disable=SC2086
  python3 "$script" --genes 6600 ${PYTORCH_ARGS:-} 2>&1 | tee "$OUT/pytorch-synthetic6600.md"
}

run_cli() {
  case " $* " in
    *" --out "* | *" --out="* | *" --help "* | *" -h "* | *" --self-check "*) ;;
    *) echo "run.sh: note: no --out given, so run.ts writes under ./runs; on the device machine only what is under \$OUT comes back" >&2 ;;
  esac
  # The exit status is run.ts's, not tee's.
  "$BIN/node" "$APP/app/bin/run.mjs" "$@" 2>&1 | tee -a "$OUT/cli.log"
  return "${PIPESTATUS[0]}"
}

case "$MODE" in
  kernels) prepare; run_kernels ;;
  train) prepare; run_train ;;
  pytorch) run_pytorch ;;
  all) prepare; run_kernels; run_train; run_pytorch ;;
  cli) prepare; run_cli "$@" ;;
  *) echo "run.sh: unknown mode \"$MODE\" (kernels, train, pytorch, all, cli)" >&2; exit 2 ;;
esac
