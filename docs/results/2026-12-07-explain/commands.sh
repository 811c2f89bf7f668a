#!/bin/sh
# The runs behind README.md here (issue #22, item 3): a quickly trained deepchrome and logreg on the E003
# sample (100 labeled genes, CPU, seed 1), explained on its 200 test genes by integrated gradients (16 steps).
set -e
DATA=../shared/datasets/derived_deepchrome_format/E003_sample600
OUT=${OUT:-runs/explain-e003}
npx tsx run.ts train --cpu --model deepchrome --train-size 100 --epochs 3 --seed 1 --data "$DATA" --out "$OUT/deepchrome" --quiet
npx tsx run.ts train --cpu --model logreg --train-size 100 --seed 1 --data "$DATA" --out "$OUT/logreg" --quiet
for m in deepchrome logreg; do
  npx tsx run.ts explain --cpu --model "$OUT/$m" --data "$DATA" --split test --steps 16 --out "$OUT/$m-ig"
done
# Shares by mark and at the TSS (bins 45–54, ±500 bp) from the mean maps:
for m in deepchrome logreg; do python3 docs/results/2026-12-07-explain/tss_shares.py "$OUT/$m-ig/E003-integrated-gradients.mean.csv"; done

# E116 (GC-MERGE, 21 bins of 10 kb): 1000 labeled genes, explained on its 2043 test genes.
E116=../shared/datasets/gcmerge_E116
for m in logreg deepchrome; do
  npx tsx run.ts train --cpu --model $m --train-size 1000 --epochs 5 --seed 1 --data "$E116" --out "$OUT/e116-$m" --quiet
  npx tsx run.ts explain --cpu --model "$OUT/e116-$m" --data "$E116" --split test --steps 16 --out "$OUT/e116-$m-ig"
  python3 docs/results/2026-12-07-explain/tss_shares.py "$OUT/e116-$m-ig/E116-integrated-gradients.mean.csv"
done

# attentivechrome on the E003 sample (issue #22 item 4, 2026-12-07, fourth sitting): all 200 labeled genes, the GPU
# path (SwiftShader), the sweep's batch and lr with its own clip, 30 epochs; its attention drawn beside the gradients.
npx tsx run.ts train --gpu --model attentivechrome --batch 32 --lr 1e-3 --clip 1 --epochs 30 --seed 1 --data "$DATA" --out "$OUT/attentivechrome" --quiet
npx tsx run.ts explain --gpu --model "$OUT/attentivechrome" --data "$DATA" --split test --steps 16 --out "$OUT/attentivechrome-ig"
python3 docs/results/2026-12-07-explain/tss_shares.py "$OUT/attentivechrome-ig/E003-integrated-gradients.mean.csv"
python3 docs/results/2026-12-07-explain/attention_summary.py "$OUT/attentivechrome-ig/E003-integrated-gradients.attributions.safetensors"
