//! Language features beyond the conformance kernels: helpers in other modules and called by
//! path, helpers calling helpers, `mut` parameters, deferred initialisation, the `f32::f(x)`
//! call form, and the intrinsics' meaning outside kernels.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute::prelude::*;

mod shapes {
    use dotcompute::prelude::*;

    #[kernel_fn]
    pub fn square(x: f32) -> f32 {
        x * x
    }

    #[kernel_fn]
    pub fn norm2(x: f32, y: f32) -> f32 {
        square(x) + square(y)
    }
}

use shapes::{norm2, square};

#[kernel]
fn lengths(xs: &[f32], ys: &[f32], out: &mut [f32]) {
    let i = global_id();
    out[i] = norm2(xs[i], ys[i]).sqrt() + shapes::square(0.0);
}

#[kernel]
fn mut_params(mut n: u32, out: &mut [u32]) {
    let i = global_id();
    n += i as u32;
    let label;
    if n % 2 == 0 {
        label = 10;
    } else {
        label = 20;
    }
    debug_assert!(n < 1_000_000, "compiled out, as in a release build");
    out[i] = label + n;
}

#[kernel]
fn call_forms(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    let v = x[i];
    out[i] = f32::sqrt(v) + f32::max(v, 2.0) + f32::mul_add(v, 2.0, 1.0) + square(v);
}

#[kernel]
fn default_group(out: &mut [u64]) {
    let i = global_id();
    out[i] = (group_id_x() * 1000 + local_id_x() + group_size_x() * 1_000_000) as u64;
}

fn cpu() -> (ComputeService, Accelerator) {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    (dc, acc)
}

#[test]
fn helpers_from_other_modules_and_by_path() {
    let (dc, acc) = cpu();
    let xs = dc.buffer_from_slice(&[3.0f32, 0.0, 1.0]).unwrap();
    let ys = dc.buffer_from_slice(&[4.0f32, 2.0, 1.0]).unwrap();
    let mut out = dc.buffer_zeroed::<f32>(3).unwrap();
    lengths::launch(&acc, 3, &xs, &ys, &mut out).unwrap();
    assert_eq!(out.to_vec().unwrap(), [5.0, 2.0, 2.0f32.sqrt()]);
    // The helpers are ordinary functions too.
    assert_eq!(norm2(3.0, 4.0), 25.0);
    let ir = lengths::definition().ir().unwrap();
    let names: Vec<&str> = ir.functions.iter().map(|f| f.name.as_str()).collect();
    assert!(
        names.contains(&"square") && names.contains(&"norm2"),
        "{names:?}"
    );
}

#[test]
fn one_buffer_passed_for_two_parameters() {
    let (dc, acc) = cpu();
    let xs = dc.buffer_from_slice(&[3.0f32, 0.0, 4.0]).unwrap();
    let mut out = dc.buffer_zeroed::<f32>(3).unwrap();
    // Both parameters bound to the one buffer (read-locked once), also while this thread
    // holds a read guard on it. (The deadlock this once risked needs a writer queued on
    // another thread: `dotcompute-core`'s buffer tests provoke that.)
    let guard = xs.read().unwrap();
    lengths::launch(&acc, 3, &xs, &xs, &mut out).unwrap();
    drop(guard);
    let expected = [3.0f32, 0.0, 4.0].map(|v: f32| (v * v + v * v).sqrt());
    assert_eq!(out.to_vec().unwrap(), expected);
}

#[test]
fn mut_parameters_and_deferred_init() {
    let (dc, acc) = cpu();
    let mut out = dc.buffer_zeroed::<u32>(4).unwrap();
    mut_params::launch(&acc, 4, 100, &mut out).unwrap();
    assert_eq!(out.to_vec().unwrap(), [110, 121, 112, 123]);
}

#[test]
fn math_as_associated_functions() {
    let (dc, acc) = cpu();
    let x = dc.buffer_from_slice(&[4.0f32, 9.0]).unwrap();
    let mut out = dc.buffer_zeroed::<f32>(2).unwrap();
    call_forms::launch(&acc, 2, &x, &mut out).unwrap();
    let want: Vec<f32> = [4.0f32, 9.0]
        .iter()
        .map(|&v| v.sqrt() + v.max(2.0) + v.mul_add(2.0, 1.0) + v * v)
        .collect();
    assert_eq!(out.to_vec().unwrap(), want);
}

#[test]
fn cpu_default_group_size_is_64() {
    let (dc, acc) = cpu();
    let mut out = dc.buffer_zeroed::<u64>(130).unwrap();
    default_group::launch(&acc, 130, &mut out).unwrap();
    let got = out.to_vec().unwrap();
    assert_eq!(got[0], 64_000_000);
    assert_eq!(got[65], 64_000_000 + 1000 + 1);
    assert_eq!(got[129], 64_000_000 + 2000 + 1);
}

