#!/usr/bin/env bash
# Proves the pack runs the command line on its own and gives the repository's
# results: builds it (bench/device/pack.sh), copies it through a tar into an
# empty folder, and there, with no node on PATH and LOCAL=1 (this machine's
# adapter, SwiftShader here), runs run.ts's train, predict and a small-data
# experiment through run.sh; then the same three with `npx tsx run.ts` from
# the repository; then compares what they wrote.
#
#   bash bench/device/verify-pack.sh [--pack DIR] [--keep]
#
# --pack DIR   use a pack made earlier instead of building one (saves the xz minutes)
# --keep       keep the scratch folder (its path is printed) instead of deleting it
#
# Equal means: metrics.json's validation and test scores (AUROC, AUPR,
# accuracy), best epoch, parameter count, normalization, data fingerprint and
# per-epoch losses and validation scores (timings left out) identical;
# predictions.csv and predict's output identical byte for byte, and the
# experiment's small-data.csv identical but for its seconds column. Exit status 0 only when all of it is.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PACK_GIVEN=
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --pack) PACK_GIVEN=${2:?--pack needs a folder}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "verify-pack.sh: unknown argument \"$1\" (known: --pack DIR, --keep)" >&2; exit 2 ;;
  esac
done
SAMPLE=../shared/datasets/derived_deepchrome_format/E003_sample600
[ -f "$SAMPLE.train.csv.gz" ] || { echo "verify-pack.sh: the real E003 sample is not at $SAMPLE (see ../shared/datasets/README.md)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/simplechrome-verify-pack.XXXXXX")
# Both sides must run the same GEMM variants to give the same bits: they share
# one fresh autotuner cache, which the pack's first run fills and every later
# run (the pack's and the repository's) reads.
export SIMPLECHROME_CACHE_DIR="$WORK/gemm-cache"
unset SIMPLECHROME_GEMM
if [ "$KEEP" = 1 ]; then echo "scratch folder (kept): $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
t_start=$(date +%s)

if [ -n "$PACK_GIVEN" ]; then
  [ -f "$PACK_GIVEN/COMMIT" ] || { echo "verify-pack.sh: --pack $PACK_GIVEN is not a pack (no COMMIT)" >&2; exit 1; }
  PACK_SRC=$PACK_GIVEN
else
  PACK_SRC=$WORK/built
  bash bench/device/pack.sh "$PACK_SRC"
fi
echo
echo "== unpacking the pack ($(cat "$PACK_SRC/COMMIT")) into an empty folder"
tar -C "$PACK_SRC" -cf "$WORK/pack.tar" .
UNPACKED=$WORK/unpacked
mkdir "$UNPACKED"
tar -C "$UNPACKED" -xf "$WORK/pack.tar"
printf 'pack: %s files, %.1f MiB as a tar\n' "$(tar -tf "$WORK/pack.tar" | grep -vc '/$')" "$(echo "$(stat -c %s "$WORK/pack.tar") / 1048576" | bc -l)"

# A PATH with every command this one has except Node's.
NONODE=$WORK/path-without-node
mkdir "$NONODE"
IFS=: read -r -a dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  [ -d "$d" ] || continue
  for f in "$d"/*; do
    name=${f##*/}
    case "$name" in node | nodejs | npm | npx | corepack | tsx) continue ;; esac
    [ -x "$f" ] && [ ! -e "$NONODE/$name" ] && ln -s "$f" "$NONODE/$name"
  done
done
if PATH=$NONODE command -v node >/dev/null; then echo "verify-pack.sh: node is still on the reduced PATH" >&2; exit 1; fi

# The same three commands on both sides; $1 runs run.ts with the arguments after it, $2 is the output folder.
commands() {
  local run=$1 out=$2 data=$3
  mkdir -p "$out"
  "$run" --gpu --model mlp --epochs 2 --seed 1 --data "$data" --quiet --out "$out/mlp"
  "$run" predict --model "$out/mlp" --data "$data" --out "$out/predict.csv"
  "$run" --experiment small-data --gpu --models mlp,deepchrome --sizes 100,all --seeds 1 --epochs 2 --data "$data" --quiet --out "$out/small"
}

pack_sh() {
  # In the unpacked folder, with no node on PATH: only the pack's own node can run this.
  (cd "$UNPACKED" && env PATH="$NONODE" LOCAL=1 OUT="$WORK/pack-out" BIN="$WORK/pack-bin" bash ./run.sh "$@")
}
pack_run() { pack_sh cli "$@"; }
repo_run() {
  npx tsx run.ts "$@"
}

