//! The algorithms library on the CPU beyond the conformance cases: the same bits at every
//! thread count, inputs of three passes, and bad input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute::algorithms;
use dotcompute::prelude::*;
use dotcompute::{CpuOptions, Error};
use dotcompute_conformance::algorithms::ordered_reduce;

fn cpu(threads: usize) -> (ComputeService, Accelerator) {
    let dc = ComputeService::builder()
        .cpu(CpuOptions {
            threads: Some(threads),
            inline_work_items: 0,
            inline_budget_ns: 0,
            ..CpuOptions::default()
        })
        .build()
        .unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    (dc, acc)
}

/// Mixed magnitudes and signs (the order shows in the bits).
fn mixed(n: usize) -> Vec<f32> {
    (0..n as u64)
        .map(|i| {
            let h = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
            let mantissa = (h % 2001) as f32 / 1000.0 - 1.0;
            mantissa * 10f32.powi((h % 13) as i32 - 6)
        })
        .collect()
}

#[test]
fn sums_have_the_same_bits_on_one_two_and_three_threads() {
    let x = mixed(1_000_003);
    let want = ordered_reduce(&x, -0.0f32, |a, b| a + b);
    // Another order gives other bits here, or the test would prove nothing.
    let sequential: f32 = x.iter().sum();
    assert_ne!(sequential.to_bits(), want.to_bits());
    for threads in [1, 2, 3] {
        let (dc, acc) = cpu(threads);
        let dx = dc.buffer_from_slice(&x).unwrap();
        let got = algorithms::sum(&acc, &dx).unwrap();
        assert_eq!(got.to_bits(), want.to_bits(), "{threads} threads");
    }
}

#[test]
fn three_passes_reduce_like_the_documented_order() {
    // 4096^2 + 5 elements: 4,097 chunk values, then 2, then 1.
    let n = 4096 * 4096 + 5;
    let x: Vec<f64> = mixed(n).into_iter().map(f64::from).collect();
    let (dc, acc) = cpu(2);
    let dx = dc.buffer_from_slice(&x).unwrap();
    let want = ordered_reduce(&x, -0.0f64, |a, b| a + b);
    assert_eq!(
        algorithms::sum(&acc, &dx).unwrap().to_bits(),
        want.to_bits()
    );
    let m: Vec<u64> = (0..n as u64)
        .map(|i| i.wrapping_mul(2_654_435_761))
        .collect();
    let dm = dc.buffer_from_slice(&m).unwrap();
    assert_eq!(
        algorithms::max(&acc, &dm).unwrap(),
        *m.iter().max().unwrap()
    );
}

#[test]
fn empty_inputs_give_the_identities() {
    let (dc, acc) = cpu(1);
    let f = dc.buffer_zeroed::<f32>(0).unwrap();
    let s = algorithms::sum(&acc, &f).unwrap();
    assert!(
        s == 0.0 && s.is_sign_negative(),
        "the sum of nothing is -0.0, as in Rust"
    );
    assert_eq!(algorithms::product(&acc, &f).unwrap(), 1.0);
    assert_eq!(algorithms::min(&acc, &f).unwrap(), f32::INFINITY);
    assert_eq!(algorithms::max(&acc, &f).unwrap(), f32::NEG_INFINITY);
    let i = dc.buffer_zeroed::<i32>(0).unwrap();
    assert_eq!(algorithms::min(&acc, &i).unwrap(), i32::MAX);
    assert_eq!(algorithms::max(&acc, &i).unwrap(), i32::MIN);
}

