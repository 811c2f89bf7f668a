#!/usr/bin/env bash
# Packs what a machine without Node, npm or a network needs to run the benches
# (bench/kernels.ts, bench/train.ts) and the command line (run.ts: train,
# experiment, predict, encode, resume, self-check): one folder, git-ignored, for
# the device tool's `carry` (64 MiB for it and the working tree together), or
# to copy anywhere as it is.
#
#   bash bench/device/pack.sh [DEST]        (default .device/bench)
#
# DEST/
#   run.sh, pytorch_train.py  the runner (bench/device/run.sh) and the PyTorch bench, so the
#                             pack runs on its own: bash DEST/run.sh kernels|train|pytorch|cli ...
#   node.xz                   this machine's node binary (linux-x64), xz
#   simplechrome/             stands in for a checkout:
#     app/bin/{kernels,train,run}.mjs   the benches and run.ts bundled by esbuild (our code, TF.js,
#                             vega, the data readers; only `webgpu` stays external)
#     shaders/                the WGSL sources (the bundles read ../../shaders/ beside them)
#     node_modules/webgpu/    the webgpu package's loader, dawn.node as dawn.node.xz (linux-x64 only)
#   shared/datasets/          stands in for ../shared/datasets beside a checkout, where run.ts
#                             looks by default: the real E003 sample (300 kB) and the gene
#                             annotation and expression table the neighbour models read (3 MB)
#   gl/*.deb                  the Vulkan loader (libvulkan1), unpacked there with dpkg -x
#   COMMIT                    the commit the pack was made from (+dirty with local changes)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
DEST=${1:-.device/bench}
LIMIT_BYTES=$((64 * 1024 * 1024))

[ "$(uname -m)" = x86_64 ] || { echo "pack.sh: the device machine is x86-64; packing on $(uname -m) would carry the wrong node and dawn.node" >&2; exit 1; }
[ -x node_modules/.bin/esbuild ] || { echo "pack.sh: node_modules/.bin/esbuild is missing: run npm ci first" >&2; exit 1; }
DAWN=node_modules/webgpu/dist/linux-x64/dawn.node
[ -f "$DAWN" ] || { echo "pack.sh: $DAWN is missing: run npm ci first" >&2; exit 1; }
# DEST is emptied below: refuse anything that does not look like a pack of ours.
if [ -e "$DEST" ] && [ -n "$(ls -A "$DEST" 2>/dev/null)" ] && [ ! -f "$DEST/COMMIT" ]; then
  echo "pack.sh: $DEST exists and is not a pack (no COMMIT file); not overwriting it" >&2
  exit 1
fi

APP=$DEST/simplechrome
rm -rf "$DEST"
mkdir -p "$APP/app/bin" "$APP/node_modules/webgpu/dist/linux-x64" "$DEST/gl"

echo "bundling the benches and run.ts …"
# ESM output: the CommonJS inside TF.js calls require() for Node built-ins, so the
# bundles get a real require from createRequire. All three side by side in
# app/bin (--entry-names), as deep as src/*/ is: their relative paths to
# shaders/ and ../shared/datasets resolve as they do in the repository.
node_modules/.bin/esbuild bench/kernels.ts bench/train.ts run.ts \
  --bundle --platform=node --format=esm --target=node20 --minify --log-level=warning \
  --external:webgpu --outdir="$APP/app/bin" --entry-names='[name]' --out-extension:.js=.mjs \
  --banner:js="import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);"
# run.ts's first line asks for npx tsx, which the pack has no use for.
sed -i '1{/^#!/d}' "$APP/app/bin/run.mjs"

cp -r shaders "$APP/shaders"
cp bench/device/run.sh bench/pytorch_train.py "$DEST/"

echo "compressing dawn.node and node (xz -9; a minute or two) …"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$APP/node_modules/webgpu/"
xz -9 -T0 -c "$DAWN" >"$APP/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
NODE_BIN=$(command -v node)
xz -9 -T0 -c "$NODE_BIN" >"$DEST/node.xz"

# The Vulkan loader, as /work/.library/device/README.md describes (.gl/ at the
# repository root is git-ignored and reused).
if ! ls .gl/libvulkan1_*amd64.deb >/dev/null 2>&1; then
  echo "downloading the Vulkan loader package (libvulkan1, amd64) …"
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update >/dev/null
  # shellcheck disable=SC2086
  (cd .gl && apt-get $o download libvulkan1 >/dev/null)
fi
cp .gl/libvulkan1_*amd64.deb "$DEST/gl/"

# The small real files run.ts finds by default beside a checkout, at the same
# relative place beside the pack's stand-in checkout. Bigger data (a whole cell,
# GC-MERGE E116) is not packed: carry it yourself and pass --data (bench/README.md).
SHARED=../shared/datasets
for f in derived_deepchrome_format/E003_sample600.{train,valid,test}.csv.gz \
         labels_rpkm_shallowchrome/{GeneFile_tss_windows.txt.gz,rpkm_19802genes_x_56cells.csv.gz}; do
  if [ -f "$SHARED/$f" ]; then
    mkdir -p "$DEST/shared/datasets/$(dirname "$f")"
    cp "$SHARED/$f" "$DEST/shared/datasets/$f"
  else
    echo "pack.sh: $SHARED/$f is missing; the pack goes without it (the benches fall back to synthetic data, run.ts needs --data)" >&2
  fi
done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then commit="$commit+dirty"; fi
echo "$commit" >"$DEST/COMMIT"

pack_bytes=$(du -sb "$DEST" | cut -f1)
tree_bytes=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | xargs -0 du -cb 2>/dev/null | awk '/total$/ {s += $1} END {print s + 0}')
total=$((pack_bytes + tree_bytes))
echo
du -sh "$DEST"/node.xz "$APP"/node_modules "$APP"/app "$APP"/shaders "$DEST"/gl "$DEST"/shared 2>/dev/null || true
printf 'pack %.1f MiB + working tree %.1f MiB = %.1f MiB of the 64 MiB a call may carry (commit %s)\n' \
  "$(echo "$pack_bytes / 1048576" | bc -l)" "$(echo "$tree_bytes / 1048576" | bc -l)" "$(echo "$total / 1048576" | bc -l)" "$commit"
if [ "$total" -gt "$LIMIT_BYTES" ]; then
  echo "pack.sh: over the 64 MiB limit" >&2
  exit 1
fi
echo "carry: [\"$DEST\"]   command: OUT=\$OUT bash bench/device/run.sh kernels|train|pytorch|cli ARGS"
