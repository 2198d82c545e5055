//! The error type of DotCompute.

use dotcompute_core::{CoreError, KernelFault};
use dotcompute_ir::IrError;
use thiserror::Error;

/// Every error DotCompute returns: one per crate, gathered here.
///
/// Most come from the core ([`CoreError`]): an invalid grid, a mismatched argument, a fault in
/// a kernel (see [`Error::fault`]), a pool limit, a missing accelerator.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// From the core: launches, buffers, accelerators, pools.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// From the kernel IR: a kernel that could not be decoded or validated.
    #[error(transparent)]
    Ir(#[from] IrError),
    /// From the CPU backend.
    #[cfg(feature = "cpu")]
    #[error(transparent)]
    Cpu(#[from] dotcompute_cpu::CpuError),
}

impl Error {
    /// The fault that stopped a kernel, when this error is one.
    ///
    /// ```
    /// # use dotcompute::{Error, KernelFault};
    /// # fn check(e: &Error) -> bool {
    /// matches!(e.fault(), Some(KernelFault::DivisionByZero))
    /// # }
    /// ```
    pub fn fault(&self) -> Option<&KernelFault> {
        match self {
            Error::Core(CoreError::KernelFault { fault, .. }) => Some(fault),
            _ => None,
        }
    }

    /// The core error, when this error is one.
    pub fn as_core(&self) -> Option<&CoreError> {
        match self {
            Error::Core(e) => Some(e),
            _ => None,
        }
    }
}