echo
echo "== the pack, node not on PATH, LOCAL=1"
t0=$(date +%s)
# The pack's own copy of the sample, by a path relative to the folder run.sh is started in.
commands pack_run "$WORK/from-pack" shared/datasets/derived_deepchrome_format/E003_sample600
# And with no --data at all: run.ts must find that copy where it looks beside a checkout.
pack_run --gpu --model mlp --epochs 1 --quiet --out "$WORK/from-pack/default-data" >/dev/null
grep -q "\"path\": \"$UNPACKED/shared/datasets/derived_deepchrome_format/E003_sample600\"" "$WORK/from-pack/default-data/metrics.json" \
  || { echo "verify-pack.sh: without --data the pack did not train on its own E003 sample:" >&2; grep '"path"' "$WORK/from-pack/default-data/metrics.json" >&2; exit 1; }
echo "without --data, the pack trained on its own E003 sample"
# The bench bundles beside run.mjs: one cheap case each, to show they start and find their shaders and data.
KERNELS_ARGS="--only adam --reps 1 --no-tfjs" pack_sh kernels >/dev/null
grep -q '^| adam over the VAE' "$WORK/pack-out/kernels.md" || { echo "verify-pack.sh: the pack's kernels bench did not run:" >&2; tail -5 "$WORK/pack-out/kernels.md" >&2; exit 1; }
TRAIN_SETS=E003 TRAIN_ARGS="--models mlp --batches 256 --epochs 1 --steps 1 --no-tfjs" pack_sh train >/dev/null
grep -q '^data: REAL E003' "$WORK/pack-out/train-E003.md" && grep -q '^| mlp ' "$WORK/pack-out/train-E003.md" \
  || { echo "verify-pack.sh: the pack's training bench did not run on the packed sample:" >&2; tail -5 "$WORK/pack-out/train-E003.md" >&2; exit 1; }
echo "the pack's kernels and train benches ran (adam; mlp on the packed E003 sample)"
t_pack=$(($(date +%s) - t0))
echo
echo "== the repository, npx tsx run.ts"
t0=$(date +%s)
commands repo_run "$WORK/from-repo" "$SAMPLE"
t_repo=$(($(date +%s) - t0))

echo
echo "== comparing"
status=0
node --input-type=module - "$WORK/from-pack" "$WORK/from-repo" <<'EOF' || status=$?
import { readFileSync } from 'node:fs';
const [a, b] = process.argv.slice(2);
let failed = 0;
const say = (ok, what, detail = '') => {
  if (!ok) failed++;
  console.log(`${ok ? 'same     ' : 'DIFFERENT'}  ${what}${detail ? `: ${detail}` : ''}`);
};
const json = (dir) => JSON.parse(readFileSync(`${dir}/mlp/metrics.json`, 'utf8'));
const ma = json(a), mb = json(b);
// Timings differ between any two runs; everything the model computed must not.
const untimed = (h) => h.map(({ seconds, genesPerSecond, ...rest }) => rest);
const fields = {
  'validation scores': (m) => m.valid,
  'test scores': (m) => m.test,
  'best epoch': (m) => m.bestEpoch,
  parameters: (m) => m.parameters,
  normalization: (m) => m.normalization,
  'data fingerprint': (m) => m.data.fingerprint,
  'per-epoch loss and validation scores': (m) => untimed(m.history),
  adapter: (m) => m.device.adapter,
};
for (const [what, get] of Object.entries(fields)) {
  const x = JSON.stringify(get(ma)), y = JSON.stringify(get(mb));
  say(x === y, `metrics.json ${what}`, x === y ? '' : `pack ${x} / repo ${y}`);
}
console.log(`           validation AUROC ${ma.valid.auroc} (pack) ${mb.valid.auroc} (repo); test AUROC ${ma.test.auroc} (pack) ${mb.test.auroc} (repo)`);
for (const f of ['mlp/predictions.csv', 'predict.csv']) {
  const x = readFileSync(`${a}/${f}`, 'utf8'), y = readFileSync(`${b}/${f}`, 'utf8');
  say(x === y, f, `${x.trim().split('\n').length} lines`);
}
// The experiment's CSV ends in each run's seconds, which differ by nature: every other column must be identical.
const withoutSeconds = (text) => text.trim().split('\n').map((l) => l.split(',').slice(0, -1).join(',')).join('\n');
{
  const f = 'small/small-data.csv';
  const x = readFileSync(`${a}/${f}`, 'utf8'), y = readFileSync(`${b}/${f}`, 'utf8');
  const header = x.split('\n')[0] ?? '';
  say(header.endsWith(',seconds') && withoutSeconds(x) === withoutSeconds(y), `${f} (all but the seconds column)`, `${x.trim().split('\n').length} lines`);
}
console.log(readFileSync(`${a}/small/small-data.csv`, 'utf8').trim());
process.exit(failed === 0 ? 0 : 1);
EOF
echo "pack side ${t_pack} s, repository side ${t_repo} s, ${SECONDS} s in all (started $(date -u -d "@$t_start" +%H:%M:%S) UTC)"
if [ "$status" = 0 ]; then echo "verify-pack: the pack, without node on PATH, gives the repository's results"; else echo "verify-pack: FAILED" >&2; fi
exit "$status"
