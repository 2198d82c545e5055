#!/usr/bin/env bash
# The whole test suite: what CI runs (.ci/run) and what the README tells newcomers to run.
# Installs what the tests need (idempotently), then checks formatting, lints, and runs every
# test, doctest and example build of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

# Toolchain components the checks use.
if command -v rustup >/dev/null 2>&1; then
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
fi

# Installs the Debian packages "${@:2}" that are missing (for what "$1" says), as root or
# through passwordless sudo; fails when they stay missing or there is no dpkg.
install_debs() {
  local purpose=$1 pkg
  shift
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "not a Debian-like system: install $* yourself ($purpose)" >&2
    return 1
  fi
  local need=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
  done
  ((${#need[@]})) || return 0
  echo "== installing ${need[*]} ($purpose)"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  export DEBIAN_FRONTEND=noninteractive
  ${sudo[@]+"${sudo[@]}"} apt-get update -qq || true
  ${sudo[@]+"${sudo[@]}"} apt-get install -y -qq --no-install-recommends "${need[@]}"
}

# Mesa's lavapipe: a Vulkan device on the CPU, so the wgpu backend's tests run on any machine.
# Without it the wgpu tests would skip, so they are told to fail instead
# (DOTCOMPUTE_REQUIRE_WGPU).
if install_debs "Vulkan and GL on the CPU for the wgpu tests" mesa-vulkan-drivers libvulkan1 libegl1 libegl-mesa0 libgl1-mesa-dri; then
  export DOTCOMPUTE_REQUIRE_WGPU=1
else
  echo "WARNING: could not install lavapipe: the wgpu tests will report themselves SKIPPED" >&2
fi
# PoCL: a real OpenCL implementation on the CPU, so that every kernel's OpenCL C is built on
# any machine (DOTCOMPUTE_REQUIRE_OPENCL, as above).
if install_debs "OpenCL on the CPU for the OpenCL tests" pocl-opencl-icd ocl-icd-libopencl1; then
  export DOTCOMPUTE_REQUIRE_OPENCL=1
else
  echo "WARNING: could not install PoCL: the OpenCL tests will report themselves SKIPPED" >&2
fi
# hipcc (Debian's, ROCm 5.2): every generated HIP C++ kernel is compiled for AMD GPUs, with
# no GPU needed (DOTCOMPUTE_REQUIRE_HIPCC, as above).
if install_debs "HIP C++ compiled for AMD GPUs in the tests" hipcc; then
  export DOTCOMPUTE_REQUIRE_HIPCC=1
else
  echo "WARNING: could not install hipcc: the HIP compile test will report itself SKIPPED" >&2
fi
# The CPU and software devices (lavapipe) run every conformance case: there a case skipped
# for a missing capability fails instead (a real GPU's cases still skip; 0 lets them all).
export DOTCOMPUTE_REQUIRE_ALL_CASES="${DOTCOMPUTE_REQUIRE_ALL_CASES:-1}"
# NVRTC from NVIDIA's pip wheel, so that every generated CUDA kernel is compiled in the tests
# (no GPU or CUDA toolkit needed). Installed once into target/, found through
# DOTCOMPUTE_NVRTC_DIR; without pip the CUDA compile tests report themselves SKIPPED.
nvrtc_dir="$PWD/target/nvrtc/nvidia/cu13/lib"
if [ ! -e "$nvrtc_dir/libnvrtc.so.13" ] && command -v python3 >/dev/null 2>&1; then
  echo "== installing NVRTC (pip wheel nvidia-cuda-nvrtc) into target/nvrtc"
  python3 -m pip install --quiet --disable-pip-version-check --target "$PWD/target/nvrtc" nvidia-cuda-nvrtc \
    || echo "WARNING: could not install nvidia-cuda-nvrtc: the CUDA compile tests will report themselves SKIPPED" >&2
fi
if [ -e "$nvrtc_dir/libnvrtc.so.13" ]; then
  export DOTCOMPUTE_NVRTC_DIR="$nvrtc_dir" DOTCOMPUTE_REQUIRE_NVRTC=1
fi

# Vulkan loaders and Mesa want a private runtime directory; containers often lack one.
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -w "${XDG_RUNTIME_DIR}" ]; then
  export XDG_RUNTIME_DIR="${TMPDIR:-/tmp}/dotcompute-xdg-$(id -u)"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test (unit, integration, compile-fail, doc tests)"
cargo test --workspace --locked

if [ "${DOTCOMPUTE_REQUIRE_WGPU:-}" = 1 ]; then
  # lavapipe's `/` and `sqrt` are exact: here they are made 2 ulp off, so that the rounding
  # probe must notice and the correctly rounded helpers (also started 2 ulp off) must give
  # the CPU's bits.
  echo "== wgpu: an inexact driver simulated: the probe and the correctly rounded helpers"
  DOTCOMPUTE_WGPU_SIMULATE_INEXACT_DRIVER=1 \
    cargo test --workspace --locked --test conformance --test discovery -- \
    math_library black_scholes float_math nbody roots_and_quotients the_rounding_probe_reports_its_verdict
  # lavapipe compiles for the CPU it runs on, and its f64 rounding was wrong only without
  # AVX-512: the exact-rounding cases run again as on an AVX2 machine, whichever CI has.
  echo "== wgpu: lavapipe as on a CPU without AVX-512 (rounding and the math library)"
  GALLIUM_OVERRIDE_CPU_CAPS=avx \
    cargo test --workspace --locked --test conformance -- rounding math_library float_math
  # An adapter without 64-bit integers: llvmpipe's GL, with them as pairs of 32-bit words,
  # and without NoContraction (the emitter's opaque_float_results), on the whole suite.
  echo "== wgpu: GL (llvmpipe) with 64-bit integers as pairs of 32-bit words"
  DOTCOMPUTE_WGPU_BACKENDS=gl \
    cargo test -p dotcompute-wgpu --locked --test conformance
fi

echo "== all tests passed"
