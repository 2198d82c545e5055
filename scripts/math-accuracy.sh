#!/usr/bin/env bash
# The math library's accuracy on every f32 input of its one-argument f32 functions (release
# build, all cores; about 10 minutes on two cores; name functions, e.g. `sin exp`, to check
# only those). Fails if any error reaches 1 ulp or any
# special value differs. The f64 functions are sampled against 192-bit references by
# `cargo test -p dotcompute-math`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release --locked -q -p dotcompute-math --example exhaustive_f32 -- "$@"
