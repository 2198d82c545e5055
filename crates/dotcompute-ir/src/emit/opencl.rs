//! OpenCL C from the IR: the OpenCL dialect of the C-family emitter ([`super::c_family`],
//! which describes how Rust's semantics are kept), for OpenCL 1.2 devices and later.
//!
//! Entry point: `__kernel void dotcompute_main(const dc_params params, __global uint*
//! fault, __global T0* b0, ...)`: the parameter block (as [`super::abi::ParamsLayout`]
//! describes it: 8-byte slots, so the struct has the same bytes on host and device) by value,
//! the launch's fault record, then one argument per buffer parameter (scalars travel in the
//! block). An ordinary kernel runs over a 1-D range of at
//! least the grid's work items (items past it leave at once); a cooperative kernel over a
//! 3-D range of whole groups of the launch's group size, whose global ids are the items'
//! coordinates. Build with [`OPENCL_BUILD_OPTIONS`].

use super::c_family::{self, CProgram, Dialect};
use crate::error::IrError;
use crate::program::Kernel;

/// Build options the emitted source needs for Rust's float semantics: correctly rounded
/// single-precision division and square root (OpenCL allows 2.5 and 3 ulp by default).
/// Contraction is turned off in the source (`#pragma OPENCL FP_CONTRACT OFF`); denormals
/// are kept unless a device cannot (`-cl-denorms-are-zero` is never given).
pub const OPENCL_BUILD_OPTIONS: &str = "-cl-fp32-correctly-rounded-divide-sqrt";

/// The kernel function's name in the emitted source.
pub const ENTRY_POINT: &str = c_family::ENTRY_POINT;

/// An emitted OpenCL C program and what the host needs to launch it.
pub type OpenClProgram = CProgram;

/// Emits the OpenCL C source of a validated kernel.
///
/// # Errors
///
/// [`IrError::Unsupported`] for a kernel with subgroup operations (OpenCL's subgroups are an
/// extension the emitter does not target yet).
pub fn emit(kernel: &Kernel) -> Result<OpenClProgram, IrError> {
    if kernel.uses_subgroups() {
        return Err(IrError::Unsupported {
            kernel: kernel.name.clone(),
            target: "OpenCL C",
            need: "subgroup operations".into(),
        });
    }
    Ok(c_family::emit(kernel, Dialect::OpenCl))
}
