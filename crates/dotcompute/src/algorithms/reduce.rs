//! Deterministic reductions: [`sum`], [`product`], [`min`] and [`max`] of a buffer, on any
//! accelerator, with a result whose bits depend only on the input, and [`argmin`] /
//! [`argmax`] (the first index of the least or greatest element).
//!
//! The order of combination is fixed by the input's length alone: the input is cut into
//! chunks of [`CHUNK`] elements, each reduced by the same two-level tree (lane `l` of 256
//! combines elements `l, l + 256, .., l + 3840` in order, then the 256 lane values are
//! combined pairwise, halving: `t[l] op t[l + 128]`, then `+ 64`, ..), and the chunk values
//! are reduced the same way, pass after pass, until one is left. Every backend runs the same
//! kernels (written in the kernel language; on the CPU, sums and products run the same
//! combinations as host code), so the CPU at any thread count and SIMD level, wgpu and CUDA
//! give the same bits: the property CUB's and PyTorch's reductions only promise on one
//! device. (Where IEEE arithmetic leaves bits open they may still differ: the payload
//! and sign of a NaN result, the sign of a zero that `min`/`max` pick between `-0.0` and
//! `0.0`, and subnormals on a Vulkan device that flushes them.)
//!
//! Semantics: integer sums and products wrap; float sums start from `-0.0` (as Rust's `sum`
//! does: `-0.0` is the identity of addition), float products from 1; `min` and `max` follow
//! the kernel language's `min`/`max`, which ignore NaNs (so an input of NaNs only gives
//! `+inf` for `min` and `-inf` for `max`, the identities). Sums propagate NaN and infinities
//! as IEEE arithmetic does. An empty buffer reduces to the
//! identity (`-0.0`, 0, 1, or the type's largest or smallest value: `+inf` and `-inf` for
//! floats).
//!
//! ```
//! use dotcompute::prelude::*;
//! use dotcompute::algorithms;
//!
//! # fn main() -> Result<(), dotcompute::Error> {
//! let dc = ComputeService::new()?;
//! let acc = dc.best_accelerator()?;
//! let x = dc.buffer_from_slice(&[3.0f32, -1.5, 8.0, 0.25])?;
//! assert_eq!(algorithms::sum(&acc, &x)?, 9.75);
//! assert_eq!(algorithms::max(&acc, &x)?, 8.0);
//! let empty = dc.buffer_zeroed::<u32>(0)?;
//! assert_eq!(algorithms::min(&acc, &empty)?, u32::MAX);
//! # Ok(())
//! # }
//! ```

use super::arg_kernels as a;
use super::reduce_kernels as k;
use super::scan_kernels as sc;
use crate::{Accelerator, Error, Grid, UnifiedBuffer};

/// Elements per chunk: a group of [`GROUP`] items reduces one.
pub const CHUNK: usize = 4096;
/// Items per group of the reduction kernels.
pub const GROUP: u32 = 256;

mod sealed {
    use crate::{Accelerator, Error, Grid, UnifiedBuffer};

