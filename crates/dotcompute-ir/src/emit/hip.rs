//! HIP C++ from the IR, for AMD GPUs (ROCm): the HIP dialect of the C-family emitter
//! ([`super::c_family`]), which is its CUDA dialect behind the HIP runtime header. HIP C++
//! accepts CUDA's kernel syntax, built-ins (`threadIdx`, `__syncthreads`, `atomicCAS`,
//! `__int_as_float`, ...) and entry point, so the two differ in little: the header, signed
//! 64-bit atomic min and max (a compare-and-swap loop: ROCm 5.2 lacks them on some
//! architectures), the compiler's options ([`HIP_COMPILE_OPTIONS`]) and the subgroups:
//! AMD's wavefronts are 64 items wide on CDNA (`gfx90a`) and 32 on RDNA, and the ROCm
//! releases before 6.2 have no `__shfl_*_sync`, so kernels with subgroup operations are
//! refused for now.
//!
//! Entry point and launch: as [`super::cuda`] (`extern "C" __global__ void
//! dotcompute_main(dc_params p, unsigned int* fault, T0* b0, ...)`).

use super::c_family::{self, CProgram, Dialect};
use crate::error::IrError;
use crate::program::Kernel;

/// `hipcc`/`hiprtc` options the emitted source needs for Rust's float semantics: no
/// contraction of products into fused multiply-adds, `f32` denormals kept, correctly rounded
/// `f32` division and square root (clang's defaults for the last two, made explicit).
pub const HIP_COMPILE_OPTIONS: &[&str] = &[
    "-ffp-contract=off",
    "-fno-gpu-flush-denormals-to-zero",
    "-fhip-fp32-correctly-rounded-divide-sqrt",
    "-std=c++17",
];

/// The kernel function's name in the emitted source.
pub const ENTRY_POINT: &str = c_family::ENTRY_POINT;

/// An emitted HIP C++ program and what the host needs to launch it.
pub type HipProgram = CProgram;

/// Emits the HIP C++ source of a validated kernel.
///
/// # Errors
///
/// [`IrError::Unsupported`] for a kernel with subgroup operations (see the module docs).
pub fn emit(kernel: &Kernel) -> Result<HipProgram, IrError> {
    if kernel.uses_subgroups() {
        return Err(IrError::Unsupported {
            kernel: kernel.name.clone(),
            target: "HIP C++",
            need: "subgroup operations".into(),
        });
    }
    Ok(c_family::emit(kernel, Dialect::Hip))
}
