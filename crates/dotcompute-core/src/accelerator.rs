//! Accelerators: a device of some backend, bound to the service that made it.

use crate::args::KernelArg;
use crate::backend::{BufferBinding, Device, DeviceMemory, LaunchArg, LaunchError, MemorySpace};
use crate::buffer::{BufferState, RawBuffer, ServiceId, UnifiedBuffer};
use crate::definition::KernelDefinition;
use crate::error::Error;
use crate::grid::Grid;
use crate::info::{AcceleratorId, AcceleratorInfo};
use crate::kernel_manager::KernelManager;
use crate::launch_tracker::{FaultReport, Outcome, TrackedLaunch};
use crate::pool::{MemoryPool, PoolConfig};
use dotcompute_ir::{Access, BoundsChecks, ParamKind};
use parking_lot::RwLockReadGuard;
use smallvec::SmallVec;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// What a service's accelerators and buffers share: its identity, its host memory pool and
/// its kernel manager.
#[derive(Debug)]
pub struct ServiceContext {
    id: ServiceId,
    host_pool: MemoryPool,
    kernels: KernelManager,
}

impl ServiceContext {
    /// A new context with a fresh id.
    pub fn new(host_pool: PoolConfig) -> Arc<ServiceContext> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Arc::new(ServiceContext {
            id: ServiceId(NEXT.fetch_add(1, Ordering::Relaxed)),
            host_pool: MemoryPool::new(host_pool),
            kernels: KernelManager::default(),
        })
    }

    /// The service's id.
    pub fn id(&self) -> ServiceId {
        self.id
    }

    /// The host memory pool buffers come from.
    pub fn host_pool(&self) -> &MemoryPool {
        &self.host_pool
    }

    /// The kernel manager.
    pub fn kernels(&self) -> &KernelManager {
        &self.kernels
    }

    /// A buffer holding a copy of `data`.
    pub fn buffer_from_slice<T: bytemuck::Pod>(
        &self,
        data: &[T],
    ) -> Result<UnifiedBuffer<T>, Error> {
        UnifiedBuffer::from_slice(&self.host_pool, self.id, data)
    }

    /// A buffer of `len` zeroed elements.
    pub fn buffer_zeroed<T: bytemuck::Pod>(&self, len: usize) -> Result<UnifiedBuffer<T>, Error> {
        UnifiedBuffer::zeroed(&self.host_pool, self.id, len)
    }
}

/// A device that runs kernels: the CPU, a GPU, ... Cheap to clone; `Send + Sync`, and
/// launching from many threads at once is safe.
#[derive(Clone)]
pub struct Accelerator {
    device: Arc<dyn Device>,
    context: Arc<ServiceContext>,
}

impl std::fmt::Debug for Accelerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accelerator")
            .field("info", self.info())
            .field("service", &self.context.id)
            .finish()
    }
}

impl Accelerator {
    /// Binds a device to a service.
    pub fn new(device: Arc<dyn Device>, context: Arc<ServiceContext>) -> Accelerator {
        Accelerator { device, context }
    }

    /// What it is and can do.
    pub fn info(&self) -> &AcceleratorInfo {
        self.device.info()
    }

    /// A buffer of `len` zeroed elements from the service this accelerator belongs to (as
    /// `ComputeService::buffer_zeroed`), for code that holds only the accelerator.
    pub fn buffer_zeroed<T: bytemuck::Pod>(&self, len: usize) -> Result<UnifiedBuffer<T>, Error> {
        self.context.buffer_zeroed(len)
    }

    /// Its id, e.g. `cpu:0`.
    pub fn id(&self) -> AcceleratorId {
        self.device.info().id
    }

    /// The service it belongs to.
    pub fn context(&self) -> &Arc<ServiceContext> {
        &self.context
    }

    /// Statistics of the accelerator's own memory pool, where device copies of buffers live
    /// (`None` for the CPU, whose kernels use the host copies: see
    /// `ComputeService::host_pool`).
    pub fn memory_statistics(&self) -> Option<crate::pool::PoolStatistics> {
        self.device.memory_statistics()
    }

