//! CUDA C++ from the IR, for the CUDA backend (compiled by NVRTC): the CUDA dialect of the
//! C-family emitter ([`super::c_family`], which describes how Rust's semantics are kept).
//!
//! Entry point: `extern "C" __global__ void dotcompute_main(dc_params p, unsigned int*
//! fault, T0* b0, ...)` with one pointer per parameter (null for scalars, whose values are in
//! the parameter block at the slots of [`super::abi::ParamsLayout`]). The grid is launched as
//! `(nx, ny, 1)` blocks of `block_size` threads; each thread computes its 64-bit linear id,
//! leaves if it is past the grid, and splits it into `x, y, z`. Cooperative kernels are
//! launched with one block per group, of the group's size (folded into `(nx, ny, 1)` blocks).
//!
//! Floats: the source must be compiled with `--fmad=false` (no contraction of `a * b + c`,
//! [`CUDA_COMPILE_OPTIONS`]); `mul_add` is `fma`.

use super::c_family::{self, CProgram, Dialect};
use crate::program::Kernel;

/// NVRTC options the emitted source needs for Rust's float semantics: no contraction of
/// products into fused multiply-adds, IEEE division and square root, denormals kept.
pub const CUDA_COMPILE_OPTIONS: &[&str] = &[
    "--fmad=false",
    "--prec-div=true",
    "--prec-sqrt=true",
    "--ftz=false",
    "--std=c++17",
];

/// The kernel function's name in the emitted source.
pub const ENTRY_POINT: &str = c_family::ENTRY_POINT;

/// An emitted CUDA C++ program and what the host needs to launch it.
pub type CudaProgram = CProgram;

/// Emits the CUDA C++ source of a validated kernel.
pub fn emit(kernel: &Kernel) -> CudaProgram {
    c_family::emit(kernel, Dialect::Cuda)
}
