//! Cooperative kernels on the CPU beyond the conformance cases: many groups over 1, 2 and 3
//! threads, and the limits a launch is checked against.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute::prelude::*;
use dotcompute::{CpuOptions, Error};

/// Per group: the sum of its slice, by a tree in shared memory.
#[kernel]
fn tree_sum(x: &[u64], sums: &mut [u64]) {
    let mut tile = shared_array::<u64, 128>();
    let lid = local_id_x();
    tile[lid] = x[global_id()];
    barrier();
    let mut stride = group_size_x() / 2;
    while stride > 0 {
        if lid < stride {
            tile[lid] += tile[lid + stride];
        }
        barrier();
        stride /= 2;
    }
    if lid == 0 {
        sums[group_id_x()] = tile[0];
    }
}

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
    let x: Vec<u64> = (0..n as u64)
        .map(|i| i.wrapping_mul(2_654_435_761) % 1000)
        .collect();
    let want: Vec<u64> = x.chunks(128).map(|c| c.iter().sum()).collect();
    for threads in [1, 2, 3] {
        let (dc, acc) = cpu(threads);
        let dx = dc.buffer_from_slice(&x).unwrap();
        let mut sums = dc.buffer_zeroed::<u64>(want.len()).unwrap();
        tree_sum::launch(
            &acc,
            Grid::d1(n as u64).with_group_size([128, 1, 1]),
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
    let x = dc.buffer_zeroed::<u64>(4096).unwrap();
    let mut sums = dc.buffer_zeroed::<u64>(1).unwrap();
    let err = tree_sum::launch(
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