#[test]
fn nans_and_signed_zeros_follow_the_documented_rules() {
    let (dc, acc) = cpu(1);
    let zeros = dc.buffer_from_slice(&[-0.0f32; 5000]).unwrap();
    assert!(algorithms::sum(&acc, &zeros).unwrap().is_sign_negative());
    let mut v = vec![1.0f32; 5000];
    v[4321] = f32::NAN;
    let with_nan = dc.buffer_from_slice(&v).unwrap();
    assert!(algorithms::sum(&acc, &with_nan).unwrap().is_nan());
    // min and max ignore a NaN, as the kernel language's `min`/`max` (and Rust's) do.
    assert_eq!(algorithms::min(&acc, &with_nan).unwrap(), 1.0);
    assert_eq!(algorithms::max(&acc, &with_nan).unwrap(), 1.0);
}

#[test]
fn a_buffer_of_another_service_is_refused() {
    let (_dc, acc) = cpu(1);
    let (other, _) = cpu(1);
    let x = other.buffer_from_slice(&[1.0f32; 10]).unwrap();
    let err = algorithms::sum(&acc, &x).unwrap_err();
    assert!(matches!(err, Error::ForeignBuffer { .. }), "{err}");
}

#[test]
fn argmin_and_argmax_pick_the_first_of_equals_and_ignore_nans() {
    let (dc, acc) = cpu(2);
    let mut v = vec![5.0f32; 10_000];
    v[17] = f32::NAN;
    v[4500] = -3.0;
    v[9000] = -3.0;
    v[6000] = 9.0;
    v[6001] = 9.0;
    let x = dc.buffer_from_slice(&v).unwrap();
    assert_eq!(algorithms::argmin(&acc, &x).unwrap(), Some(4500));
    assert_eq!(algorithms::argmax(&acc, &x).unwrap(), Some(6000));
    let nans = dc.buffer_from_slice(&[f32::NAN; 3]).unwrap();
    assert_eq!(algorithms::argmin(&acc, &nans).unwrap(), Some(0));
    let zeros = dc.buffer_from_slice(&[0.0f64, -0.0, 0.0]).unwrap();
    assert_eq!(algorithms::argmin(&acc, &zeros).unwrap(), Some(0));
    let empty = dc.buffer_zeroed::<u64>(0).unwrap();
    assert_eq!(algorithms::argmax(&acc, &empty).unwrap(), None);
    let same = dc.buffer_from_slice(&vec![u32::MAX; 5000]).unwrap();
    assert_eq!(algorithms::argmin(&acc, &same).unwrap(), Some(0));
    assert_eq!(algorithms::argmax(&acc, &same).unwrap(), Some(0));
}

#[test]
fn min_and_max_of_nans_only_are_the_identities() {
    let (dc, acc) = cpu(1);
    let nans = dc.buffer_from_slice(&[f64::NAN; 5]).unwrap();
    assert_eq!(algorithms::min(&acc, &nans).unwrap(), f64::INFINITY);
    assert_eq!(algorithms::max(&acc, &nans).unwrap(), f64::NEG_INFINITY);
}

#[test]
fn scans_have_the_same_bits_on_one_two_and_three_threads_and_three_levels() {
    use dotcompute_conformance::algorithms::ordered_scan;
    // 4096^2 + 3 elements: three levels of carries.
    let n = 4096 * 4096 + 3;
    let x = mixed(n);
    let want: Vec<u32> = ordered_scan(&x, false, -0.0f32, &|a, b| a + b)
        .iter()
        .map(|v| v.to_bits())
        .collect();
    for threads in [1, 2, 3] {
        let (dc, acc) = cpu(threads);
        let dx = dc.buffer_from_slice(&x).unwrap();
        let mut y = dc.buffer_zeroed::<f32>(n).unwrap();
        algorithms::inclusive_scan(&acc, &dx, &mut y).unwrap();
        let got: Vec<u32> = y.to_vec().unwrap().iter().map(|v| v.to_bits()).collect();
        assert!(got == want, "{threads} threads");
    }
}

