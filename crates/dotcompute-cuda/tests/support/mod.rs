//! Finding the GPU the tests run on.

use dotcompute::{Accelerator, ComputeService};
use dotcompute_cuda::CudaPlugin;

/// A service with only the CUDA backend (timing its launches) and its first GPU. `None` on
/// machines without one (CI), unless `DOTCOMPUTE_REQUIRE_CUDA=1` (set on the GPU machine):
/// then a missing GPU fails the test instead of letting it pass without running.
pub fn cuda_service() -> Option<(ComputeService, Accelerator)> {
    dotcompute_conformance::backend_service(
        || Box::new(CudaPlugin::with_timing(true)),
        |_| true,
        "DOTCOMPUTE_REQUIRE_CUDA",
    )
}
