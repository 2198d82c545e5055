//! [`histogram`]: counts of a buffer's elements in bins of equal width over a range, on any
//! accelerator. Counts are integers, so they are the same whatever the order of counting.
//!
//! Floats: bin `min(floor((v - lo) * (bins / (hi - lo))), bins - 1)` for `lo <= v < hi`, the
//! product computed in the element type. Integers: bins of width `ceil((hi - lo) / bins)`
//! from `lo`. Elements outside `[lo, hi)`, and NaNs, are not counted.
//!
//! ```
//! use dotcompute::prelude::*;
//! use dotcompute::algorithms;
//!
//! # fn main() -> Result<(), dotcompute::Error> {
//! let dc = ComputeService::new()?;
//! let acc = dc.best_accelerator()?;
//! let x = dc.buffer_from_slice(&[0.5f32, 1.5, 1.7, 3.9, 4.0, -1.0, f32::NAN])?;
//! let counts = algorithms::histogram(&acc, &x, 4, 0.0, 4.0)?;
//! assert_eq!(counts.to_vec()?, [1, 2, 0, 1]);
//! # Ok(())
//! # }
//! ```

use super::histogram_kernels::{self as h, MAX_BINS};
use crate::{Accelerator, Error, Grid, UnifiedBuffer};

/// Elements each work item counts.
const PER_ITEM: u64 = 1024;

mod sealed {
    use crate::{Accelerator, Error, Grid, UnifiedBuffer};

    /// What [`super::Histogrammable`] types provide.
    pub trait Histogram: Copy + bytemuck::Pod + PartialOrd + std::fmt::Debug {
        /// The bin parameter of `[lo, hi)` in `bins` bins (the float scale, or the integer
        /// width as `u64` bits), or why the range cannot be binned.
        fn bin_parameter(lo: Self, hi: Self, bins: usize) -> Result<Self::Parameter, String>;
        /// The kernel's bin parameter type.
        type Parameter: Copy;
        /// Counts `x` into `counts`.
        ///
        /// # Safety
        ///
        /// `counts` holds `bins` elements, `bins` is 1 to `MAX_BINS`, and `grid` has at
        /// least `x.len().div_ceil(per_item)` items in groups of at most 256.
        #[allow(clippy::too_many_arguments)]
        unsafe fn count(
            acc: &Accelerator,
            grid: Grid,
            per_item: u64,
            bins: u64,
            lo: Self,
            hi: Self,
            parameter: Self::Parameter,
            x: &UnifiedBuffer<Self>,
            counts: &mut UnifiedBuffer<u32>,
        ) -> Result<(), Error>;
    }
}

/// Element types [`histogram`] works on: `f32 f64 i32 u32 i64 u64`.
pub trait Histogrammable: sealed::Histogram {}

macro_rules! float_histogrammable {
    ($t:ty, $kernel:ident) => {
        impl sealed::Histogram for $t {
            type Parameter = $t;
            fn bin_parameter(lo: $t, hi: $t, bins: usize) -> Result<$t, String> {
                let span = hi - lo;
                // NaN bounds compare as not less.
                if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) || !span.is_finite() {
                    return Err(format!("the range {lo:?}..{hi:?} is empty or not finite"));
                }
                Ok(bins as $t / span)
            }
            unsafe fn count(
                acc: &Accelerator,
                grid: Grid,
                per_item: u64,
                bins: u64,
                lo: $t,
                hi: $t,
                scale: $t,
                x: &UnifiedBuffer<$t>,
                counts: &mut UnifiedBuffer<u32>,
            ) -> Result<(), Error> {
                // SAFETY: the caller's contract: every bin index is below `bins` (clamped),
                // every element index below x's length, every shared index below MAX_BINS.
                unsafe { h::$kernel::launch(acc, grid, per_item, bins, lo, hi, scale, x, counts) }
            }
        }
        impl Histogrammable for $t {}
    };
}

macro_rules! int_histogrammable {
    ($t:ty, $kernel:ident) => {
        impl sealed::Histogram for $t {
            type Parameter = u64;
            fn bin_parameter(lo: $t, hi: $t, bins: usize) -> Result<u64, String> {
                if lo >= hi {
                    return Err(format!("the range {lo}..{hi} is empty"));
                }
                // The distance, in u64 for every type (two's complement wraps back).
                let span = (hi as u64).wrapping_sub(lo as u64);
                Ok(span.div_ceil(bins as u64).max(1))
            }
            unsafe fn count(
                acc: &Accelerator,
                grid: Grid,
                per_item: u64,
                bins: u64,
                lo: $t,
                hi: $t,
                width: u64,
                x: &UnifiedBuffer<$t>,
                counts: &mut UnifiedBuffer<u32>,
            ) -> Result<(), Error> {
                // SAFETY: as for the floats; width is at least 1.
                unsafe { h::$kernel::launch(acc, grid, per_item, bins, lo, hi, width, x, counts) }
            }
        }
        impl Histogrammable for $t {}
    };
}

float_histogrammable!(f32, histogram_f32);
float_histogrammable!(f64, histogram_f64);
int_histogrammable!(i32, histogram_i32);
int_histogrammable!(u32, histogram_u32);
int_histogrammable!(i64, histogram_i64);
int_histogrammable!(u64, histogram_u64);

/// Counts of `x`'s elements in `bins` bins of equal width over `lo..hi` (see the module
/// docs), as a new buffer of `bins` counts. `bins` is 1 to 4096; an empty or (for floats)
/// infinite range, or more than `u32::MAX` elements, is an [`Error::InvalidArgument`].
pub fn histogram<T: Histogrammable>(
    acc: &Accelerator,
    x: &UnifiedBuffer<T>,
    bins: usize,
    lo: T,
    hi: T,
) -> Result<UnifiedBuffer<u32>, Error> {
    let invalid = |reason: String| Error::InvalidArgument {
        operation: "histogram".into(),
        reason,
    };
    if bins == 0 || bins > MAX_BINS {
        return Err(invalid(format!(
            "{bins} bins: a histogram has 1 to {MAX_BINS}"
        )));
    }
    if x.len() as u64 > u64::from(u32::MAX) {
        return Err(invalid(format!(
            "{} elements: counts are u32, so at most {} elements",
            x.len(),
            u32::MAX
        )));
    }
    let parameter = T::bin_parameter(lo, hi, bins).map_err(invalid)?;
    let mut counts = acc.buffer_zeroed::<u32>(bins)?;
    if x.is_empty() {
        return Ok(counts);
    }
    // Whole groups: every item of a group flushes its share of the bins (items beyond a
    // grid's end would run nothing); items past the data count nothing.
    let items = (x.len() as u64).div_ceil(PER_ITEM).div_ceil(256) * 256;
    let grid = Grid::d1(items).with_group_size([256, 1, 1]);
    // SAFETY: counts holds `bins` (1..=MAX_BINS) counts; the grid has an item per PER_ITEM
    // elements, in groups of 256.
    unsafe {
        T::count(
            acc,
            grid,
            PER_ITEM,
            bins as u64,
            lo,
            hi,
            parameter,
            x,
            &mut counts,
        )
    }?;
    Ok(counts)
}
