//! Cooperative kernels on the CPU beyond the conformance cases: many groups over 1, 2 and 3
//! threads, 3-D groups, and the limits a launch is checked against.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute::prelude::*;
use dotcompute::{CpuOptions, Error};

/// Each group writes, for each of its items, the sum of the local ids of the whole group
/// (read back from a shared array after a barrier) and its own coordinates.
#[kernel]
fn group_census(out: &mut [u64]) {
    let mut ids = shared_array::<u64, 64>();
    let lx = local_id_x();
    let ly = local_id_y();
    let lz = local_id_z();
    let lid = lx + group_size_x() * (ly + group_size_y() * lz);
    ids[lid] = lid as u64;
    barrier();
    let items = group_size_x() * group_size_y() * group_size_z();
    let mut total = 0u64;
    for k in 0..items {
        total += ids[k];
    }
    let at = global_id_x() + global_size_x() * (global_id_y() + global_size_y() * global_id_z());
    let group = group_id_x() + num_groups_x() * (group_id_y() + num_groups_y() * group_id_z());
    out[at] = total * 1_000_000 + group as u64;
}

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
fn three_dimensional_groups_see_their_own_items() {
    let (dc, acc) = cpu(2);
    // 4 x 4 x 2 groups (32 items) over a 10 x 6 x 3 grid: the edge groups are partial.
    let dims = [10usize, 6, 3];
    let group = [4usize, 4, 2];
    let mut out = dc.buffer_zeroed::<u64>(dims.iter().product()).unwrap();
    let grid = Grid::d3(dims[0] as u64, dims[1] as u64, dims[2] as u64).with_group_size([
        group[0] as u32,
        group[1] as u32,
        group[2] as u32,
    ]);
    group_census::launch(&acc, grid, &mut out).unwrap();
    let ng = [
        dims[0].div_ceil(group[0]),
        dims[1].div_ceil(group[1]),
        dims[2].div_ceil(group[2]),
    ];
    let out = out.to_vec().unwrap();
    for z in 0..dims[2] {
        for y in 0..dims[1] {
            for x in 0..dims[0] {
                let g = [x / group[0], y / group[1], z / group[2]];
                // Only items in the grid wrote their local id; the others' slots stay 0.
                let mut total = 0;
                for lz in 0..group[2] {
                    for ly in 0..group[1] {
                        for lx in 0..group[0] {
                            let inside = g[0] * group[0] + lx < dims[0]
                                && g[1] * group[1] + ly < dims[1]
                                && g[2] * group[2] + lz < dims[2];
                            if inside {
                                total += lx + group[0] * (ly + group[1] * lz);
                            }
                        }
                    }
                }
                let linear_group = g[0] + ng[0] * (g[1] + ng[1] * g[2]);
                let at = x + dims[0] * (y + dims[1] * z);
                assert_eq!(
                    out[at],
                    (total * 1_000_000 + linear_group) as u64,
                    "item ({x}, {y}, {z})"
                );
            }
        }
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
