//! The traits a backend implements: plugins discover devices, devices compile kernels and
//! hold memory, compiled kernels launch.

use crate::cpu_abi::CpuArg;
use crate::definition::KernelDefinition;
use crate::error::Error;
use crate::fault::KernelFault;
use crate::grid::Grid;
use crate::info::{AcceleratorId, AcceleratorInfo, BackendKind};
use crate::launch_tracker::TrackedLaunch;
use crate::pool::PoolStatistics;
use crate::scalar::ScalarValue;
use dotcompute_ir::ScalarType;
use std::any::Any;
use std::sync::Arc;

/// Fault records a device keeps, one per launch in flight: a launch past this many since the
/// last collection waits for one, and a collection waits for every launch taken. With 256,
/// a stream of small launches stalled the device every 256 launches (the queue drained while
/// the host waited (`dotcompute bench --filter launch` shows the cost). The records take
/// 4,096 x 32 bytes of device memory (on wgpu, 4,096 x the device's storage offset
/// alignment when that is larger).
pub const FAULT_SLOTS: u32 = 4096;

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

/// Where a device computes on buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemorySpace {
    /// On the host copy itself (the CPU).
    Host,
    /// On copies in its own memory, made with [`Device::allocate`].
    Device,
}

/// One device of a backend.
pub trait Device: Send + Sync {
    /// What it is and can do.
    fn info(&self) -> &AcceleratorInfo;
    /// Compiles a kernel for this device (the caller caches the result per device).
    fn compile(&self, kernel: &'static KernelDefinition) -> Result<Arc<dyn CompiledKernel>, Error>;
    /// Waits for all work submitted to the device; returns the oldest fault that no earlier
    /// call returned (asynchronous devices keep them in a
    /// [`LaunchTracker`](crate::launch_tracker::LaunchTracker)).
    fn synchronize(&self) -> Result<(), Error>;
    /// Where its kernels find their buffers.
    fn memory_space(&self) -> MemorySpace {
        MemorySpace::Host
    }
    /// A block of device memory for a copy of a buffer of `bytes` bytes.
    fn allocate(&self, bytes: usize) -> Result<Box<dyn DeviceMemory>, Error> {
        let _ = bytes;
        Err(Error::Backend {
            backend: self.info().id.backend.to_string(),
            message: "this device computes on host memory and has none of its own".into(),
            source: None,
        })
    }
    /// Statistics of its memory pool (`None` for devices that compute on host memory, whose
    /// buffers come from the service's host pool).
    fn memory_statistics(&self) -> Option<PoolStatistics> {
        None
    }
    /// For devices whose kernels run on the host's cores: runs `task` inside the thread pool
    /// its kernels use, passing the pool's thread count, and returns `true`. Library routines
    /// that hand work to host code (GEMM and FFT crates, which parallelise with rayon) use
    /// it, so that they run on the threads the accelerator was configured with. Other devices
    /// return `false` without running `task` (the default).
    fn run_in_host_pool(&self, task: &mut (dyn FnMut(usize) + Send)) -> bool {
        let _ = task;
        false
    }
}

/// A copy of a buffer in a device's memory.
pub trait DeviceMemory: Send + Sync {
    /// The accelerator it belongs to.
    fn accelerator(&self) -> AcceleratorId;
    /// Replaces its contents with `src` (ordered after work already submitted).
    fn upload(&self, src: &[u8]) -> Result<(), Error>;
    /// Copies its contents into `dst`, after the work that writes it. Faults are not its
    /// business: the buffer asks its last writer's [`TrackedLaunch`] afterwards.
    fn download(&self, dst: &mut [u8]) -> Result<(), Error>;
    /// The backend's own type, for binding it.
    fn as_any(&self) -> &dyn Any;
}

/// A buffer bound for a launch.
#[derive(Clone, Copy)]
pub enum BufferBinding<'a> {
    /// Host memory, for devices of [`MemorySpace::Host`].
    Host {
        /// First element.
        ptr: *mut u8,
        /// Number of elements.
        len: u64,
        /// Element type.
        elem: ScalarType,
        /// Whether the kernel may write it.
        writable: bool,
    },
    /// The device's own copy, for devices of [`MemorySpace::Device`].
    Device {
        /// The copy.
        memory: &'a dyn DeviceMemory,
        /// Number of elements.
        len: u64,
        /// Element type.
        elem: ScalarType,
        /// Whether the kernel may write it.
        writable: bool,
    },
}

