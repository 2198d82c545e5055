//! Finding adapters: none is not an error, software adapters are never "best", and adapters
//! that cannot run kernels are listed but not chosen.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod support;

use dotcompute::prelude::*;
use dotcompute::{AcceleratorKind, BackendStatus};
use dotcompute_wgpu::WgpuPlugin;

/// A backend with no adapter on this machine (Metal outside Apple platforms) is reported as
/// unavailable, with the reason, and the service works without it.
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
#[test]
fn no_adapter_leaves_the_service_working() {
    let dc = ComputeService::builder()
        .without_wgpu()
        .without_cuda()
        .without_opencl()
        .plugin(Box::new(WgpuPlugin::with_backends(wgpu::Backends::METAL)))
        .build()
        .unwrap();
    let accs = dc.accelerators();
    assert_eq!(accs.len(), 1, "{accs:?}");
    assert_eq!(accs[0].id().backend, BackendKind::Cpu);
    let report = dc
        .backend_reports()
        .into_iter()
        .find(|r| r.plugin == "wgpu")
        .unwrap();
    match &report.status {
        BackendStatus::Unavailable { reason } => {
            assert!(reason.contains("no wgpu adapter"), "{reason}")
        }
        other => panic!("expected the wgpu backend to be unavailable, got {other:?}"),
    }
    let err = dc.accelerator(BackendKind::Wgpu).unwrap_err();
    assert!(err.to_string().contains("no wgpu adapter"), "{err}");
    // The CPU still runs kernels.
    assert_eq!(
        dc.best_accelerator().unwrap().id().backend,
        BackendKind::Cpu
    );
}

#[test]
fn software_adapters_are_never_the_best_accelerator() {
    let Some((_, acc)) = support::wgpu_service() else {
        return;
    };
    if acc.info().kind != AcceleratorKind::VirtualGpu {
        eprintln!(
            "{} is a hardware adapter; nothing to check",
            acc.info().name
        );
        return;
    }
    let dc = ComputeService::builder()
        .without_wgpu()
        .without_cuda()
        .without_opencl()
        .plugin(Box::new(WgpuPlugin::default()))
        .build()
        .unwrap();
    assert!(dc.accelerators().len() >= 2);
    assert_eq!(
        dc.best_accelerator().unwrap().id().backend,
        BackendKind::Cpu
    );
    // Without the CPU, the software adapter is the best there is; an adapter without 64-bit
    // integers (GL) is never chosen.
    let gpu_only = ComputeService::builder()
        .without_cpu()
        .without_wgpu()
        .without_cuda()
        .without_opencl()
        .plugin(Box::new(WgpuPlugin::default()))
        .build()
        .unwrap();
    let best = gpu_only.best_accelerator().unwrap();
    assert!(best.info().capabilities.int64, "{}", best.info());
}

#[test]
fn adapter_info_describes_the_device() {
    let Some((_, acc)) = support::wgpu_service() else {
        return;
    };
    let info = acc.info();
    assert_eq!(info.id.backend, BackendKind::Wgpu);
    assert!(!info.name.is_empty());
    assert!(info.versions.iter().any(|(k, _)| k == "api"), "{info:?}");
    let caps = &info.capabilities;
    assert!(caps.max_buffer_bytes >= 128 << 20, "{caps:?}");
    assert!(caps.max_group_size >= 64, "{caps:?}");
}

/// The rounding probe's verdict is part of the adapter's description; lavapipe divides and
/// takes roots exactly, so its kernels keep the driver's operations (unless a test asks the
/// probe to see an inexact driver, in which case they get the correctly rounded helpers).
#[test]
fn the_rounding_probe_reports_its_verdict() {
    let Some((_, acc)) = support::wgpu_service() else {
        return;
    };
    let info = acc.info();
    let verdict = info
        .versions
        .iter()
        .find(|(k, _)| k == "division and sqrt")
        .map(|(_, v)| v.clone())
        .unwrap();
    let simulated = std::env::var("DOTCOMPUTE_WGPU_SIMULATE_INEXACT_DRIVER").as_deref() == Ok("1");
    let forced = std::env::var("DOTCOMPUTE_WGPU_CORRECT_ROUNDING").ok();
    if info.name.contains("llvmpipe") && forced.is_none() {
        if simulated {
            assert!(
                verdict.starts_with("correctly rounded helpers"),
                "{verdict}"
            );
        } else {
            assert_eq!(verdict, "the driver's (correctly rounded)");
        }
    }
}