#[test]
fn intrinsics_outside_kernels_are_a_grid_of_one() {
    assert_eq!(
        (global_id(), global_size_x(), local_id_y(), group_size_z()),
        (0, 1, 0, 1)
    );
    let mut v = 5u32;
    assert_eq!(atomic_add(&mut v, 3), 5);
    assert_eq!(atomic_max(&mut v, 2), 8);
    assert_eq!(atomic_compare_exchange(&mut v, 8, 1), 8);
    assert_eq!(v, 1);
    let mut f = 1.5f32;
    assert_eq!(atomic_add(&mut f, 1.0), 1.5);
    assert_eq!(f, 2.5);
}

#[test]
fn kernels_describe_themselves() {
    let def = lengths::definition();
    assert_eq!(def.name(), "lengths");
    assert_eq!(def.params().len(), 3);
    let listing = def.ir().unwrap().to_string();
    assert!(
        listing.contains("kernel lengths(xs: &[f32], ys: &[f32], out: &mut [f32])"),
        "{listing}"
    );
    assert!(listing.contains("fn norm2("), "{listing}");
    // The baked hash is the hash of the baked IR (stability across builds is pinned in the
    // IR crate's tests).
    assert_eq!(
        def.hash(),
        dotcompute::ir::KernelHash::of(def.ir().unwrap())
    );
}

#[kernel]
fn sin_cos_pairs(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    let s = 0.5;
    // The receiver sees the older `s`; the names are bound afterwards.
    let (s, mut c) = (x[i] + s).sin_cos();
    c *= 2.0;
    let (_, only_cos): (f32, f32) = x[i].sin_cos();
    out[3 * i] = s;
    out[3 * i + 1] = c;
    out[3 * i + 2] = only_cos;
}

#[test]
fn sin_cos_binds_both_results_after_its_argument() {
    let (dc, acc) = cpu();
    let xs = [0.0f32, 1.0, -2.5, 1e5];
    let x = dc.buffer_from_slice(&xs).unwrap();
    let mut out = dc.buffer_zeroed::<f32>(3 * xs.len()).unwrap();
    sin_cos_pairs::launch(&acc, xs.len(), &x, &mut out).unwrap();
    let got = out.to_vec().unwrap();
    for (i, &v) in xs.iter().enumerate() {
        let (s, c) = (v + 0.5).sin_cos();
        // The library's results are within an ulp of std's.
        for (g, w) in [
            (got[3 * i], s),
            (got[3 * i + 1], 2.0 * c),
            (got[3 * i + 2], v.cos()),
        ] {
            assert!((g - w).abs() <= w.abs() * 2.4e-7, "{v}: {got:?}");
        }
    }
}

#[kernel]
fn library_math(x: &[f32], y: &[f64], out: &mut [f64]) {
    let i = global_id();
    out[i] = x[i].exp() as f64 + y[i].ln() + y[i].sqrt();
}

#[kernel(fast_math)]
fn device_math(x: &[f32], y: &[f64], out: &mut [f64]) {
    let i = global_id();
    out[i] = x[i].exp() as f64 + y[i].ln() + y[i].sqrt();
}

#[test]
fn math_functions_come_from_the_library_unless_fast_math() {
    use dotcompute::ir::{ExprKind, MathFn, walk_stmts};
    let ir = library_math::definition().ir().unwrap();
    let names: Vec<&str> = ir.functions.iter().map(|f| f.name.as_str()).collect();
    assert!(
        names.contains(&"exp_f32") && names.contains(&"ln_f64"),
        "{names:?}"
    );
    let device = device_math::definition().ir().unwrap();
    assert!(device.functions.is_empty());
    let mut native = Vec::new();
    walk_stmts(&device.body, &mut |s| {
        dotcompute::ir::stmt_exprs(s, &mut |e| {
            e.walk(&mut |e| {
                if let ExprKind::Math { func, .. } = &e.kind {
                    native.push(*func);
                }
            })
        })
    });
    assert_eq!(native, [MathFn::Exp, MathFn::Ln, MathFn::Sqrt]);
    assert!(device.requirements().f64_device_math);
    assert!(!ir.requirements().f64_device_math);
    // Both run on the CPU, the fast one with the platform's libm.
    let (dc, acc) = cpu();
    let x = dc.buffer_from_slice(&[1.0f32, 2.0]).unwrap();
    let y = dc.buffer_from_slice(&[std::f64::consts::E, 1.0]).unwrap();
    let mut a = dc.buffer_zeroed::<f64>(2).unwrap();
    let mut b = dc.buffer_zeroed::<f64>(2).unwrap();
    library_math::launch(&acc, 2, &x, &y, &mut a).unwrap();
    device_math::launch(&acc, 2, &x, &y, &mut b).unwrap();
    let want = |v: f32, w: f64| f64::from(v.exp()) + w.ln() + w.sqrt();
    for (i, (got, fast)) in a
        .to_vec()
        .unwrap()
        .into_iter()
        .zip(b.to_vec().unwrap())
        .enumerate()
    {
        let w = want([1.0, 2.0][i], [std::f64::consts::E, 1.0][i]);
        assert!(
            (got - w).abs() < 1e-6 && (fast - w).abs() < 1e-6,
            "{got} {fast} {w}"
        );
    }
}

