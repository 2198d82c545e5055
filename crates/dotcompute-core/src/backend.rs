//! The traits a backend implements: plugins discover devices, devices compile kernels,
//! compiled kernels launch.

use crate::cpu_abi::CpuArg;
use crate::definition::KernelDefinition;
use crate::error::Error;
use crate::fault::KernelFault;
use crate::grid::Grid;
use crate::info::{AcceleratorInfo, BackendKind};
use std::sync::Arc;

/// A backend plugin: finds the devices of one backend on this machine.
///
/// Register plugins with `ComputeService::builder().plugin(...)`. A plugin whose discovery
/// fails or panics is reported and skipped; the others still work.
pub trait BackendPlugin: Send + Sync {
    /// The backend's name, for reports.
    fn name(&self) -> &str;
    /// Which backend it is.
    fn backend(&self) -> BackendKind;
    /// The devices present; an empty list or an error when there are none (say why).
    fn discover(&self) -> Result<Vec<Arc<dyn Device>>, Error>;
}

/// One device of a backend.
pub trait Device: Send + Sync {
    /// What it is and can do.
    fn info(&self) -> &AcceleratorInfo;
    /// Compiles a kernel for this device (the caller caches the result per device).
    fn compile(&self, kernel: &'static KernelDefinition) -> Result<Arc<dyn CompiledKernel>, Error>;
    /// Waits for all work submitted to the device.
    fn synchronize(&self) -> Result<(), Error>;
}

/// A kernel compiled for one device.
pub trait CompiledKernel: Send + Sync {
    /// Runs the kernel over `grid` with `work_items` = the grid's size.
    ///
    /// # Safety
    ///
    /// `args` match the kernel's parameters in number and type (the launcher checks), every
    /// `CpuArg::Buffer` points to that many valid elements that nothing else accesses during
    /// the call, and for `unchecked` kernels every access the kernel makes is in bounds.
    unsafe fn launch(
        &self,
        grid: &Grid,
        work_items: u64,
        args: &[CpuArg],
    ) -> Result<(), KernelFault>;
}
