//! [`sort_u32`], [`sort_i32`], [`sort_f32`] (in `total_cmp` order): a stable LSD radix sort
//! of 32-bit keys on any accelerator (signed and float keys through `u32` keys in the same
//! order), from the library's
//! own kernels: per pass (8 bits of the key), each run of [`RUN`] keys counts its digits,
//! the counts in digit-major order are scanned into offsets ([`transpose`] and
//! [`exclusive_scan`]), and each run writes its keys in order to their places.
//!
//! ```
//! use dotcompute::prelude::*;
//! use dotcompute::algorithms;
//!
//! # fn main() -> Result<(), dotcompute::Error> {
//! let dc = ComputeService::new()?;
//! let acc = dc.best_accelerator()?;
//! let mut keys = dc.buffer_from_slice(&[5u32, 3, 900, 3, 0, 70_000])?;
//! algorithms::sort_u32(&acc, &mut keys)?;
//! assert_eq!(keys.to_vec()?, [0, 3, 3, 5, 900, 70_000]);
//! # Ok(())
//! # }
//! ```

use super::sort_kernels as k;
use super::{exclusive_scan, transpose};
use crate::{Accelerator, Error, UnifiedBuffer};

/// Keys per work item and pass.
pub const RUN: usize = 4096;

/// Sorts `keys` in place, ascending (stable; for `u32` keys stability is not visible, but
/// the passes rely on it). Counts are `u32`: at most `u32::MAX` keys.
pub fn sort_u32(acc: &Accelerator, keys: &mut UnifiedBuffer<u32>) -> Result<(), Error> {
    let n = keys.len();
    if n < 2 {
        return Ok(());
    }
    if n as u64 > u64::from(u32::MAX) {
        return Err(Error::InvalidArgument {
            operation: "sort_u32".into(),
            reason: format!("{n} keys: at most {}", u32::MAX),
        });
    }
    let runs = n.div_ceil(RUN);
    let mut other = acc.buffer_zeroed::<u32>(n)?;
    let mut counts = acc.buffer_zeroed::<u32>(runs * 256)?;
    let mut by_digit = acc.buffer_zeroed::<u32>(runs * 256)?;
    let mut scanned = acc.buffer_zeroed::<u32>(runs * 256)?;
    let mut offsets = acc.buffer_zeroed::<u32>(runs * 256)?;
    // Four passes: the keys end where they started.
    for pass in 0..4u32 {
        let shift = 8 * pass;
        let (src, dst) = if pass % 2 == 0 {
            (&*keys, &mut other)
        } else {
            (&other, &mut *keys)
        };
        // SAFETY: one item per run of RUN keys; counts holds 256 per run.
        unsafe { k::radix_count_u32::launch(acc, runs, RUN as u64, shift, src, &mut counts) }?;
        // Offsets: the digit-major order (all runs' digit 0, then digit 1, ..) scanned.
        transpose(acc, &counts, runs, 256, &mut by_digit)?;
        exclusive_scan(acc, &by_digit, &mut scanned)?;
        transpose(acc, &scanned, 256, runs, &mut offsets)?;
        // SAFETY: every offset plus the run's count of its digit is at most n (the offsets
        // are an exclusive scan of all counts, which sum to n).
        unsafe { k::radix_scatter_u32::launch(acc, runs, RUN as u64, shift, src, &offsets, dst) }?;
    }
    Ok(())
}

/// Sorts `f32` keys in place in `f32::total_cmp` order (`-NaN < -inf < .. < -0.0 < 0.0 < ..
/// < inf < NaN`), through `u32` keys in the same order.
pub fn sort_f32(acc: &Accelerator, keys: &mut UnifiedBuffer<f32>) -> Result<(), Error> {
    if keys.len() < 2 {
        return Ok(());
    }
    let mut bits = acc.buffer_zeroed::<u32>(keys.len())?;
    k::f32_to_key::launch(acc, keys.len(), keys, &mut bits)?;
    sort_u32(acc, &mut bits)?;
    k::key_to_f32::launch(acc, keys.len(), &bits, keys)
}

/// Sorts `i32` keys in place, ascending, through `u32` keys in the same order.
pub fn sort_i32(acc: &Accelerator, keys: &mut UnifiedBuffer<i32>) -> Result<(), Error> {
    if keys.len() < 2 {
        return Ok(());
    }
    let mut bits = acc.buffer_zeroed::<u32>(keys.len())?;
    k::i32_to_key::launch(acc, keys.len(), keys, &mut bits)?;
    sort_u32(acc, &mut bits)?;
    k::key_to_i32::launch(acc, keys.len(), &bits, keys)
}
