//! Finding the wgpu adapter the tests run on.

use dotcompute::{Accelerator, BackendKind, ComputeService};
use dotcompute_wgpu::WgpuPlugin;

/// A service with only the wgpu backend, and its first adapter that can run kernels (lavapipe
/// in CI). `None` when this machine has none, unless `DOTCOMPUTE_REQUIRE_WGPU=1` (set by
/// `scripts/test.sh` after installing lavapipe): then a missing adapter fails the test instead
/// of letting it pass without running.
pub fn wgpu_service() -> Option<(ComputeService, Accelerator)> {
    dotcompute_conformance::backend_service(
        || Box::new(WgpuPlugin::default()),
        |acc| acc.info().capabilities.int64,
        "DOTCOMPUTE_REQUIRE_WGPU",
    )
}

/// The CPU and the wgpu adapter the tests run on, in one service (`None` as
/// [`wgpu_service`]).
#[allow(dead_code)] // not every test file uses it
pub fn cpu_and_wgpu() -> Option<(ComputeService, Accelerator, Accelerator)> {
    wgpu_service()?;
    let dc = ComputeService::builder()
        .without_wgpu()
        .without_cuda()
        .without_opencl()
        .plugin(Box::new(WgpuPlugin::default()))
        .build()
        .ok()?;
    let cpu = dc.accelerator(BackendKind::Cpu).ok()?;
    let gpu = dc
        .accelerators()
        .into_iter()
        .find(|a| a.id().backend == BackendKind::Wgpu && a.info().capabilities.int64)?;
    Some((dc, cpu, gpu))
}
