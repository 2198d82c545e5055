//! Matrix products written as kernels: the naive one in `f64` and `f32`, and the
//! cooperative tiled ones.

use super::{Contender, Runner, Work, inputs, sync};
use crate::CliError;
use dotcompute::{Accelerator, ComputeService, Grid};
use dotcompute_conformance::{cooperative, kernels};
use rayon::prelude::*;

/// Naive matrix multiply over f64.
pub(super) fn run(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
) -> Result<(), CliError> {
    if !r.wants("matmul") {
        return Ok(());
    }
    let n = if r.quick { 64usize } else { 384 };
    let a: Vec<f64> = inputs(n * n, 4).into_iter().map(f64::from).collect();
    let b: Vec<f64> = inputs(n * n, 5).into_iter().map(f64::from).collect();
    let mut contenders = Vec::new();
    for acc in accs {
        let (da, db) = (dc.buffer_from_slice(&a)?, dc.buffer_from_slice(&b)?);
        let mut dcm = dc.buffer_zeroed::<f64>(n * n)?;
        let k = n as u32;
        contenders.push(Contender::dotcompute(acc, move || {
            kernels::matmul_f64::launch(acc, (n, n), &da, &db, &mut dcm, k, k, k, k)?;
            sync(acc)
        }));
    }
    let (a2, b2) = (&a, &b);
    let mut rayon_out = vec![0f64; n * n];
    contenders.push(Contender::peer("rayon", move || {
        rayon_out
            .par_chunks_mut(n)
            .enumerate()
            .for_each(|(row, out)| {
                for (col, o) in out.iter_mut().enumerate() {
                    let mut sum = 0.0;
                    for p in 0..n {
                        sum += a2[row * n + p] * b2[p * n + col];
                    }
                    *o = sum;
                }
            });
        Ok(())
    }));
    let mut scalar_out = vec![0f64; n * n];
    contenders.push(Contender::peer("scalar", move || {
        for row in 0..n {
            for col in 0..n {
                let mut sum = 0.0;
                for p in 0..n {
                    sum += a2[row * n + p] * b2[p * n + col];
                }
                scalar_out[row * n + col] = sum;
            }
        }
        Ok(())
    }));
    let flops = 2 * (n as u64).pow(3);
    let bytes = 3 * 8 * (n * n) as u64;
    r.race(
        "matmul_f64",
        &format!("{n}x{n}"),
        (n * n) as u64,
        Work::Flops { flops, bytes },
        contenders,
    )?;
    matmul_f32(r, dc, accs)
}

/// `f32` matrix multiply: the naive kernel, the cooperative one through 16 x 16 shared tiles
/// (with and without a 1 x 4 register tile per item), and a register tile alone.
fn matmul_f32(r: &mut Runner, dc: &ComputeService, accs: &[Accelerator]) -> Result<(), CliError> {
    let n = if r.quick { 128usize } else { 1024 };
    let a = inputs(n * n, 6);
    let b = inputs(n * n, 7);
    let mut contenders = Vec::new();
    for acc in accs {
        let (da, db) = (dc.buffer_from_slice(&a)?, dc.buffer_from_slice(&b)?);
        let mut dcm = dc.buffer_zeroed::<f32>(n * n)?;
        contenders.push(Contender::dotcompute(acc, move || {
            cooperative::matmul_naive_f32::launch(acc, (n, n), n as u64, &da, &db, &mut dcm)?;
            sync(acc)
        }));
        let (da, db) = (dc.buffer_from_slice(&a)?, dc.buffer_from_slice(&b)?);
        let mut dcm = dc.buffer_zeroed::<f32>(n * n)?;
        let tiles = n.next_multiple_of(16) as u64;
        contenders.push(Contender::variant("tiled (shared 16x16)", acc, move || {
            cooperative::matmul_tiled_f32::launch(
                acc,
                Grid::d2(tiles, tiles).with_group_size([16, 16, 1]),
                n as u64,
                &da,
                &db,
                &mut dcm,
            )?;
            sync(acc)
        }));
        let (da, db) = (dc.buffer_from_slice(&a)?, dc.buffer_from_slice(&b)?);
        let mut dct = dc.buffer_zeroed::<f32>(n * n)?;
        let grid = Grid::d2(
            n.div_ceil(4).next_multiple_of(16) as u64,
            n.next_multiple_of(16) as u64,
        )
        .with_group_size([16, 16, 1]);
        contenders.push(Contender::variant(
            "tiled + register tile",
            acc,
            move || {
                cooperative::matmul_tiled_register_f32::launch(
                    acc, grid, n as u64, &da, &db, &mut dct,
                )?;
                sync(acc)
            },
        ));
        let (da, db) = (dc.buffer_from_slice(&a)?, dc.buffer_from_slice(&b)?);
        let mut dcm = dc.buffer_zeroed::<f32>(n * n)?;
        contenders.push(Contender::variant("register tile 1x4", acc, move || {
            cooperative::matmul_register_tile::launch(
                acc,
                (n / 4, n),
                n as u64,
                &da,
                &db,
                &mut dcm,
            )?;
            sync(acc)
        }));
    }
    let (a2, b2) = (&a, &b);
    let mut rayon_out = vec![0f32; n * n];
    contenders.push(Contender::peer("rayon", move || {
        rayon_out
            .par_chunks_mut(n)
            .enumerate()
            .for_each(|(row, out)| {
                for (col, o) in out.iter_mut().enumerate() {
                    let mut sum = 0.0;
                    for p in 0..n {
                        sum += a2[row * n + p] * b2[p * n + col];
                    }
                    *o = sum;
                }
            });
        Ok(())
    }));
    let flops = 2 * (n as u64).pow(3);
    let bytes = 3 * 4 * (n * n) as u64;
    r.race(
        "matmul_f32",
        &format!("{n}x{n}"),
        (n * n) as u64,
        Work::Flops { flops, bytes },
        contenders,
    )
}
