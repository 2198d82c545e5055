//! An OpenCL device as an accelerator: its context and in-order queue, memory pool, the fault
//! records its kernels write, and the launches not yet collected.

use crate::compiler::OpenClCompiler;
use crate::discovery::OpenClDeviceInfo;
use crate::error::OpenClError;
use crate::kernel::OpenClKernel;
use crate::memory::{MemoryPool, OpenClMemory, memory_pool};
use dotcompute_core::backend::{CompiledKernel, Device, DeviceMemory, FAULT_SLOTS, MemorySpace};
use dotcompute_core::launch_tracker::{FaultReport, LaunchCollector, LaunchTracker};
use dotcompute_core::pool::PoolStatistics;
use dotcompute_core::{
    AcceleratorId, AcceleratorInfo, AcceleratorKind, BackendKind, Capabilities, DeviceTimeCounters,
    Error, KernelDefinition,
};
use opencl3::command_queue::{CL_QUEUE_PROFILING_ENABLE, CommandQueue};
use opencl3::context::Context;
use opencl3::device::{CL_DEVICE_TYPE_CPU, CL_DEVICE_TYPE_GPU};
use opencl3::error_codes::ClError;
use opencl3::event::Event;
use opencl3::memory::{Buffer, CL_MEM_READ_WRITE, ClMem};
use opencl3::types::CL_NON_BLOCKING;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

/// Bytes of one fault record (eight `u32`s).
const FAULT_BYTES: usize = 32;

/// A timed launch's event (set once the kernel is enqueued), and where its time goes.
pub(crate) struct LaunchTiming {
    pub(crate) event: OnceLock<Event>,
    pub(crate) counters: Arc<DeviceTimeCounters>,
}

/// What the device's kernels, memory and collections share.
pub(crate) struct Shared {
    pub(crate) info: AcceleratorInfo,
    pub(crate) device: OpenClDeviceInfo,
    /// One in-order queue orders all work on the device (uploads, launches, downloads).
    pub(crate) queue: CommandQueue,
    pub(crate) compiler: OpenClCompiler,
    pub(crate) pool: MemoryPool,
    /// The fault records, [`FAULT_SLOTS`] of [`FAULT_BYTES`]: bound whole to every kernel,
    /// each launch finding its own through the parameter block (`set_fault_offset`), so that
    /// the argument is set once per kernel.
    pub(crate) fault: Buffer<u32>,
    /// Largest group along x, y and z.
    pub(crate) max_work_item_sizes: [u64; 3],
    /// Largest kernel argument list in bytes (the parameter block is one argument).
    pub(crate) max_parameter_bytes: u64,
    /// Launches in flight, their fault slots and outcomes; its lock is the submission lock.
    pub(crate) launches: LaunchTracker<Option<LaunchTiming>>,
}

impl Shared {
    /// An error of an OpenCL call on this device.
    pub(crate) fn error(&self, what: &str, e: ClError) -> Error {
        api_error(what, &self.device, e)
    }

    /// Whether launches are timed with profiling events.
    pub(crate) fn timing(&self) -> bool {
        self.info.capabilities.device_timing
    }

    /// Where the fault record of `slot` starts, in `u32` words.
    pub(crate) fn fault_offset(slot: u32) -> u32 {
        slot * (FAULT_BYTES / 4) as u32
    }

    /// Waits for every launch enqueued so far, reads their fault records and settles their
    /// outcomes (and device times).
    pub(crate) fn collect(&self) -> Result<(), Error> {
        self.launches.collect(
            |_, used_slots| {
                let bytes = used_slots as usize * FAULT_BYTES;
                let mut records = vec![0u32; bytes / 4];
                // Read the records, then clear them: both ordered by the in-order queue after
                // every launch taken and before every later one.
                // SAFETY: `fault` holds FAULT_SLOTS * FAULT_BYTES >= `bytes` bytes; `records` is
                // `bytes` bytes that stay alive (moved, not freed: the heap block does not
                // move) until `read_back` has waited for the read.
                let read = unsafe {
                    self.queue.enqueue_read_buffer(
                        &self.fault,
                        CL_NON_BLOCKING,
                        0,
                        &mut records,
                        &[],
                    )
                }
                .map_err(|e| self.error("reading the fault records", e))?;
                // Later reads are ordered after the clearing.
                if let Err(e) = clear(&self.queue, &self.fault, bytes) {
                    // The read's destination must outlive it: wait for it, or leak it.
                    if read.wait().is_err() {
                        std::mem::forget(records);
                    }
                    return Err(self.error("clearing the fault records", e));
                }
                Ok((records, read))
            },
            |(records, read), taken| {
                if let Err(e) = read.wait() {
                    // The read may not be over: its destination must outlive it.
                    std::mem::forget(records);
                    return Err(self.error("reading the fault records", e));
                }
                for launch in taken {
                    let Some(timing) = &launch.extra else {
                        continue;
                    };
                    let Some(event) = timing.event.get() else {
                        continue;
                    };
                    match (
                        event.profiling_command_start(),
                        event.profiling_command_end(),
                    ) {
                        (Ok(start), Ok(end)) => timing
                            .counters
                            .record(Duration::from_nanos(end.saturating_sub(start))),
                        (Err(e), _) | (_, Err(e)) => {
                            tracing::debug!(device = %self.device, "a launch's profiling times: {e}");
                        }
                    }
                }
                Ok(records)
            },
        )
    }

