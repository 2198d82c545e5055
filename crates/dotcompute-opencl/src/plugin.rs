//! The OpenCL backend plugin: one accelerator per device of every OpenCL platform.

use crate::device::OpenClDevice;
use crate::discovery::{OpenClDeviceInfo, devices};
use dotcompute_core::backend::{BackendPlugin, Device};
use dotcompute_core::{BackendKind, Error};
use std::sync::Arc;

/// Finds the devices of every OpenCL platform through the ICD loader (`libOpenCL.so.1`,
/// loaded at run time). Without an OpenCL library, or with no platform, the backend is
/// absent, with the reason in `ComputeService::backend_reports` and one line in the logs.
///
/// Devices that cannot run kernels with Rust's meaning are left out, each with a warning
/// saying why (and the reasons in the report when none is left): OpenCL before 1.2, and
/// `f32` without IEEE semantics (subnormals, correctly rounded division and square root).
/// Accelerator indices are the devices' positions in [`devices`](crate::devices).
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
            if let Some(why) = unusable(device) {
                let reason = format!("{device}: not used: {why}");
                tracing::warn!("{reason}");
                failures.push(reason);
                continue;
            }
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

/// Why `device` cannot be an accelerator, if it cannot.
fn unusable(device: &OpenClDeviceInfo) -> Option<String> {
    // "OpenCL <major>.<minor> <platform-specific>"
    let version = device
        .version
        .strip_prefix("OpenCL ")
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.split_once('.'))
        .and_then(|(major, minor)| Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?)));
    match version {
        Some(v) if v >= (1, 2) => {}
        _ => {
            return Some(format!(
                "OpenCL 1.2 or later is needed ({})",
                device.version
            ));
        }
    }
    (!device.ieee_f32).then(|| {
        "its f32 is not IEEE (subnormals, correctly rounded division and square root)".to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_devices_are_not_used() {
        let Ok(Some(device)) = devices().map(|d| d.into_iter().next()) else {
            return;
        };
        let with = |version: &str| OpenClDeviceInfo {
            version: version.into(),
            ieee_f32: true,
            ..device.clone()
        };
        assert_eq!(unusable(&with("OpenCL 1.2 vendor")), None);
        assert_eq!(unusable(&with("OpenCL 3.0")), None);
        assert!(unusable(&with("OpenCL 1.1 vendor")).is_some());
        assert!(unusable(&with("garbage")).is_some());
        let inexact = OpenClDeviceInfo {
            ieee_f32: false,
            ..with("OpenCL 3.0")
        };
        assert!(unusable(&inexact).is_some_and(|w| w.contains("IEEE")));
    }
}