#[test]
fn launches_from_many_threads() {
    let (dc, acc) = cpu();
    std::thread::scope(|s| {
        for t in 0..4u32 {
            let (dc, acc) = (&dc, &acc);
            s.spawn(move || {
                for _ in 0..50 {
                    let mut out = dc.buffer_zeroed::<u32>(300).unwrap();
                    mut_params::launch(acc, 300, t, &mut out).unwrap();
                    assert_eq!(
                        out.to_vec().unwrap()[1],
                        if (t + 1) % 2 == 0 { 10 } else { 20 } + t + 1
                    );
                }
            });
        }
    });
    let stats = dc.statistics();
    assert_eq!(
        stats
            .iter()
            .find(|s| s.kernel == "mut_params")
            .unwrap()
            .launches
            .launches,
        200
    );
}

#[kernel_fn]
fn bump(mut x: u32, times: u32) -> u32 {
    for _ in 0..times {
        x += 2;
    }
    x
}

#[kernel]
fn mutable_bits(out: &mut [u32]) {
    let i = global_id();
    let mut acc = 0u32;
    for mut k in 0..4u32 {
        k *= 10;
        acc += k;
    }
    out[i] = bump(acc, 1).wrapping_neg() ^ (3_000_000_000 as u32) ^ 0xFFFF_FFFF as u32;
}

#[kernel]
fn local_named_like_a_helper(out: &mut [u32]) {
    // A local may share a helper's name; the call still reaches the helper.
    let bump = bump(1, 2);
    out[global_id()] = bump;
}

#[test]
fn a_local_named_like_a_helper_does_not_hide_it() {
    let (dc, acc) = cpu();
    let mut out = dc.buffer_zeroed::<u32>(3).unwrap();
    local_named_like_a_helper::launch(&acc, 3, &mut out).unwrap();
    assert_eq!(out.to_vec().unwrap(), [5, 5, 5]);
}

#[kernel]
fn precise_cast(out: &mut [f32]) {
    out[0] = 1.00000005960464478 as f32;
}

#[kernel]
fn compound_order(d: i32, out: &mut [i32]) {
    // Rust evaluates the right-hand side first: the division faults before the index does.
    out[10] += 1 / d;
}

#[kernel]
fn atomic_order(d: u32, out: &mut [u32]) {
    // `&mut out[10]` is checked before the operand: the index faults first.
    atomic_add(&mut out[10], 1 / d);
}

#[test]
fn mutability_literals_and_unsigned_negation_follow_rust() {
    let (dc, acc) = cpu();
    let mut out = dc.buffer_zeroed::<u32>(1).unwrap();
    mutable_bits::launch(&acc, 1, &mut out).unwrap();
    let rust = {
        let mut acc = 0u32;
        for mut k in 0..4u32 {
            k *= 10;
            acc += k;
        }
        bump(acc, 1).wrapping_neg() ^ 3_000_000_000u32 ^ 0xFFFF_FFFFu32
    };
    assert_eq!(out.to_vec().unwrap(), [rust]);
    let mut f = dc.buffer_zeroed::<f32>(1).unwrap();
    precise_cast::launch(&acc, 1, &mut f).unwrap();
    // rustc types the literal of `1.00000005960464478 as f32` as f32, like this suffix does.
    #[allow(clippy::excessive_precision)]
    let want = 1.000_000_059_604_644_78_f32;
    assert_ne!(want, 1.0);
    assert_eq!(f.to_vec().unwrap()[0].to_bits(), want.to_bits());
}

#[test]
fn faults_come_in_rust_evaluation_order() {
    let (dc, acc) = cpu();
    let mut out = dc.buffer_zeroed::<i32>(1).unwrap();
    let err = compound_order::launch(&acc, 1, 0, &mut out).unwrap_err();
    assert_eq!(
        err.fault(),
        Some(&dotcompute::KernelFault::DivisionByZero),
        "{err}"
    );
    let mut out = dc.buffer_zeroed::<u32>(1).unwrap();
    let err = atomic_order::launch(&acc, 1, 0, &mut out).unwrap_err();
    assert!(
        matches!(
            err.fault(),
            Some(dotcompute::KernelFault::OutOfBounds { index: 10, .. })
        ),
        "{err}"
    );
}
