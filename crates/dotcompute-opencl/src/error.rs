//! Errors of the OpenCL support.

use dotcompute_core::Error;
use thiserror::Error;

/// What can go wrong with OpenCL.
#[derive(Clone, Debug, Error)]
#[non_exhaustive]
pub enum OpenClError {
    /// No OpenCL library could be loaded, or it lists no platform.
    #[error("OpenCL is not available: {reason}")]
    Unavailable {
        /// Why.
        reason: String,
    },
    /// An OpenCL call failed.
    #[error("{what} on {device}: {reason}")]
    Api {
        /// What was being done.
        what: String,
        /// The device (or platform).
        device: String,
        /// The OpenCL error.
        reason: String,
    },
    /// The kernel cannot be written in OpenCL C (see `dotcompute_ir::emit::opencl`).
    #[error(transparent)]
    Emit(#[from] dotcompute_ir::IrError),
    /// The device lacks what the kernel needs (or what Rust's float semantics need).
    #[error("kernel `{kernel}` needs {need}, which {device} does not have")]
    Unsupported {
        /// The kernel.
        kernel: String,
        /// The device.
        device: String,
        /// What is missing.
        need: String,
    },
    /// The device's compiler rejected the generated source (a bug in the emitter: please
    /// report it).
    #[error("{device} could not build kernel `{kernel}`: {log}")]
    Build {
        /// The kernel.
        kernel: String,
        /// The device.
        device: String,
        /// The error and the build log.
        log: String,
    },
}

impl From<OpenClError> for Error {
    /// A device's missing capability is [`Error::Unsupported`], as on every backend; a
    /// kernel OpenCL C cannot express is [`Error::Ir`]; the rest are backend errors.
    fn from(e: OpenClError) -> Self {
        match e {
            OpenClError::Unsupported {
                kernel,
                device,
                need,
            } => Error::Unsupported {
                kernel,
                need,
                accelerator: device,
            },
            OpenClError::Emit(ir) => Error::Ir(ir),
            other => Error::Backend {
                backend: "opencl".into(),
                message: other.to_string(),
                source: Some(Box::new(other)),
            },
        }
    }
}
