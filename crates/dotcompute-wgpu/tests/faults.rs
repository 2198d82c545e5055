//! Faults of kernels on a wgpu device: launches are asynchronous, so a fault comes back from
//! reads of the buffers its launch wrote and from `synchronize()`, as the same `Error` the CPU
//! gives (the rules, checked on every backend: `dotcompute_conformance::fault_rules`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod support;

use dotcompute::prelude::*;
use dotcompute::{Error, KernelFault};
use dotcompute_conformance::fault_rule_tests;
use dotcompute_conformance::faulting::{divide, explode, shifted_copy};

// Who is told of a fault, with launches in flight together.
fault_rule_tests!(support::wgpu_service);

#[kernel]
fn wide(out: &mut [f64]) {
    out[global_id()] = 1.5;
}

/// SPIR-V has no f64 `exp`: only the math library's runs on Vulkan.
#[kernel(fast_math)]
fn device_exp(x: &[f64], out: &mut [f64]) {
    let i = global_id();
    out[i] = x[i].exp();
}

#[kernel]
fn library_exp(x: &[f64], out: &mut [f64]) {
    let i = global_id();
    out[i] = x[i].exp();
}

#[test]
fn f64_device_math_is_refused_and_the_library_runs() {
    let Some((dc, acc)) = support::wgpu_service() else {
        return;
    };
    if !acc.info().capabilities.f64 {
        eprintln!("{} has no f64; nothing to check", acc.info().name);
        return;
    }
    let x = dc.buffer_from_slice(&[0.0f64, 1.0, -2.0]).unwrap();
    let mut out = dc.buffer_zeroed::<f64>(3).unwrap();
    let err = device_exp::launch(&acc, 3, &x, &mut out).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("f64 transcendental"), "{err}");
    library_exp::launch(&acc, 3, &x, &mut out).unwrap();
    let want = [1.0, std::f64::consts::E, (-2.0f64).exp()];
    let got = out.to_vec().unwrap();
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= w * 2.0 * f64::EPSILON, "{got:?}");
    }
}

#[test]
fn out_of_bounds_reads_are_reported_at_synchronize() {
    let Some((dc, acc)) = support::wgpu_service() else {
        return;
    };
    let src = dc.buffer_from_slice(&[1.0f32; 64]).unwrap();
    let mut dst = dc.buffer_from_slice(&[5.0f32; 64]).unwrap();
    // The launch itself is only submitted.
    shifted_copy::launch(&acc, 64, 10, &src, &mut dst).unwrap();
    let err = acc.synchronize().unwrap_err();
    match err.fault() {
        Some(KernelFault::OutOfBounds { index, len, .. }) => {
            assert!((64..74).contains(index), "{index}");
            assert_eq!(*len, 64);
        }
        other => panic!("expected an out-of-bounds fault, got {other:?}: {err}"),
    }
    let msg = err.to_string();
    assert!(msg.starts_with("kernel `shifted_copy` on "), "{msg}");
    assert!(
        msg.contains("out of bounds for buffer `src` of length 64"),
        "{msg}"
    );
    // Reported once; the device keeps working.
    acc.synchronize().unwrap();
    shifted_copy::launch(&acc, 60, 4, &src, &mut dst).unwrap();
    acc.synchronize().unwrap();
    let got = dst.to_vec().unwrap();
    assert!(got[..60].iter().all(|&v| v == 1.0), "{got:?}");
}

