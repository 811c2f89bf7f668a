#!/usr/bin/env bash
# Packs what the lent GPU machine needs to run bench/kernels.ts and
# bench/train.ts without Node, npm or a network: one folder, git-ignored,
# for the device tool's `carry` (64 MiB for it and the working tree together).
#
#   bash bench/device/pack.sh [DEST]        (default .device/bench)
#
# DEST/
#   node.xz                   this machine's node binary (linux-x64), xz
#   node_modules/webgpu/      the webgpu package's loader, dawn.node as dawn.node.xz (linux-x64 only)
#   app/bin/{kernels,train}.mjs   the benches bundled by esbuild (our code, TF.js, the
#                             data readers; `webgpu` stays external)
#   shaders/                  the WGSL sources (the bundles read ../../shaders/ beside them)
#   gl/*.deb                  the Vulkan loader (libvulkan1), unpacked there with dpkg -x
#   data/E003_sample600.*     the real E003 sample (300 kB), when it is beside the checkout
#   COMMIT                    the commit the pack was made from (+dirty with local changes)
# bench/device/run.sh (in the working tree, which travels anyway) runs it there.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
DEST=${1:-.device/bench}
LIMIT_BYTES=$((64 * 1024 * 1024))

[ "$(uname -m)" = x86_64 ] || { echo "pack.sh: the device machine is x86-64; packing on $(uname -m) would carry the wrong node and dawn.node" >&2; exit 1; }
[ -x node_modules/.bin/esbuild ] || { echo "pack.sh: node_modules/.bin/esbuild is missing: run npm ci first" >&2; exit 1; }
DAWN=node_modules/webgpu/dist/linux-x64/dawn.node
[ -f "$DAWN" ] || { echo "pack.sh: $DAWN is missing: run npm ci first" >&2; exit 1; }

rm -rf "$DEST"
mkdir -p "$DEST/app/bin" "$DEST/node_modules/webgpu/dist/linux-x64" "$DEST/gl" "$DEST/data"

echo "bundling the benches …"
# ESM output: the CommonJS inside TF.js calls require() for Node built-ins, so the
# bundles get a real require from createRequire.
node_modules/.bin/esbuild bench/kernels.ts bench/train.ts \
  --bundle --platform=node --format=esm --target=node20 --minify --log-level=warning \
  --external:webgpu --outdir="$DEST/app/bin" --out-extension:.js=.mjs \
  --banner:js="import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);"

cp -r shaders "$DEST/shaders"

echo "compressing dawn.node and node (xz -9; a minute or two) …"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$DEST/node_modules/webgpu/"
xz -9 -T0 -c "$DAWN" >"$DEST/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
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

SAMPLE=../shared/datasets/derived_deepchrome_format/E003_sample600
if [ -f "$SAMPLE.train.csv.gz" ]; then
  cp "$SAMPLE".{train,valid,test}.csv.gz "$DEST/data/"
else
  echo "pack.sh: the E003 sample is not at $SAMPLE; the device run will use synthetic data only" >&2
fi

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then commit="$commit+dirty"; fi
echo "$commit" >"$DEST/COMMIT"

pack_bytes=$(du -sb "$DEST" | cut -f1)
tree_bytes=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | xargs -0 du -cb 2>/dev/null | awk '/total$/ {s += $1} END {print s + 0}')
total=$((pack_bytes + tree_bytes))
echo
du -sh "$DEST"/node.xz "$DEST"/node_modules "$DEST"/app "$DEST"/shaders "$DEST"/gl "$DEST"/data
printf 'pack %.1f MiB + working tree %.1f MiB = %.1f MiB of the 64 MiB a call may carry (commit %s)\n' \
  "$(echo "$pack_bytes / 1048576" | bc -l)" "$(echo "$tree_bytes / 1048576" | bc -l)" "$(echo "$total / 1048576" | bc -l)" "$commit"
if [ "$total" -gt "$LIMIT_BYTES" ]; then
  echo "pack.sh: over the 64 MiB limit" >&2
  exit 1
fi
echo "carry: [\"$DEST\"]   command: OUT=\$OUT bash bench/device/run.sh kernels|train|pytorch"
