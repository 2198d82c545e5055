//! The OpenCL backend plugin: one accelerator per device of every OpenCL platform.

use crate::device::OpenClDevice;
use crate::discovery::devices;
use dotcompute_core::backend::{BackendPlugin, Device};
use dotcompute_core::{BackendKind, Error};
use std::sync::Arc;

/// Finds the devices of every OpenCL platform through the ICD loader (`libOpenCL.so.1`,
/// loaded at run time). Without an OpenCL library, or with no platform, the backend is
/// absent, with the reason in `ComputeService::backend_reports` and one line in the logs.
///
/// Devices without IEEE `f32` (subnormals, correctly rounded division and square root) are
/// listed but refuse every kernel, saying so.
///
/// `DOTCOMPUTE_PROFILE=1` times every launch with profiling events (reported in
/// `KernelStatistics::device`); off by default.
#[derive(Clone, Debug)]
pub struct OpenClPlugin {
    timing: bool,
}

impl Default for OpenClPlugin {
    fn default() -> Self {
        OpenClPlugin {
            timing: std::env::var("DOTCOMPUTE_PROFILE").as_deref() == Ok("1"),
        }
    }
}

impl OpenClPlugin {
    /// A plugin that times every launch with profiling events (or not).
    pub fn with_timing(timing: bool) -> OpenClPlugin {
        OpenClPlugin { timing }
    }
}

impl BackendPlugin for OpenClPlugin {
    fn name(&self) -> &str {
        "opencl"
    }

    fn backend(&self) -> BackendKind {
        BackendKind::OpenCl
    }

    fn discover(&self) -> Result<Vec<Arc<dyn Device>>, Error> {
        let found = devices()?;
        let mut opened: Vec<Arc<dyn Device>> = Vec::new();
        let mut failures = Vec::new();
        for (index, device) in found.iter().enumerate() {
            match OpenClDevice::open(index as u32, device, self.timing) {
                Ok(d) => opened.push(Arc::new(d)),
                Err(e) => {
                    tracing::warn!("{e}");
                    failures.push(e.to_string());
                }
            }
        }
        if opened.is_empty() && !failures.is_empty() {
            return Err(Error::Backend {
                backend: "opencl".into(),
                message: failures.join("; "),
                source: None,
            });
        }
        Ok(opened)
    }
}