#[test]
fn faults_are_reported_when_the_host_reads_a_written_buffer() {
    let Some((dc, acc)) = support::wgpu_service() else {
        return;
    };
    let big = dc.buffer_zeroed::<f32>(1 << 20).unwrap();
    let mut out = dc.buffer_zeroed::<f32>(1 << 20).unwrap();
    shifted_copy::launch(&acc, 1 << 20, 1, &big, &mut out).unwrap();
    let err = out.to_vec().unwrap_err();
    assert!(
        matches!(err.fault(), Some(KernelFault::OutOfBounds { index, .. }) if *index == 1 << 20),
        "{err}"
    );
    assert!(err.to_string().contains("kernel `shifted_copy`"), "{err}");
    // The contents are undefined: the next read reports the fault again, a read of the
    // input does not.
    assert_eq!(out.to_vec().unwrap_err().fault(), err.fault());
    assert_eq!(big.to_vec().unwrap().len(), 1 << 20);
    // Written again, it reads.
    shifted_copy::launch(&acc, 1 << 20, 0, &big, &mut out).unwrap();
    assert_eq!(out.to_vec().unwrap().len(), 1 << 20);
}

#[test]
fn integer_division_faults_are_errors() {
    let Some((dc, acc)) = support::wgpu_service() else {
        return;
    };
    let a = dc.buffer_from_slice(&[10, i32::MIN, 7]).unwrap();
    let mut out = dc.buffer_zeroed::<i32>(3).unwrap();
    let b = dc.buffer_from_slice(&[2, 1, 0]).unwrap();
    divide::launch(&acc, 3, &a, &b, &mut out).unwrap();
    let err = acc.synchronize().unwrap_err();
    assert_eq!(err.fault(), Some(&KernelFault::DivisionByZero), "{err}");
    assert!(err.to_string().contains("kernel `divide`"), "{err}");
    let b = dc.buffer_from_slice(&[2, -1, 1]).unwrap();
    divide::launch(&acc, 3, &a, &b, &mut out).unwrap();
    let err = out.to_vec().unwrap_err();
    assert_eq!(err.fault(), Some(&KernelFault::DivisionOverflow), "{err}");
    let b = dc.buffer_from_slice(&[2, 2, 7]).unwrap();
    divide::launch(&acc, 3, &a, &b, &mut out).unwrap();
    assert_eq!(out.to_vec().unwrap(), [5, i32::MIN / 2, 1]);
}

#[test]
fn panics_carry_their_message() {
    let Some((dc, acc)) = support::wgpu_service() else {
        return;
    };
    let mut out = dc.buffer_zeroed::<u32>(1 << 16).unwrap();
    explode::launch(&acc, 1 << 16, 5, &mut out).unwrap();
    let err = acc.synchronize().unwrap_err();
    assert!(
        matches!(err.fault(), Some(KernelFault::Panic { message }) if message == "work item beyond the limit"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("panicked: work item beyond the limit"),
        "{err}"
    );
    explode::launch(&acc, 1 << 16, 1 << 16, &mut out).unwrap();
    assert!(out.to_vec().unwrap().iter().all(|&v| v == 1));
}

#[test]
fn kernels_needing_what_an_adapter_lacks_are_refused() {
    let Some((dc, _)) = support::wgpu_service() else {
        return;
    };
    // An adapter without f64 (GL, or any adapter with `DOTCOMPUTE_WGPU_EMULATE_INT64=1`)
    // refuses an f64 kernel, naming the need.
    let Some(limited) = dc
        .accelerators()
        .into_iter()
        .find(|a| a.id().backend == BackendKind::Wgpu && !a.info().capabilities.f64)
    else {
        eprintln!("no wgpu adapter without f64 here; nothing to refuse");
        return;
    };
    let mut out = dc.buffer_zeroed::<f64>(4).unwrap();
    let err = wide::launch(&limited, 4, &mut out).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("`wide`"), "{msg}");
    assert!(msg.contains("f64 arithmetic"), "{msg}");
    assert!(msg.contains(&limited.info().name), "{msg}");
}