    /// Waits for all enqueued work, and returns the oldest fault not yet returned by a
    /// synchronisation.
    pub(crate) fn synchronize(&self) -> Result<(), Error> {
        self.launches.synchronize(|| {
            self.collect()?;
            // Work enqueued without a launch (uploads) is waited for too.
            self.queue
                .finish()
                .map_err(|e| self.error("synchronising", e))
        })
    }
}

impl LaunchCollector for Shared {
    fn collect(&self) -> Result<(), Error> {
        Shared::collect(self)
    }

    fn acknowledge(&self, report: &Arc<FaultReport>) {
        self.launches.acknowledge(report);
    }
}

/// Enqueues the zeroing of the first `bytes` bytes (a multiple of 4, within the buffer) of
/// the record array `fault`.
fn clear(queue: &CommandQueue, fault: &Buffer<u32>, bytes: usize) -> Result<(), ClError> {
    let zero = 0u32;
    // SAFETY: the pattern is copied when the call returns; the caller keeps the region within
    // `fault`.
    let event = unsafe {
        opencl3::command_queue::enqueue_fill_buffer(
            queue.get(),
            fault.get(),
            (&raw const zero).cast(),
            4,
            0,
            bytes,
            0,
            std::ptr::null(),
        )
    }
    .map_err(ClError)?;
    drop(Event::new(event));
    Ok(())
}

/// An OpenCL call's failure as an error naming the device.
pub(crate) fn api_error(what: &str, device: &OpenClDeviceInfo, e: ClError) -> Error {
    OpenClError::Api {
        what: what.to_string(),
        device: device.to_string(),
        reason: e.to_string(),
    }
    .into()
}

/// An OpenCL device, as a DotCompute accelerator.
pub struct OpenClDevice {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for OpenClDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenClDevice")
            .field("info", &self.shared.info)
            .finish()
    }
}

