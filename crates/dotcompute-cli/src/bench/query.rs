//! Queries (`query!`): a fused map-filter-sum against rayon's iterator chain, four fused maps
//! against four launches that write intermediate buffers, a filtering collect against
//! rayon's, `sort_by_key` / `group_by_key` against the library's `sort_pairs` and rayon, a
//! fused `map.scan` against a map launch then the library's scan, and `join` against a
//! rayon hash join.

use super::{Contender, Runner, Work, inputs, size_label, sync};
use crate::CliError;
use dotcompute::prelude::*;
use dotcompute::{Accelerator, ComputeService, query};
use rayon::prelude::*;
use std::hint::black_box;

/// `y = x * 1.5`
#[kernel]
fn scale(x: &[f32], y: &mut [f32]) {
    let i = global_id();
    y[i] = x[i] * 1.5;
}

/// `y = x + 0.25`
#[kernel]
fn shift(x: &[f32], y: &mut [f32]) {
    let i = global_id();
    y[i] = x[i] + 0.25;
}

/// `y = x * x`
#[kernel]
fn square(x: &[f32], y: &mut [f32]) {
    let i = global_id();
    y[i] = x[i] * x[i];
}

/// `y = x - 1`
#[kernel]
fn lower(x: &[f32], y: &mut [f32]) {
    let i = global_id();
    y[i] = x[i] - 1.0;
}

