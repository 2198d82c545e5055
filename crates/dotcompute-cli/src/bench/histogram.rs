//! The 256-bin histogram: the library's, a shared-bins kernel, global atomics, rayon.

use super::{Contender, Runner, Work, size_label, sync};
use crate::CliError;
use dotcompute::{Accelerator, ComputeService, Grid};
use dotcompute_conformance::{cooperative, kernels};
use rayon::prelude::*;
use std::hint::black_box;

/// Atomics: a histogram of 256 bins.
pub(super) fn run(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
) -> Result<(), CliError> {
    if !r.wants("histogram") {
        return Ok(());
    }
    let n = if r.quick { 1 << 18 } else { 1 << 24 };
    let values: Vec<u32> = (0..n as u32)
        .map(|i| i.wrapping_mul(0x9E37_79B9) >> 7)
        .collect();
    let bins = 256usize;
    let mut contenders = Vec::new();
    for acc in accs {
        let dv = dc.buffer_from_slice(&values)?;
        let mut db = dc.buffer_zeroed::<u32>(bins)?;
        contenders.push(Contender::dotcompute(acc, move || {
            kernels::histogram::launch(acc, n, &dv, &mut db)?;
            sync(acc)
        }));
        // Per-group shared bins (a cooperative kernel): each item counts 1024 values.
        let per_item = 1024usize;
        let items = (n as u64).div_ceil(per_item as u64).next_multiple_of(256);
        let dv = dc.buffer_from_slice(&values)?;
        let mut db = dc.buffer_zeroed::<u32>(bins)?;
        // The algorithms library's histogram: 256 bins of equal width over the values'
        // range (every value is below 2^25), instead of the value modulo 256.
        let dv_alg = dc.buffer_from_slice(&values)?;
        contenders.push(Contender::variant(
            "algorithms::histogram",
            acc,
            move || {
                black_box(dotcompute::algorithms::histogram(
                    acc,
                    &dv_alg,
                    bins,
                    0u32,
                    1 << 25,
                )?);
                sync(acc)
            },
        ));
        contenders.push(Contender::variant("shared bins", acc, move || {
            db.copy_from_slice(&[0; 256])?;
            cooperative::histogram_shared::launch(
                acc,
                Grid::d1(items).with_group_size([256, 1, 1]),
                per_item as u64,
                &dv,
                &mut db,
            )?;
            sync(acc)
        }));
    }
    let v = &values;
    contenders.push(Contender::peer("rayon (per-thread bins)", move || {
        let hist = v
            .par_iter()
            .fold(
                || vec![0u32; bins],
                |mut h, &x| {
                    h[x as usize % bins] += 1;
                    h
                },
            )
            .reduce(
                || vec![0u32; bins],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                    a
                },
            );
        black_box(hist);
        Ok(())
    }));
    contenders.push(Contender::peer("scalar", move || {
        let mut h = vec![0u32; bins];
        for &x in v {
            h[x as usize % bins] += 1;
        }
        black_box(h);
        Ok(())
    }));
    r.race(
        "histogram",
        &size_label(n, "u32"),
        n as u64,
        Work::Bytes(4 * n as u64),
        contenders,
    )
}
