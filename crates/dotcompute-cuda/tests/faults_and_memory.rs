//! Faults, buffer movement and timing on a GPU (skipped where there is none).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod support;

use dotcompute_conformance::faulting::shifted_copy;
use dotcompute_conformance::{fault_rule_tests, fault_rules};

// Who is told of a fault, with launches in flight together.
fault_rule_tests!(support::cuda_service);

#[test]
fn faults_are_reported_at_synchronize_and_on_read() {
    if let Some((dc, acc)) = support::cuda_service() {
        fault_rules::faults_are_named_at_synchronize_and_on_read(&dc, &acc);
    }
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
