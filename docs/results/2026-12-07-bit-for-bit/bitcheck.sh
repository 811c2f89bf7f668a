#!/usr/bin/env bash
# bitcheck.sh COMMIT OUT: train every model on E003 (CPU, fixed seed) at COMMIT; metrics.json into OUT/<model>.
set -uo pipefail
commit=$1; out=$2
wt=/work/bit-$commit
[ -d "$wt" ] || { git -C /work/main worktree add --detach "$wt" "$commit" >/dev/null; ln -s /work/main/node_modules "$wt/node_modules"; }
mkdir -p "$out"
data=/work/shared/datasets/derived_deepchrome_format/E003_sample600
for m in logreg tss-linear mlp deepchrome vae-mlp vae-mlp-neighbors vae-joint vae-m2 expression-prior logreg-neighbors; do
  extra=()
  case $m in *-neighbors) extra+=(--neighbors functional);; esac
  case $m in vae-*) extra+=(--vae-epochs 2);; esac
  case $m in logreg|tss-linear|expression-prior|logreg-neighbors) ;; *) extra+=(--epochs 3 --batch 32);; esac
  (cd "$wt" && nice -n 5 npx tsx run.ts ${DEVICE:---cpu} --data $data --model $m --train-size 100 --seed 7 --quiet --out "$out/$m" "${extra[@]}") > "$out/$m.log" 2>&1
  echo "$m rc=$?" >> "$out/done.txt"
done
