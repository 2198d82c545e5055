//! Random kernels (`dotcompute_conformance::random_kernels`) on the wgpu adapter the tests use
//! (lavapipe in CI), each compared with the IR interpreter: the same bits in every written
//! buffer, and a fault on both sides or on neither. CI runs a fixed batch of seeds (20 here:
//! about 4 s a kernel in a debug build on lavapipe; `DOTCOMPUTE_RANDOM_SEEDS=0..80` agreed
//! when the batch landed);
//! `scripts/fuzz.sh` runs fresh ones (`DOTCOMPUTE_RANDOM_SEEDS=start..end`).

#![allow(clippy::panic)] // tests fail by panicking

use dotcompute_conformance::{Env, backend_service, random_differential};
use dotcompute_wgpu::WgpuPlugin;

#[test]
fn random_kernels_agree_with_the_interpreter() {
    let Some((dc, acc)) = backend_service(
        || Box::new(WgpuPlugin::default()),
        |acc| acc.info().capabilities.int64 && acc.info().capabilities.f64,
        "DOTCOMPUTE_REQUIRE_WGPU",
    ) else {
        return;
    };
    let env = Env { dc, acc };
    let report = random_differential::run_seeds(&env, random_differential::seeds(0..20));
    eprintln!("{report}");
    if !report.disagreements.is_empty() {
        panic!("{report}");
    }
}
