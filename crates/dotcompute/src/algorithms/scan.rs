//! Deterministic prefix sums: [`inclusive_scan`] and [`exclusive_scan`] of a buffer into
//! another, on any accelerator, with results whose bits depend only on the input.
//!
//! The order of additions is fixed by the length: the input is cut into chunks of
//! [`CHUNK`](super::reduce::CHUNK) elements, and in each, lane `l` of 256 owns the 16
//! contiguous elements from `16l`. A chunk's total is the Hillis-Steele scan of its lane
//! totals (each lane's elements added in order from the identity) at the last lane. The
//! chunks' carries are the exclusive scan of the chunk totals, by this same algorithm. Element
//! `16l + m` of chunk `c` is then `carry_c + prefix_l`, plus the lane's elements `0..=m`
//! (inclusive) or `0..m` (exclusive) one at a time, where `prefix_l` is the Hillis-Steele
//! scan's value at lane `l - 1` (the identity for lane 0). Integer sums wrap; float sums start
//! from `-0.0`.
//!
//! ```
//! use dotcompute::prelude::*;
//! use dotcompute::algorithms;
//!
//! # fn main() -> Result<(), dotcompute::Error> {
//! let dc = ComputeService::new()?;
//! let acc = dc.best_accelerator()?;
//! let x = dc.buffer_from_slice(&[3u32, 1, 4, 1, 5])?;
//! let mut y = dc.buffer_zeroed::<u32>(5)?;
//! algorithms::inclusive_scan(&acc, &x, &mut y)?;
//! assert_eq!(y.to_vec()?, [3, 4, 8, 9, 14]);
//! algorithms::exclusive_scan(&acc, &x, &mut y)?;
//! assert_eq!(y.to_vec()?, [0, 3, 4, 8, 9]);
//! # Ok(())
//! # }
//! ```

use super::reduce::{CHUNK, GROUP, Reducible};
use crate::{Accelerator, Error, Grid, UnifiedBuffer};

/// `y[i] = x[0] + .. + x[i]` on `acc` (see the module docs for the order). `y` must hold as
/// many elements as `x`; it is left untouched on error.
pub fn inclusive_scan<T: Reducible>(
    acc: &Accelerator,
    x: &UnifiedBuffer<T>,
    y: &mut UnifiedBuffer<T>,
) -> Result<(), Error> {
    scan(acc, x, y, false, "inclusive_scan")
}

/// `y[i] = x[0] + .. + x[i - 1]` (`y[0]` is 0, `-0.0` for floats) on `acc`.
pub fn exclusive_scan<T: Reducible>(
    acc: &Accelerator,
    x: &UnifiedBuffer<T>,
    y: &mut UnifiedBuffer<T>,
) -> Result<(), Error> {
    scan(acc, x, y, true, "exclusive_scan")
}

fn scan<T: Reducible>(
    acc: &Accelerator,
    x: &UnifiedBuffer<T>,
    y: &mut UnifiedBuffer<T>,
    exclusive: bool,
    operation: &str,
) -> Result<(), Error> {
    let n = x.len();
    if y.len() != n {
        return Err(Error::InvalidArgument {
            operation: operation.into(),
            reason: format!("the output holds {} elements, the input {n}", y.len()),
        });
    }
    if n == 0 {
        return Ok(());
    }
    let groups = n.div_ceil(CHUNK);
    let grid = Grid::d1(groups as u64 * u64::from(GROUP)).with_group_size([GROUP, 1, 1]);
    let carries = if groups == 1 {
        let mut carry = acc.buffer_zeroed::<T>(1)?;
        carry.copy_from_slice(&[T::sum_identity()])?;
        carry
    } else {
        let mut totals = acc.buffer_zeroed::<T>(groups)?;
        // SAFETY: n is x's length, totals holds a value per chunk, one group per chunk.
        unsafe { T::scan_totals(acc, grid, n as u64, x, &mut totals) }?;
        let mut carries = acc.buffer_zeroed::<T>(groups)?;
        scan(acc, &totals, &mut carries, true, operation)?;
        carries
    };
    // SAFETY: n is the length of x and y, carries holds a value per chunk, one group per
    // chunk.
    unsafe { T::scan_chunks(acc, grid, n as u64, exclusive, x, &carries, y) }
}
