//! Errors of the IR crate.

use thiserror::Error;

/// Why a kernel's IR was rejected or could not be decoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IrError {
    /// The program breaks a rule of the IR (types, declarations, access modes, ...).
    #[error("invalid kernel `{kernel}`: {message} (in {location})")]
    Invalid {
        /// Kernel name.
        kernel: String,
        /// Function or kernel body where the problem is.
        location: String,
        /// What rule was broken.
        message: String,
    },
    /// A target language cannot express something the kernel uses.
    #[error("kernel `{kernel}` needs {need}, which the {target} emitter does not support")]
    Unsupported {
        /// Kernel name.
        kernel: String,
        /// The target language.
        target: &'static str,
        /// What the kernel needs.
        need: String,
    },
    /// Serialized IR could not be decoded (a version mismatch or corrupt bytes).
    #[error("cannot decode kernel IR: {0}")]
    Decode(String),
}