    /// A reduction.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Op {
        Sum,
        Product,
        Min,
        Max,
    }

    /// What [`super::Reducible`] types provide: their identities and kernels.
    pub trait Reduce: Copy + bytemuck::Pod + Send + Sync {
        /// The identity of `op`.
        fn identity(op: Op) -> Self;
        /// One pass: `out[g]` is chunk `g` of `x[..n]` reduced by `op`.
        ///
        /// # Safety
        ///
        /// `n <= x.len()` and `out.len() >= n.div_ceil(CHUNK)`; `grid` has one group of
        /// `GROUP` items per chunk.
        unsafe fn pass(
            op: Op,
            acc: &Accelerator,
            grid: Grid,
            n: u64,
            x: &UnifiedBuffer<Self>,
            out: &mut UnifiedBuffer<Self>,
        ) -> Result<(), Error>;

        /// One pass of `argmin` (or `argmax` when `max`): the best (value, index) pair of
        /// each chunk of `x[..n]`, the indices from `ix` (or the positions, without it).
        ///
        /// # Safety
        ///
        /// As [`Reduce::pass`], and `ix`, when given, holds at least `n` indices.
        #[allow(clippy::too_many_arguments)]
        unsafe fn arg_pass(
            max: bool,
            acc: &Accelerator,
            grid: Grid,
            n: u64,
            x: &UnifiedBuffer<Self>,
            ix: Option<&UnifiedBuffer<u64>>,
            vals: &mut UnifiedBuffer<Self>,
            idxs: &mut UnifiedBuffer<u64>,
        ) -> Result<(), Error>;

        /// The scan's first pass: `totals[c]` is chunk `c`'s total (see `scan`).
        ///
        /// # Safety
        ///
        /// As [`Reduce::pass`] (`totals` for `out`).
        unsafe fn scan_totals(
            acc: &Accelerator,
            grid: Grid,
            n: u64,
            x: &UnifiedBuffer<Self>,
            totals: &mut UnifiedBuffer<Self>,
        ) -> Result<(), Error>;

        /// The scan's last pass: every element's prefix from its chunk's carry.
        ///
        /// # Safety
        ///
        /// As [`Reduce::pass`]; `carries` holds a value per chunk, `y` at least `n`.
        #[allow(clippy::too_many_arguments)]
        unsafe fn scan_chunks(
            acc: &Accelerator,
            grid: Grid,
            n: u64,
            exclusive: bool,
            x: &UnifiedBuffer<Self>,
            carries: &UnifiedBuffer<Self>,
            y: &mut UnifiedBuffer<Self>,
        ) -> Result<(), Error>;

        /// The CPU's sum (or product) of host memory, with the kernels' bits.
        #[cfg(feature = "cpu")]
        fn host_reduce(x: &[Self], identity: Self, product: bool) -> Self;

        /// The CPU's scan of host memory, with the kernels' bits (`y` as long as `x`).
        #[cfg(feature = "cpu")]
        fn host_scan(x: &[Self], y: &mut [Self], exclusive: bool);
    }
}

use sealed::Op;

/// Element types the reductions and scans work on: `f32 f64 i32 u32 i64 u64`.
pub trait Reducible: sealed::Reduce {
    /// The identity of the sums: 0, and `-0.0` for floats.
    fn sum_identity() -> Self {
        Self::identity(Op::Sum)
    }
}

macro_rules! reducible {
    ($t:ty, $zero:expr, $one:expr, $lo:expr, $hi:expr, $sum:ident, $product:ident, $min:ident, $max:ident,
     $argmin:ident, $argmin_next:ident, $argmax:ident, $argmax_next:ident,
     $scan_totals:ident, $scan_chunks:ident) => {
        impl sealed::Reduce for $t {
            fn identity(op: Op) -> $t {
                match op {
                    Op::Sum => $zero,
                    Op::Product => $one,
                    Op::Min => $hi,
                    Op::Max => $lo,
                }
            }

            unsafe fn pass(
                op: Op,
                acc: &Accelerator,
                grid: Grid,
                n: u64,
                x: &UnifiedBuffer<$t>,
                out: &mut UnifiedBuffer<$t>,
            ) -> Result<(), Error> {
                // SAFETY: the caller's contract: every index the kernels use is below n (of
                // x), below the group count (of out) or below GROUP (of their tile).
                unsafe {
                    match op {
                        Op::Sum => k::$sum::launch(acc, grid, n, x, out),
                        Op::Product => k::$product::launch(acc, grid, n, x, out),
                        Op::Min => k::$min::launch(acc, grid, n, x, out),
                        Op::Max => k::$max::launch(acc, grid, n, x, out),
                    }
                }
            }

            unsafe fn arg_pass(
                max: bool,
                acc: &Accelerator,
                grid: Grid,
                n: u64,
                x: &UnifiedBuffer<$t>,
                ix: Option<&UnifiedBuffer<u64>>,
                vals: &mut UnifiedBuffer<$t>,
                idxs: &mut UnifiedBuffer<u64>,
            ) -> Result<(), Error> {
                // SAFETY: the caller's contract, as for `pass` (ix holds n indices).
                unsafe {
                    match (max, ix) {
                        (false, None) => a::$argmin::launch(acc, grid, n, x, vals, idxs),
                        (false, Some(ix)) => {
                            a::$argmin_next::launch(acc, grid, n, x, ix, vals, idxs)
                        }
                        (true, None) => a::$argmax::launch(acc, grid, n, x, vals, idxs),
                        (true, Some(ix)) => {
                            a::$argmax_next::launch(acc, grid, n, x, ix, vals, idxs)
                        }
                    }
                }
            }

            unsafe fn scan_totals(
                acc: &Accelerator,
                grid: Grid,
                n: u64,
                x: &UnifiedBuffer<$t>,
                totals: &mut UnifiedBuffer<$t>,
            ) -> Result<(), Error> {
                // SAFETY: the caller's contract, as for `pass`.
                unsafe { sc::$scan_totals::launch(acc, grid, n, x, totals) }
            }

            unsafe fn scan_chunks(
                acc: &Accelerator,
                grid: Grid,
                n: u64,
                exclusive: bool,
                x: &UnifiedBuffer<$t>,
                carries: &UnifiedBuffer<$t>,
                y: &mut UnifiedBuffer<$t>,
            ) -> Result<(), Error> {
                // SAFETY: the caller's contract: indices below n (x, y), below the chunk
                // count (carries) and below GROUP (the lane array).
                unsafe {
                    sc::$scan_chunks::launch(acc, grid, n, u32::from(exclusive), x, carries, y)
                }
            }

            #[cfg(feature = "cpu")]
            fn host_reduce(x: &[$t], identity: $t, product: bool) -> $t {
                super::host_reduce::reduce(x, identity, product)
            }

            #[cfg(feature = "cpu")]
            fn host_scan(x: &[$t], y: &mut [$t], exclusive: bool) {
                super::host_scan::scan(x, y, exclusive);
            }
        }
        impl Reducible for $t {}
    };
}

