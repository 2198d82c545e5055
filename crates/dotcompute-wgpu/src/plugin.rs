//! The wgpu backend plugin: one accelerator per adapter.

use crate::device::WgpuDevice;
use crate::error::WgpuError;
use dotcompute_core::backend::{BackendPlugin, Device};
use dotcompute_core::{BackendKind, Error};
use std::sync::Arc;

/// Finds the wgpu adapters of this machine (Vulkan, Metal, DX12, GL).
///
/// `DOTCOMPUTE_WGPU_BACKENDS=vulkan,gl` restricts the search (names: `vulkan`, `metal`,
/// `dx12`, `gl`); a name outside that list makes discovery fail with an error saying so.
///
/// Each device is probed at creation: where its float division or square root is not
/// correctly rounded (Vulkan lets a driver's `/` be 2.5 ulp off and its `sqrt` about 2, and the
/// math library gives the CPU's bits only where both are exact), every float division (`/`,
/// `recip`) and `sqrt` of its kernels is written as a correctly rounded helper (the probe
/// checks `f32`, and `f64` where the device has it); the verdict is in the device's
/// `versions` ("division and sqrt").
/// `DOTCOMPUTE_WGPU_CORRECT_ROUNDING=1` (or `=0`) forces the helpers (or the driver's
/// operations). Zero, subnormal, infinite and NaN operands, and quotients outside the normal
/// range, keep the driver's operations.
///
/// Adapters without 64-bit integers in shaders (GL) run kernels with pairs of 32-bit words
/// for them ([`Capabilities::int64_emulated`](dotcompute_core::Capabilities)): no `f64`, no
/// 64-bit atomics, fewer than 2^32 work items per launch. [`WgpuPlugin::emulating_int64`] or
/// `DOTCOMPUTE_WGPU_EMULATE_INT64=1` ask for pairs on every adapter (to try that path on any
/// machine). The conformance suite passes with pairs on lavapipe and on llvmpipe's GL.
#[derive(Clone, Debug)]
pub struct WgpuPlugin {
    backends: Result<wgpu::Backends, String>,
    emulate_int64: bool,
}

impl Default for WgpuPlugin {
    fn default() -> Self {
        let backends = match std::env::var("DOTCOMPUTE_WGPU_BACKENDS") {
            Ok(list) => parse_backends(&list),
            Err(_) => Ok(wgpu::Backends::VULKAN
                | wgpu::Backends::METAL
                | wgpu::Backends::DX12
                | wgpu::Backends::GL),
        };
        WgpuPlugin {
            backends,
            emulate_int64: std::env::var("DOTCOMPUTE_WGPU_EMULATE_INT64").as_deref() == Ok("1"),
        }
    }
}

fn parse_backends(list: &str) -> Result<wgpu::Backends, String> {
    let mut backends = wgpu::Backends::empty();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        backends |= match name.to_ascii_lowercase().as_str() {
            "vulkan" => wgpu::Backends::VULKAN,
            "metal" => wgpu::Backends::METAL,
            "dx12" => wgpu::Backends::DX12,
            "gl" | "gles" => wgpu::Backends::GL,
            _ => {
                return Err(format!(
                    "DOTCOMPUTE_WGPU_BACKENDS names `{name}`, which is not one of vulkan, metal, dx12, gl"
                ));
            }
        };
    }
    Ok(backends)
}

impl WgpuPlugin {
    /// A plugin searching only `backends`.
    pub fn with_backends(backends: wgpu::Backends) -> WgpuPlugin {
        WgpuPlugin {
            backends: Ok(backends),
            ..WgpuPlugin::default()
        }
    }

    /// The same plugin, with 64-bit integers as pairs of 32-bit words in every adapter's
    /// kernels, also where the adapter has them: to try kernels as adapters without them
    /// (GL) run them, on any machine.
    ///
    /// ```no_run
    /// use dotcompute::ComputeService;
    /// use dotcompute_wgpu::WgpuPlugin;
    ///
    /// let dc = ComputeService::builder()
    ///     .without_wgpu()
    ///     .plugin(Box::new(WgpuPlugin::default().emulating_int64()))
    ///     .build()?;
    /// # Ok::<(), dotcompute::Error>(())
    /// ```
    pub fn emulating_int64(self) -> WgpuPlugin {
        WgpuPlugin {
            emulate_int64: true,
            ..self
        }
    }
}

impl BackendPlugin for WgpuPlugin {
    fn name(&self) -> &str {
        "wgpu"
    }

    fn backend(&self) -> BackendKind {
        BackendKind::Wgpu
    }

    fn discover(&self) -> Result<Vec<Arc<dyn Device>>, Error> {
        let backends = self.backends.clone().map_err(|message| Error::Backend {
            backend: "wgpu".into(),
            message,
            source: None,
        })?;
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let mut adapters = pollster::block_on(instance.enumerate_adapters(backends));
        // Adapters with native 64-bit integers first, hardware before software, so
        // `accelerator(BackendKind::Wgpu)` is the most useful one.
        adapters.sort_by_key(|a| {
            let software = matches!(
                a.get_info().device_type,
                wgpu::DeviceType::Cpu | wgpu::DeviceType::VirtualGpu
            );
            (
                !a.features().contains(wgpu::Features::SHADER_INT64),
                software,
            )
        });
        if adapters.is_empty() {
            return Err(WgpuError::NoAdapter {
                backends: format!("{backends:?}"),
            }
            .into());
        }
        let mut devices: Vec<Arc<dyn Device>> = Vec::new();
        let mut failures = Vec::new();
        for adapter in &adapters {
            match WgpuDevice::open(adapter, devices.len() as u32, self.emulate_int64) {
                Ok(d) => devices.push(Arc::new(d)),
                Err(e) => {
                    tracing::warn!("{e}");
                    failures.push(e.to_string());
                }
            }
        }
        if devices.is_empty() {
            return Err(Error::Backend {
                backend: "wgpu".into(),
                message: failures.join("; "),
                source: None,
            });
        }
        Ok(devices)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_backends;

    #[test]
    fn backend_lists_parse_and_typos_are_errors() {
        assert_eq!(
            parse_backends("vulkan, GL"),
            Ok(wgpu::Backends::VULKAN | wgpu::Backends::GL)
        );
        assert_eq!(parse_backends(""), Ok(wgpu::Backends::empty()));
        let err = parse_backends("vulkan,vulcan").unwrap_err();
        assert!(err.contains("`vulcan`"), "{err}");
    }
}
