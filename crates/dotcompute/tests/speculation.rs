//! The CPU backend's speculative `sin`/`cos`/`tan` (blocks of items first run without the
//! large-argument reduction, and again in full when any argument needed it) gives the math
//! library's bits in every mix of small and large arguments, and is not used where a block
//! could not run twice (in-place kernels).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute::prelude::*;
use dotcompute_math::trig;

#[kernel]
fn trig_sum_f32(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    out[i] = x[i].sin() + x[i].cos() * 0.5 + x[i].tan() * 0.25;
}

#[kernel]
fn trig_sum_f64(x: &[f64], out: &mut [f64]) {
    let i = global_id();
    out[i] = x[i].sin() + x[i].cos() * 0.5 + x[i].tan() * 0.25;
}

#[kernel]
fn sin_in_place(x: &mut [f32]) {
    let i = global_id();
    x[i] = x[i].sin();
}

/// Blocks of only small arguments, a large one alone in a block, large ones everywhere,
/// infinities and NaN; a length that is no multiple of the block.
fn inputs(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let small = ((i * 7919) % 20_001) as f64 / 100.0 - 100.0;
            match i {
                300 => 1.0e6,
                1000..=1100 => small * 1.0e9,
                2000 => f64::INFINITY,
                2001 => f64::NAN,
                _ => small,
            }
        })
        .collect()
}

#[test]
fn every_mix_of_arguments_gives_the_librarys_bits() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let x = inputs(3001);
    let narrow: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let dx = dc.buffer_from_slice(&narrow).unwrap();
    let mut out = dc.buffer_zeroed::<f32>(narrow.len()).unwrap();
    trig_sum_f32::launch(&acc, narrow.len(), &dx, &mut out).unwrap();
    for (i, (&v, got)) in narrow.iter().zip(out.to_vec().unwrap()).enumerate() {
        let want = trig::sin_f32(v) + trig::cos_f32(v) * 0.5 + trig::tan_f32(v) * 0.25;
        assert_eq!(got.to_bits(), want.to_bits(), "f32 [{i}] = sum at {v}");
    }
    let dx = dc.buffer_from_slice(&x).unwrap();
    let mut out = dc.buffer_zeroed::<f64>(x.len()).unwrap();
    trig_sum_f64::launch(&acc, x.len(), &dx, &mut out).unwrap();
    for (i, (&v, got)) in x.iter().zip(out.to_vec().unwrap()).enumerate() {
        let want = trig::sin_f64(v) + trig::cos_f64(v) * 0.5 + trig::tan_f64(v) * 0.25;
        assert_eq!(got.to_bits(), want.to_bits(), "f64 [{i}] = sum at {v}");
    }
}

#[test]
fn in_place_kernels_are_not_run_twice() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let narrow: Vec<f32> = inputs(3001).iter().map(|&v| v as f32).collect();
    let mut dx = dc.buffer_from_slice(&narrow).unwrap();
    sin_in_place::launch(&acc, narrow.len(), &mut dx).unwrap();
    for (i, (&v, got)) in narrow.iter().zip(dx.to_vec().unwrap()).enumerate() {
        assert_eq!(got.to_bits(), trig::sin_f32(v).to_bits(), "[{i}] sin({v})");
    }
}
