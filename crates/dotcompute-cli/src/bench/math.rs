//! Transcendental-heavy kernels: `exp` and `ln` maps and Black-Scholes, with the math library
//! (the default), with the devices' own functions (`fast_math`), and against Rust's std
//! functions in a rayon loop.

use super::{Contender, Runner, Work, inputs, size_label, sync};
use crate::CliError;
use dotcompute::{Accelerator, ComputeService, UnifiedBuffer};
use dotcompute_conformance::{cases, kernels, reference};
use rayon::prelude::*;

/// Rows of the math benchmarks.
pub(super) fn run(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
) -> Result<(), CliError> {
    let n = if r.quick { 1 << 18 } else { 1 << 24 };
    // exp over [-80, 80), ln over (0, 1e4]: ordinary magnitudes on both sides of 1.
    let x: Vec<f32> = inputs(n, 7).into_iter().map(|v| v * 80.0).collect();
    if r.wants("exp") {
        map(r, dc, accs, "exp", &x, Map::Exp)?;
    }
    // sin over [-100, 100): many periods.
    let angles: Vec<f32> = inputs(n, 8).into_iter().map(|v| v * 100.0).collect();
    if r.wants("sin") {
        map(r, dc, accs, "sin", &angles, Map::Sin)?;
    }
    let positive: Vec<f32> = inputs(n, 9)
        .into_iter()
        .map(|v| (v + 1.0) * 5000.0 + 1e-3)
        .collect();
    if r.wants("ln") {
        map(r, dc, accs, "ln", &positive, Map::Ln)?;
    }
    let options = if r.quick { 1 << 16 } else { 1 << 22 };
    if r.wants("black-scholes") {
        black_scholes_f32(r, dc, accs, options)?;
        black_scholes_f64(r, dc, accs, options)?;
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Map {
    Exp,
    Sin,
    Ln,
}

fn map(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
    name: &str,
    x: &[f32],
    f: Map,
) -> Result<(), CliError> {
    let n = x.len();
    let accs = r.fitting(accs, 4 * n as u64, &format!("{name} {n}"));
    let mut contenders = Vec::new();
    for acc in &accs {
        let dx = dc.buffer_from_slice(x)?;
        let mut out = dc.buffer_zeroed::<f32>(n)?;
        contenders.push(Contender::dotcompute(acc, move || {
            match f {
                Map::Exp => kernels::exp_map::launch(acc, n, &dx, &mut out)?,
                Map::Sin => kernels::sin_map::launch(acc, n, &dx, &mut out)?,
                Map::Ln => kernels::ln_map::launch(acc, n, &dx, &mut out)?,
            }
            sync(acc)
        }));
        let dx = dc.buffer_from_slice(x)?;
        let mut out = dc.buffer_zeroed::<f32>(n)?;
        contenders.push(Contender::variant("fast_math", acc, move || {
            match f {
                Map::Exp => kernels::exp_map_fast::launch(acc, n, &dx, &mut out)?,
                Map::Sin => kernels::sin_map_fast::launch(acc, n, &dx, &mut out)?,
                Map::Ln => kernels::ln_map_fast::launch(acc, n, &dx, &mut out)?,
            }
            sync(acc)
        }));
    }
    let mut rayon_out = vec![0f32; n];
    contenders.push(Contender::peer("rayon (std)", move || {
        rayon_out
            .par_chunks_mut(4096)
            .zip(x.par_chunks(4096))
            .for_each(|(out, x)| match f {
                Map::Exp => out.iter_mut().zip(x).for_each(|(o, v)| *o = v.exp()),
                Map::Sin => out.iter_mut().zip(x).for_each(|(o, v)| *o = v.sin()),
                Map::Ln => out.iter_mut().zip(x).for_each(|(o, v)| *o = v.ln()),
            });
        Ok(())
    }));
    r.race(
        name,
        &size_label(n, "f32"),
        n as u64,
        Work::Elements(n as u64),
        contenders,
    )
}

fn black_scholes_f32(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
    n: usize,
) -> Result<(), CliError> {
    let (rate, vol) = (0.02f32, 0.3f32);
    black_scholes(
        r,
        dc,
        accs,
        cases::options_f32(n, 31),
        "f32",
        |acc, fast, n, [s, k, t], [call, put]| {
            if fast {
                kernels::black_scholes_fast_f32::launch(acc, n, s, k, t, rate, vol, call, put)
            } else {
                kernels::black_scholes_f32::launch(acc, n, s, k, t, rate, vol, call, put)
            }
        },
        |option| reference::black_scholes_f32(option, rate, vol, f32::exp, f32::ln),
    )
}

fn black_scholes_f64(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
    n: usize,
) -> Result<(), CliError> {
    let (s, k, t) = cases::options_f32(n, 37);
    let wide = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<f64>>();
    let (rate, vol) = (0.02f64, 0.3f64);
    black_scholes(
        r,
        dc,
        accs,
        (wide(s), wide(k), wide(t)),
        "f64",
        |acc, fast, n, [s, k, t], [call, put]| {
            if fast {
                kernels::black_scholes_fast_f64::launch(acc, n, s, k, t, rate, vol, call, put)
            } else {
                kernels::black_scholes_f64::launch(acc, n, s, k, t, rate, vol, call, put)
            }
        },
        |option| reference::black_scholes_f64(option, rate, vol, f64::exp, f64::ln),
    )
}

/// One Black-Scholes row: the library's kernel and the `fast_math` one (`launch` picks by its
/// flag) on every accelerator that can run them, and a rayon loop pricing with `price`.
fn black_scholes<T: bytemuck::Pod + Send + Sync>(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
    (s, k, t): (Vec<T>, Vec<T>, Vec<T>),
    precision: &str,
    launch: impl Fn(
        &Accelerator,
        bool,
        usize,
        [&UnifiedBuffer<T>; 3],
        [&mut UnifiedBuffer<T>; 2],
    ) -> Result<(), dotcompute::Error>
    + Copy,
    price: impl Fn((T, T, T)) -> (T, T) + Sync,
) -> Result<(), CliError> {
    let n = s.len();
    let size = std::mem::size_of::<T>();
    let wide = size == 8;
    let accs = r.fitting(
        accs,
        (size * n) as u64,
        &format!("black-scholes {n} {precision}"),
    );
    let mut contenders = Vec::new();
    for acc in &accs {
        let capabilities = &acc.info().capabilities;
        if wide && !capabilities.f64 {
            continue;
        }
        // Vulkan has no f64 device functions: `fast_math` only where the device has them.
        let variants: &[bool] = if wide && !capabilities.f64_device_math {
            &[false]
        } else {
            &[false, true]
        };
        for &fast in variants {
            let (ds, dk, dt) = (
                dc.buffer_from_slice(&s)?,
                dc.buffer_from_slice(&k)?,
                dc.buffer_from_slice(&t)?,
            );
            let mut call = dc.buffer_zeroed::<T>(n)?;
            let mut put = dc.buffer_zeroed::<T>(n)?;
            let run = move || {
                launch(acc, fast, n, [&ds, &dk, &dt], [&mut call, &mut put])?;
                sync(acc)
            };
            contenders.push(if fast {
                Contender::variant("fast_math", acc, run)
            } else {
                Contender::dotcompute(acc, run)
            });
        }
    }
    let (mut call, mut put) = (vec![T::zeroed(); n], vec![T::zeroed(); n]);
    let (s, k, t) = (&s, &k, &t);
    contenders.push(Contender::peer("rayon (std)", move || {
        call.par_chunks_mut(4096)
            .zip(put.par_chunks_mut(4096))
            .enumerate()
            .for_each(|(chunk, (c, p))| {
                let base = chunk * 4096;
                for j in 0..c.len() {
                    let i = base + j;
                    (c[j], p[j]) = price((s[i], k[i], t[i]));
                }
            });
        Ok(())
    }));
    r.race(
        "black-scholes",
        &size_label(n, precision),
        n as u64,
        Work::Elements(n as u64),
        contenders,
    )
}
