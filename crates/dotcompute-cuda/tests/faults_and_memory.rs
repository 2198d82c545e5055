//! Faults, buffer movement and timing on a GPU (skipped where there is none).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod support;

use dotcompute::KernelFault;
use dotcompute_conformance::fault_rule_tests;
use dotcompute_conformance::faulting::{divide, explode, shifted_copy};

// Who is told of a fault, with launches in flight together.
fault_rule_tests!(support::cuda_service);

#[test]
fn faults_are_reported_at_synchronize_and_on_read() {
    let Some((dc, acc)) = support::cuda_service() else {
        return;
    };
    let src = dc.buffer_from_slice(&[1.0f32; 64]).unwrap();
    let mut dst = dc.buffer_zeroed::<f32>(64).unwrap();
    shifted_copy::launch(&acc, 64, 10, &src, &mut dst).unwrap();
    let err = acc.synchronize().unwrap_err();
    assert!(
        matches!(err.fault(), Some(KernelFault::OutOfBounds { index, len: 64, .. }) if (64..74).contains(index)),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("out of bounds for buffer `src` of length 64"),
        "{err}"
    );
    acc.synchronize().unwrap();

    let a = dc.buffer_from_slice(&[10, i32::MIN, 7]).unwrap();
    let b = dc.buffer_from_slice(&[2, 1, 0]).unwrap();
    let mut out = dc.buffer_zeroed::<i32>(3).unwrap();
    divide::launch(&acc, 3, &a, &b, &mut out).unwrap();
    let err = out.to_vec().unwrap_err();
    assert_eq!(err.fault(), Some(&KernelFault::DivisionByZero), "{err}");
    // The read does not take the fault from synchronize(), which returns it once.
    let err = acc.synchronize().unwrap_err();
    assert_eq!(err.fault(), Some(&KernelFault::DivisionByZero), "{err}");

    let mut flags = dc.buffer_zeroed::<u32>(1 << 16).unwrap();
    explode::launch(&acc, 1 << 16, 5, &mut flags).unwrap();
    let err = acc.synchronize().unwrap_err();
    assert!(
        err.to_string()
            .contains("panicked: work item beyond the limit"),
        "{err}"
    );
    explode::launch(&acc, 1 << 16, 1 << 16, &mut flags).unwrap();
    assert!(flags.to_vec().unwrap().iter().all(|&v| v == 1));
}

#[test]
fn data_moves_only_when_needed_and_launches_are_timed() {
    let Some((dc, acc)) = support::cuda_service() else {
        return;
    };
    let n = 1 << 20;
    let src = dc.buffer_from_slice(&vec![2.0f32; n]).unwrap();
    let mut dst = dc.buffer_zeroed::<f32>(n).unwrap();
    for _ in 0..3 {
        shifted_copy::launch(&acc, n, 0, &src, &mut dst).unwrap();
    }
    assert!(dst.to_vec().unwrap().iter().all(|&v| v == 2.0));
    assert_eq!(src.transfers().uploads, 1);
    assert_eq!((dst.transfers().uploads, dst.transfers().downloads), (1, 1));
    let stats = dc
        .statistics()
        .into_iter()
        .find(|s| s.kernel == "shifted_copy")
        .unwrap();
    let device = stats.device.expect("the test plugin times launches");
    assert_eq!(device.timed_launches, 3, "{device:?}");
    assert!(device.min > std::time::Duration::ZERO);
    let pool = acc.memory_statistics().unwrap();
    assert!(pool.bytes_in_use >= 8 * n as u64, "{pool:?}");
}
