//! Finding the GPU the tests run on.

use dotcompute::{Accelerator, BackendKind, ComputeService};
use dotcompute_cuda::CudaPlugin;

/// A service with only the CUDA backend and its first GPU. `None` on machines without one
/// (CI), unless `DOTCOMPUTE_REQUIRE_CUDA=1` (set on the GPU machine): then a missing GPU
/// fails the test instead of letting it pass without running.
#[allow(clippy::panic)] // tests fail by panicking
pub fn cuda_service() -> Option<(ComputeService, Accelerator)> {
    let found = ComputeService::builder()
        .without_cpu()
        .plugin(Box::new(CudaPlugin::with_timing(true)))
        .build()
        .ok()
        .and_then(|dc| {
            let acc = dc
                .accelerators()
                .into_iter()
                .find(|a| a.id().backend == BackendKind::Cuda)?;
            Some((dc, acc))
        });
    if found.is_none() && std::env::var("DOTCOMPUTE_REQUIRE_CUDA").as_deref() == Ok("1") {
        let reason = ComputeService::builder()
            .without_cpu()
            .plugin(Box::new(CudaPlugin::default()))
            .build()
            .map(|dc| {
                let _ = dc.accelerators();
                format!("{:?}", dc.backend_reports())
            })
            .unwrap_or_default();
        panic!("DOTCOMPUTE_REQUIRE_CUDA=1 but no CUDA GPU was found: {reason}");
    }
    if found.is_none() {
        eprintln!("SKIPPED: no CUDA GPU on this machine");
    }
    found
}
