//! An NVIDIA GPU as an accelerator: its context and stream, memory pool, the fault record its
//! kernels write, and the launches not yet synchronised.

use crate::compiler;
use crate::error::CudaError;
use crate::kernel::CudaKernel;
use crate::memory::CudaMemory;
use crate::pool::{MemoryPool, memory_pool};
use cudarc::driver::result as cu;
use cudarc::driver::sys;
use cudarc::driver::{CudaContext, CudaStream};
use dotcompute_core::backend::{CompiledKernel, Device, DeviceMemory, FAULT_SLOTS, MemorySpace};
use dotcompute_core::launch_tracker::{FaultReport, LaunchCollector, LaunchTracker};
use dotcompute_core::pool::PoolStatistics;
use dotcompute_core::{
    AcceleratorId, AcceleratorInfo, AcceleratorKind, BackendKind, Capabilities, Error,
    KernelDefinition,
};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

/// Bytes of one fault record (eight `u32`s).
const FAULT_BYTES: usize = 32;

/// The driver context of one GPU, its stream, and whether an earlier error poisoned it.
pub(crate) struct Context {
    pub(crate) ctx: Arc<CudaContext>,
    pub(crate) stream: Arc<CudaStream>,
    pub(crate) name: String,
    poisoned: Mutex<Option<String>>,
}

impl Context {
    /// An error of the backend naming this device.
    pub(crate) fn error(&self, what: &str, reason: &str) -> Error {
        CudaError::Driver {
            what: what.to_string(),
            device: self.name.clone(),
            reason: reason.to_string(),
        }
        .into()
    }

    /// Refuses work once the context is poisoned (an illegal address and its kind leave a
    /// CUDA context unusable for the life of the process).
    pub(crate) fn check(&self) -> Result<(), Error> {
        match &*self.poisoned.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(reason) => Err(self.error(
                "using the device",
                &format!(
                    "its CUDA context is poisoned by an earlier error ({reason}); it refuses further work (restart the process to use this GPU again)"
                ),
            )),
            None => Ok(()),
        }
    }

    /// Binds the context to the calling thread (driver calls act on the current context).
    pub(crate) fn bind(&self) -> Result<(), Error> {
        self.check()?;
        self.ctx
            .bind_to_thread()
            .map_err(|e| self.driver_error("binding the context", e))
    }

    /// A driver error as an `Error`; errors that poison the context are remembered.
    pub(crate) fn driver_error(&self, what: &str, e: cu::DriverError) -> Error {
        use sys::CUresult as R;
        let sticky = matches!(
            e.0,
            R::CUDA_ERROR_ILLEGAL_ADDRESS
                | R::CUDA_ERROR_LAUNCH_FAILED
                | R::CUDA_ERROR_MISALIGNED_ADDRESS
                | R::CUDA_ERROR_ILLEGAL_INSTRUCTION
                | R::CUDA_ERROR_HARDWARE_STACK_ERROR
                | R::CUDA_ERROR_INVALID_ADDRESS_SPACE
                | R::CUDA_ERROR_INVALID_PC
                | R::CUDA_ERROR_ECC_UNCORRECTABLE
                | R::CUDA_ERROR_LAUNCH_TIMEOUT
                | R::CUDA_ERROR_ASSERT
        );
        let reason = format!("{e:?}");
        if sticky {
            *self.poisoned.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason.clone());
            return self.error(
                what,
                &format!(
                    "{reason}: the CUDA context is now poisoned and the accelerator refuses further work"
                ),
            );
        }
        self.error(what, &reason)
    }

    pub(crate) fn malloc(&self, bytes: u64) -> Result<u64, Error> {
        self.bind()?;
        // SAFETY: the context is bound to this thread; the size is a plain byte count.
        unsafe { cu::malloc_sync(bytes as usize) }
            .map_err(|e| self.driver_error(&format!("allocating {bytes} bytes"), e))
    }

    pub(crate) fn free(&self, ptr: u64) {
        if self.bind().is_err() {
            // A poisoned context cannot free; its memory goes with the process.
            return;
        }
        // SAFETY: `ptr` came from `malloc` on this context and is freed once (the pool owns
        // it); the driver waits for work that uses it.
        if let Err(e) = unsafe { cu::free_sync(ptr) } {
            tracing::warn!("freeing device memory on {}: {e:?}", self.name);
        }
    }
}

/// Start and end events of a timed launch, and where its time goes.
pub(crate) type LaunchTiming = Option<(Events, Arc<dotcompute_core::DeviceTimeCounters>)>;

/// Two events around a launch.
pub(crate) struct Events {
    pub(crate) start: sys::CUevent,
    pub(crate) end: sys::CUevent,
}

// SAFETY: events are driver handles, usable from any thread with the context bound.
unsafe impl Send for Events {}

