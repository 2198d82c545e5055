//! The OpenCL runtime on the first device found (PoCL in CI): fault ownership with launches
//! in flight, what the device reports, faults by name, and the backend's report without a
//! device.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute::{Accelerator, AcceleratorKind, BackendKind, ComputeService};
use dotcompute_conformance::faulting::divide;
use dotcompute_conformance::{backend_service, fault_rule_tests};
use dotcompute_opencl::OpenClPlugin;

fn opencl_service() -> Option<(ComputeService, Accelerator)> {
    backend_service(
        || Box::new(OpenClPlugin::default()),
        |acc| acc.info().capabilities.int64,
        "DOTCOMPUTE_REQUIRE_OPENCL",
    )
}

// Who is told of a fault, with launches in flight together.
fault_rule_tests!(opencl_service);

#[test]
fn the_device_reports_what_it_has() {
    let Some((dc, acc)) = opencl_service() else {
        return;
    };
    let info = acc.info();
    assert_eq!(acc.id().backend, BackendKind::OpenCl);
    // Accelerator indices are positions in `devices()`.
    let listed = dotcompute_opencl::devices().unwrap();
    assert_eq!(listed[acc.id().index as usize].name, info.name);
    let caps = &info.capabilities;
    assert!(caps.cooperative && caps.atomics && caps.max_group_size > 0);
    assert!(caps.max_buffer_bytes > 0 && info.memory_bytes > 0);
    assert!(info.versions.iter().any(|(k, _)| k == "OpenCL C"));
    // PoCL has everything but subgroups: a lost capability would skip conformance cases
    // silently, so it is checked here.
    if info
        .versions
        .iter()
        .any(|(_, v)| v.contains("Portable Computing Language"))
    {
        assert_eq!(info.kind, AcceleratorKind::Cpu);
        assert!(caps.f64 && caps.int64 && caps.atomics64 && caps.float_atomics);
        assert!(caps.shared_memory_bytes >= 32 * 1024, "{caps:?}");
        assert_eq!(caps.subgroup_size, 0);
    }
    // Never preferred to the CPU backend when it runs on the same cores.
    if info.kind == AcceleratorKind::Cpu {
        let both = ComputeService::builder()
            .plugin(Box::new(OpenClPlugin::default()))
            .build()
            .unwrap();
        assert_eq!(
            both.best_accelerator().unwrap().id().backend,
            BackendKind::Cpu
        );
    }
    drop(dc);
}

#[test]
fn faults_are_reported_at_synchronize_and_on_read() {
    if let Some((dc, acc)) = opencl_service() {
        dotcompute_conformance::fault_rules::faults_are_named_at_synchronize_and_on_read(&dc, &acc);
    }
}

#[test]
fn launches_are_timed_when_asked() {
    let Some((dc, acc)) = backend_service(
        || Box::new(OpenClPlugin::with_timing(true)),
        |acc| acc.info().capabilities.int64,
        "DOTCOMPUTE_REQUIRE_OPENCL",
    ) else {
        return;
    };
    assert!(acc.info().capabilities.device_timing);
    let a = dc.buffer_from_slice(&[8i32; 1000]).unwrap();
    let b = dc.buffer_from_slice(&[2i32; 1000]).unwrap();
    let mut out = dc.buffer_zeroed::<i32>(1000).unwrap();
    for _ in 0..3 {
        divide::launch(&acc, 1000, &a, &b, &mut out).unwrap();
    }
    acc.synchronize().unwrap();
    assert_eq!(out.to_vec().unwrap(), [4; 1000]);
    let stats = dc
        .statistics()
        .into_iter()
        .find(|s| s.kernel == "divide")
        .unwrap();
    let device = stats.device.expect("the plugin times launches");
    assert_eq!(device.timed_launches, 3, "{device:?}");
    assert!(device.min > std::time::Duration::ZERO, "{device:?}");
    assert!(acc.memory_statistics().unwrap().bytes_in_use >= 3 * 4000);
}
