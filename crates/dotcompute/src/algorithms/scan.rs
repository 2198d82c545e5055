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
//! Other accelerators run this order as two kernels (chunk totals, then prefixes). The CPU
//! runs the same additions as host code in one sweep over memory (a carry needs only the
//! chunk totals before it), with AVX-512 for 32-bit elements where the processor has it: the
//! same bits, read once instead of twice.
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
    #[cfg(feature = "cpu")]
    {
        check_lengths(operation, x.len(), y.len())?;
        super::check_services(
            acc,
            operation,
            &[("x", x.raw().service()), ("y", y.raw().service())],
        )?;
        // The same additions in the same order as the kernels, in one sweep over memory.
        if let Some(result) = super::on_host(acc, |_threads| {
            T::host_scan(&x.read()?, &mut y.write()?, exclusive);
            Ok(())
        }) {
            return result;
        }
    }
    scan_by(
        acc,
        x,
        y,
        exclusive,
        operation,
        T::sum_identity(),
        &mut |grid, n, x, totals| {
            // SAFETY: `scan_by`'s guarantees are the contract of `scan_totals`.
            unsafe { T::scan_totals(acc, grid, n, x, totals) }
        },
        &mut |grid, n, exclusive, x, carries, y| {
            // SAFETY: `scan_by`'s guarantees are the contract of `scan_chunks`.
            unsafe { T::scan_chunks(acc, grid, n, exclusive, x, carries, y) }
        },
    )
}

/// A scan's output must be as long as its input.
fn check_lengths(operation: &str, input: usize, output: usize) -> Result<(), Error> {
    if output != input {
        return Err(Error::InvalidArgument {
            operation: operation.into(),
            reason: format!("the output holds {output} elements, the input {input}"),
        });
    }
    Ok(())
}

/// Launches one pass of a scan: grid, element count, input, output.
#[doc(hidden)]
pub type TotalsPass<'a, T> =
    dyn FnMut(Grid, u64, &UnifiedBuffer<T>, &mut UnifiedBuffer<T>) -> Result<(), Error> + 'a;

/// Launches the last pass of a scan: grid, element count, exclusive, input, carries, output.
#[doc(hidden)]
pub type ChunksPass<'a, T> = dyn FnMut(
        Grid,
        u64,
        bool,
        &UnifiedBuffer<T>,
        &UnifiedBuffer<T>,
        &mut UnifiedBuffer<T>,
    ) -> Result<(), Error>
    + 'a;

/// A scan in the documented order from its two chunk kernels (`define_reduction!` builds on
/// it): `totals(grid, n, x, totals)` and `chunks(grid, n, exclusive, x, carries, y)` are
/// launched with `x` (and `y`) holding `n` values, `totals` and `carries` one per chunk of
/// [`CHUNK`], and `grid` one group of [`GROUP`] items per chunk. `y` must be as long as `x`
/// ([`Error::InvalidArgument`] naming `operation` otherwise, `y` untouched).
#[doc(hidden)]
#[allow(clippy::too_many_arguments)]
pub fn scan_by<T: bytemuck::Pod>(
    acc: &Accelerator,
    x: &UnifiedBuffer<T>,
    y: &mut UnifiedBuffer<T>,
    exclusive: bool,
    operation: &str,
    identity: T,
    totals_pass: &mut TotalsPass<'_, T>,
    chunks_pass: &mut ChunksPass<'_, T>,
) -> Result<(), Error> {
    let n = x.len();
    check_lengths(operation, n, y.len())?;
    if n == 0 {
        return Ok(());
    }
    let groups = n.div_ceil(CHUNK);
    let grid = Grid::d1(groups as u64 * u64::from(GROUP)).with_group_size([GROUP, 1, 1]);
    let carries = if groups == 1 {
        let mut carry = acc.buffer_zeroed::<T>(1)?;
        carry.copy_from_slice(&[identity])?;
        carry
    } else {
        let mut totals = acc.buffer_zeroed::<T>(groups)?;
        totals_pass(grid, n as u64, x, &mut totals)?;
        let mut carries = acc.buffer_zeroed::<T>(groups)?;
        scan_by(
            acc,
            &totals,
            &mut carries,
            true,
            operation,
            identity,
            totals_pass,
            chunks_pass,
        )?;
        carries
    };
    chunks_pass(grid, n as u64, exclusive, x, &carries, y)
}
