//! Cooperative kernels on the CPU beyond the conformance cases: many groups over 1, 2 and 3
//! threads, and the limits a launch is checked against.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute::prelude::*;
use dotcompute::{CpuOptions, Error};
use dotcompute_conformance::cooperative::block_sum;

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

#[test]
fn many_groups_give_the_same_sums_on_any_number_of_threads() {
    let n = 300_001usize;
    // Whole numbers below 1000: every partial sum is exact in f32, whatever the order.
    let x: Vec<f32> = (0..n as u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) % 1000) as f32)
        .collect();
    let want: Vec<f32> = x.chunks(256).map(|c| c.iter().sum()).collect();
    for threads in [1, 2, 3] {
        let (dc, acc) = cpu(threads);
        let dx = dc.buffer_from_slice(&x).unwrap();
        let mut sums = dc.buffer_zeroed::<f32>(want.len()).unwrap();
        block_sum::launch(
            &acc,
            Grid::d1(n as u64).with_group_size([256, 1, 1]),
            &dx,
            &mut sums,
        )
        .unwrap();
        assert_eq!(sums.to_vec().unwrap(), want, "{threads} threads");
    }
}

#[test]
fn a_group_larger_than_the_device_runs_is_refused() {
    let (dc, acc) = cpu(1);
    let x = dc.buffer_zeroed::<f32>(4096).unwrap();
    let mut sums = dc.buffer_zeroed::<f32>(1).unwrap();
    let err = block_sum::launch(
        &acc,
        Grid::d1(4096).with_group_size([4096, 1, 1]),
        &x,
        &mut sums,
    )
    .unwrap_err();
    match err {
        Error::InvalidGrid { reason, .. } => {
            assert!(reason.contains("groups of 4096 work items"), "{reason}");
        }
        other => panic!("expected InvalidGrid, got {other}"),
    }
}

#[test]
fn outside_kernels_the_intrinsics_act_as_one_item() {
    barrier();
    let tile = shared_array::<f32, 4>();
    assert_eq!(tile, [0.0; 4]);
    assert_eq!(num_groups_x(), 1);
}
