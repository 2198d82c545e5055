//! Errors of the CUDA backend.

use dotcompute_core::Error;
use thiserror::Error;

/// What can go wrong in the CUDA backend.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CudaError {
    /// A CUDA library is not installed where we looked.
    #[error("{library} not found; searched: {}", searched.join(", "))]
    LibraryNotFound {
        /// The library, e.g. `NVRTC (libnvrtc.so.13)`.
        library: &'static str,
        /// Every name and directory tried.
        searched: Vec<String>,
    },
    /// NVRTC rejected the generated source (a bug in the emitter: please report it).
    #[error("NVRTC could not compile kernel `{kernel}` for {arch}: {message}\n{log}")]
    Compile {
        /// The kernel.
        kernel: String,
        /// The target architecture, e.g. `sm_90`.
        arch: String,
        /// NVRTC's error.
        message: String,
        /// NVRTC's log.
        log: String,
    },
    /// A driver call failed.
    #[error("{what} on {device}: {reason}")]
    Driver {
        /// What was being done.
        what: String,
        /// The device.
        device: String,
        /// The driver's error.
        reason: String,
    },
}

impl From<CudaError> for Error {
    fn from(e: CudaError) -> Self {
        Error::Backend {
            backend: "cuda".into(),
            message: e.to_string(),
            source: Some(Box::new(e)),
        }
    }
}
