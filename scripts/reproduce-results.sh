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
#
# AttentiveChrome beside the anchors (issue 22; docs/results/2026-12-07-attention), all labeled genes, E116 on 3
# seeds, the samples on 5, gradients clipped at norm 1 (AttentiveChrome's; it applies to every model Adam trains):
#   MODELS=attentivechrome,deepchrome,mlp,logreg E116_SEEDS=3 E116_SIZES=all SAMPLE_SIZES=all EXTRA="--clip 1" \
#     EXPERIMENTS=samples,E116 OUT=docs/results/2026-12-07-attention bash scripts/reproduce-results.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${DATA:-../shared/datasets}
OUT=${OUT:-runs/results}
SEEDS=${SEEDS:-5}
DEVICE=${DEVICE:---gpu}
MODELS=${MODELS:-logreg,tss-linear,mlp,deepchrome,vae-mlp,vae-mlp-neighbors,expression-prior,logreg-neighbors}
E116_SEEDS=${E116_SEEDS:-$SEEDS}
E116_SIZES=${E116_SIZES:-100,1000,all}
SAMPLE_SIZES=${SAMPLE_SIZES:-100,all}
# Which experiments, in this order: E116, samples (the E003 and E123 samples as a folder of two cells).
EXPERIMENTS=${EXPERIMENTS:-E116,samples}
# More flags for every run of both experiments (word-split: flags and their values, no spaces inside a value).
read -r -a EXTRA_FLAGS <<< "${EXTRA:-}"

for need in "$DATA/gcmerge_E116" "$DATA/derived_deepchrome_format/E003_sample600.train.csv.gz" "$DATA/derived_deepchrome_format/E123_sample600.train.csv.gz"; do
  if [ ! -e "$need" ]; then
    echo "reproduce-results: missing $need (the real data; see datasets/README.md)" >&2
    exit 1
  fi
done

PROTOCOL=(--experiment small-data --models "$MODELS" --batch 32 --epochs 30 --min-steps 2000 --max-epochs 100 --quiet "${EXTRA_FLAGS[@]}")
# On the GPU the heuristic picks each GEMM's variant without timing: the same picks on every machine, so a sweep
# continued elsewhere runs the same kernels (tuned picks depend on the machine's load when they were timed).
if [ "$DEVICE" = --gpu ]; then PROTOCOL+=(--gemm heuristic); fi
# The VAE's batch and epochs only where a model reads a VAE (the command line refuses them otherwise).
has_vae=; case ",$MODELS," in *,vae-*) has_vae=1; PROTOCOL+=(--vae-batch 64) ;; esac
vae_epochs() { if [ -n "$has_vae" ]; then echo "--vae-epochs $1"; fi; }
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

e116() {
  experiment "$OUT/E116" --data "$DATA/gcmerge_E116" --seeds "$E116_SEEDS" --sizes "$E116_SIZES" $(vae_epochs 25)
}

samples() {
  # The two 600-gene samples as a folder of cells, the layout the zenodo archive unpacks to.
  local folder="$OUT/samples-data"
  [ -n "${DRY_RUN:-}" ] || for cell in E003 E123; do
    mkdir -p "$folder/$cell/classification"
    for split in train valid test; do
      ln -sf "$(realpath "$DATA/derived_deepchrome_format/${cell}_sample600.$split.csv.gz")" "$folder/$cell/classification/$split.csv.gz"
    done
  done
  experiment "$OUT/samples" --data "$folder" --seeds "$SEEDS" --sizes "$SAMPLE_SIZES" $(vae_epochs 100)
}

IFS=, read -r -a ORDER <<< "$EXPERIMENTS"
for which in "${ORDER[@]}"; do
  case $which in
    E116) e116 ;;
    samples) samples ;;
    *) echo "reproduce-results: EXPERIMENTS names $which; the experiments are E116 and samples" >&2; exit 1 ;;
  esac
done

[ -n "${DRY_RUN:-}" ] || echo "reproduce-results: tables in $OUT/<experiment>/small-data.md ($EXPERIMENTS)" >&2
