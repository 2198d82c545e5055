//! Cooperative kernels on the CPU beyond the conformance cases: many groups over 1, 2 and 3
//! threads, the limits a launch is checked against, and bounds checks hoisted out of item
//! loops.

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

/// A plugin device that runs cooperative kernels but has no subgroup operations: kernels
/// that use them must be refused before they reach its compiler (which has none here).
struct NoSubgroupsDevice(dotcompute::AcceleratorInfo);

impl dotcompute::backend::Device for NoSubgroupsDevice {
    fn info(&self) -> &dotcompute::AcceleratorInfo {
        &self.0
    }
    fn compile(
        &self,
        kernel: &'static dotcompute::KernelDefinition,
    ) -> Result<std::sync::Arc<dyn dotcompute::backend::CompiledKernel>, Error> {
        Err(Error::Backend {
            backend: "no-subgroups".into(),
            message: format!(
                "this test device compiles nothing (asked for `{}`)",
                kernel.name()
            ),
            source: None,
        })
    }
    fn synchronize(&self) -> Result<(), Error> {
        Ok(())
    }
}

struct NoSubgroupsPlugin;

impl dotcompute::backend::BackendPlugin for NoSubgroupsPlugin {
    fn name(&self) -> &str {
        "no-subgroups"
    }
    fn backend(&self) -> BackendKind {
        BackendKind::Plugin("no-subgroups")
    }
    fn discover(&self) -> Result<Vec<std::sync::Arc<dyn dotcompute::backend::Device>>, Error> {
        let cpu = cpu(1).1.info().clone();
        let mut info = cpu.clone();
        info.id = dotcompute::AcceleratorId {
            backend: self.backend(),
            index: 0,
        };
        info.name = "a device without subgroups".into();
        info.capabilities.subgroup_size = 0;
        Ok(vec![std::sync::Arc::new(NoSubgroupsDevice(info))])
    }
}

#[test]
fn subgroup_kernels_are_refused_where_there_are_no_subgroups() {
    let dc = ComputeService::builder()
        .plugin(Box::new(NoSubgroupsPlugin))
        .build()
        .unwrap();
    let acc = dc.accelerator(BackendKind::Plugin("no-subgroups")).unwrap();
    let mut out = dc.buffer_zeroed::<u64>(64).unwrap();
    let mut first = dc.buffer_zeroed::<u64>(64).unwrap();
    let err = dotcompute_conformance::subgroups::subgroup_ids::launch(
        &acc,
        Grid::d1(64).with_group_size([64, 1, 1]),
        &mut out,
        &mut first,
    )
    .unwrap_err();
    match err {
        Error::Unsupported { need, .. } => assert_eq!(need, "subgroup operations"),
        other => panic!("expected Unsupported, got {other}"),
    }
}

#[test]
fn the_cpu_subgroup_size_is_a_power_of_two_up_to_64() {
    for bad in [0, 3, 128] {
        let built = ComputeService::builder()
            .cpu(CpuOptions {
                subgroup_size: bad,
                ..CpuOptions::default()
            })
            .build()
            .and_then(|dc| dc.accelerator(BackendKind::Cpu));
        let err = built.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("power of two from 1 to 64"), "{bad}: {err}");
    }
    let (_, acc) = cpu(1);
    assert_eq!(acc.info().capabilities.subgroup_size, 16);
}

/// Each group sums the 256 elements its items load (`x[group * 256 + lid]`).
#[kernel]
fn group_sums(x: &[f32], out: &mut [f32]) {
    let mut tile = shared_array::<f32, 256>();
    let lid = local_id_x();
    tile[lid] = x[group_id_x() * 256 + lid];
    barrier();
    if lid == 0 {
        let mut s = 0.0f32;
        for j in 0..256usize {
            s += tile[j];
        }
        out[group_id_x()] = s;
    }
}

/// Item loops whose buffer indices are known at each item's start check them all first and
/// run without per-access checks (the emitted CPU code says so); when one index is out of
/// bounds the checked loop runs and the launch faults as before, naming the buffer.
#[test]
fn item_loops_check_their_indices_first_and_still_fault_out_of_bounds() {
    use dotcompute::ir::emit::rust::{RustOptions, emit};
    let def = group_sums::definition();
    let code = emit(def.ir().unwrap(), &RustOptions::for_kernel(def.name()));
    assert!(code.contains("in_bounds &="), "{code}");
    assert!(code.contains("load_unchecked"), "{code}");

    let (dc, acc) = cpu(2);
    let groups = 37usize;
    let x: Vec<f32> = (0..groups * 256).map(|i| (i % 7) as f32).collect();
    let grid = Grid::d1(groups as u64 * 256).with_group_size([256, 1, 1]);
    let dx = dc.buffer_from_slice(&x).unwrap();
    let mut out = dc.buffer_zeroed::<f32>(groups).unwrap();
    group_sums::launch(&acc, grid, &dx, &mut out).unwrap();
    let want: Vec<f32> = x.chunks(256).map(|c| c.iter().sum()).collect();
    assert_eq!(out.to_vec().unwrap(), want);

    let short = dc.buffer_from_slice(&x[..groups * 256 - 1]).unwrap();
    let err = group_sums::launch(&acc, grid, &short, &mut out).unwrap_err();
    assert!(
        err.to_string().contains("out of bounds for buffer `x`"),
        "{err}"
    );
}