/// Rows `query map.filter.sum`, `query 4 maps.sum` and `query filter.collect`.
pub(super) fn run(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
) -> Result<(), CliError> {
    let n = if r.quick { 1 << 20 } else { 1 << 26 };
    let x = inputs(n, 7);
    let size = size_label(n, "f32");
    if r.wants("query map.filter.sum") {
        let accs = r.fitting(accs, 4 * n as u64, "query map.filter.sum");
        let mut contenders = Vec::new();
        for acc in &accs {
            let dx = dc.buffer_from_slice(&x)?;
            contenders.push(Contender::dotcompute(acc, move || {
                // Inputs in [-1, 1): about half the squares pass.
                black_box(query!(
                    acc.query(&dx)
                        .map(|v: f32| v * v)
                        .filter(|v| v > 0.25)
                        .sum()
                )?);
                Ok(())
            }));
        }
        let xr = &x;
        contenders.push(Contender::peer("rayon map.filter.sum", move || {
            let total: f32 = xr.par_iter().map(|v| v * v).filter(|v| *v > 0.25).sum();
            black_box(total);
            Ok(())
        }));
        r.race(
            "query map.filter.sum",
            &size,
            n as u64,
            Work::Bytes(4 * n as u64),
            contenders,
        )?;
    }
    if r.wants("query 4 maps.sum") {
        let accs = r.fitting(accs, 8 * n as u64, "query 4 maps.sum");
        let mut contenders = Vec::new();
        for acc in &accs {
            let dx = dc.buffer_from_slice(&x)?;
            contenders.push(Contender::dotcompute(acc, move || {
                black_box(query!(
                    acc.query(&dx)
                        .map(|v: f32| v * 1.5)
                        .map(|v| v + 0.25)
                        .map(|v| v * v)
                        .map(|v| v - 1.0)
                        .sum()
                )?);
                Ok(())
            }));
            let dx = dc.buffer_from_slice(&x)?;
            let mut a = dc.buffer_zeroed::<f32>(n)?;
            let mut b = dc.buffer_zeroed::<f32>(n)?;
            contenders.push(Contender::variant("4 launches + sum", acc, move || {
                scale::launch(acc, n, &dx, &mut a)?;
                shift::launch(acc, n, &a, &mut b)?;
                square::launch(acc, n, &b, &mut a)?;
                lower::launch(acc, n, &a, &mut b)?;
                black_box(dotcompute::algorithms::sum(acc, &b)?);
                sync(acc)
            }));
        }
        let xr = &x;
        contenders.push(Contender::peer("rayon 4 maps.sum", move || {
            let total: f32 = xr
                .par_iter()
                .map(|v| v * 1.5)
                .map(|v| v + 0.25)
                .map(|v| v * v)
                .map(|v| v - 1.0)
                .sum();
            black_box(total);
            Ok(())
        }));
        r.race(
            "query 4 maps.sum",
            &size,
            n as u64,
            Work::Bytes(4 * n as u64),
            contenders,
        )?;
    }
    if r.wants("query filter.collect") {
        let accs = r.fitting(accs, 8 * n as u64, "query filter.collect");
        let mut contenders = Vec::new();
        for acc in &accs {
            let dx = dc.buffer_from_slice(&x)?;
            contenders.push(Contender::dotcompute(acc, move || {
                let kept: UnifiedBuffer<f32> =
                    query!(acc.query(&dx).filter(|v: f32| v > 0.0).collect())?;
                black_box(kept);
                Ok(())
            }));
        }
        let xr = &x;
        contenders.push(Contender::peer("rayon filter.collect", move || {
            let kept: Vec<f32> = xr.par_iter().copied().filter(|v| *v > 0.0).collect();
            black_box(kept);
            Ok(())
        }));
        // Bytes: the input read, and about half of it written.
        r.race(
            "query filter.collect",
            &size,
            n as u64,
            Work::Bytes(6 * n as u64),
            contenders,
        )?;
    }
    if r.wants("query map.scan") {
        let accs = r.fitting(accs, 12 * n as u64, "query map.scan");
        let mut contenders = Vec::new();
        for acc in &accs {
            let dx = dc.buffer_from_slice(&x)?;
            contenders.push(Contender::dotcompute(acc, move || {
                let running: UnifiedBuffer<f32> =
                    query!(acc.query(&dx).map(|v: f32| v * 1.5).scan())?;
                black_box(running);
                sync(acc)
            }));
            let dx = dc.buffer_from_slice(&x)?;
            let mut a = dc.buffer_zeroed::<f32>(n)?;
            let mut b = dc.buffer_zeroed::<f32>(n)?;
            contenders.push(Contender::variant(
                "map launch + inclusive_scan",
                acc,
                move || {
                    scale::launch(acc, n, &dx, &mut a)?;
                    dotcompute::algorithms::inclusive_scan(acc, &a, &mut b)?;
                    sync(acc)
                },
            ));
        }
        let xr = &x;
        let mut out = vec![0.0f32; n];
        contenders.push(Contender::peer("sequential map.scan", move || {
            let mut running = 0.0f32;
            for (o, v) in out.iter_mut().zip(xr) {
                running += v * 1.5;
                *o = running;
            }
            black_box(&out);
            Ok(())
        }));
        // Bytes: the input read and the running sums written.
        r.race(
            "query map.scan",
            &size,
            n as u64,
            Work::Bytes(8 * n as u64),
            contenders,
        )?;
    }
    keyed(r, dc, accs)
}

