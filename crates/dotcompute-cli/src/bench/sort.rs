//! Sorting 16M `u32` keys, and 16M `u32 -> u32` pairs, against rayon (each repetition copies
//! the unsorted data in first, as the peers do).

use super::{Contender, Runner, Work, size_label};
use crate::CliError;
use dotcompute::{Accelerator, ComputeService};
use rayon::prelude::*;
use std::hint::black_box;

/// Rows `sort u32` and `sort pairs u32`.
pub(super) fn run(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
) -> Result<(), CliError> {
    if !r.wants("sort") {
        return Ok(());
    }
    let n = if r.quick { 1 << 18 } else { 1 << 24 };
    let keys: Vec<u32> = (0..n as u32)
        .map(|i| i.wrapping_mul(0x9E37_79B9).rotate_left(13) ^ i)
        .collect();
    keys_only(r, dc, accs, &keys)?;
    pairs(r, dc, accs, &keys)
}

fn keys_only(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
    keys: &[u32],
) -> Result<(), CliError> {
    let n = keys.len();
    let accs = r.fitting(accs, 4 * n as u64, "sort");
    let mut contenders = Vec::new();
    for acc in &accs {
        let mut dk = dc.buffer_from_slice(keys)?;
        contenders.push(Contender::dotcompute(acc, move || {
            dk.copy_from_slice(keys)?;
            dotcompute::algorithms::sort(acc, &mut dk)?;
            Ok(())
        }));
    }
    let mut v = keys.to_vec();
    contenders.push(Contender::peer("rayon par_sort_unstable", move || {
        v.copy_from_slice(keys);
        v.par_sort_unstable();
        black_box(&v);
        Ok(())
    }));
    r.race(
        "sort u32",
        &size_label(n, "u32"),
        n as u64,
        Work::Elements(n as u64),
        contenders,
    )
}

/// Keys with their positions as values; the peers sort `(key, value)` tuples by key.
fn pairs(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
    keys: &[u32],
) -> Result<(), CliError> {
    let n = keys.len();
    let values: Vec<u32> = (0..n as u32).collect();
    let tuples: Vec<(u32, u32)> = keys.iter().copied().zip(values.iter().copied()).collect();
    let accs = r.fitting(accs, 8 * n as u64, "sort pairs");
    let mut contenders = Vec::new();
    for acc in &accs {
        let mut dk = dc.buffer_from_slice(keys)?;
        let mut dv = dc.buffer_from_slice(&values)?;
        let values = &values;
        contenders.push(Contender::dotcompute(acc, move || {
            dk.copy_from_slice(keys)?;
            dv.copy_from_slice(values)?;
            dotcompute::algorithms::sort_pairs(acc, &mut dk, &mut dv)?;
            Ok(())
        }));
    }
    let mut unstable = tuples.clone();
    let t = &tuples;
    contenders.push(Contender::peer(
        "rayon par_sort_unstable_by_key",
        move || {
            unstable.copy_from_slice(t);
            unstable.par_sort_unstable_by_key(|p| p.0);
            black_box(&unstable);
            Ok(())
        },
    ));
    let mut stable = tuples.clone();
    contenders.push(Contender::peer(
        "rayon par_sort_by_key (stable)",
        move || {
            stable.copy_from_slice(t);
            stable.par_sort_by_key(|p| p.0);
            black_box(&stable);
            Ok(())
        },
    ));
    r.race(
        "sort pairs u32",
        &size_label(n, "u32"),
        n as u64,
        Work::Elements(n as u64),
        contenders,
    )
}
