//! A wgpu adapter as an accelerator: its device and queue, memory pool, and the fault record
//! that kernels write when they fault.

use crate::error::WgpuError;
use crate::kernel::WgpuKernel;
use crate::memory::WgpuMemory;
use crate::pool::{BufferPool, buffer_pool};
use crate::timing::TimestampQueries;
use dotcompute_core::DeviceTimeCounters;
use dotcompute_core::backend::{CompiledKernel, Device, DeviceMemory, FAULT_SLOTS, MemorySpace};
use dotcompute_core::launch_tracker::{FaultReport, LaunchCollector, LaunchTracker};
use dotcompute_core::{
    AcceleratorId, AcceleratorInfo, AcceleratorKind, BackendKind, Capabilities, Error,
    KernelDefinition,
};
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// The features DotCompute uses when the adapter has them.
pub(crate) const WANTED_FEATURES: wgpu::Features = wgpu::Features::SHADER_INT64
    .union(wgpu::Features::SHADER_F64)
    .union(wgpu::Features::SHADER_INT64_ATOMIC_ALL_OPS)
    .union(wgpu::Features::SHADER_INT64_ATOMIC_MIN_MAX)
    .union(wgpu::Features::TIMESTAMP_QUERY)
    .union(wgpu::Features::PASSTHROUGH_SHADERS)
    .union(wgpu::Features::SUBGROUP);

/// Bytes of one fault record (`array<atomic<u32>, 8>`).
const FAULT_BYTES: u64 = 32;

/// Where a launch's device time goes (its timestamps are at its position since the last
/// collection, when the query set has room).
pub(crate) type LaunchTiming = Arc<DeviceTimeCounters>;

/// What the device's kernels, memory and synchronisation share.
pub(crate) struct Shared {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) limits: wgpu::Limits,
    pub(crate) info: AcceleratorInfo,
    pub(crate) pool: BufferPool,
    /// The fault records, [`FAULT_SLOTS`] of them, `fault_stride` bytes apart: each launch
    /// in flight binds its own (code, param, index lo/hi, launch id).
    pub(crate) fault: wgpu::Buffer,
    pub(crate) fault_stride: u64,
    fault_readback: wgpu::Buffer,
    /// Kernel timestamps, where the device has them.
    pub(crate) timestamps: Option<TimestampQueries>,
    timestamp_readback: Option<wgpu::Buffer>,
    /// Launches in flight, their fault slots and outcomes; its lock is the submission lock.
    pub(crate) launches: LaunchTracker<LaunchTiming>,
    lost: Arc<Mutex<Option<String>>>,
    /// Kernels go to the driver as SPIR-V with exact float operations (Vulkan with
    /// passthrough shaders; see `spirv.rs`), not as WGSL.
    pub(crate) exact_spirv: bool,
    /// Float division and `sqrt` are written as correctly rounded helpers: the driver's
    /// are not exact (`rounding_probe.rs`), or `DOTCOMPUTE_WGPU_CORRECT_ROUNDING=1`.
    pub(crate) correct_rounding: bool,
    /// Tests only (`DOTCOMPUTE_WGPU_SIMULATE_INEXACT_DRIVER=1`): the helper starts 2 ulp
    /// off, so that lavapipe's exact `/` still tests the correction.
    pub(crate) simulate_inexact_driver: bool,
    /// Kernels use the device's 64-bit integers; `false`: pairs of 32-bit words (the
    /// adapter has none, or `DOTCOMPUTE_WGPU_EMULATE_INT64=1`).
    pub(crate) int64: bool,
    /// Kernels check that the driver did not cut their loops short
    /// (`WgslOptions::loop_limit_check`): Mesa's llvmpipe.
    pub(crate) loop_limit: bool,
}

impl Shared {
    pub(crate) fn adapter_name(&self) -> String {
        self.info.name.clone()
    }

