#!/usr/bin/env bash
# Random differential testing for as long as asked: batches of fresh random kernels
# (dotcompute_conformance::random_kernels), each run on lavapipe and on PoCL and compared with
# the IR interpreter, and compiled for sm_90 with NVRTC. Stops at the first batch with a
# disagreement and prints its seed and reduced kernel; rerun one batch with
# DOTCOMPUTE_RANDOM_SEEDS=start..end.
# Usage: scripts/fuzz.sh [SECONDS] [KERNELS PER BATCH]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
batch="${2:-200}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/dotcompute-xdg-$(id -u)}"
mkdir -p "$XDG_RUNTIME_DIR"
nvrtc_dir="$PWD/target/nvrtc/nvidia/cu13/lib"
[ -d "$nvrtc_dir" ] && export DOTCOMPUTE_NVRTC_DIR="$nvrtc_dir"
# The test profile's build (the one `scripts/test.sh` makes): built once, then each batch runs.
cargo test --locked --no-run -q -p dotcompute-wgpu -p dotcompute-opencl --test random_kernels
cargo test --locked --no-run -q -p dotcompute-cuda --test nvrtc_compile
end=$((SECONDS + seconds))
start=$(( ($(date +%s%N) / 1000) % 1000000000000 * 1000 ))
kernels=0
while [ "$SECONDS" -lt "$end" ]; do
  export DOTCOMPUTE_RANDOM_SEEDS="$start..$((start + batch))"
  echo "== seeds $DOTCOMPUTE_RANDOM_SEEDS"
  cargo test --locked -q -p dotcompute-wgpu -p dotcompute-opencl --test random_kernels
  cargo test --locked -q -p dotcompute-cuda --test nvrtc_compile -- random_kernels
  start=$((start + batch))
  kernels=$((kernels + batch))
done
echo "== $kernels random kernels agreed on every backend present"
