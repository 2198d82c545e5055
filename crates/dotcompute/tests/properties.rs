//! Property tests: random inputs and lengths for elementwise kernels, compared with scalar
//! Rust written with release-build semantics.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute::prelude::*;
use proptest::prelude::*;
use std::sync::OnceLock;

#[kernel]
fn add_f32(a: &[f32], b: &[f32], out: &mut [f32]) {
    let i = global_id();
    out[i] = a[i] + b[i];
}

#[kernel]
fn saxpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    let i = global_id();
    y[i] = alpha * x[i] + y[i];
}

#[kernel]
fn mix_i32(a: &[i32], b: &[i32], out: &mut [i32]) {
    let i = global_id();
    out[i] = (a[i] * b[i] + (a[i] << (b[i] & 7))) ^ (a[i] >> 3) - b[i];
}

#[kernel]
fn strided_u64(stride: usize, offset: usize, a: &[u64], out: &mut [u64]) {
    let i = global_id();
    out[i] = a[i * stride + offset].rotate_left(7) + 1;
}

fn env() -> &'static (ComputeService, Accelerator) {
    static ENV: OnceLock<(ComputeService, Accelerator)> = OnceLock::new();
    ENV.get_or_init(|| {
        let dc = ComputeService::new().unwrap();
        let acc = dc.accelerator(BackendKind::Cpu).unwrap();
        (dc, acc)
    })
}

fn same_f32(got: &[f32], want: &[f32]) -> bool {
    got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|(g, w)| g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn vector_add_matches_scalar(pairs in prop::collection::vec((any::<f32>(), any::<f32>()), 1..20_000)) {
        let (dc, acc) = env();
        let (a, b): (Vec<f32>, Vec<f32>) = pairs.into_iter().unzip();
        let (da, db) = (dc.buffer_from_slice(&a).unwrap(), dc.buffer_from_slice(&b).unwrap());
        let mut out = dc.buffer_zeroed::<f32>(a.len()).unwrap();
        add_f32::launch(acc, a.len(), &da, &db, &mut out).unwrap();
        let want: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        prop_assert!(same_f32(&out.to_vec().unwrap(), &want));
    }

    #[test]
    fn saxpy_matches_scalar(alpha in any::<f32>(), pairs in prop::collection::vec((-1e6f32..1e6, -1e6f32..1e6), 1..20_000)) {
        let (dc, acc) = env();
        let (x, y): (Vec<f32>, Vec<f32>) = pairs.into_iter().unzip();
        let dx = dc.buffer_from_slice(&x).unwrap();
        let mut dy = dc.buffer_from_slice(&y).unwrap();
        saxpy::launch(acc, x.len(), alpha, &dx, &mut dy).unwrap();
        let want: Vec<f32> = x.iter().zip(&y).map(|(x, y)| alpha * x + y).collect();
        prop_assert!(same_f32(&dy.to_vec().unwrap(), &want));
    }

    #[test]
    fn integer_mix_wraps_like_release_rust(pairs in prop::collection::vec((any::<i32>(), any::<i32>()), 1..20_000)) {
        let (dc, acc) = env();
        let (a, b): (Vec<i32>, Vec<i32>) = pairs.into_iter().unzip();
        let (da, db) = (dc.buffer_from_slice(&a).unwrap(), dc.buffer_from_slice(&b).unwrap());
        let mut out = dc.buffer_zeroed::<i32>(a.len()).unwrap();
        mix_i32::launch(acc, a.len(), &da, &db, &mut out).unwrap();
        let want: Vec<i32> = a.iter().zip(&b).map(|(&x, &y)| {
            (x.wrapping_mul(y).wrapping_add(x.wrapping_shl((y & 7) as u32))) ^ (x >> 3).wrapping_sub(y)
        }).collect();
        prop_assert_eq!(out.to_vec().unwrap(), want);
    }

    #[test]
    fn strided_access_is_checked_exactly(n in 1usize..5_000, stride in 0usize..4, offset in 0usize..8, extra in 0usize..3) {
        let (dc, acc) = env();
        // Sometimes exactly large enough, sometimes too short by `extra` elements.
        let needed = (n - 1) * stride + offset + 1;
        let len = if extra == 0 { needed } else { needed.saturating_sub(extra) };
        let a: Vec<u64> = (0..len as u64).map(|v| v * 0x9E37_79B9).collect();
        let da = dc.buffer_from_slice(&a).unwrap();
        let mut out = dc.buffer_zeroed::<u64>(n).unwrap();
        let result = strided_u64::launch(acc, n, stride, offset, &da, &mut out);
        if len >= needed {
            prop_assert!(result.is_ok(), "{:?}", result);
            let want: Vec<u64> = (0..n).map(|i| a[i * stride + offset].rotate_left(7).wrapping_add(1)).collect();
            prop_assert_eq!(out.to_vec().unwrap(), want);
        } else {
            let err = result.unwrap_err();
            let is_oob = matches!(err.fault(), Some(dotcompute::KernelFault::OutOfBounds { .. }));
            prop_assert!(is_oob, "{}", err);
        }
    }
}
