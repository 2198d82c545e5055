//! The CUDA backend plugin: one accelerator per NVIDIA GPU.

use crate::device::CudaDevice;
use crate::error::CudaError;
use crate::libraries;
use dotcompute_core::backend::{BackendPlugin, Device};
use dotcompute_core::{BackendKind, Error};
use std::sync::Arc;

/// Finds the NVIDIA GPUs of this machine through the driver (`libcuda.so.1`, loaded at run
/// time). Without a driver the backend is simply unavailable, with the reason in
/// `ComputeService::backend_reports` and one line in the logs.
///
/// `DOTCOMPUTE_PROFILE=1` times every launch with CUDA events (reported in
/// `KernelStatistics::device`); off by default, as events add to each launch.
#[derive(Clone, Debug)]
pub struct CudaPlugin {
    timing: bool,
}

impl Default for CudaPlugin {
    fn default() -> Self {
        CudaPlugin {
            timing: std::env::var("DOTCOMPUTE_PROFILE").as_deref() == Ok("1"),
        }
    }
}

impl CudaPlugin {
    /// A plugin that times every launch with events (or not).
    pub fn with_timing(timing: bool) -> CudaPlugin {
        CudaPlugin { timing }
    }
}

impl BackendPlugin for CudaPlugin {
    fn name(&self) -> &str {
        "cuda"
    }

    fn backend(&self) -> BackendKind {
        BackendKind::Cuda
    }

    fn discover(&self) -> Result<Vec<Arc<dyn Device>>, Error> {
        if let Err(searched) = libraries::driver() {
            return Err(CudaError::LibraryNotFound {
                library: "the NVIDIA driver (libcuda.so.1)",
                searched: searched.clone(),
            }
            .into());
        }
        let driver_failed = |what: &str, e: cudarc::driver::DriverError| -> Error {
            CudaError::Driver {
                what: what.to_string(),
                device: "the CUDA driver".into(),
                reason: format!("{e:?}"),
            }
            .into()
        };
        cudarc::driver::result::init().map_err(|e| driver_failed("initialising", e))?;
        let count = cudarc::driver::result::device::get_count()
            .map_err(|e| driver_failed("counting devices", e))?;
        let mut devices: Vec<Arc<dyn Device>> = Vec::new();
        let mut failures = Vec::new();
        for ordinal in 0..count.max(0) as usize {
            match CudaDevice::open(ordinal, self.timing) {
                Ok(d) => devices.push(Arc::new(d)),
                Err(e) => {
                    tracing::warn!("{e}");
                    failures.push(e.to_string());
                }
            }
        }
        if devices.is_empty() && !failures.is_empty() {
            return Err(Error::Backend {
                backend: "cuda".into(),
                message: failures.join("; "),
                source: None,
            });
        }
        Ok(devices)
    }
}
