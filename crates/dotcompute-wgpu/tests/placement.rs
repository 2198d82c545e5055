//! `dc.auto()` between the CPU and a wgpu device: given figures that make the device far
//! faster send a large query there (with the CPU's answer), and data current only on the
//! device keeps a query there.

#![allow(clippy::unwrap_used)] // tests fail by panicking

mod support;

use dotcompute::placement::AcceleratorProfile;
use dotcompute::prelude::*;
use dotcompute::query;

/// With given figures that make a device far faster, a large query goes there and gives
/// the CPU's answer; data already on the device keeps a later query there.
#[test]
fn given_figures_send_large_queries_to_a_faster_device() {
    let Some((dc, cpu, gpu)) = support::cpu_and_wgpu() else {
        return;
    };
    dc.set_profile(
        cpu.id(),
        AcceleratorProfile {
            bandwidth: 1e9,
            launch_latency: 1e-6,
            upload: f64::INFINITY,
            download: f64::INFINITY,
        },
    );
    dc.set_profile(
        gpu.id(),
        AcceleratorProfile {
            bandwidth: 1e12,
            launch_latency: 1e-6,
            upload: 1e11,
            download: 1e11,
        },
    );
    let x: Vec<u32> = (0..1u32 << 20).map(|i| i % 1000).collect();
    let dx = dc.buffer_from_slice(&x).unwrap();
    let on_auto = query!(dc.auto().query(&dx).filter(|v: u32| v % 3 == 0).count()).unwrap();
    let on_cpu = query!(cpu.query(&dx).filter(|v: u32| v % 3 == 0).count()).unwrap();
    assert_eq!(on_auto, on_cpu);
    let last = dc.placements().pop().unwrap();
    assert_eq!(last.accelerator, gpu.id(), "{}", last.reason);
    let launched_on_gpu = dc
        .statistics()
        .iter()
        .any(|s| s.kernel == "query_count" && s.accelerator == gpu.id().to_string());
    assert!(launched_on_gpu);
    // Now a CPU as fast as the device: data on the host stays there, data current only on
    // the device stays on it.
    dc.set_profile(
        cpu.id(),
        AcceleratorProfile {
            bandwidth: 1e12,
            launch_latency: 1e-6,
            upload: f64::INFINITY,
            download: f64::INFINITY,
        },
    );
    let _ = query!(dc.auto().query(&dx).map(|v: u32| v as u64).sum()).unwrap();
    assert_eq!(dc.placements().pop().unwrap().accelerator, cpu.id());
    let mut on_device = dc.buffer_zeroed::<u32>(1 << 20).unwrap();
    let src = dc.buffer_from_slice(&x).unwrap();
    copy_on::launch(&gpu, x.len(), &src, &mut on_device).unwrap();
    let total = query!(dc.auto().query(&on_device).map(|v: u32| v as u64).sum()).unwrap();
    assert_eq!(total, x.iter().map(|&v| u64::from(v)).sum::<u64>());
    assert_eq!(dc.placements().pop().unwrap().accelerator, gpu.id());
}

/// Writes `x` into `y` on whichever accelerator runs it.
#[kernel]
fn copy_on(x: &[u32], y: &mut [u32]) {
    let i = global_id();
    y[i] = x[i];
}
