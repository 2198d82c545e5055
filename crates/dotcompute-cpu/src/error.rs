//! Errors of the CPU backend.

use dotcompute_core::Error;
use thiserror::Error;

/// Why the CPU backend could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CpuError {
    /// The worker threads could not be created.
    #[error("cannot start the CPU thread pool: {0}")]
    ThreadPool(#[from] rayon::ThreadPoolBuildError),
    /// A SIMD level this CPU does not have was asked for.
    #[error("this CPU does not support the `{0}` instruction set")]
    UnsupportedSimd(&'static str),
    /// `DOTCOMPUTE_CPU_SIMD` names no SIMD level.
    #[error("DOTCOMPUTE_CPU_SIMD=`{0}` is not one of generic, neon, avx2, avx512")]
    UnknownSimd(String),
    /// `CpuOptions::subgroup_size` is not a power of two from 1 to 64.
    #[error("a CPU subgroup size must be a power of two from 1 to 64, not {0}")]
    InvalidSubgroupSize(u32),
}

impl From<CpuError> for Error {
    fn from(e: CpuError) -> Error {
        Error::Backend {
            backend: "cpu".into(),
            message: e.to_string(),
            source: Some(Box::new(e)),
        }
    }
}
