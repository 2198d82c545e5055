//! The conformance suite on the first wgpu adapter with 64-bit integers (lavapipe in CI).
//! Without one, every case reports itself skipped.

use dotcompute::{BackendKind, ComputeService};
use dotcompute_conformance::{Env, MathLibrary, conformance_tests};
use dotcompute_wgpu::WgpuPlugin;

fn wgpu_env() -> Option<Env> {
    let dc = ComputeService::builder()
        .without_cpu()
        .plugin(Box::new(WgpuPlugin::default()))
        .build()
        .ok()?;
    let acc = dc
        .accelerators()
        .into_iter()
        .find(|a| a.id().backend == BackendKind::Wgpu && a.info().capabilities.int64)?;
    Some(Env {
        dc,
        acc,
        math: MathLibrary::Driver,
    })
}

conformance_tests!(wgpu_env);
