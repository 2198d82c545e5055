//! The conformance suite on the first OpenCL device that runs kernels (PoCL in CI), every
//! launch checked against the IR interpreter (`dotcompute_conformance::differential`).

use dotcompute_conformance::differential::DifferentialPlugin;
use dotcompute_conformance::{Env, backend_service, conformance_tests};
use dotcompute_opencl::OpenClPlugin;

fn checked_opencl() -> Option<Env> {
    let (dc, acc) = backend_service(
        || Box::new(DifferentialPlugin::new(Box::new(OpenClPlugin::default()))),
        |acc| acc.info().capabilities.int64,
        "DOTCOMPUTE_REQUIRE_OPENCL",
    )?;
    Some(Env { dc, acc })
}

conformance_tests!(checked_opencl);
