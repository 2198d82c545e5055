//! The wgpu backend plugin: one accelerator per adapter.

use crate::device::WgpuDevice;
use crate::error::WgpuError;
use dotcompute_core::backend::{BackendPlugin, Device};
use dotcompute_core::{BackendKind, Error};
use std::sync::Arc;

/// Finds the wgpu adapters of this machine (Vulkan, Metal, DX12, GL).
///
/// `DOTCOMPUTE_WGPU_BACKENDS=vulkan,gl` restricts the search (names: `vulkan`, `metal`,
/// `dx12`, `gl`).
#[derive(Clone, Debug)]
pub struct WgpuPlugin {
    backends: wgpu::Backends,
}

impl Default for WgpuPlugin {
    fn default() -> Self {
        let backends = std::env::var("DOTCOMPUTE_WGPU_BACKENDS")
            .ok()
            .map(|list| parse_backends(&list))
            .unwrap_or(
                wgpu::Backends::VULKAN
                    | wgpu::Backends::METAL
                    | wgpu::Backends::DX12
                    | wgpu::Backends::GL,
            );
        WgpuPlugin { backends }
    }
}

fn parse_backends(list: &str) -> wgpu::Backends {
    list.split(',')
        .map(|s| match s.trim().to_ascii_lowercase().as_str() {
            "vulkan" => wgpu::Backends::VULKAN,
            "metal" => wgpu::Backends::METAL,
            "dx12" => wgpu::Backends::DX12,
            "gl" | "gles" => wgpu::Backends::GL,
            _ => wgpu::Backends::empty(),
        })
        .fold(wgpu::Backends::empty(), |a, b| a | b)
}

impl WgpuPlugin {
    /// A plugin searching only `backends`.
    pub fn with_backends(backends: wgpu::Backends) -> WgpuPlugin {
        WgpuPlugin { backends }
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
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: self.backends,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let mut adapters = pollster::block_on(instance.enumerate_adapters(self.backends));
        // Adapters that can run kernels (64-bit integers) first, hardware before software, so
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
                backends: format!("{:?}", self.backends),
            }
            .into());
        }
        let mut devices: Vec<Arc<dyn Device>> = Vec::new();
        let mut failures = Vec::new();
        for adapter in &adapters {
            match WgpuDevice::open(adapter, devices.len() as u32) {
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
