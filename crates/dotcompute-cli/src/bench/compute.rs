//! Compute-bound rows: polynomials of degree 8 and 32, and the Mandelbrot set.

use super::{Contender, Runner, Work, inputs, size_label, sync};
use crate::{CliError, c_peer};
use dotcompute::{Accelerator, ComputeService};
use dotcompute_conformance::{kernels, reference};
use rayon::prelude::*;
use std::hint::black_box;

/// The compute-bound kernel: a degree-8 polynomial per element (16 flops, unfused), at a size
/// that stays in cache (compute-bound) and one that does not (bound by memory: 2 flops per
/// byte moved).
pub(super) fn poly8(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
) -> Result<(), CliError> {
    let sizes: &[usize] = if r.quick {
        &[1 << 18]
    } else {
        &[1 << 20, 1 << 24]
    };
    if r.wants("poly8") {
        for &n in sizes {
            polynomial(r, dc, accs, n, Polynomial::Degree8, reference::poly8)?;
        }
    }
    if r.wants("poly32") {
        let n = if r.quick { 1 << 18 } else { 1 << 22 };
        polynomial(r, dc, accs, n, Polynomial::Degree32, reference::poly32)?;
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Polynomial {
    Degree8,
    Degree32,
}

/// `scalar` is the reference function itself (not a pointer), so that the peers inline it and
/// the rayon peer vectorises as well as a default release build allows.
fn polynomial(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
    n: usize,
    p: Polynomial,
    scalar: impl Fn(f32) -> f32 + Copy + Send + Sync,
) -> Result<(), CliError> {
    let x = inputs(n, 3);
    let (name, flops_per_item) = match p {
        Polynomial::Degree8 => ("poly8", 16),
        Polynomial::Degree32 => ("poly32", 64),
    };
    let accs = r.fitting(accs, 4 * n as u64, &format!("{name} {n}"));
    let mut contenders = Vec::new();
    for acc in &accs {
        let dx = dc.buffer_from_slice(&x)?;
        let mut out = dc.buffer_zeroed::<f32>(n)?;
        contenders.push(Contender::dotcompute(acc, move || {
            match p {
                Polynomial::Degree8 => kernels::poly8::launch(acc, n, &dx, &mut out)?,
                Polynomial::Degree32 => kernels::poly32::launch(acc, n, &dx, &mut out)?,
            }
            sync(acc)
        }));
    }
    let xs = &x;
    let mut scalar_out = vec![0f32; n];
    contenders.push(Contender::peer("scalar", move || {
        // One element at a time: black_box keeps the compiler from vectorising the loop.
        for (o, v) in scalar_out.iter_mut().zip(xs) {
            *o = scalar(black_box(*v));
        }
        Ok(())
    }));
    let mut rayon_out = vec![0f32; n];
    contenders.push(Contender::peer("rayon", move || {
        // Chunks with a plain inner loop: the form in which rustc vectorises the body whatever
        // its size (a per-element `for_each` closure is called through rayon's `&F` shim, which
        // LLVM stops inlining once the body is large, and then nothing vectorises).
        rayon_out
            .par_chunks_mut(4096)
            .zip(xs.par_chunks(4096))
            .for_each(move |(out, x)| {
                for (o, v) in out.iter_mut().zip(x) {
                    *o = scalar(*v);
                }
            });
        Ok(())
    }));
    if c_peer::threads().is_some() && matches!(p, Polynomial::Degree8) {
        let mut c_out = vec![0f32; n];
        contenders.push(Contender::peer("c-openmp", move || {
            c_peer::poly8(xs, &mut c_out).ok_or_else(|| CliError::Message("C peer failed".into()))
        }));
    }
    r.race(
        name,
        &size_label(n, "f32"),
        n as u64,
        Work::Flops {
            flops: flops_per_item * n as u64,
            bytes: 8 * n as u64,
        },
        contenders,
    )
}

/// Divergent control flow: the Mandelbrot set, one work item per pixel.
pub(super) fn mandelbrot(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
) -> Result<(), CliError> {
    if !r.wants("mandelbrot") {
        return Ok(());
    }
    let (w, h, max_iter) = if r.quick {
        (256usize, 192usize, 128u32)
    } else {
        (1024, 768, 256)
    };
    let (x0, y0, step) = (-2.2f32, -1.2f32, 2.4f32 / h as f32);
    let mut contenders = Vec::new();
    for acc in accs {
        let mut out = dc.buffer_zeroed::<u32>(w * h)?;
        contenders.push(Contender::dotcompute(acc, move || {
            kernels::mandelbrot::launch(acc, (w, h), x0, y0, step, max_iter, &mut out)?;
            sync(acc)
        }));
    }
    let pixel = move |l: usize| {
        let (px, py) = (l % w, l / w);
        kernels::escape_time(x0 + px as f32 * step, y0 + py as f32 * step, max_iter)
    };
    let mut scalar_out = vec![0u32; w * h];
    contenders.push(Contender::peer("scalar", move || {
        for (l, o) in scalar_out.iter_mut().enumerate() {
            *o = pixel(l);
        }
        Ok(())
    }));
    let mut rayon_out = vec![0u32; w * h];
    contenders.push(Contender::peer("rayon", move || {
        rayon_out
            .par_iter_mut()
            .enumerate()
            .for_each(|(l, o)| *o = pixel(l));
        Ok(())
    }));
    r.race(
        "mandelbrot",
        &format!("{w}x{h}, {max_iter} iter"),
        (w * h) as u64,
        Work::Pixels((w * h) as u64),
        contenders,
    )
}