#[test]
fn a_scan_into_a_buffer_of_another_length_is_refused_and_leaves_it() {
    let (dc, acc) = cpu(1);
    let x = dc.buffer_from_slice(&[1u64, 2, 3]).unwrap();
    let mut y = dc.buffer_from_slice(&[7u64, 7]).unwrap();
    let err = algorithms::inclusive_scan(&acc, &x, &mut y).unwrap_err();
    assert!(
        err.to_string()
            .contains("`inclusive_scan`: the output holds 2 elements, the input 3"),
        "{err}"
    );
    assert_eq!(y.to_vec().unwrap(), [7, 7]);
    let empty = dc.buffer_zeroed::<u64>(0).unwrap();
    let mut out = dc.buffer_zeroed::<u64>(0).unwrap();
    algorithms::exclusive_scan(&acc, &empty, &mut out).unwrap();
}

#[test]
fn histograms_refuse_what_they_cannot_bin() {
    let (dc, acc) = cpu(1);
    let x = dc.buffer_from_slice(&[1.0f32, 2.0]).unwrap();
    let message = |r: Result<dotcompute::UnifiedBuffer<u32>, Error>| r.unwrap_err().to_string();
    assert!(message(algorithms::histogram(&acc, &x, 0, 0.0, 1.0)).contains("0 bins"));
    assert!(message(algorithms::histogram(&acc, &x, 4097, 0.0, 1.0)).contains("1 to 4096"));
    assert!(message(algorithms::histogram(&acc, &x, 4, 2.0, 2.0)).contains("empty"));
    assert!(message(algorithms::histogram(&acc, &x, 4, f32::NAN, 2.0)).contains("empty"));
    assert!(message(algorithms::histogram(&acc, &x, 4, f32::MIN, f32::MAX)).contains("not finite"));
    let k = dc.buffer_from_slice(&[5u64]).unwrap();
    assert!(message(algorithms::histogram(&acc, &k, 4, 9, 3)).contains("empty"));
    // Nothing to count: zero counts.
    let empty = dc.buffer_zeroed::<i32>(0).unwrap();
    let counts = algorithms::histogram(&acc, &empty, 3, -5, 5).unwrap();
    assert_eq!(counts.to_vec().unwrap(), [0, 0, 0]);
    // Integer bins of width ceil(10 / 3) = 4: [-5, -1), [-1, 3), [3, 5).
    let v = dc
        .buffer_from_slice(&[-5i32, -2, -1, 0, 2, 3, 4, 5, 100])
        .unwrap();
    let counts = algorithms::histogram(&acc, &v, 3, -5, 5).unwrap();
    assert_eq!(counts.to_vec().unwrap(), [2, 3, 2]);
}

#[test]
fn a_transpose_of_the_wrong_size_is_refused() {
    let (dc, acc) = cpu(1);
    let a = dc.buffer_from_slice(&[1u32; 6]).unwrap();
    let mut t = dc.buffer_from_slice(&[9u32; 5]).unwrap();
    let err = algorithms::transpose(&acc, &a, 2, 3, &mut t).unwrap_err();
    assert!(
        err.to_string().contains("the input holds 6, the output 5"),
        "{err}"
    );
    assert_eq!(t.to_vec().unwrap(), [9; 5]);
    let mut t = dc.buffer_zeroed::<u32>(6).unwrap();
    let err = algorithms::transpose(&acc, &a, usize::MAX, 2, &mut t).unwrap_err();
    assert!(err.to_string().contains("overflow"), "{err}");
}