    /// Runs `task` inside the thread pool of an accelerator whose kernels run on the host's
    /// cores (the CPU), passing the pool's thread count; `false` (without running it) for
    /// others. Rayon-parallel code in `task` then runs on the accelerator's threads: this is
    /// how the algorithms library hands GEMM to a host crate on the CPU.
    pub fn run_in_host_pool(&self, task: &mut (dyn FnMut(usize) + Send)) -> bool {
        self.device.run_in_host_pool(task)
    }

    /// Waits for every launch on this accelerator to finish, and returns the oldest fault
    /// that no earlier `synchronize()` returned.
    ///
    /// Launches on GPUs are asynchronous: a fault of a kernel (an out-of-bounds index, a
    /// division by zero, a `panic!`) belongs to the launch that caused it. It is reported
    ///
    /// - by every host read of a buffer that the faulting launch wrote (its contents are
    ///   undefined), until the buffer is written again: by `copy_from_slice`, or by a launch
    ///   whose kernel only stores into it;
    /// - by a later launch that reads such a buffer (as `&[T]`, or as a `&mut [T]` its kernel
    ///   reads): it fails at once when the fault is known (always on the CPU, and on a GPU
    ///   once the faulting launch has been waited for or ran on another device); otherwise,
    ///   queued behind the faulting launch on the same GPU, it inherits the fault as its own
    ///   outcome, reported by reads of what it wrote;
    /// - by `synchronize()` on this accelerator, once: each call returns the oldest fault not
    ///   returned yet, so call it again to see the next.
    ///
    /// A read of a buffer that no faulting launch wrote never reports a fault, whatever other
    /// threads launch meanwhile. On the CPU a launch reports its own fault when it returns.
    ///
    /// The `dotcompute` crate's documentation ("Faults and threads") has an example with two
    /// threads.
    pub fn synchronize(&self) -> Result<(), Error> {
        self.device.synchronize()
    }

    /// Whether this accelerator can run `def`: [`Error::Unsupported`] naming what it lacks
    /// (f64, 64-bit integers, subgroups, ...) otherwise, as a launch would report it.
    pub fn supports(&self, def: &KernelDefinition) -> Result<(), Error> {
        let info = self.info();
        crate::kernel_manager::check_requirements(
            def,
            &def.ir()?.requirements(),
            &info.capabilities,
            &info.name,
        )
    }

