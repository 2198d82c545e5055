//! Finding GPUs: without a driver the backend is absent, never an error or a panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod support;

use dotcompute::{BackendKind, BackendStatus, ComputeService};
use dotcompute_cuda::CudaPlugin;

#[test]
fn the_service_works_with_or_without_a_driver() {
    let dc = ComputeService::builder()
        .plugin(Box::new(CudaPlugin::default()))
        .build()
        .unwrap();
    let accs = dc.accelerators();
    assert!(accs.iter().any(|a| a.id().backend == BackendKind::Cpu));
    let report = dc
        .backend_reports()
        .into_iter()
        .find(|r| r.plugin == "cuda")
        .unwrap();
    let gpus = accs
        .iter()
        .filter(|a| a.id().backend == BackendKind::Cuda)
        .count();
    match &report.status {
        BackendStatus::Unavailable { reason } => {
            assert_eq!(gpus, 0);
            // Says what is missing and where it looked.
            assert!(
                reason.contains("libcuda.so.1") || reason.contains("CUDA"),
                "{reason}"
            );
            let err = dc.accelerator(BackendKind::Cuda).unwrap_err();
            assert!(err.to_string().contains("cuda"), "{err}");
        }
        BackendStatus::Available { accelerators } => assert_eq!(*accelerators, gpus),
        BackendStatus::NotProbed => panic!("accelerators() probes every plugin"),
    }
}

#[test]
fn gpus_describe_themselves() {
    let Some((_, acc)) = support::cuda_service() else {
        return;
    };
    let info = acc.info();
    assert!(info.memory_bytes > 0 && info.compute_units > 0, "{info:?}");
    assert!(
        info.versions.iter().any(|(k, _)| k == "compute capability"),
        "{info:?}"
    );
    assert!(info.capabilities.f64 && info.capabilities.int64);
}