#[test]
fn buffers_beyond_the_binding_limit_are_refused() {
    let Some((dc, acc)) = support::wgpu_service() else {
        return;
    };
    let limit = acc.info().capabilities.max_buffer_bytes;
    // Past 1 GiB the test would need more memory than CI machines have to spare.
    if limit >= 1 << 30 {
        eprintln!(
            "{} binds {limit} bytes: too large to test here",
            acc.info().name
        );
        return;
    }
    let len = (limit / 4 + 1) as usize;
    let mut big = dc.buffer_zeroed::<f32>(len).unwrap();
    let small = dc.buffer_zeroed::<f32>(16).unwrap();
    // The small input comes first: it is not uploaded either.
    let err = shifted_copy::launch(&acc, 16, 0, &small, &mut big).unwrap_err();
    assert_eq!(small.transfers().uploads, 0);
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("`shifted_copy`"), "{msg}");
    assert!(msg.contains("`dst`"), "{msg}");
    assert!(msg.contains(&format!("binds at most {limit}")), "{msg}");
    assert!(msg.contains(&acc.info().name), "{msg}");
    // Nothing was copied to the device, and the buffer is still the host's.
    assert_eq!(big.transfers().uploads, 0);
    assert_eq!(big.read().unwrap()[0], 0.0);
}

#[test]
fn each_fault_is_reported_once_when_threads_launch_and_synchronize_together() {
    let Some((dc, acc)) = support::wgpu_service() else {
        return;
    };
    const ROUNDS: usize = 40;
    let a = dc.buffer_from_slice(&[1i32; 64]).unwrap();
    let zero = dc.buffer_zeroed::<i32>(64).unwrap();
    let src = dc.buffer_from_slice(&[1.0f32; 64]).unwrap();
    let faults = std::sync::atomic::AtomicUsize::new(0);
    let record = |r: Result<(), Error>| {
        if let Err(e) = r {
            assert!(e.to_string().contains("kernel `divide`"), "{e}");
            faults.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut out = dc.buffer_zeroed::<i32>(64).unwrap();
            for _ in 0..ROUNDS {
                divide::launch(&acc, 64, &a, &zero, &mut out).unwrap();
                record(acc.synchronize());
            }
        });
        s.spawn(|| {
            let mut dst = dc.buffer_zeroed::<f32>(64).unwrap();
            for _ in 0..ROUNDS {
                shifted_copy::launch(&acc, 64, 0, &src, &mut dst).unwrap();
                record(acc.synchronize());
            }
        });
    });
    // Every faulting launch was alone in its synchronisation window, and each fault went to
    // exactly one of the synchronising threads.
    assert_eq!(faults.into_inner(), ROUNDS);
}

#[kernel]
fn nested_count(n: u32, m: u32, out: &mut [u32]) {
    let mut total = 0u32;
    for _ in 0..n {
        for _ in 0..m {
            total += 1;
        }
    }
    out[global_id()] = total;
}

/// Mesa's llvmpipe (lavapipe) leaves every loop of a work item once it has run 65,535
/// iterations in all, silently: there a work item that loops more reports
/// `KernelFault::LoopLimit` instead of a wrong count (found by issue #13's 64-bit integer
/// pairs, whose division loops); other devices count to the end.
#[test]
fn loops_cut_short_by_the_driver_fault() {
    let Some((dc, acc)) = support::wgpu_service() else {
        return;
    };
    let mut out = dc.buffer_zeroed::<u32>(1).unwrap();
    nested_count::launch(&acc, 1, 100, 600, &mut out).unwrap();
    assert_eq!(out.to_vec().unwrap(), [60_000]);
    let llvmpipe = acc.info().name.contains("llvmpipe");
    for (n, m) in [(1000u32, 66u32), (2u32, 40_000u32)] {
        // Launches are asynchronous: the fault comes with the read.
        match nested_count::launch(&acc, 1, n, m, &mut out).and_then(|()| out.to_vec()) {
            Ok(counted) => {
                assert!(!llvmpipe, "{n} x {m} iterations ran on {}", acc.info().name);
                assert_eq!(counted, [n * m]);
            }
            Err(err) => {
                assert!(llvmpipe, "{err}");
                assert_eq!(err.fault(), Some(&KernelFault::LoopLimit), "{err}");
                assert!(err.to_string().contains("65535 loop iterations"), "{err}");
            }
        }
    }
}