impl OpenClDevice {
    /// Opens `device` as accelerator `opencl:{index}`: its context, queue (with profiling
    /// when `timing`) and fault records.
    pub(crate) fn open(
        index: u32,
        device: &OpenClDeviceInfo,
        timing: bool,
    ) -> Result<OpenClDevice, Error> {
        let failed = |what: &str, e: ClError| api_error(what, device, e);
        let cl = &device.device;
        let context =
            Arc::new(Context::from_device(cl).map_err(|e| failed("creating a context", e))?);
        // clCreateCommandQueue: OpenCL 1.2 devices have nothing newer.
        #[allow(deprecated)]
        // SAFETY: the device is the context's only device.
        let queue = |properties| unsafe { CommandQueue::create(&context, cl.id(), properties) };
        // A device that cannot profile still runs kernels, untimed.
        let (queue, timing) = match timing.then(|| queue(CL_QUEUE_PROFILING_ENABLE)) {
            Some(Ok(q)) => (q, true),
            Some(Err(e)) => {
                tracing::warn!("{device}: no profiling queue ({e}); launches are not timed");
                (
                    queue(0).map_err(|e| failed("creating a command queue", e))?,
                    false,
                )
            }
            None => (
                queue(0).map_err(|e| failed("creating a command queue", e))?,
                false,
            ),
        };

        let words = FAULT_SLOTS as usize * FAULT_BYTES / 4;
        // SAFETY: no host pointer; the size is a plain count.
        let fault = unsafe {
            Buffer::<u32>::create(&context, CL_MEM_READ_WRITE, words, std::ptr::null_mut())
        }
        .map_err(|e| failed("allocating the fault records", e))?;
        clear(&queue, &fault, words * 4).map_err(|e| failed("clearing the fault records", e))?;
        let dev_type = cl.dev_type().unwrap_or(0);
        let kind = if dev_type & CL_DEVICE_TYPE_CPU != 0 {
            AcceleratorKind::Cpu
        } else if dev_type & CL_DEVICE_TYPE_GPU != 0 {
            if cl.host_unified_memory().unwrap_or(false) {
                AcceleratorKind::IntegratedGpu
            } else {
                AcceleratorKind::DiscreteGpu
            }
        } else {
            // Accelerators (FPGAs, DSPs) and custom devices.
            AcceleratorKind::Other
        };
        let sizes = cl.max_work_item_sizes().unwrap_or_default();
        let size = |i: usize| sizes.get(i).map_or(1, |&s| s as u64);
        let max_work_item_sizes = [size(0), size(1), size(2)];
        let max_group = cl.max_work_group_size().unwrap_or(1);
        let (fp64, atomics64) = (device.fp64(), device.atomics64());
        // The embedded profile makes 64-bit integers optional.
        let int64 = cl.profile().is_ok_and(|p| p.trim() == "FULL_PROFILE")
            || device.has_extension("cles_khr_int64");
        let memory = cl.global_mem_size().unwrap_or(0);
        let info = AcceleratorInfo {
            id: AcceleratorId {
                backend: BackendKind::OpenCl,
                index,
            },
            name: device.name.clone(),
            kind,
            vendor: cl.vendor().unwrap_or_default(),
            memory_bytes: memory,
            compute_units: cl.max_compute_units().unwrap_or(0),
            versions: vec![
                ("platform".into(), device.platform.clone()),
                ("OpenCL".into(), device.version.clone()),
                ("OpenCL C".into(), cl.opencl_c_version().unwrap_or_default()),
                ("driver".into(), device.driver.clone()),
            ],
            capabilities: Capabilities {
                f64: fp64,
                int64,
                int64_emulated: false,
                atomics: true,
                atomics64,
                // f32 by compare-exchange on 32 bits; f64 needs `atomics64` as well.
                float_atomics: true,
                f64_device_math: fp64,
                shared_memory_bytes: device.local_memory_bytes,
                cooperative: true,
                max_group_size: u32::try_from(max_group).unwrap_or(u32::MAX),
                subgroup_size: 0,
                max_buffer_bytes: cl.max_mem_alloc_size().unwrap_or(0),
                simd: None,
                device_timing: timing,
            },
        };
        let launches = LaunchTracker::new(&info, FAULT_SLOTS, FAULT_BYTES);
        let shared = Arc::new(Shared {
            pool: memory_pool(
                context.clone(),
                device.clone(),
                info.capabilities.max_buffer_bytes,
            ),
            compiler: OpenClCompiler::in_context(device.clone(), context.clone()),
            max_parameter_bytes: cl.max_parameter_size().unwrap_or(1024) as u64,
            info,
            device: device.clone(),
            queue,
            fault,
            max_work_item_sizes,
            launches,
        });
        let collector: Weak<dyn LaunchCollector> = Arc::downgrade(&shared) as Weak<Shared>;
        shared.launches.set_collector(collector);
        Ok(OpenClDevice { shared })
    }
}

impl Device for OpenClDevice {
    fn info(&self) -> &AcceleratorInfo {
        &self.shared.info
    }

    fn compile(&self, kernel: &'static KernelDefinition) -> Result<Arc<dyn CompiledKernel>, Error> {
        Ok(Arc::new(OpenClKernel::compile(
            self.shared.clone(),
            kernel,
        )?))
    }

    fn synchronize(&self) -> Result<(), Error> {
        self.shared.synchronize()
    }

    fn memory_space(&self) -> MemorySpace {
        MemorySpace::Device
    }

    fn allocate(&self, bytes: usize) -> Result<Box<dyn DeviceMemory>, Error> {
        Ok(Box::new(OpenClMemory::new(
            self.shared.clone(),
            bytes as u64,
        )?))
    }

    fn memory_statistics(&self) -> Option<PoolStatistics> {
        Some(self.shared.pool.statistics())
    }
}