impl std::fmt::Debug for BufferBinding<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BufferBinding::Host {
                len,
                elem,
                writable,
                ..
            } => {
                write!(f, "Host({len} x {elem}, writable: {writable})")
            }
            BufferBinding::Device {
                len,
                elem,
                writable,
                ..
            } => {
                write!(f, "Device({len} x {elem}, writable: {writable})")
            }
        }
    }
}

/// One argument of a launch, as a backend receives it.
#[derive(Clone, Copy, Debug)]
pub enum LaunchArg<'a> {
    /// A scalar.
    Scalar(ScalarValue),
    /// A buffer.
    Buffer(BufferBinding<'a>),
}

impl LaunchArg<'_> {
    /// The argument as the CPU ABI sees it, when it is bound in host memory.
    pub fn as_cpu_arg(&self) -> Option<CpuArg> {
        match *self {
            LaunchArg::Scalar(v) => Some(CpuArg::Scalar(v)),
            LaunchArg::Buffer(BufferBinding::Host {
                ptr,
                len,
                elem,
                writable,
            }) => Some(CpuArg::Buffer {
                ptr,
                len,
                elem,
                writable,
            }),
            LaunchArg::Buffer(BufferBinding::Device { .. }) => None,
        }
    }
}

/// A buffer argument bound to a device copy, as the backend's own memory type.
pub struct DeviceBuffer<'a, M> {
    /// The kernel parameter it is.
    pub param: usize,
    /// The copy.
    pub memory: &'a M,
    /// Number of elements.
    pub len: u64,
    /// Element type.
    pub elem: ScalarType,
}

/// The buffer arguments of a launch on a device of [`MemorySpace::Device`], in order (scalars
/// skipped), each a device copy of the backend's own type `M`.
///
/// # Errors
///
/// [`KernelFault::ArgumentMismatch`] naming the first buffer argument that is a host binding
/// or another backend's memory.
pub fn device_buffers<'a, M: 'static>(
    args: &[LaunchArg<'a>],
) -> Result<smallvec::SmallVec<[DeviceBuffer<'a, M>; 8]>, KernelFault> {
    let mut buffers = smallvec::SmallVec::new();
    for (param, arg) in args.iter().enumerate() {
        let mismatch = KernelFault::ArgumentMismatch {
            param: param as u32,
        };
        match *arg {
            LaunchArg::Scalar(_) => {}
            LaunchArg::Buffer(BufferBinding::Device {
                memory, len, elem, ..
            }) => buffers.push(DeviceBuffer {
                param,
                memory: memory.as_any().downcast_ref::<M>().ok_or(mismatch)?,
                len,
                elem,
            }),
            LaunchArg::Buffer(BufferBinding::Host { .. }) => return Err(mismatch),
        }
    }
    Ok(buffers)
}

/// Why a launch did not complete.
#[derive(Debug)]
pub enum LaunchError {
    /// The kernel faulted (reported at once by synchronous backends).
    Fault(KernelFault),
    /// The device refused or failed the launch.
    Failed(Error),
}

impl From<KernelFault> for LaunchError {
    fn from(f: KernelFault) -> Self {
        LaunchError::Fault(f)
    }
}

/// A kernel compiled for one device.
pub trait CompiledKernel: Send + Sync {
    /// Runs (or, on asynchronous devices, submits) the kernel over `grid`, whose size is
    /// `work_items`.
    ///
    /// Devices of [`MemorySpace::Device`] get `tracked`, the launch as the buffers it writes
    /// will know it: they register it with their
    /// [`LaunchTracker`](crate::launch_tracker::LaunchTracker) before submitting, so that its
    /// outcome is settled by their next collection. Devices of [`MemorySpace::Host`] get
    /// `None` and report a fault by returning it.
    ///
    /// # Safety
    ///
    /// `args` match the kernel's parameters in number and type (the launcher checks), every
    /// `BufferBinding::Host` points to that many valid elements that nothing else accesses
    /// during the call, and for `unchecked` kernels every access the kernel makes is in bounds.
    unsafe fn launch(
        &self,
        grid: &Grid,
        work_items: u64,
        args: &[LaunchArg<'_>],
        tracked: Option<&Arc<TrackedLaunch>>,
    ) -> Result<(), LaunchError>;

    /// Run times measured by the device, for devices that can (GPU timestamp queries).
    fn device_times(&self) -> Option<crate::stats::DeviceTimes> {
        None
    }
}
