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

/// A store decided by a sine: speculation would store where the full value does not.
#[kernel]
fn store_if_sine_negative(x: &[f32], y: &mut [f32]) {
    let i = global_id();
    if x[i].sin() < -0.5 {
        y[i] = 1.0;
    }
}

/// A loop decided by a sine: the first pass of speculation (sin of the clamped argument 4096,
/// about -0.595) would enter it and store, where the exact sine of 1e6 (about -0.35) does not.
#[kernel]
fn loop_on_sine(x: &[f32], y: &mut [f32]) {
    let i = global_id();
    let mut v = x[i];
    while v.sin() < -0.5 {
        y[i] = 1.0;
        v = 0.0;
    }
}

/// A helper that shares the library's name: it must be called, not taken for the sine.
#[kernel_fn]
fn sin_f32(v: f32) -> f32 {
    v * 2.0
}

#[kernel]
fn helper_named_like_the_library(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    out[i] = sin_f32(x[i]) + x[i].cos();
}

/// A short-circuit decided by a sine: the right side (a load) runs only when it holds. (What
/// speculation would risk here, a load out of bounds in an unchecked kernel or a helper that
/// never returns, cannot be observed safely; this checks that the results stay right.)
#[kernel]
fn short_circuit_on_sine(x: &[f32], t: &[f32], out: &mut [f32]) {
    let i = global_id();
    let hit = x[i].sin() < -0.5 && t[i] > 0.0;
    out[i] = if hit { 1.0 } else { 0.0 };
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

#[test]
fn values_that_decide_are_never_speculated() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    // sin(1e6) is about -0.35; the clamped speculative argument 4096 would give -0.595.
    let x: Vec<f32> = (0..600)
        .map(|i| if i == 300 { 1.0e6 } else { 0.5 })
        .collect();
    let dx = dc.buffer_from_slice(&x).unwrap();
    let mut y = dc.buffer_zeroed::<f32>(x.len()).unwrap();
    store_if_sine_negative::launch(&acc, x.len(), &dx, &mut y).unwrap();
    for (i, (&v, got)) in x.iter().zip(y.to_vec().unwrap()).enumerate() {
        let want = if trig::sin_f32(v) < -0.5 { 1.0 } else { 0.0 };
        assert_eq!(got, want, "[{i}] at {v}");
    }
    let mut y = dc.buffer_zeroed::<f32>(x.len()).unwrap();
    loop_on_sine::launch(&acc, x.len(), &dx, &mut y).unwrap();
    for (i, (&v, got)) in x.iter().zip(y.to_vec().unwrap()).enumerate() {
        let want = if trig::sin_f32(v) < -0.5 { 1.0 } else { 0.0 };
        assert_eq!(got, want, "[{i}] loop at {v}");
    }
}

#[test]
fn helpers_and_short_circuits_keep_their_meaning() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let x: Vec<f32> = (0..600)
        .map(|i| if i == 300 { 1.0e4 } else { i as f32 * 0.01 })
        .collect();
    let dx = dc.buffer_from_slice(&x).unwrap();
    let mut out = dc.buffer_zeroed::<f32>(x.len()).unwrap();
    helper_named_like_the_library::launch(&acc, x.len(), &dx, &mut out).unwrap();
    for (i, (&v, got)) in x.iter().zip(out.to_vec().unwrap()).enumerate() {
        assert_eq!(
            got.to_bits(),
            (v * 2.0 + trig::cos_f32(v)).to_bits(),
            "[{i}] at {v}"
        );
    }
    let t = dc.buffer_from_slice(&vec![1.0f32; x.len()]).unwrap();
    short_circuit_on_sine::launch(&acc, x.len(), &dx, &t, &mut out).unwrap();
    for (i, (&v, got)) in x.iter().zip(out.to_vec().unwrap()).enumerate() {
        let want = if trig::sin_f32(v) < -0.5 { 1.0 } else { 0.0 };
        assert_eq!(got, want, "[{i}] at {v}");
    }
}

/// Speculation is really on where the rules allow it and off where they do not: the CPU code
/// emitted from each kernel's IR has the speculative item function (`item_spec`) exactly for
/// the kernels the tests above run through the fast path. (Those tests compare bits, which
/// they would also get with speculation off.)
#[test]
fn speculation_is_emitted_exactly_where_allowed() {
    use dotcompute::ir::emit::rust::{RustOptions, emit};
    // These kernels call only the library's functions.
    let code = |def: &'static dotcompute::KernelDefinition| {
        let kernel = def.ir().unwrap();
        let mut options = RustOptions::for_kernel(def.name());
        options.library_functions = kernel.functions.len();
        emit(kernel, &options)
    };
    for def in [trig_sum_f32::definition(), trig_sum_f64::definition()] {
        assert!(code(def).contains("fn item_spec"), "{}", def.name());
    }
    for def in [
        sin_in_place::definition(),
        store_if_sine_negative::definition(),
        loop_on_sine::definition(),
        short_circuit_on_sine::definition(),
    ] {
        assert!(!code(def).contains("fn item_spec"), "{}", def.name());
    }
}
