//! The conformance suite on the wgpu adapter the tests use (lavapipe in CI), every launch
//! checked against the IR interpreter (`dotcompute_conformance::differential`).

use dotcompute_conformance::differential::DifferentialPlugin;
use dotcompute_conformance::{Env, backend_service, conformance_tests};
use dotcompute_wgpu::WgpuPlugin;

fn checked_wgpu() -> Option<Env> {
    let (dc, acc) = backend_service(
        || Box::new(DifferentialPlugin::new(Box::new(WgpuPlugin::default()))),
        |acc| acc.info().capabilities.int64,
        "DOTCOMPUTE_REQUIRE_WGPU",
    )?;
    Some(Env { dc, acc })
}

conformance_tests!(checked_wgpu);
