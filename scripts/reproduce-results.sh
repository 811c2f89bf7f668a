#!/usr/bin/env bash
# Every table and figure of the README's "Results": E116
# (GC-MERGE layout) with 100, 1000 and all labeled genes, and the E003 and
# E123 samples as a folder of two cells with 100 and all (200); 5 seeds. The
# models: the baselines (logreg and tss-linear, both fit to convergence; mlp;
# deepchrome), SimpleChrome's vae-mlp, and the arms that see other cells'
# expression side by side (vae-mlp-neighbors with functional neighbours,
# logreg-neighbors with the same neighbours, expression-prior). Classifiers
# train at batch 32 for at least 2,000 optimizer steps or 30 epochs (up to
# 100), best epoch by validation AUROC; the VAE at batch 64 for 25 epochs on
# E116 and 100 on the samples (each experiment's tables say whether its
# reconstruction had flattened). The semi-supervised models (vae-joint,
# vae-m2) are left out unless MODELS names them: they cost hours more.
#
# It is resumable: run it again after a stop and each experiment continues
# where it stopped (finished runs and trained VAEs are kept). On SwiftShader
# (no GPU) one E116 VAE takes about half an hour.
#
#   bash scripts/reproduce-results.sh             # GPU, 5 seeds, into runs/results
#   SEEDS=2 DEVICE=--cpu MODELS=logreg,vae-mlp bash scripts/reproduce-results.sh
#   OUT=docs/results/2026-12-07-protocol bash scripts/reproduce-results.sh   # where the README's tables come from
#   DRY_RUN=1 bash scripts/reproduce-results.sh  # print the commands, run nothing
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${DATA:-../shared/datasets}
OUT=${OUT:-runs/results}
SEEDS=${SEEDS:-5}
DEVICE=${DEVICE:---gpu}
MODELS=${MODELS:-logreg,tss-linear,mlp,deepchrome,vae-mlp,vae-mlp-neighbors,expression-prior,logreg-neighbors}

for need in "$DATA/gcmerge_E116" "$DATA/derived_deepchrome_format/E003_sample600.train.csv.gz" "$DATA/derived_deepchrome_format/E123_sample600.train.csv.gz"; do
  if [ ! -e "$need" ]; then
    echo "reproduce-results: missing $need (the real data; see datasets/README.md)" >&2
    exit 1
  fi
done

PROTOCOL=(--experiment small-data --models "$MODELS" --seeds "$SEEDS" --batch 32 --vae-batch 64 --epochs 30 --min-steps 2000 --max-epochs 100 --quiet)
# On the GPU the heuristic picks each GEMM's variant without timing: the same picks on every machine, so a sweep
# continued elsewhere runs the same kernels (tuned picks depend on the machine's load when they were timed).
if [ "$DEVICE" = --gpu ]; then PROTOCOL+=(--gemm heuristic); fi
# The neighbour models read functional neighbours (genes whose expression across the other cells correlates).
case ",$MODELS," in *-neighbors,*) PROTOCOL+=(--neighbors functional) ;; esac

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
