//! The conformance suite on the first wgpu adapter with 64-bit integers (lavapipe in CI).

mod support;

use dotcompute_conformance::{Env, conformance_tests};

fn wgpu_env() -> Option<Env> {
    let (dc, acc) = support::wgpu_service()?;
    Some(Env { dc, acc })
}

conformance_tests!(wgpu_env);
