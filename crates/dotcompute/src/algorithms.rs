//! The algorithms library: what users reach for before writing a kernel, on any accelerator.
//!
//! - [`sum`], [`product`], [`min`], [`max`]: deterministic reductions (the same bits on every
//!   accelerator, thread count and SIMD level, for finite results; see [`reduce`]);
//!   [`argmin`], [`argmax`].
//! - [`inclusive_scan`], [`exclusive_scan`]: deterministic prefix sums (see [`scan`]).
//! - [`histogram`]: counts in bins of equal width over a range, integers and floats.
//! - [`transpose`]: a row-major matrix's transpose.
//! - [`Gemm`]: `C = alpha * op(A) * op(B) + beta * C`, `f32` and `f64` (on the CPU through the
//!   `gemm` crate).
//! - [`Fft`]: 1-D complex FFTs of any length, forward and inverse, batched, `f32` and `f64` (on
//!   the CPU through `rustfft`).
//! - [`sort`], [`sort_pairs`], [`argsort`]: a stable LSD radix sort of `u32 i32 f32 u64 i64
//!   f64` keys (floats in `total_cmp` order), alone, with values of any of those types, or as
//!   a permutation.
//! - [`define_reduction!`](crate::define_reduction) and
//!   [`define_compaction!`](crate::define_compaction): a reduction and scans with your own
//!   associative `#[kernel_fn]` combiner, and stream compaction by your own predicate (see
//!   [`custom`]).

mod arg_kernels;
mod compact_kernels;
pub mod custom;
pub mod fft;
mod fft_kernels;
pub mod gemm;
mod gemm_kernels;
pub mod histogram;
mod histogram_kernels;
#[cfg(feature = "cpu")]
mod host_radix;
#[cfg(feature = "cpu")]
mod host_reduce;
#[cfg(feature = "cpu")]
mod host_scan;
#[cfg(feature = "cpu")]
mod host_scan_avx512;
pub mod reduce;
mod reduce_kernels;
pub mod scan;
mod scan_kernels;
pub mod sort;
mod sort_kernels;
pub mod transpose;
mod transpose_kernels;

pub use fft::{Fft, FftElement};
pub use gemm::{Gemm, GemmElement};
pub use histogram::{Histogrammable, histogram};
pub use reduce::{Reducible, argmax, argmin, max, min, product, sum};
pub use scan::{exclusive_scan, inclusive_scan};
pub use sort::{SortKey, SortValue, argsort, sort, sort_f32, sort_i32, sort_pairs, sort_u32};
pub use transpose::{Transposable, transpose};

/// Every kernel the library launches, for tests that compile or validate them all (each
/// backend's emitter, NVRTC, naga).
pub fn kernels() -> Vec<&'static crate::KernelDefinition> {
    let mut all = reduce_kernels::all();
    all.extend(arg_kernels::all());
    all.extend(scan_kernels::all());
    all.extend(histogram_kernels::all());
    all.extend(transpose_kernels::all());
    all.extend(sort_kernels::all());
    all.extend(gemm_kernels::all());
    all.extend(fft_kernels::all());
    all
}

/// [`Error::ForeignBuffer`] for the first buffer (named) of another service than `acc`'s.
/// Runs `task` on `acc`'s threads when its kernels run on the host's cores (the CPU), with
/// the thread count, and gives its result; `None` on other accelerators, which launch the
/// library's kernels instead.
#[cfg(feature = "cpu")]
fn on_host<R: Send>(
    acc: &crate::Accelerator,
    task: impl FnOnce(usize) -> Result<R, crate::Error> + Send,
) -> Option<Result<R, crate::Error>> {
    let mut task = Some(task);
    let mut outcome = None;
    let ran = acc.run_in_host_pool(&mut |threads| {
        if let Some(task) = task.take() {
            outcome = Some(task(threads));
        }
    });
    if ran { outcome } else { None }
}

fn check_services(
    acc: &crate::Accelerator,
    operation: &str,
    buffers: &[(&str, dotcompute_core::ServiceId)],
) -> Result<(), crate::Error> {
    match buffers
        .iter()
        .find(|(_, service)| *service != acc.context().id())
    {
        Some((name, _)) => Err(crate::Error::ForeignBuffer {
            kernel: operation.into(),
            param: (*name).into(),
            accelerator: acc.info().name.clone(),
        }),
        None => Ok(()),
    }
}