/// `sort_by_key` and `group_by_key(..).count()` over 16M `u32` values against the library's
/// `sort_pairs` given the keys (each repetition copies the keys and values in, as the sort
/// rows do) and rayon.
fn keyed(r: &mut Runner, dc: &ComputeService, accs: &[Accelerator]) -> Result<(), CliError> {
    let n = if r.quick { 1 << 18 } else { 1 << 24 };
    let values: Vec<u32> = (0..n as u32)
        .map(|i| i.wrapping_mul(0x9E37_79B9).rotate_left(13) ^ i)
        .collect();
    let size = size_label(n, "u32");
    // Full-width keys for the sort, 1024 groups for the grouping.
    let sort_key = |v: u32| v ^ 0x5555_5555;
    let group_key = |v: u32| v % 1024;
    for (row, grouping) in [
        ("query sort_by_key", false),
        ("query group_by_key.count", true),
    ] {
        if !r.wants(row) {
            continue;
        }
        let accs = r.fitting(accs, 16 * n as u64, row);
        let key_of = if grouping { group_key } else { sort_key };
        let keys: Vec<u32> = values.iter().map(|&v| key_of(v)).collect();
        let mut contenders = Vec::new();
        for acc in &accs {
            let dv = dc.buffer_from_slice(&values)?;
            contenders.push(Contender::dotcompute(acc, move || {
                if grouping {
                    black_box(query!(
                        acc.query(&dv).group_by_key(|v: u32| v % 1024).count()
                    )?);
                } else {
                    black_box(query!(
                        acc.query(&dv).sort_by_key(|v: u32| v ^ 0x5555_5555)
                    )?);
                }
                Ok(())
            }));
            let mut dk = dc.buffer_from_slice(&keys)?;
            let mut dv = dc.buffer_from_slice(&values)?;
            let (keys, values) = (&keys, &values);
            contenders.push(Contender::variant(
                "algorithms::sort_pairs (keys given)",
                acc,
                move || {
                    dk.copy_from_slice(keys)?;
                    dv.copy_from_slice(values)?;
                    dotcompute::algorithms::sort_pairs(acc, &mut dk, &mut dv)?;
                    sync(acc)
                },
            ));
        }
        let vr = &values;
        if grouping {
            contenders.push(Contender::peer("rayon fold into counts", move || {
                let counts = vr
                    .par_iter()
                    .fold(
                        || vec![0u64; 1024],
                        |mut c, &v| {
                            c[group_key(v) as usize] += 1;
                            c
                        },
                    )
                    .reduce(
                        || vec![0u64; 1024],
                        |mut a, b| {
                            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                            a
                        },
                    );
                black_box(counts);
                Ok(())
            }));
        } else {
            let mut sorted = values.clone();
            contenders.push(Contender::peer("rayon par_sort_by_key", move || {
                sorted.copy_from_slice(vr);
                sorted.par_sort_by_key(|&v| sort_key(v));
                black_box(&sorted);
                Ok(())
            }));
        }
        r.race(row, &size, n as u64, Work::Elements(n as u64), contenders)?;
    }
    join(r, dc, accs)
}

/// `join` of 4M orders with 1M customer ids (about four orders per customer, every order
/// matching one customer) against a rayon hash join giving the same pairs in the same order.
fn join(r: &mut Runner, dc: &ComputeService, accs: &[Accelerator]) -> Result<(), CliError> {
    if !r.wants("query join") {
        return Ok(());
    }
    let customers_n = if r.quick { 1 << 16 } else { 1 << 20 };
    let n = 4 * customers_n;
    let orders: Vec<u32> = (0..n as u32)
        .map(|i| i.wrapping_mul(0x9E37_79B9).rotate_left(7) % customers_n as u32)
        .collect();
    let customers: Vec<u32> = (0..customers_n as u32)
        .map(|i| i.wrapping_mul(0x85EB_CA6B) % customers_n as u32)
        .collect();
    let accs = r.fitting(accs, 40 * n as u64, "query join");
    let mut contenders = Vec::new();
    for acc in &accs {
        let (dl, dr) = (
            dc.buffer_from_slice(&orders)?,
            dc.buffer_from_slice(&customers)?,
        );
        contenders.push(Contender::dotcompute(acc, move || {
            black_box(query!(acc.query(&dl).join(&dr, |o: u32| o, |c: u32| c))?);
            Ok(())
        }));
    }
    let (lr, rr) = (&orders, &customers);
    contenders.push(Contender::peer("rayon hash join", move || {
        let mut by_key: std::collections::HashMap<u32, Vec<u64>> =
            std::collections::HashMap::with_capacity(rr.len());
        for (j, &k) in rr.iter().enumerate() {
            by_key.entry(k).or_default().push(j as u64);
        }
        let pairs: Vec<(u64, u64)> = lr
            .par_iter()
            .enumerate()
            .flat_map_iter(|(i, k)| {
                by_key
                    .get(k)
                    .into_iter()
                    .flatten()
                    .map(move |&j| (i as u64, j))
            })
            .collect();
        black_box(pairs);
        Ok(())
    }));
    r.race(
        "query join",
        &size_label(n, "u32"),
        n as u64,
        Work::Elements(n as u64),
        contenders,
    )
}