    /// Launches a kernel with arguments checked against its signature at run time.
    ///
    /// Typed launches (`kernel::launch`) call this; so do launches by name.
    pub fn launch(
        &self,
        def: &'static KernelDefinition,
        grid: Grid,
        args: &mut [KernelArg<'_>],
    ) -> Result<(), Error> {
        if def.bounds_checks() == BoundsChecks::Unchecked {
            return Err(Error::UncheckedKernel {
                kernel: def.name().to_string(),
            });
        }
        self.launch_inner(def, grid, args)
    }

    /// Launches a kernel whose accesses are not bounds checked.
    ///
    /// # Safety
    ///
    /// Every buffer access the kernel makes for this grid and these arguments is in bounds.
    pub unsafe fn launch_unchecked(
        &self,
        def: &'static KernelDefinition,
        grid: Grid,
        args: &mut [KernelArg<'_>],
    ) -> Result<(), Error> {
        self.launch_inner(def, grid, args)
    }

    fn launch_inner(
        &self,
        def: &'static KernelDefinition,
        grid: Grid,
        args: &mut [KernelArg<'_>],
    ) -> Result<(), Error> {
        let _span = tracing::trace_span!("launch", kernel = def.name(), grid = %grid).entered();
        let work_items = grid.work_items()?;
        self.check_args(def, args)?;
        let entry = self.context.kernels.compiled(def, self.device.as_ref())?;
        if entry.cooperative {
            let items: u64 = grid.group_size_or_default().iter().product();
            let max = self.info().capabilities.max_group_size;
            if items > u64::from(max) {
                return Err(Error::InvalidGrid {
                    grid: grid.to_string(),
                    reason: format!(
                        "groups of {items} work items; `{}` cooperates within groups, and {} runs at most {max} per group",
                        def.name(),
                        self.info().name
                    ),
                });
            }
            let subgroup = u64::from(self.info().capabilities.subgroup_size);
            if entry.subgroups && subgroup > 0 && !items.is_multiple_of(subgroup) {
                return Err(Error::InvalidGrid {
                    grid: grid.to_string(),
                    reason: format!(
                        "groups of {items} work items; `{}` uses subgroup operations, and {}'s subgroups hold {subgroup} items: use a multiple of {subgroup}",
                        def.name(),
                        self.info().name
                    ),
                });
            }
        }

        let space = self.device.memory_space();
        let max_bytes = self.info().capabilities.max_buffer_bytes;
        // A device binds buffers up to a size: refuse before copying anything there.
        if space == MemorySpace::Device {
            for (arg, param) in args.iter().zip(def.params()) {
                let len = match arg {
                    KernelArg::Buffer(b) => b.len(),
                    KernelArg::BufferMut(b) => b.len(),
                    KernelArg::Scalar(_) => continue,
                };
                let elem = match param.kind {
                    ParamKind::Scalar(t) | ParamKind::Buffer { elem: t, .. } => t,
                };
                let bytes = (len as u64).saturating_mul(elem.size_bytes() as u64);
                if bytes > max_bytes {
                    return Err(Error::Unsupported {
                        kernel: def.name().to_string(),
                        need: format!(
                            "a buffer of {bytes} bytes for `{}` (it binds at most {max_bytes})",
                            param.name
                        ),
                        accelerator: self.info().to_string(),
                    });
                }
            }
        }
        let mut prepared: SmallVec<[Prepared<'_>; 8]> = SmallVec::new();
        // Unsettled launches on this device whose results this launch reads.
        let mut inputs: SmallVec<[Arc<TrackedLaunch>; 2]> = SmallVec::new();
        for (i, (arg, param)) in args.iter_mut().zip(def.params()).enumerate() {
            // check_args matched every buffer argument to a buffer parameter of its type.
            let elem = match param.kind {
                ParamKind::Scalar(t) | ParamKind::Buffer { elem: t, .. } => t,
            };
            // A buffer whose last writer faulted holds undefined data: a launch that reads it
            // (`&[T]`, or a `&mut [T]` the kernel reads) fails, or inherits the fault when the
            // writer is still running here; a kernel that only stores into it writes it anew.
            let reads = match arg {
                KernelArg::Scalar(_) => false,
                KernelArg::Buffer(_) => true,
                KernelArg::BufferMut(_) => entry.reads.get(i).copied().unwrap_or(true),
            };
            if reads {
                let writer = match arg {
                    KernelArg::Buffer(b) => b.read_state().last_writer().cloned(),
                    KernelArg::BufferMut(b) => b.state_mut().last_writer().cloned(),
                    KernelArg::Scalar(_) => None,
                };
                if let Some(w) = self.unsettled_input(def, param.name, writer)? {
                    inputs.push(w);
                }
            }
            prepared.push(match (arg, space) {
                (KernelArg::Scalar(v), _) => Prepared::Scalar(*v),
                (KernelArg::Buffer(b), MemorySpace::Host) => {
                    let b: &RawBuffer = b;
                    // A buffer passed twice is locked once.
                    match prepared.iter().position(|p| p.reads_host(b)) {
                        Some(first) => Prepared::HostAlias(first, elem),
                        None => Prepared::HostRead(b, b.read_state_host_current()?, elem),
                    }
                }
                (KernelArg::BufferMut(b), MemorySpace::Host) => {
                    let len = b.len() as u64;
                    let ptr = b.state_mut().host_for_write()?.as_mut_ptr();
                    Prepared::HostWrite(ptr, len, elem)
                }
                (KernelArg::Buffer(b), MemorySpace::Device) => {
                    // A shared borrow of the state first: the host may hold a read guard on
                    // this buffer in this very thread.
                    let shared = b.read_state().device_copy_for_read(self.device.as_ref())?;
                    let memory = match shared {
                        Some(memory) => memory,
                        None => b.write_state().device_copy(self.device.as_ref(), false)?,
                    };
                    Prepared::Device(memory, b.len() as u64, elem, false)
                }
                (KernelArg::BufferMut(b), MemorySpace::Device) => {
                    let len = b.len() as u64;
                    let memory = b.state_mut().device_copy(self.device.as_ref(), true)?;
                    Prepared::Device(memory, len, elem, true)
                }
            });
        }
        let bound: SmallVec<[LaunchArg<'_>; 8]> =
            prepared.iter().map(|p| p.bind(&prepared)).collect();
        // Asynchronous devices settle a launch's outcome later; buffers it writes remember it.
        let tracked = (space == MemorySpace::Device).then(|| TrackedLaunch::new(self.id(), inputs));

        let started = Instant::now();
        // SAFETY: check_args matched every argument to its parameter; host buffers read by the
        // kernel stay locked for reading and written ones are exclusively borrowed (`&mut`)
        // until this call returns, so their pointers are valid and unshared; checked kernels
        // check every access, and unchecked ones are launched only through
        // `launch_unchecked`, whose caller guarantees their accesses are in bounds.
        let result = unsafe {
            entry
                .kernel
                .launch(&grid, work_items, &bound, tracked.as_ref())
        };
        entry
            .counters
            .record(started.elapsed(), work_items, result.is_err());
        drop(bound);
        drop(prepared);
        // Who wrote each written buffer last: this launch (pending, or settled at once on
        // synchronous devices); a launch that failed to start changed nothing.
        let (writer, result) = match result {
            Ok(()) => (Some(tracked), Ok(())),
            Err(LaunchError::Fault(fault)) => {
                let report = Arc::new(FaultReport {
                    kernel: def.name().to_string(),
                    accelerator: self.info().to_string(),
                    message: fault.describe(&|s| def.subject_name(s)),
                    fault,
                });
                let error = report.to_error();
                let settled = TrackedLaunch::settled(self.id(), Outcome::Fault(report));
                (Some(Some(settled)), Err(error))
            }
            Err(LaunchError::Failed(e)) => (None, Err(e)),
        };
        if let Some(writer) = writer {
            for arg in args.iter_mut() {
                if let KernelArg::BufferMut(b) = arg {
                    b.state_mut().set_last_writer(writer.clone());
                }
            }
        }
        result
    }

    /// What a launch does about the last writer of a buffer it reads (parameter `param`):
    /// nothing if there is none or it ran cleanly; the writer, to inherit its outcome, if it
    /// is still running on this device (queued before this launch); else it waits for the
    /// writer and fails if it faulted.
    fn unsettled_input(
        &self,
        def: &KernelDefinition,
        param: &str,
        writer: Option<Arc<TrackedLaunch>>,
    ) -> Result<Option<Arc<TrackedLaunch>>, Error> {
        let Some(writer) = writer else {
            return Ok(None);
        };
        if self.device.memory_space() == MemorySpace::Device
            && writer.accelerator() == self.id()
            && writer.outcome_if_settled().is_none()
        {
            return Ok(Some(writer));
        }
        writer.wait().map_err(|e| match e {
            Error::KernelFault {
                kernel,
                accelerator,
                message,
                fault,
            } => Error::KernelFault {
                message: format!(
                    "{message} (launch of `{}` refused: its buffer `{param}` holds what that launch wrote, undefined until overwritten with `copy_from_slice`)",
                    def.name()
                ),
                kernel,
                accelerator,
                fault,
            },
            other => other,
        })?;
        Ok(None)
    }

    fn check_args(&self, def: &KernelDefinition, args: &[KernelArg<'_>]) -> Result<(), Error> {
        let params = def.params();
        if args.len() != params.len() {
            return Err(Error::ArgumentCount {
                kernel: def.name().to_string(),
                expected: params.len(),
                found: args.len(),
            });
        }
        for (param, arg) in params.iter().zip(args) {
            let mismatch = |hint: String| Error::ArgumentMismatch {
                kernel: def.name().to_string(),
                param: param.name.to_string(),
                expected: param.kind,
                found: arg.describe(),
                hint,
            };
            let buffer = match (param.kind, arg) {
                (ParamKind::Scalar(t), KernelArg::Scalar(v)) if v.scalar_type() == t => None,
                (ParamKind::Scalar(t), _) => {
                    return Err(mismatch(format!("; pass KernelArg::scalar(value as {t})")));
                }
                (
                    ParamKind::Buffer {
                        elem,
                        access: Access::Read,
                    },
                    KernelArg::Buffer(b),
                ) if b.elem() == Some(elem) => Some(*b),
                (
                    ParamKind::Buffer {
                        elem,
                        access: Access::ReadWrite,
                    },
                    KernelArg::BufferMut(b),
                ) if b.elem() == Some(elem) => Some(&**b),
                (
                    ParamKind::Buffer {
                        access: Access::Read,
                        elem,
                    },
                    _,
                ) => {
                    return Err(mismatch(format!(
                        "; pass a UnifiedBuffer<{elem}> with KernelArg::buffer(&buffer)"
                    )));
                }
                (
                    ParamKind::Buffer {
                        access: Access::ReadWrite,
                        elem,
                    },
                    _,
                ) => {
                    return Err(mismatch(format!(
                        "; the kernel writes it: pass a UnifiedBuffer<{elem}> with KernelArg::buffer_mut(&mut buffer)"
                    )));
                }
            };
            if let Some(b) = buffer
                && b.service() != self.context.id
            {
                return Err(Error::ForeignBuffer {
                    kernel: def.name().to_string(),
                    param: param.name.to_string(),
                    accelerator: self.info().to_string(),
                });
            }
        }
        Ok(())
    }
}

/// A buffer argument made ready for the device's memory space.
enum Prepared<'a> {
    Scalar(crate::scalar::ScalarValue),
    /// Host copy, current and locked for reading for the whole launch.
    HostRead(
        &'a RawBuffer,
        RwLockReadGuard<'a, BufferState>,
        dotcompute_ir::ScalarType,
    ),
    /// A buffer that an earlier argument (this index) holds locked for reading.
    HostAlias(usize, dotcompute_ir::ScalarType),
    /// Host copy of an exclusively borrowed buffer.
    HostWrite(*mut u8, u64, dotcompute_ir::ScalarType),
    /// The device's current copy.
    Device(
        std::sync::Arc<dyn DeviceMemory>,
        u64,
        dotcompute_ir::ScalarType,
        bool,
    ),
}

impl Prepared<'_> {
    /// Whether this argument holds `buffer` locked for reading.
    fn reads_host(&self, buffer: &RawBuffer) -> bool {
        matches!(self, Prepared::HostRead(b, ..) if std::ptr::eq(*b, buffer))
    }

    /// The argument as bound; `all` is the launch's whole list (for aliases).
    fn bind<'s>(&'s self, all: &'s [Prepared<'_>]) -> LaunchArg<'s> {
        // A host buffer's length is taken from the bytes actually bound, so that a missing
        // host copy (which cannot happen under a read guard) binds nothing rather than a
        // dangling pointer with the real length.
        let host_read = |bytes: &[u8], elem: dotcompute_ir::ScalarType| {
            LaunchArg::Buffer(BufferBinding::Host {
                // Bound read-only: generated code can only get a read-only view of it
                // (`CpuLaunch::buffer_mut` refuses), so the pointer is never written.
                ptr: bytes.as_ptr().cast_mut(),
                len: (bytes.len() / elem.size_bytes()) as u64,
                elem,
                writable: false,
            })
        };
        match self {
            Prepared::Scalar(v) => LaunchArg::Scalar(*v),
            Prepared::HostRead(_, guard, elem) => {
                host_read(guard.host_if_current().unwrap_or(&[]), *elem)
            }
            Prepared::HostAlias(first, elem) => match all.get(*first) {
                Some(Prepared::HostRead(_, guard, _)) => {
                    host_read(guard.host_if_current().unwrap_or(&[]), *elem)
                }
                _ => host_read(&[], *elem),
            },
            Prepared::HostWrite(ptr, len, elem) => LaunchArg::Buffer(BufferBinding::Host {
                ptr: *ptr,
                len: *len,
                elem: *elem,
                writable: true,
            }),
            Prepared::Device(memory, len, elem, writable) => {
                LaunchArg::Buffer(BufferBinding::Device {
                    memory: memory.as_ref(),
                    len: *len,
                    elem: *elem,
                    writable: *writable,
                })
            }
        }
    }
}
