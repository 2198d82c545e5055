//! Finding the OpenCL devices of every platform, once per process.

use crate::error::OpenClError;
use opencl3::device::{
    CL_DEVICE_TYPE_ALL, CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT, CL_FP_DENORM, Device,
};
use std::sync::OnceLock;

/// An OpenCL device, as its platform describes it.
#[derive(Clone, Debug)]
pub struct OpenClDeviceInfo {
    /// The platform's name (e.g. `Portable Computing Language`).
    pub platform: String,
    /// The device's name.
    pub name: String,
    /// Its OpenCL version (`OpenCL 3.0 PoCL ...`).
    pub version: String,
    /// Its driver's version.
    pub driver: String,
    /// Its extensions, separated by spaces.
    pub extensions: String,
    /// Bytes of local (work-group shared) memory.
    pub local_memory_bytes: u64,
    /// Its `f32` operations follow IEEE 754 as Rust's do: subnormals kept, and division and
    /// square root correctly rounded when asked for (`CL_DEVICE_SINGLE_FP_CONFIG`).
    pub ieee_f32: bool,
    pub(crate) device: Device,
}

impl OpenClDeviceInfo {
    /// The OpenCL device itself, for programs that also call OpenCL directly (such as the
    /// launch benchmark's peer, a minimal host program).
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Whether it has `f64` (`cl_khr_fp64`).
    pub fn fp64(&self) -> bool {
        self.has_extension("cl_khr_fp64")
    }

    /// Whether it has every 64-bit atomic (`cl_khr_int64_base_atomics` and
    /// `cl_khr_int64_extended_atomics`).
    pub fn atomics64(&self) -> bool {
        self.has_extension("cl_khr_int64_base_atomics")
            && self.has_extension("cl_khr_int64_extended_atomics")
    }

    /// Whether the device has extension `name` (e.g. `cl_khr_fp64`).
    pub fn has_extension(&self, name: &str) -> bool {
        self.extensions.split_whitespace().any(|e| e == name)
    }
}

impl std::fmt::Display for OpenClDeviceInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name, self.platform)
    }
}

/// Every device of every OpenCL platform, found once per process: first calls into the ICD
/// loader from two threads at once can see no devices, or crash, with PoCL 3.1 (measured
/// 2026-12-01), so discovery runs once behind a lock and later calls get its result.
///
/// # Errors
///
/// [`OpenClError::Unavailable`] when no OpenCL library can be loaded or it has no platform;
/// [`OpenClError::Api`] when a platform cannot list its devices.
pub fn devices() -> Result<Vec<OpenClDeviceInfo>, OpenClError> {
    static FOUND: OnceLock<Result<Vec<OpenClDeviceInfo>, OpenClError>> = OnceLock::new();
    FOUND.get_or_init(discover).clone()
}

fn discover() -> Result<Vec<OpenClDeviceInfo>, OpenClError> {
    let platforms = opencl3::platform::get_platforms().map_err(|e| OpenClError::Unavailable {
        reason: format!("no OpenCL library or platform ({e})"),
    })?;
    if platforms.is_empty() {
        return Err(OpenClError::Unavailable {
            reason: "the OpenCL library lists no platform".into(),
        });
    }
    let mut found = Vec::new();
    let mut failed = None;
    for platform in platforms {
        let platform_name = platform
            .name()
            .unwrap_or_else(|_| "unnamed platform".into());
        let ids = match platform.get_devices(CL_DEVICE_TYPE_ALL) {
            Ok(ids) => ids,
            // A platform without devices reports an error rather than an empty list.
            Err(e) if e.0 == opencl3::error_codes::CL_DEVICE_NOT_FOUND => Vec::new(),
            // A broken platform does not hide the others' devices.
            Err(e) => {
                failed.get_or_insert(OpenClError::Api {
                    what: "listing devices".into(),
                    device: platform_name,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        for id in ids {
            let device = Device::new(id);
            found.push(OpenClDeviceInfo {
                platform: platform_name.clone(),
                name: device.name().unwrap_or_else(|_| "unnamed device".into()),
                version: device.version().unwrap_or_default(),
                driver: device.driver_version().unwrap_or_default(),
                extensions: device.extensions().unwrap_or_default(),
                local_memory_bytes: device.local_mem_size().unwrap_or(0),
                ieee_f32: device.single_fp_config().is_ok_and(|config| {
                    let needed = CL_FP_DENORM | CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT;
                    config & needed == needed
                }),
                device,
            });
        }
    }
    match failed {
        Some(error) if found.is_empty() => Err(error),
        _ => Ok(found),
    }
}
