#!/usr/bin/env bash
# Concurrency stress for as long as asked: many threads launching on every accelerator at once
# (the CPU, Vulkan devices such as lavapipe, CUDA GPUs), every result and fault checked.
# Usage: scripts/stress.sh [SECONDS] [more `dotcompute stress` options]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
exec cargo run --release --locked -q -p dotcompute-cli -- stress --seconds "$seconds" "$@"