impl Drop for Events {
    fn drop(&mut self) {
        // SAFETY: both events were created by `Events::new` and are destroyed once.
        unsafe {
            let _ = cu::event::destroy(self.start);
            let _ = cu::event::destroy(self.end);
        }
    }
}

impl Events {
    pub(crate) fn new() -> Result<Events, cu::DriverError> {
        let start = cu::event::create(sys::CUevent_flags::CU_EVENT_DEFAULT)?;
        match cu::event::create(sys::CUevent_flags::CU_EVENT_DEFAULT) {
            Ok(end) => Ok(Events { start, end }),
            Err(e) => {
                // SAFETY: created just above, destroyed once.
                unsafe {
                    let _ = cu::event::destroy(start);
                }
                Err(e)
            }
        }
    }
}

/// What the device's kernels, memory and synchronisation share.
pub(crate) struct Shared {
    pub(crate) context: Arc<Context>,
    pub(crate) info: AcceleratorInfo,
    /// `sm_XY` as `XY`.
    pub(crate) arch: u32,
    pub(crate) pool: MemoryPool,
    /// The fault records in device memory, [`FAULT_SLOTS`] of [`FAULT_BYTES`]: each launch in
    /// flight gets its own.
    pub(crate) fault: u64,
    /// Launches in flight, their fault slots and outcomes; its lock is the submission lock.
    pub(crate) launches: LaunchTracker<LaunchTiming>,
}

impl Shared {
    /// Whether launches are timed with events (`DOTCOMPUTE_PROFILE=1`, on a driver that can).
    pub(crate) fn timing(&self) -> bool {
        self.info.capabilities.device_timing
    }

    /// The device address of fault record `slot`.
    pub(crate) fn fault_record(&self, slot: u32) -> u64 {
        self.fault + u64::from(slot) * FAULT_BYTES as u64
    }

