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
use dotcompute_core::backend::{CompiledKernel, Device, DeviceMemory, MemorySpace};
use dotcompute_core::pool::PoolStatistics;
use dotcompute_core::{
    AcceleratorId, AcceleratorInfo, AcceleratorKind, BackendKind, Capabilities, Error,
    KernelDefinition, LaunchInfo, error_from_fault_record,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Bytes of the fault record (eight `u32`s).
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

/// A launch enqueued since the last synchronisation, for naming a fault it reports.
pub(crate) struct PendingLaunch {
    pub(crate) kernel: &'static KernelDefinition,
    pub(crate) buffer_lens: Vec<u64>,
    pub(crate) traps: Arc<Vec<String>>,
    /// Start and end events, when timing is on, and where the time goes.
    pub(crate) timing: Option<(Events, Arc<dotcompute_core::DeviceTimeCounters>)>,
}

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
    /// The fault record in device memory.
    pub(crate) fault: u64,
    /// Held from a launch's registration to its enqueueing, and from a synchronisation's
    /// taking of the list to the enqueueing of its readback (see the wgpu backend).
    pending: Mutex<HashMap<u32, PendingLaunch>>,
    next_launch: AtomicU32,
    sync_lock: Mutex<()>,
}

/// A launch registered and not yet enqueued: holds the submission lock.
pub(crate) struct Registration<'a> {
    pending: MutexGuard<'a, HashMap<u32, PendingLaunch>>,
    pub(crate) id: u32,
}

impl Registration<'_> {
    /// The launch was not enqueued after all: forget it.
    pub(crate) fn cancel(mut self) {
        self.pending.remove(&self.id);
    }

    /// The launch's events, if it is timed.
    pub(crate) fn events(&self) -> Option<&Events> {
        self.pending
            .get(&self.id)
            .and_then(|l| l.timing.as_ref())
            .map(|(e, _)| e)
    }
}

impl Shared {
    /// Whether launches are timed with events (`DOTCOMPUTE_PROFILE=1`, on a driver that can).
    pub(crate) fn timing(&self) -> bool {
        self.info.capabilities.device_timing
    }

    pub(crate) fn register_launch(&self, launch: PendingLaunch) -> Registration<'_> {
        let id = self.next_launch.fetch_add(1, Ordering::Relaxed);
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.insert(id, launch);
        Registration { pending, id }
    }

    /// Waits for all enqueued work, then reads the fault record: the first fault of a kernel
    /// launched since the last synchronisation becomes the error.
    pub(crate) fn synchronize(&self) -> Result<(), Error> {
        let _serial = self
            .sync_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let context = &self.context;
        context.bind()?;
        let stream = context.stream.cu_stream();
        let mut record = [0u32; FAULT_BYTES / 4];
        let launches = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            let taken = std::mem::take(&mut *pending);
            if !taken.is_empty() {
                // Read the record and clear it, ordered after every launch taken and before
                // every later one. The copy to pageable memory returns once it is done.
                // SAFETY: the context is bound; `fault` holds FAULT_BYTES bytes; `record`
                // is FAULT_BYTES bytes of host memory.
                unsafe {
                    cu::memcpy_dtoh_async(&mut record[..], self.fault, stream)
                        .and_then(|()| cu::memset_d8_async(self.fault, 0, FAULT_BYTES, stream))
                }
                .map_err(|e| context.driver_error("reading the fault record", e))?;
            }
            taken
        };
        // SAFETY: the context is bound; the stream belongs to it.
        unsafe { cu::stream::synchronize(stream) }
            .map_err(|e| context.driver_error("synchronising", e))?;
        for launch in launches.values() {
            if let Some((events, counters)) = &launch.timing {
                // SAFETY: both events were recorded around the launch, which has finished.
                if let Ok(ms) = unsafe { cu::event::elapsed(events.start, events.end) } {
                    counters.record(Duration::from_secs_f64(f64::from(ms.max(0.0)) / 1e3));
                }
            }
        }
        let launch = |id: u32| {
            launches.get(&id).map(|l| LaunchInfo {
                kernel: l.kernel,
                buffer_lens: &l.buffer_lens,
                traps: &l.traps,
            })
        };
        match error_from_fault_record(&record, launch, &self.info) {
            Some(e) => Err(e),
            None => Ok(()),
        }
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
        let fault = context.malloc(FAULT_BYTES as u64)?;
        // SAFETY: the context is bound (malloc bound it); `fault` holds FAULT_BYTES bytes.
        unsafe { cu::memset_d8_sync(fault, 0, FAULT_BYTES) }
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
                atomics: true,
                atomics64: true,
                float_atomics: true,
                shared_memory_bytes: shared_memory,
                max_group_size: max_threads,
                max_buffer_bytes: total,
                simd: None,
                device_timing: timing,
            },
        };
        let pool = memory_pool(context.clone());
        Ok(CudaDevice {
            shared: Arc::new(Shared {
                context,
                info,
                arch: (major * 10 + minor).max(0) as u32,
                pool,
                fault,
                pending: Mutex::new(HashMap::new()),
                next_launch: AtomicU32::new(1),
                sync_lock: Mutex::new(()),
            }),
        })
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