    /// An error if the device was lost.
    pub(crate) fn check_lost(&self) -> Result<(), WgpuError> {
        match &*self.lost.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(reason) => Err(WgpuError::DeviceLost {
                adapter: self.adapter_name(),
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Waits for every launch submitted so far, reads their fault records and settles
    /// their outcomes (and device times).
    pub(crate) fn collect(&self) -> Result<(), Error> {
        self.launches.collect(
            |taken, used_slots| {
                self.check_lost()?;
                // Copy the records out and clear them in one submission, ordered after every
                // launch taken and before every later one.
                let bytes = u64::from(used_slots) * self.fault_stride;
                let mut encoder =
                    self.device
                        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                            label: Some("dotcompute fault readback"),
                        });
                encoder.copy_buffer_to_buffer(&self.fault, 0, &self.fault_readback, 0, bytes);
                encoder.clear_buffer(&self.fault, 0, Some(bytes));
                if let (Some(queries), Some(readback)) =
                    (&self.timestamps, &self.timestamp_readback)
                {
                    queries.resolve(&mut encoder, taken.len() as u32, readback);
                }
                Ok((self.queue.submit([encoder.finish()]), bytes))
            },
            |(index, bytes), taken| {
                let words = self.read_mapped(&self.fault_readback, index.clone(), bytes)?;
                if let (Some(queries), Some(readback)) =
                    (&self.timestamps, &self.timestamp_readback)
                {
                    // Timing is a statistic: failing to read it must not hide a fault.
                    // Only the taken launches' pairs were resolved.
                    let ticks_bytes = (16 * taken.len() as u64).min(readback.size());
                    match self.read_mapped(readback, index, ticks_bytes) {
                        Ok(ticks) => {
                            for (position, launch) in taken.iter().enumerate() {
                                if let Some(elapsed) = queries.duration(&ticks, position as u32) {
                                    launch.extra.record(elapsed);
                                }
                            }
                        }
                        Err(e) => tracing::warn!("kernel timestamps not read: {e}"),
                    }
                }
                Ok(words
                    .chunks_exact(4)
                    .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
                    .collect())
            },
        )
    }

    /// Waits for all work, and returns the oldest fault not yet returned by a
    /// synchronisation.
    pub(crate) fn synchronize(&self) -> Result<(), Error> {
        self.check_lost()?;
        self.launches.synchronize(|| {
            self.collect()?;
            // Work submitted without a launch (uploads) is waited for too.
            Ok(self.wait(None)?)
        })
    }

    /// Waits for a submission (or all work).
    pub(crate) fn wait(&self, index: Option<wgpu::SubmissionIndex>) -> Result<(), WgpuError> {
        wait(&self.device, index).map_err(|reason| WgpuError::Wait {
            adapter: self.adapter_name(),
            reason,
        })
    }

    /// Maps the first `bytes` of a readback buffer after submission `index` and copies them
    /// out.
    pub(crate) fn read_mapped(
        &self,
        buffer: &wgpu::Buffer,
        index: wgpu::SubmissionIndex,
        bytes: u64,
    ) -> Result<Vec<u8>, WgpuError> {
        read_mapped(&self.device, buffer, index, bytes).map_err(|reason| WgpuError::Wait {
            adapter: self.adapter_name(),
            reason,
        })
    }
}

/// Waits on `device` for a submission (or all work).
fn wait(device: &wgpu::Device, index: Option<wgpu::SubmissionIndex>) -> Result<(), String> {
    device
        .poll(wgpu::PollType::Wait {
            submission_index: index,
            timeout: None,
        })
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Maps the first `bytes` of a readback buffer of `device` after submission `index` and
/// copies them out.
pub(crate) fn read_mapped(
    device: &wgpu::Device,
    buffer: &wgpu::Buffer,
    index: wgpu::SubmissionIndex,
    bytes: u64,
) -> Result<Vec<u8>, String> {
    if bytes == 0 {
        return Ok(Vec::new());
    }
    let (tx, rx) = std::sync::mpsc::channel();
    buffer
        .slice(..bytes)
        .map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
    let read = wait(device, Some(index)).and_then(|()| {
        rx.recv()
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        Ok(buffer
            .slice(..bytes)
            .get_mapped_range()
            .map_err(|e| e.to_string())?
            .to_vec())
    });
    // Unmapped on every path, so that a failed read does not break the next copy into the
    // buffer.
    buffer.unmap();
    read
}

/// An adapter's device, as a DotCompute accelerator.
pub struct WgpuDevice {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for WgpuDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WgpuDevice")
            .field("info", &self.shared.info)
            .finish()
    }
}

fn vendor_name(id: u32) -> String {
    match id {
        0x10de => "NVIDIA".into(),
        0x1002 => "AMD".into(),
        0x8086 => "Intel".into(),
        0x106b => "Apple".into(),
        0x13b5 => "ARM".into(),
        0x5143 => "Qualcomm".into(),
        0x10005 => "Mesa".into(),
        0 => "unknown".into(),
        other => format!("{other:#06x}"),
    }
}

impl WgpuDevice {
    /// Opens a device on `adapter`, requesting every feature DotCompute uses that it has.
    /// Kernels use pairs of 32-bit words for 64-bit integers where the adapter lacks them, and
    /// with `emulate_int64` also where it has them (see
    /// [`crate::WgpuPlugin::emulating_int64`]).
    pub fn open(
        adapter: &wgpu::Adapter,
        index: u32,
        emulate_int64: bool,
    ) -> Result<WgpuDevice, WgpuError> {
        let a = adapter.get_info();
        let mut features = adapter.features() & WANTED_FEATURES;
        // Without 64-bit integers (or asked to, to try that path on any adapter), kernels use
        // pairs of 32-bit words for them; `f64` and 64-bit atomics, which the emitter cannot
        // build from words, are not offered.
        let native_int64 = features.contains(wgpu::Features::SHADER_INT64);
        let pairs = emulate_int64 || !native_int64;
        if pairs {
            features.remove(
                wgpu::Features::SHADER_INT64
                    | wgpu::Features::SHADER_F64
                    | wgpu::Features::SHADER_INT64_ATOMIC_ALL_OPS
                    | wgpu::Features::SHADER_INT64_ATOMIC_MIN_MAX,
            );
        }
        let exact_spirv = a.backend == wgpu::Backend::Vulkan
            && features.contains(wgpu::Features::PASSTHROUGH_SHADERS);
        let limits = adapter.limits();
        let simulate_inexact_driver =
            std::env::var("DOTCOMPUTE_WGPU_SIMULATE_INEXACT_DRIVER").as_deref() == Ok("1");
        let name = format!("{} ({})", a.name, a.backend);
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("dotcompute"),
            required_features: features,
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| WgpuError::RequestDevice {
            adapter: name.clone(),
            reason: e.to_string(),
        })?;
        let correct_rounding = crate::rounding_probe::needs_correct_rounding(
            &device,
            &queue,
            exact_spirv,
            simulate_inexact_driver,
            features.contains(wgpu::Features::SHADER_F64),
            &name,
        );
        let lost = Arc::new(Mutex::new(None));
        let lost_flag = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            tracing::error!(?reason, "wgpu device lost: {message}");
            *lost_flag.lock().unwrap_or_else(PoisonError::into_inner) =
                Some(format!("{reason:?}: {message}"));
        });
        // Errors are captured with error scopes where work is submitted; anything else is
        // logged instead of panicking.
        device.on_uncaptured_error(Arc::new(|e: wgpu::Error| {
            tracing::error!("wgpu error outside an error scope: {e}");
        }));
        // Each launch binds its record at an offset, which must be aligned.
        let fault_stride = FAULT_BYTES.max(u64::from(limits.min_storage_buffer_offset_alignment));
        let fault = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("dotcompute fault records"),
            size: fault_stride * u64::from(FAULT_SLOTS),
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let fault_readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("dotcompute fault readback"),
            size: fault_stride * u64::from(FAULT_SLOTS),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let kind = match a.device_type {
            wgpu::DeviceType::DiscreteGpu => AcceleratorKind::DiscreteGpu,
            wgpu::DeviceType::IntegratedGpu => AcceleratorKind::IntegratedGpu,
            // A CPU-type adapter is a software implementation (lavapipe, WARP, SwiftShader).
            wgpu::DeviceType::VirtualGpu | wgpu::DeviceType::Cpu => AcceleratorKind::VirtualGpu,
            wgpu::DeviceType::Other => AcceleratorKind::Other,
        };
        let info = AcceleratorInfo {
            id: AcceleratorId {
                backend: BackendKind::Wgpu,
                index,
            },
            name: name.clone(),
            kind,
            vendor: vendor_name(a.vendor),
            // wgpu reports neither memory size nor compute units.
            memory_bytes: 0,
            compute_units: 0,
            versions: vec![
                ("api".into(), a.backend.to_string()),
                (
                    "driver".into(),
                    format!("{} {}", a.driver, a.driver_info).trim().to_string(),
                ),
                (
                    "64-bit integers".into(),
                    match (pairs, native_int64) {
                        (false, _) => "native".into(),
                        (true, true) => "pairs of 32-bit words, as asked (no f64, no 64-bit atomics, under 2^32 work items per launch)".into(),
                        (true, false) => "pairs of 32-bit words: the adapter has none (no f64, no 64-bit atomics, under 2^32 work items per launch)".into(),
                    },
                ),
                (
                    "division and sqrt".into(),
                    if correct_rounding {
                        "correctly rounded helpers (the driver's are not exact)".into()
                    } else {
                        "the driver's (correctly rounded)".into()
                    },
                ),
                (
                    "kernels".into(),
                    if exact_spirv {
                        "SPIR-V with exact float operations".into()
                    } else {
                        "WGSL, float results hidden from the driver's optimiser (it cannot be told that they are exact)".into()
                    },
                ),
            ],
            capabilities: Capabilities {
                f64: features.contains(wgpu::Features::SHADER_F64),
                // Native or as pairs of words.
                int64: true,
                int64_emulated: pairs,
                atomics: true,
                atomics64: features.contains(wgpu::Features::SHADER_INT64_ATOMIC_ALL_OPS),
                float_atomics: true,
                f64_device_math: false,
                shared_memory_bytes: u64::from(limits.max_compute_workgroup_storage_size),
                // A cooperative kernel's pipeline is made for the launch's group size.
                cooperative: true,
                max_group_size: limits.max_compute_invocations_per_workgroup,
                // The largest size the driver may pick: groups of a multiple of it hold
                // whole subgroups whatever it picks.
                subgroup_size: if features.contains(wgpu::Features::SUBGROUP) {
                    a.subgroup_max_size
                } else {
                    0
                },
                max_buffer_bytes: limits
                    .max_storage_buffer_binding_size
                    .min(limits.max_buffer_size),
                simd: None,
                device_timing: features.contains(wgpu::Features::TIMESTAMP_QUERY),
            },
        };
        let pool = buffer_pool(device.clone(), name);
        let timestamps = TimestampQueries::new(&device, &queue);
        let timestamp_readback = timestamps
            .as_ref()
            .map(|_| TimestampQueries::readback(&device));
        let launches = LaunchTracker::new(&info, FAULT_SLOTS, fault_stride as usize);
        let shared = Arc::new(Shared {
            device,
            queue,
            limits,
            info,
            pool,
            fault,
            fault_stride,
            fault_readback,
            timestamps,
            timestamp_readback,
            launches,
            lost,
            exact_spirv,
            correct_rounding,
            simulate_inexact_driver,
            int64: !pairs,
            // Mesa's llvmpipe (lavapipe on Vulkan, llvmpipe on GL) leaves loops after 65,535
            // iterations per work item.
            loop_limit: a.name.contains("llvmpipe"),
        });
        let collector: Weak<dyn LaunchCollector> = Arc::downgrade(&shared) as Weak<Shared>;
        shared.launches.set_collector(collector);
        Ok(WgpuDevice { shared })
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

impl Device for WgpuDevice {
    fn info(&self) -> &AcceleratorInfo {
        &self.shared.info
    }

    fn compile(&self, kernel: &'static KernelDefinition) -> Result<Arc<dyn CompiledKernel>, Error> {
        Ok(Arc::new(WgpuKernel::compile(self.shared.clone(), kernel)?))
    }

    fn synchronize(&self) -> Result<(), Error> {
        self.shared.synchronize()
    }

    fn memory_space(&self) -> MemorySpace {
        MemorySpace::Device
    }

    fn allocate(&self, bytes: usize) -> Result<Box<dyn DeviceMemory>, Error> {
        self.shared.check_lost()?;
        Ok(Box::new(WgpuMemory::new(
            self.shared.clone(),
            bytes as u64,
        )?))
    }

    fn memory_statistics(&self) -> Option<dotcompute_core::pool::PoolStatistics> {
        Some(self.shared.pool.statistics())
    }
}
