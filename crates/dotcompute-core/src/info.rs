//! What an accelerator is and can do.

use std::fmt;

/// Which backend drives an accelerator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum BackendKind {
    /// The CPU backend (always present when the `cpu` feature is on).
    Cpu,
    /// NVIDIA GPUs through CUDA.
    Cuda,
    /// Vulkan / Metal / DX12 devices through wgpu.
    Wgpu,
    /// Devices of OpenCL platforms (GPUs, CPUs through PoCL, ...).
    OpenCl,
    /// A backend from a third-party plugin.
    Plugin(&'static str),
}

impl BackendKind {
    /// A short lowercase name (`cpu`, `cuda`, `wgpu`, `opencl`, or the plugin's).
    pub fn name(&self) -> &'static str {
        match self {
            BackendKind::Cpu => "cpu",
            BackendKind::Cuda => "cuda",
            BackendKind::Wgpu => "wgpu",
            BackendKind::OpenCl => "opencl",
            BackendKind::Plugin(name) => name,
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The kind of device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AcceleratorKind {
    /// A CPU.
    Cpu,
    /// A discrete GPU.
    DiscreteGpu,
    /// A GPU sharing memory with the CPU.
    IntegratedGpu,
    /// A software implementation of a GPU API (e.g. lavapipe).
    VirtualGpu,
    /// Something else.
    Other,
}

impl fmt::Display for AcceleratorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AcceleratorKind::Cpu => "CPU",
            AcceleratorKind::DiscreteGpu => "discrete GPU",
            AcceleratorKind::IntegratedGpu => "integrated GPU",
            AcceleratorKind::VirtualGpu => "virtual GPU",
            AcceleratorKind::Other => "other",
        })
    }
}

/// Identifies an accelerator within a service: its backend and its index there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AcceleratorId {
    /// The backend.
    pub backend: BackendKind,
    /// Index among that backend's accelerators.
    pub index: u32,
}

impl fmt::Display for AcceleratorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.backend, self.index)
    }
}

/// What kernels may use on an accelerator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// `f64` arithmetic.
    pub f64: bool,
    /// 64-bit integers.
    pub int64: bool,
    /// 64-bit integers (and ids) are pairs of 32-bit words in kernels, as a device without
    /// them needs (wgpu's `WgpuPlugin::emulating_int64`): slower 64-bit arithmetic, fewer
    /// than 2^32 work items per launch, and no `f64` or 64-bit atomics.
    pub int64_emulated: bool,
    /// 32-bit atomics on buffer elements.
    pub atomics: bool,
    /// 64-bit atomics.
    pub atomics64: bool,
    /// Atomic add on float elements.
    pub float_atomics: bool,
    /// Its own `f64` transcendental functions (`exp`, `sin`, ...), for `fast_math` kernels:
    /// SPIR-V has none, so Vulkan devices lack them. (Other kernels use the math library.)
    pub f64_device_math: bool,
    /// Bytes of group-shared memory per group (0 when there is none).
    pub shared_memory_bytes: u64,
    /// Runs cooperative kernels (`barrier()`, shared arrays): the launch's groups run as the
    /// device's work-groups.
    pub cooperative: bool,
    /// Most work items in one group.
    pub max_group_size: u32,
    /// Items per subgroup (the largest size the device may pick; a power of two), or 0 when
    /// the device has no subgroup operations. A kernel that uses them is launched in groups
    /// of a multiple of this size.
    pub subgroup_size: u32,
    /// Largest buffer in bytes.
    pub max_buffer_bytes: u64,
    /// SIMD instruction set kernels run with (CPU), e.g. `avx2`.
    pub simd: Option<String>,
    /// The device measures kernel run times itself (GPU timestamps), reported in
    /// `KernelStatistics::device`.
    pub device_timing: bool,
}

/// A description of an accelerator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceleratorInfo {
    /// Which one it is.
    pub id: AcceleratorId,
    /// The device's name, e.g. `AMD EPYC 7B13` or `NVIDIA H100 80GB HBM3`.
    pub name: String,
    /// CPU, GPU, ...
    pub kind: AcceleratorKind,
    /// Vendor name.
    pub vendor: String,
    /// Memory in bytes (system memory for the CPU).
    pub memory_bytes: u64,
    /// Cores, SMs or compute units.
    pub compute_units: u32,
    /// Driver, runtime or compiler versions, e.g. `rustc 1.95.0`.
    pub versions: Vec<(String, String)>,
    /// What kernels may use.
    pub capabilities: Capabilities,
}

impl fmt::Display for AcceleratorInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, {})", self.name, self.id, self.kind)
    }
}
