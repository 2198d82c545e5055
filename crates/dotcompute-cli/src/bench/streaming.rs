//! Memory-bound rows: vector add and STREAM triad at three sizes, sums (the library's
//! deterministic one and hand-written kernels) and the inclusive scan, against the C peer and
//! rayon.

use super::{Contender, Runner, Work, inputs, size_label, sync};
use crate::{CliError, c_peer};
use dotcompute::{Accelerator, ComputeService, Grid, UnifiedBuffer};
use dotcompute_conformance::{cooperative, kernels};
use rayon::prelude::*;
use std::hint::black_box;

/// Memory-bound kernels: vector add, triad, sum.
pub(super) fn run(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
) -> Result<(), CliError> {
    let mut sizes: Vec<usize> = if r.quick {
        vec![1 << 16, 1 << 20]
    } else {
        vec![1 << 20, 1 << 24, 1 << 26]
    };
    // GPUs reach their bandwidth only on large arrays: 256M f32 (1 GiB per array), the size
    // the GPU peers (`../shared/gpu/peers.py`: torch.add) are measured at.
    let gpu = accs.iter().any(|a| {
        matches!(
            a.info().kind,
            dotcompute::AcceleratorKind::DiscreteGpu | dotcompute::AcceleratorKind::IntegratedGpu
        )
    });
    if gpu && !r.quick {
        sizes.push(1 << 28);
    }
    let sizes = &sizes[..];
    for &n in sizes {
        let a = inputs(n, 1);
        let b = inputs(n, 2);
        let size = size_label(n, "f32");
        if r.wants("vector_add") {
            let mut peer_out = vec![0f32; n];
            let mut rayon_out = vec![0f32; n];
            let accs = r.fitting(accs, 4 * n as u64, &format!("vector_add {size}"));
            let bufs: Vec<(UnifiedBuffer<f32>, UnifiedBuffer<f32>, UnifiedBuffer<f32>)> = accs
                .iter()
                .map(|_| {
                    Ok((
                        dc.buffer_from_slice(&a)?,
                        dc.buffer_from_slice(&b)?,
                        dc.buffer_zeroed(n)?,
                    ))
                })
                .collect::<Result<_, dotcompute::Error>>()?;
            let mut contenders = Vec::new();
            for (acc, (da, db, dout)) in accs.iter().zip(bufs) {
                let mut dout = dout;
                contenders.push(Contender::dotcompute(acc, move || {
                    kernels::vector_add::launch(acc, n, &da, &db, &mut dout)?;
                    sync(acc)
                }));
            }
            if c_peer::threads().is_some() {
                let (a, b) = (&a, &b);
                contenders.push(Contender::peer("stream-c", move || {
                    c_peer::add(&mut peer_out, a, b)
                        .ok_or_else(|| CliError::Message("C peer failed".into()))
                }));
            }
            let (a2, b2) = (&a, &b);
            contenders.push(Contender::peer("rayon", move || {
                rayon_out
                    .par_iter_mut()
                    .zip(a2.par_iter().zip(b2.par_iter()))
                    .for_each(|(o, (x, y))| *o = x + y);
                Ok(())
            }));
            r.race(
                "vector_add",
                &size,
                n as u64,
                Work::Bytes(12 * n as u64),
                contenders,
            )?;
        }
        if r.wants("triad") {
            let mut peer_out = vec![0f32; n];
            let mut rayon_out = vec![0f32; n];
            let s = 3.0f32;
            let accs = r.fitting(accs, 4 * n as u64, &format!("triad {size}"));
            let mut contenders = Vec::new();
            for acc in &accs {
                let (db, dc2) = (dc.buffer_from_slice(&a)?, dc.buffer_from_slice(&b)?);
                let mut da = dc.buffer_zeroed::<f32>(n)?;
                contenders.push(Contender::dotcompute(acc, move || {
                    kernels::triad::launch(acc, n, &mut da, &db, &dc2, s)?;
                    sync(acc)
                }));
            }
            if c_peer::threads().is_some() {
                let (a, b) = (&a, &b);
                contenders.push(Contender::peer("stream-c", move || {
                    c_peer::triad(&mut peer_out, a, b, s)
                        .ok_or_else(|| CliError::Message("C peer failed".into()))
                }));
            }
            let (a2, b2) = (&a, &b);
            contenders.push(Contender::peer("rayon", move || {
                rayon_out
                    .par_iter_mut()
                    .zip(a2.par_iter().zip(b2.par_iter()))
                    .for_each(|(o, (x, y))| *o = x + s * y);
                Ok(())
            }));
            r.race(
                "triad",
                &size,
                n as u64,
                Work::Bytes(12 * n as u64),
                contenders,
            )?;
        }
        if r.wants("sum") && n == *sizes.last().unwrap_or(&n) {
            let chunk = 1 << 16;
            let groups = n.div_ceil(chunk);
            let accs = r.fitting(accs, 4 * n as u64, &format!("sum {size}"));
            let mut contenders = Vec::new();
            for acc in &accs {
                let dx = dc.buffer_from_slice(&a)?;
                let mut partial = dc.buffer_zeroed::<f32>(groups)?;
                contenders.push(Contender::dotcompute(acc, move || {
                    kernels::partial_sums::launch(acc, groups, chunk, &dx, &mut partial)?;
                    let total: f32 = partial.read()?.iter().sum();
                    black_box(total);
                    Ok(())
                }));
                // The same sum as a cooperative kernel: groups of 256 items, each item a
                // chunk, a tree in shared memory per group.
                let item_chunk = 1u64 << 10;
                let items = (n as u64).div_ceil(item_chunk);
                let block_groups = items.div_ceil(256) as usize;
                let dx = dc.buffer_from_slice(&a)?;
                let mut sums = dc.buffer_zeroed::<f32>(block_groups)?;
                // The algorithms library's deterministic sum (fixed order, the same bits on
                // every accelerator).
                let dx_alg = dc.buffer_from_slice(&a)?;
                contenders.push(Contender::variant("algorithms::sum", acc, move || {
                    black_box(dotcompute::algorithms::sum(acc, &dx_alg)?);
                    Ok(())
                }));
                contenders.push(Contender::variant("block reduce", acc, move || {
                    cooperative::block_reduce::launch(
                        acc,
                        Grid::d1(items).with_group_size([256, 1, 1]),
                        item_chunk,
                        &dx,
                        &mut sums,
                    )?;
                    let total: f32 = sums.read()?.iter().sum();
                    black_box(total);
                    Ok(())
                }));
            }
            if c_peer::threads().is_some() {
                let a = &a;
                contenders.push(Contender::peer("stream-c", move || {
                    black_box(c_peer::sum(a));
                    Ok(())
                }));
            }
            let a2 = &a;
            contenders.push(Contender::peer("rayon", move || {
                black_box(a2.par_iter().sum::<f32>());
                Ok(())
            }));
            r.race(
                "sum",
                &size,
                n as u64,
                Work::Bytes(4 * n as u64),
                contenders,
            )?;
        }
        if r.wants("scan") && n == *sizes.last().unwrap_or(&n) {
            let accs = r.fitting(accs, 8 * n as u64, &format!("scan {size}"));
            let mut contenders = Vec::new();
            for acc in &accs {
                let dx = dc.buffer_from_slice(&a)?;
                let mut y = dc.buffer_zeroed::<f32>(n)?;
                contenders.push(Contender::dotcompute(acc, move || {
                    dotcompute::algorithms::inclusive_scan(acc, &dx, &mut y)?;
                    Ok(())
                }));
            }
            if c_peer::threads().is_some() {
                // The floor the issue sets the scan against: a STREAM copy moves the same
                // bytes (one read, one write per element).
                let a1 = &a;
                let mut copied = vec![0f32; n];
                contenders.push(Contender::peer("STREAM copy (stream-c)", move || {
                    c_peer::copy(&mut copied, a1)
                        .ok_or_else(|| CliError::Message("C peer failed".into()))
                }));
                let a2 = &a;
                let mut seq = vec![0f32; n];
                contenders.push(Contender::peer("sequential C", move || {
                    c_peer::scan(&mut seq, a2)
                        .ok_or_else(|| CliError::Message("C peer failed".into()))
                }));
            } else {
                let a2 = &a;
                let mut seq = vec![0f32; n];
                contenders.push(Contender::peer("sequential", move || {
                    let mut running = -0.0f32;
                    for (o, v) in seq.iter_mut().zip(a2) {
                        running += v;
                        *o = running;
                    }
                    black_box(&seq);
                    Ok(())
                }));
            }
            // Rayon, two passes: chunk sums in parallel, their prefix, then each chunk's
            // scan from its carry in parallel.
            let a3 = &a;
            let mut out = vec![0f32; n];
            contenders.push(Contender::peer("rayon (two passes)", move || {
                let chunk = 1 << 16;
                let sums: Vec<f32> = a3.par_chunks(chunk).map(|c| c.iter().sum()).collect();
                let mut carry = -0.0f32;
                let carries: Vec<f32> = sums
                    .iter()
                    .map(|s| {
                        let c = carry;
                        carry += s;
                        c
                    })
                    .collect();
                out.par_chunks_mut(chunk)
                    .zip(a3.par_chunks(chunk))
                    .zip(carries.par_iter())
                    .for_each(|((o, x), &c)| {
                        let mut running = c;
                        for (o, v) in o.iter_mut().zip(x) {
                            running += v;
                            *o = running;
                        }
                    });
                black_box(&out);
                Ok(())
            }));
            r.race(
                "inclusive scan",
                &size,
                n as u64,
                Work::Bytes(8 * n as u64),
                contenders,
            )?;
        }
    }
    Ok(())
}