    /// Waits for every launch enqueued so far, reads their fault records and settles their
    /// outcomes (and device times).
    pub(crate) fn collect(&self) -> Result<(), Error> {
        let context = &self.context;
        self.launches.collect(
            |_, used_slots| {
                context.bind()?;
                let stream = context.stream.cu_stream();
                let bytes = used_slots as usize * FAULT_BYTES;
                let mut records = vec![0u32; bytes / 4];
                // Read the records and clear them, ordered after every launch taken and
                // before every later one. The copy to pageable memory returns once it is
                // done, which is after every launch taken.
                // SAFETY: the context is bound; `fault` holds FAULT_SLOTS * FAULT_BYTES >=
                // `bytes` bytes; `records` is `bytes` bytes of host memory.
                unsafe {
                    cu::memcpy_dtoh_async(&mut records[..], self.fault, stream)
                        .and_then(|()| cu::memset_d8_async(self.fault, 0, bytes, stream))
                }
                .map_err(|e| context.driver_error("reading the fault records", e))?;
                Ok(records)
            },
            |records, taken| {
                for launch in taken {
                    if let Some((events, counters)) = &launch.extra {
                        // SAFETY: both events were recorded around the launch, which has
                        // finished (the records were copied after it).
                        if let Ok(ms) = unsafe { cu::event::elapsed(events.start, events.end) } {
                            counters.record(Duration::from_secs_f64(f64::from(ms.max(0.0)) / 1e3));
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
            let context = &self.context;
            context.bind()?;
            // Work enqueued without a launch (uploads) is waited for too.
            // SAFETY: the context is bound; the stream belongs to it.
            unsafe { cu::stream::synchronize(context.stream.cu_stream()) }
                .map_err(|e| context.driver_error("synchronising", e))
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

/// The driver's CUDA version as the driver reports it (e.g. 13000 for 13.0; 0 if unknown).
fn driver_version() -> i32 {
    let mut version: std::ffi::c_int = 0;
    // SAFETY: the driver library is loaded (the plugin checked); `version` is a valid
    // out-pointer.
    let status = unsafe { sys::cuDriverGetVersion(&mut version) };
    if status == sys::CUresult::CUDA_SUCCESS {
        version
    } else {
        0
    }
}

/// Drivers before CUDA 12.8 lack `cuEventElapsedTime_v2`, which the CUDA 13 bindings call.
const EVENT_TIMING_MIN_DRIVER: i32 = 12080;

impl Drop for Shared {
    fn drop(&mut self) {
        // The fault record; the pool frees its own blocks.
        self.context.free(self.fault);
    }
}

/// An NVIDIA GPU, as a DotCompute accelerator.
pub struct CudaDevice {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CudaDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaDevice")
            .field("info", &self.shared.info)
            .finish()
    }
}

impl CudaDevice {
    /// Opens GPU `ordinal` (its primary context and default stream). The driver library
    /// must be loaded (the plugin checks).
    pub(crate) fn open(ordinal: usize, timing: bool) -> Result<CudaDevice, Error> {
        let failed = |what: &str, e: cu::DriverError| -> Error {
            CudaError::Driver {
                what: what.to_string(),
                device: format!("cuda:{ordinal}"),
                reason: format!("{e:?}"),
            }
            .into()
        };
        let ctx = CudaContext::new(ordinal).map_err(|e| failed("creating a context", e))?;
        let attr = |a: sys::CUdevice_attribute| ctx.attribute(a).unwrap_or(0);
        use sys::CUdevice_attribute as A;
        let (major, minor) = ctx
            .compute_capability()
            .map_err(|e| failed("reading the compute capability", e))?;
        let name = ctx.name().unwrap_or_else(|_| "NVIDIA GPU".into());
        let total = ctx.total_mem().unwrap_or(0) as u64;
        let sms = attr(A::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        let integrated = attr(A::CU_DEVICE_ATTRIBUTE_INTEGRATED) == 1;
        let shared_memory = attr(A::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK).max(0) as u64;
        let max_threads = attr(A::CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK).max(0) as u32;
        let driver = driver_version();
        let timing = if timing && driver < EVENT_TIMING_MIN_DRIVER {
            tracing::warn!(
                "kernel timing needs a CUDA 12.8 or newer driver (this one: {driver}); timing is off"
            );
            false
        } else {
            timing
        };
        let nvrtc = compiler::nvrtc_version()
            .map(|(a, b)| format!("{a}.{b}"))
            .unwrap_or_else(|e| format!("not found ({e})"));
        let stream = ctx.default_stream();
        let context = Arc::new(Context {
            ctx,
            stream,
            name: format!("{name} (cuda:{ordinal})"),
            poisoned: Mutex::new(None),
        });
        let records = FAULT_SLOTS as usize * FAULT_BYTES;
        let fault = context.malloc(records as u64)?;
        // SAFETY: the context is bound (malloc bound it); `fault` holds `records` bytes.
        unsafe { cu::memset_d8_sync(fault, 0, records) }
            .map_err(|e| context.driver_error("clearing the fault record", e))?;
        let info = AcceleratorInfo {
            id: AcceleratorId {
                backend: BackendKind::Cuda,
                index: ordinal as u32,
            },
            name,
            kind: if integrated {
                AcceleratorKind::IntegratedGpu
            } else {
                AcceleratorKind::DiscreteGpu
            },
            vendor: "NVIDIA".into(),
            memory_bytes: total,
            compute_units: sms.max(0) as u32,
            versions: vec![
                ("compute capability".into(), format!("{major}.{minor}")),
                (
                    "driver".into(),
                    format!("CUDA {}.{}", driver / 1000, (driver % 1000) / 10),
                ),
                ("nvrtc".into(), nvrtc),
            ],
            capabilities: Capabilities {
                f64: true,
                int64: true,
                int64_emulated: false,
                atomics: true,
                atomics64: true,
                float_atomics: true,
                f64_device_math: true,
                shared_memory_bytes: shared_memory,
                // A cooperative kernel's blocks are the launch's groups.
                cooperative: true,
                max_group_size: max_threads,
                // Warps.
                subgroup_size: 32,
                max_buffer_bytes: total,
                simd: None,
                device_timing: timing,
            },
        };
        let pool = memory_pool(context.clone());
        let launches = LaunchTracker::new(&info, FAULT_SLOTS, FAULT_BYTES);
        let shared = Arc::new(Shared {
            context,
            info,
            arch: (major * 10 + minor).max(0) as u32,
            pool,
            fault,
            launches,
        });
        let collector: Weak<dyn LaunchCollector> = Arc::downgrade(&shared) as Weak<Shared>;
        shared.launches.set_collector(collector);
        Ok(CudaDevice { shared })
    }
}

impl Device for CudaDevice {
    fn info(&self) -> &AcceleratorInfo {
        &self.shared.info
    }

    fn compile(&self, kernel: &'static KernelDefinition) -> Result<Arc<dyn CompiledKernel>, Error> {
        Ok(Arc::new(CudaKernel::compile(self.shared.clone(), kernel)?))
    }

    fn synchronize(&self) -> Result<(), Error> {
        self.shared.synchronize()
    }

    fn memory_space(&self) -> MemorySpace {
        MemorySpace::Device
    }

    fn allocate(&self, bytes: usize) -> Result<Box<dyn DeviceMemory>, Error> {
        Ok(Box::new(CudaMemory::new(
            self.shared.clone(),
            bytes as u64,
        )?))
    }

    fn memory_statistics(&self) -> Option<PoolStatistics> {
        Some(self.shared.pool.statistics())
    }
}