reducible!(
    f32,
    -0.0,
    1.0,
    f32::NEG_INFINITY,
    f32::INFINITY,
    sum_f32,
    product_f32,
    min_f32,
    max_f32,
    argmin_f32,
    argmin_next_f32,
    argmax_f32,
    argmax_next_f32,
    scan_totals_f32,
    scan_chunks_f32
);
reducible!(
    f64,
    -0.0,
    1.0,
    f64::NEG_INFINITY,
    f64::INFINITY,
    sum_f64,
    product_f64,
    min_f64,
    max_f64,
    argmin_f64,
    argmin_next_f64,
    argmax_f64,
    argmax_next_f64,
    scan_totals_f64,
    scan_chunks_f64
);
reducible!(
    i32,
    0,
    1,
    i32::MIN,
    i32::MAX,
    sum_i32,
    product_i32,
    min_i32,
    max_i32,
    argmin_i32,
    argmin_next_i32,
    argmax_i32,
    argmax_next_i32,
    scan_totals_i32,
    scan_chunks_i32
);
reducible!(
    u32,
    0,
    1,
    0,
    u32::MAX,
    sum_u32,
    product_u32,
    min_u32,
    max_u32,
    argmin_u32,
    argmin_next_u32,
    argmax_u32,
    argmax_next_u32,
    scan_totals_u32,
    scan_chunks_u32
);
reducible!(
    i64,
    0,
    1,
    i64::MIN,
    i64::MAX,
    sum_i64,
    product_i64,
    min_i64,
    max_i64,
    argmin_i64,
    argmin_next_i64,
    argmax_i64,
    argmax_next_i64,
    scan_totals_i64,
    scan_chunks_i64
);
reducible!(
    u64,
    0,
    1,
    0,
    u64::MAX,
    sum_u64,
    product_u64,
    min_u64,
    max_u64,
    argmin_u64,
    argmin_next_u64,
    argmax_u64,
    argmax_next_u64,
    scan_totals_u64,
    scan_chunks_u64
);

/// The sum of `x`'s elements on `acc` (wrapping for integers; see the module docs for the
/// order, which makes the bits the same on every accelerator).
pub fn sum<T: Reducible>(acc: &Accelerator, x: &UnifiedBuffer<T>) -> Result<T, Error> {
    reduce(acc, x, Op::Sum)
}

/// The product of `x`'s elements on `acc` (wrapping for integers).
pub fn product<T: Reducible>(acc: &Accelerator, x: &UnifiedBuffer<T>) -> Result<T, Error> {
    reduce(acc, x, Op::Product)
}

/// The least element of `x` (floats by the kernel language's `min`: NaNs are ignored).
pub fn min<T: Reducible>(acc: &Accelerator, x: &UnifiedBuffer<T>) -> Result<T, Error> {
    reduce(acc, x, Op::Min)
}

/// The greatest element of `x` (floats by the kernel language's `max`: NaNs are ignored).
pub fn max<T: Reducible>(acc: &Accelerator, x: &UnifiedBuffer<T>) -> Result<T, Error> {
    reduce(acc, x, Op::Max)
}

