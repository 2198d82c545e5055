//! The conformance suite on the first OpenCL device that runs kernels (PoCL in CI:
//! `scripts/test.sh` installs it and sets `DOTCOMPUTE_REQUIRE_OPENCL=1`). Cases whose kernels
//! use subgroup operations skip (OpenCL's subgroups are not targeted yet).

use dotcompute_conformance::{Env, backend_service, conformance_tests};
use dotcompute_opencl::OpenClPlugin;

fn opencl_env() -> Option<Env> {
    let (dc, acc) = backend_service(
        || Box::new(OpenClPlugin::with_timing(true)),
        |acc| acc.info().capabilities.int64,
        "DOTCOMPUTE_REQUIRE_OPENCL",
    )?;
    Some(Env { dc, acc })
}

conformance_tests!(opencl_env);
