//! Finding the wgpu adapter the tests run on.

use dotcompute::{Accelerator, BackendKind, ComputeService};
use dotcompute_wgpu::WgpuPlugin;

/// A service with only the wgpu backend, and its first adapter that can run kernels (lavapipe
/// in CI). `None` when this machine has none, unless `DOTCOMPUTE_REQUIRE_WGPU=1` (set by
/// `scripts/test.sh` after installing lavapipe): then a missing adapter fails the test instead
/// of letting it pass without running.
#[allow(clippy::panic)] // tests fail by panicking
pub fn wgpu_service() -> Option<(ComputeService, Accelerator)> {
    let found = ComputeService::builder()
        .without_cpu()
        .without_wgpu()
        .plugin(Box::new(WgpuPlugin::default()))
        .build()
        .ok()
        .and_then(|dc| {
            let acc = dc
                .accelerators()
                .into_iter()
                .find(|a| a.id().backend == BackendKind::Wgpu && a.info().capabilities.int64)?;
            Some((dc, acc))
        });
    if found.is_none() && std::env::var("DOTCOMPUTE_REQUIRE_WGPU").as_deref() == Ok("1") {
        panic!(
            "DOTCOMPUTE_REQUIRE_WGPU=1 but no wgpu adapter with 64-bit integers was found \
             (is mesa-vulkan-drivers installed and XDG_RUNTIME_DIR set?)"
        );
    }
    if found.is_none() {
        eprintln!("SKIPPED: no wgpu adapter with 64-bit integers on this machine");
    }
    found
}

/// The CPU and the wgpu adapter the tests run on, in one service (`None` as
/// [`wgpu_service`]).
#[allow(dead_code)] // not every test file uses it
pub fn cpu_and_wgpu() -> Option<(ComputeService, Accelerator, Accelerator)> {
    wgpu_service()?;
    let dc = ComputeService::builder()
        .without_wgpu()
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