/// The index of the least element of `x` (the first of equal ones; floats: NaNs lose to
/// every number, and the first NaN wins when all are NaN; `-0.0` and `0.0` are equal), or
/// `None` when `x` is empty. The result does not depend on the order of combination.
pub fn argmin<T: Reducible>(
    acc: &Accelerator,
    x: &UnifiedBuffer<T>,
) -> Result<Option<usize>, Error> {
    arg(acc, x, false)
}

/// The index of the greatest element of `x` (the first of equal ones; NaNs as for
/// [`argmin`]), or `None` when `x` is empty.
pub fn argmax<T: Reducible>(
    acc: &Accelerator,
    x: &UnifiedBuffer<T>,
) -> Result<Option<usize>, Error> {
    arg(acc, x, true)
}

fn arg<T: Reducible>(
    acc: &Accelerator,
    x: &UnifiedBuffer<T>,
    max: bool,
) -> Result<Option<usize>, Error> {
    let mut len = x.len();
    if len == 0 {
        return Ok(None);
    }
    let mut current: Option<(UnifiedBuffer<T>, UnifiedBuffer<u64>)> = None;
    loop {
        let groups = len.div_ceil(CHUNK);
        let mut vals = acc.buffer_zeroed::<T>(groups)?;
        let mut idxs = acc.buffer_zeroed::<u64>(groups)?;
        let grid = Grid::d1(groups as u64 * u64::from(GROUP)).with_group_size([GROUP, 1, 1]);
        let (input, ix) = match &current {
            Some((v, i)) => (v, Some(i)),
            None => (x, None),
        };
        // SAFETY: as in `reduce`; the previous pass's indices hold len values too.
        unsafe { T::arg_pass(max, acc, grid, len as u64, input, ix, &mut vals, &mut idxs) }?;
        len = groups;
        if len == 1 {
            let index = idxs.to_vec()?.first().copied();
            return Ok(index.map(|i| i as usize));
        }
        current = Some((vals, idxs));
    }
}

fn reduce<T: Reducible>(acc: &Accelerator, x: &UnifiedBuffer<T>, op: Op) -> Result<T, Error> {
    #[cfg(feature = "cpu")]
    if matches!(op, Op::Sum | Op::Product) {
        let operation = if op == Op::Sum { "sum" } else { "product" };
        super::check_services(acc, operation, &[("x", x.raw().service())])?;
        // The kernels' combinations in their order, read once at memory speed.
        if let Some(result) = super::on_host(acc, |_threads| {
            Ok(T::host_reduce(
                &x.read()?,
                T::identity(op),
                op == Op::Product,
            ))
        }) {
            return result;
        }
    }
    reduce_by(acc, x, T::identity(op), |grid, n, input, out| {
        // SAFETY: `reduce_by`'s guarantees are `pass`'s contract.
        unsafe { T::pass(op, acc, grid, n, input, out) }
    })
}

/// The passes of a reduction in the documented order, each launched by `pass(grid, n, input,
/// out)` with a chunk kernel: `input` holds `n` values, `out` one per chunk of [`CHUNK`]
/// (`n.div_ceil(CHUNK)`), and `grid` one group of [`GROUP`] items per chunk. The
/// reduction of nothing is `identity`. (`define_reduction!` builds on it.)
#[doc(hidden)]
pub fn reduce_by<T: bytemuck::Pod>(
    acc: &Accelerator,
    x: &UnifiedBuffer<T>,
    identity: T,
    mut pass: impl FnMut(Grid, u64, &UnifiedBuffer<T>, &mut UnifiedBuffer<T>) -> Result<(), Error>,
) -> Result<T, Error> {
    let mut len = x.len();
    if len == 0 {
        return Ok(identity);
    }
    let mut current: Option<UnifiedBuffer<T>> = None;
    loop {
        let groups = len.div_ceil(CHUNK);
        let mut out = acc.buffer_zeroed::<T>(groups)?;
        let grid = Grid::d1(groups as u64 * u64::from(GROUP)).with_group_size([GROUP, 1, 1]);
        let input = current.as_ref().unwrap_or(x);
        // n = len is the input's length (x's, or the previous pass's output, which holds
        // exactly len values); out holds one value per chunk.
        pass(grid, len as u64, input, &mut out)?;
        len = groups;
        if len == 1 {
            let values = out.to_vec()?;
            return values.first().copied().ok_or_else(|| Error::Backend {
                backend: acc.info().id.backend.to_string(),
                message: "a reduction's last pass returned no value".into(),
                source: None,
            });
        }
        current = Some(out);
    }
}