#[test]
fn gemm_refuses_shapes_that_do_not_agree_and_leaves_c() {
    let (dc, acc) = cpu(2);
    let a = dc.buffer_from_slice(&[1.0f64; 6]).unwrap();
    let short = dc.buffer_from_slice(&[1.0f64; 4]).unwrap();
    let b = dc.buffer_from_slice(&[1.0f64; 6]).unwrap();
    let mut c = dc.buffer_from_slice(&[7.0f64; 4]).unwrap();
    // B must hold 3 x 2 elements.
    let err = algorithms::Gemm::new(2, 2, 3)
        .run(&acc, &a, &short, &mut c)
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument { operation, reason }
            if operation == "gemm" && reason.contains("`b` must be a 3 x 2 matrix")),
        "{err}"
    );
    assert_eq!(c.to_vec().unwrap(), [7.0; 4]);
    algorithms::Gemm::new(2, 2, 3)
        .transpose_b()
        .run(&acc, &a, &b, &mut c)
        .unwrap();
    assert_eq!(c.to_vec().unwrap(), [3.0; 4]);
    // k = 0: C = beta C, A and B empty.
    let empty = dc.buffer_zeroed::<f64>(0).unwrap();
    algorithms::Gemm::new(2, 2, 0)
        .beta(-2.0)
        .run(&acc, &empty, &empty, &mut c)
        .unwrap();
    assert_eq!(c.to_vec().unwrap(), [-6.0; 4]);
    let (other, _) = cpu(1);
    let foreign = other.buffer_from_slice(&[1.0f64; 6]).unwrap();
    let err = algorithms::Gemm::new(2, 2, 3)
        .transpose_b()
        .run(&acc, &foreign, &b, &mut c)
        .unwrap_err();
    assert!(matches!(err, Error::ForeignBuffer { .. }), "{err}");
}

#[test]
fn gemm_on_one_two_and_three_threads_agrees() {
    let (m, n, k) = (300, 200, 150);
    let a: Vec<f32> = mixed(m * k).iter().map(|v| v.clamp(-1.0, 1.0)).collect();
    let b: Vec<f32> = mixed(k * n + 3)[3..]
        .iter()
        .map(|v| v.clamp(-1.0, 1.0))
        .collect();
    let mut results = Vec::new();
    for threads in [1, 2, 3] {
        let (dc, acc) = cpu(threads);
        let da = dc.buffer_from_slice(&a).unwrap();
        let db = dc.buffer_from_slice(&b).unwrap();
        let mut c = dc.buffer_zeroed::<f32>(m * n).unwrap();
        algorithms::Gemm::new(m, n, k)
            .run(&acc, &da, &db, &mut c)
            .unwrap();
        results.push(c.to_vec().unwrap());
    }
    for i in (0..m * n).step_by(97) {
        let (r, col) = (i / n, i % n);
        let want: f64 = (0..k)
            .map(|p| f64::from(a[r * k + p]) * f64::from(b[p * n + col]))
            .sum();
        for (t, got) in results.iter().enumerate() {
            assert!(
                (f64::from(got[i]) - want).abs() < 1e-4,
                "{} threads [{i}]",
                t + 1
            );
        }
    }
}

#[test]
fn sort_pairs_of_other_lengths_are_refused_and_left() {
    let (dc, acc) = cpu(2);
    let mut keys = dc.buffer_from_slice(&[3u64, 1, 2]).unwrap();
    let mut values = dc.buffer_from_slice(&[1.0f32, 2.0]).unwrap();
    let err = algorithms::sort_pairs(&acc, &mut keys, &mut values).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument { operation, reason }
            if operation == "sort_pairs" && reason.contains("3 keys but 2 values")),
        "{err}"
    );
    assert_eq!(keys.to_vec().unwrap(), [3, 1, 2]);
    assert_eq!(values.to_vec().unwrap(), [1.0, 2.0]);
    // Nothing and one key sort trivially; argsort of nothing is empty.
    let mut none = dc.buffer_zeroed::<f64>(0).unwrap();
    let mut no_values = dc.buffer_zeroed::<i64>(0).unwrap();
    algorithms::sort_pairs(&acc, &mut none, &mut no_values).unwrap();
    assert!(
        algorithms::argsort(&acc, &none)
            .unwrap()
            .to_vec()
            .unwrap()
            .is_empty()
    );
    let one = dc.buffer_from_slice(&[f32::NAN]).unwrap();
    assert_eq!(
        algorithms::argsort(&acc, &one).unwrap().to_vec().unwrap(),
        [0]
    );
}
