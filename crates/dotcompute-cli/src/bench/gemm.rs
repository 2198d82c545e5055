//! `algorithms::Gemm` against OpenBLAS (loaded at run time) on square matrices, f32 and f64.

use super::{Contender, Runner, Work, inputs, sync};
use crate::CliError;
use crate::openblas_peer::OpenBlas;
use dotcompute::algorithms::{Gemm, GemmElement};
use dotcompute::{Accelerator, ComputeService};

/// Rows `gemm f32` and `gemm f64` at 1024 and 2048 (256 with `--quick`).
pub(super) fn run(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
) -> Result<(), CliError> {
    if !r.wants("gemm") {
        return Ok(());
    }
    let blas = match OpenBlas::load() {
        Ok(blas) => {
            r.notes
                .push(format!("GEMM peer: OpenBLAS ({})", blas.config.trim()));
            Some(blas)
        }
        Err(why) => {
            r.notes.push(why);
            None
        }
    };
    let sizes: &[usize] = if r.quick { &[256] } else { &[1024, 2048] };
    for &n in sizes {
        let a32: Vec<f32> = inputs(n * n, 11);
        let b32: Vec<f32> = inputs(n * n, 12);
        square::<f32>(
            r,
            dc,
            accs,
            "gemm f32",
            n,
            &a32,
            &b32,
            blas.as_ref()
                .map(|b| move |a: &[f32], bm: &[f32], c: &mut [f32]| b.sgemm(n, a, bm, c)),
        )?;
        let a64: Vec<f64> = a32.iter().map(|&v| f64::from(v)).collect();
        let b64: Vec<f64> = b32.iter().map(|&v| f64::from(v)).collect();
        square::<f64>(
            r,
            dc,
            accs,
            "gemm f64",
            n,
            &a64,
            &b64,
            blas.as_ref()
                .map(|b| move |a: &[f64], bm: &[f64], c: &mut [f64]| b.dgemm(n, a, bm, c)),
        )?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn square<T: GemmElement + Default>(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
    name: &str,
    n: usize,
    a: &[T],
    b: &[T],
    peer: Option<impl Fn(&[T], &[T], &mut [T]) -> Option<()>>,
) -> Result<(), CliError> {
    let bytes = 3 * (n * n * size_of::<T>()) as u64;
    let accs = r.fitting(accs, bytes, &format!("{name} {n}"));
    let mut contenders = Vec::new();
    for acc in &accs {
        let (da, db) = (dc.buffer_from_slice(a)?, dc.buffer_from_slice(b)?);
        let mut dcm = dc.buffer_zeroed::<T>(n * n)?;
        contenders.push(Contender::dotcompute(acc, move || {
            Gemm::new(n, n, n).run(acc, &da, &db, &mut dcm)?;
            sync(acc)
        }));
    }
    if let Some(peer) = peer {
        let mut c = vec![T::default(); n * n];
        contenders.push(Contender::peer("openblas", move || {
            peer(a, b, &mut c)
                .ok_or_else(|| CliError::Message("OpenBLAS peer: wrong sizes".into()))?;
            Ok(())
        }));
    }
    r.race(
        name,
        &format!("{n}x{n}"),
        (n * n) as u64,
        Work::Flops {
            flops: 2 * (n as u64).pow(3),
            bytes,
        },
        contenders,
    )
}
