//! The CPU backend plugin.

use crate::device::CpuDevice;
use crate::options::CpuOptions;
use dotcompute_core::backend::{BackendPlugin, Device};
use dotcompute_core::{BackendKind, Error};
use std::sync::Arc;

/// Registers the CPU as an accelerator.
#[derive(Clone, Debug, Default)]
pub struct CpuPlugin {
    options: CpuOptions,
}

impl CpuPlugin {
    /// A plugin that starts the CPU device with `options`.
    pub fn new(options: CpuOptions) -> CpuPlugin {
        CpuPlugin { options }
    }
}

impl BackendPlugin for CpuPlugin {
    fn name(&self) -> &str {
        "cpu"
    }

    fn backend(&self) -> BackendKind {
        BackendKind::Cpu
    }

    fn discover(&self) -> Result<Vec<Arc<dyn Device>>, Error> {
        let device = CpuDevice::new(self.options.clone())?;
        Ok(vec![Arc::new(device)])
    }
}
