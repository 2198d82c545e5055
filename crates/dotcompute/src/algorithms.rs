//! The algorithms library: what users reach for before writing a kernel, on any accelerator.
//!
//! - [`sum`], [`product`], [`min`], [`max`]: deterministic reductions (the same bits on every
//!   accelerator, thread count and SIMD level; see [`reduce`]).

pub mod reduce;
mod reduce_kernels;

pub use reduce::{Reducible, max, min, product, sum};

/// Every kernel the library launches, for tests that compile or validate them all (each
/// backend's emitter, NVRTC, naga).
pub fn kernels() -> Vec<&'static crate::KernelDefinition> {
    reduce_kernels::all()
}
