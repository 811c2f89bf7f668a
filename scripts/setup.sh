#!/usr/bin/env bash
# One-time set-up on Debian/Ubuntu, with or without a GPU: the Vulkan loader
# and the SwiftShader software driver (used only when no hardware adapter is
# found), Debian's Chromium (the browser the web page's test drives headless;
# nothing downloads a browser at npm install time), Slurm and MUNGE (the
# cluster tests start a single-node Slurm on localhost; nothing is configured
# system-wide), Debian's python3 with scikit-learn and PyTorch (tests and the
# PyTorch bridge), Node.js when missing, and the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need_apt=()
[ -e /usr/lib/chromium/vk_swiftshader_icd.json ] || need_apt+=(chromium-common)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' || need_apt+=(libvulkan1)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
[ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/slurmd ] && command -v sbatch >/dev/null 2>&1 || need_apt+=(slurm-wlm)
[ -x /usr/sbin/munged ] || need_apt+=(munge)
# test/sklearn-logreg.test.ts checks logreg against scikit-learn with Debian's python3.
/usr/bin/python3 -c 'import sklearn, numpy' >/dev/null 2>&1 || need_apt+=(python3-sklearn python3-numpy)
# scripts/to_pytorch.py (the PyTorch bridge) and test/pytorch-bridge.test.ts use Debian's python3 with PyTorch.
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || need_apt+=(python3-torch)

if [ ${#need_apt[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: missing ${need_apt[*]} and apt-get is not available; install them with your package manager" >&2
    exit 1
  fi
  echo "setup: installing ${need_apt[*]} with apt-get" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js $(node --version) is too old; simplechrome needs Node 20 or newer" >&2
  exit 1
fi

# The dependencies work without their install scripts (esbuild ships its
# binary as an optional dependency; webgpu's script only matters on macOS).
npm ci --no-audit --no-fund --ignore-scripts
echo "setup: done" >&2
