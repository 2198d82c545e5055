//! The wgpu backend of DotCompute: Vulkan, Metal, DX12 and GL devices.
//!
//! Each adapter is an accelerator. Kernels are compiled from their IR to WGSL
//! (`dotcompute_ir::emit::wgsl`), one compute pipeline per kernel and device, cached by the
//! kernel manager. Buffers get device copies from a per-device pool, uploaded when a launch
//! reads a stale copy and downloaded when the host reads a buffer a kernel wrote. Launches are
//! asynchronous, each with a fault record of its own: a fault (out-of-bounds access, division
//! by zero, `panic!`) belongs to the launch that caused it and is reported by reads of what it
//! wrote and once by `Accelerator::synchronize` (the rules: `dotcompute_core::launch_tracker`),
//! naming the kernel, the parameter and the index.
//!
//! Kernels use 64-bit ids and indices. On an adapter with 64-bit integers in shaders
//! (`SHADER_INT64`: Vulkan, DX12 with DXC, Metal) they are native; on one without (GL) they
//! are pairs of 32-bit words, with no `f64`, no 64-bit atomics and fewer than 2^32 work items
//! per launch ([`WgpuPlugin::emulating_int64`] asks for pairs on every adapter). `f64` needs
//! `SHADER_F64`, 64-bit atomics `SHADER_INT64_ATOMIC_ALL_OPS`. A kernel that needs what an
//! adapter lacks is refused with an error naming the kernel, the need and the adapter.

mod device;
mod error;
mod kernel;
mod memory;
mod plugin;
mod pool;
mod rounding_probe;
mod spirv;
mod timing;

pub use device::WgpuDevice;
pub use error::WgpuError;
pub use plugin::WgpuPlugin;
