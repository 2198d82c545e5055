//! The conformance suite on the first CUDA GPU (skipped where there is none; required with
//! `DOTCOMPUTE_REQUIRE_CUDA=1`).

mod support;

use dotcompute_conformance::{Env, conformance_tests};

fn cuda_env() -> Option<Env> {
    let (dc, acc) = support::cuda_service()?;
    Some(Env { dc, acc })
}

conformance_tests!(cuda_env);
