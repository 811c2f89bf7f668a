#!/usr/bin/env bash
# Every table and figure of the README's "Results on real data", at the full
# protocol of issue 11: E116 (GC-MERGE layout) with 100, 1000 and all labeled
# genes, and the E003 and E123 samples as a folder of two cells with 100 and
# all (200); 5 seeds; every model of the registry, vae-mlp-neighbors with both
# kinds of neighbours; classifiers trained for at least 2,000 optimizer steps
# or 30 epochs (up to 100), best epoch by validation AUROC; the VAE 25 epochs
# on E116 and 100 on the samples (each experiment's tables say whether its
# reconstruction had flattened).
#
# It is resumable: run it again after a stop and each experiment continues
# where it stopped (finished runs are kept). A GPU is strongly advised: on
# SwiftShader (no GPU) one E116 VAE epoch takes one to three minutes.
#
#   bash scripts/reproduce-results.sh             # GPU, 5 seeds, into runs/results
#   SEEDS=2 DEVICE=--cpu MODELS=logreg,vae-mlp bash scripts/reproduce-results.sh
#   DRY_RUN=1 bash scripts/reproduce-results.sh  # print the commands, run nothing
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${DATA:-../shared/datasets}
OUT=${OUT:-runs/results}
SEEDS=${SEEDS:-5}
DEVICE=${DEVICE:---gpu}

for need in "$DATA/gcmerge_E116" "$DATA/derived_deepchrome_format/E003_sample600.train.csv.gz" "$DATA/derived_deepchrome_format/E123_sample600.train.csv.gz"; do
  if [ ! -e "$need" ]; then
    echo "reproduce-results: missing $need (the real data; see datasets/README.md)" >&2
    exit 1
  fi
done

# Without --models the experiment runs every model of the registry.
PROTOCOL=(--experiment small-data ${MODELS:+--models "$MODELS"} --neighbors spatial,functional --seeds "$SEEDS" --epochs 30 --min-steps 2000 --max-epochs 100 --quiet)

experiment() {
  local out=$1
  shift
  if [ -n "${DRY_RUN:-}" ]; then
    echo "npx tsx run.ts $DEVICE ${PROTOCOL[*]} $* --out $out"
    return
  fi
  if [ -f "$out/experiment.json" ]; then
    echo "reproduce-results: continuing $out" >&2
    npx tsx run.ts --resume "$out" --quiet
  else
    npx tsx run.ts "$DEVICE" "${PROTOCOL[@]}" "$@" --out "$out"
  fi
}

[ -n "${DRY_RUN:-}" ] || mkdir -p "$OUT"
experiment "$OUT/E116" --data "$DATA/gcmerge_E116" --sizes 100,1000,all --vae-epochs 25

# The two 600-gene samples as a folder of cells, the layout the zenodo archive unpacks to.
samples="$OUT/samples-data"
[ -n "${DRY_RUN:-}" ] || for cell in E003 E123; do
  mkdir -p "$samples/$cell/classification"
  for split in train valid test; do
    ln -sf "$(realpath "$DATA/derived_deepchrome_format/${cell}_sample600.$split.csv.gz")" "$samples/$cell/classification/$split.csv.gz"
  done
done
experiment "$OUT/samples" --data "$samples" --sizes 100,all --vae-epochs 100

[ -n "${DRY_RUN:-}" ] || echo "reproduce-results: tables in $OUT/E116/small-data.md and $OUT/samples/small-data.md" >&2
