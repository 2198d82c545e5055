//! A wgpu adapter as an accelerator: its device and queue, memory pool, and the fault record
//! that kernels write when they fault.

use crate::error::WgpuError;
use crate::kernel::WgpuKernel;
use crate::memory::WgpuMemory;
use crate::pool::{BufferPool, buffer_pool};
use crate::timing::TimestampQueries;
use dotcompute_core::DeviceTimeCounters;
use dotcompute_core::backend::{CompiledKernel, Device, DeviceMemory, MemorySpace};
use dotcompute_core::{
    AcceleratorId, AcceleratorInfo, AcceleratorKind, BackendKind, Capabilities, Error,
    KernelDefinition, LaunchInfo, error_from_fault_record,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The features DotCompute uses when the adapter has them.
pub(crate) const WANTED_FEATURES: wgpu::Features = wgpu::Features::SHADER_INT64
    .union(wgpu::Features::SHADER_F64)
    .union(wgpu::Features::SHADER_INT64_ATOMIC_ALL_OPS)
    .union(wgpu::Features::SHADER_INT64_ATOMIC_MIN_MAX)
    .union(wgpu::Features::TIMESTAMP_QUERY);

/// Bytes of the fault record (`array<atomic<u32>, 8>`).
const FAULT_BYTES: u64 = 32;

/// A launch submitted since the last synchronisation, for naming a fault it reports.
pub(crate) struct PendingLaunch {
    pub(crate) kernel: &'static KernelDefinition,
    pub(crate) buffer_lens: Vec<u64>,
    pub(crate) traps: Arc<Vec<String>>,
    /// Where the launch's device time goes; set by `register_launch` when a timestamp slot
    /// was free.
    pub(crate) timing: Option<(u32, Arc<DeviceTimeCounters>)>,
}

/// What the device's kernels, memory and synchronisation share.
pub(crate) struct Shared {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) limits: wgpu::Limits,
    pub(crate) info: AcceleratorInfo,
    pub(crate) pool: BufferPool,
    /// The record kernels write their first fault into (code, param, index lo/hi, launch id).
    pub(crate) fault: wgpu::Buffer,
    fault_readback: wgpu::Buffer,
    /// Kernel timestamps, where the device has them.
    pub(crate) timestamps: Option<TimestampQueries>,
    timestamp_readback: Option<wgpu::Buffer>,
    /// Launches since the last synchronisation. Held from a launch's registration to its
    /// submission, and from a synchronisation's taking of the list to the submission of its
    /// readback, so that every launch taken has been submitted before the readback, and
    /// every launch not taken is submitted after it.
    pending: Mutex<Pending>,
    next_launch: AtomicU32,
    lost: Arc<Mutex<Option<String>>>,
    sync_lock: Mutex<()>,
}

/// Launches since the last synchronisation, and the next free timestamp slot.
#[derive(Default)]
pub(crate) struct Pending {
    launches: HashMap<u32, PendingLaunch>,
    next_slot: u32,
}

/// A launch registered and not yet submitted: holds the submission lock.
pub(crate) struct Registration<'a> {
    pending: MutexGuard<'a, Pending>,
    /// The launch's id (in the fault record).
    pub(crate) id: u32,
    /// Its timestamp slot, when it is timed.
    pub(crate) slot: Option<u32>,
}

impl Registration<'_> {
    /// The launch was not submitted after all: forget it.
    pub(crate) fn cancel(mut self) {
        self.pending.launches.remove(&self.id);
    }
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

    /// Records a launch about to be submitted. The returned registration holds the
    /// submission lock: submit the launch's work, then drop it (or `cancel` it).
    pub(crate) fn register_launch(
        &self,
        mut launch: PendingLaunch,
        counters: &Arc<DeviceTimeCounters>,
    ) -> Registration<'_> {
        let id = self.next_launch.fetch_add(1, Ordering::Relaxed);
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        // Slots are numbered from 0 after each synchronisation, in launch order; a cancelled
        // launch leaves its slot unwritten, which reads as no interval.
        let slot = (self.timestamps.is_some() && TimestampQueries::has_slot(pending.next_slot))
            .then_some(pending.next_slot);
        if let Some(s) = slot {
            pending.next_slot = s + 1;
        }
        launch.timing = slot.map(|s| (s, counters.clone()));
        pending.launches.insert(id, launch);
        Registration { pending, id, slot }
    }

    /// Waits for all submitted work, then reads the fault record: the first fault of a
    /// kernel launched since the last synchronisation becomes the error.
    pub(crate) fn synchronize(&self) -> Result<(), Error> {
        let _serial = self
            .sync_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.check_lost()?;
        let (launches, timed, index) = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            let taken = std::mem::take(&mut *pending);
            if taken.launches.is_empty() {
                drop(pending);
                self.wait(None)?;
                return Ok(());
            }
            // Copy the record out and clear it in one submission, ordered after every launch
            // taken and before every later one.
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("dotcompute fault readback"),
                });
            encoder.copy_buffer_to_buffer(&self.fault, 0, &self.fault_readback, 0, FAULT_BYTES);
            encoder.clear_buffer(&self.fault, 0, None);
            if let (Some(queries), Some(readback)) = (&self.timestamps, &self.timestamp_readback)
                && taken.next_slot > 0
            {
                queries.resolve(&mut encoder, taken.next_slot, readback);
            }
            let index = self.queue.submit([encoder.finish()]);
            (taken.launches, taken.next_slot, index)
        };
        let words = self.read_mapped(&self.fault_readback, index.clone())?;
        if let (Some(queries), Some(readback)) = (&self.timestamps, &self.timestamp_readback)
            && timed > 0
        {
            // Timing is a statistic: failing to read it must not hide a fault.
            match self.read_mapped(readback, index) {
                Ok(ticks) => {
                    for launch in launches.values() {
                        if let Some((slot, counters)) = &launch.timing
                            && let Some(elapsed) = queries.duration(&ticks, *slot)
                        {
                            counters.record(elapsed);
                        }
                    }
                }
                Err(e) => tracing::warn!("kernel timestamps not read: {e}"),
            }
        }
        let record: Vec<u32> = words
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
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

    /// Waits for a submission (or all work).
    pub(crate) fn wait(&self, index: Option<wgpu::SubmissionIndex>) -> Result<(), WgpuError> {
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: index,
                timeout: None,
            })
            .map(|_| ())
            .map_err(|e| WgpuError::Wait {
                adapter: self.adapter_name(),
                reason: e.to_string(),
            })
    }

    /// Maps a readback buffer after submission `index` and copies its bytes out.
    pub(crate) fn read_mapped(
        &self,
        buffer: &wgpu::Buffer,
        index: wgpu::SubmissionIndex,
    ) -> Result<Vec<u8>, WgpuError> {
        let (tx, rx) = std::sync::mpsc::channel();
        buffer.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait(Some(index))?;
        let failed = |reason: String| WgpuError::Wait {
            adapter: self.adapter_name(),
            reason,
        };
        rx.recv()
            .map_err(|e| failed(e.to_string()))?
            .map_err(|e| failed(e.to_string()))?;
        let bytes = buffer
            .slice(..)
            .get_mapped_range()
            .map_err(|e| failed(e.to_string()))?
            .to_vec();
        buffer.unmap();
        Ok(bytes)
    }
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
    pub fn open(adapter: &wgpu::Adapter, index: u32) -> Result<WgpuDevice, WgpuError> {
        let a = adapter.get_info();
        let features = adapter.features() & WANTED_FEATURES;
        let limits = adapter.limits();
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
        let fault = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("dotcompute fault record"),
            size: FAULT_BYTES,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let fault_readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("dotcompute fault readback"),
            size: FAULT_BYTES,
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
            ],
            capabilities: Capabilities {
                f64: features.contains(wgpu::Features::SHADER_F64),
                int64: features.contains(wgpu::Features::SHADER_INT64),
                atomics: true,
                atomics64: features.contains(wgpu::Features::SHADER_INT64_ATOMIC_ALL_OPS),
                float_atomics: true,
                shared_memory_bytes: u64::from(limits.max_compute_workgroup_storage_size),
                max_group_size: limits.max_compute_invocations_per_workgroup,
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
        Ok(WgpuDevice {
            shared: Arc::new(Shared {
                device,
                queue,
                limits,
                info,
                pool,
                fault,
                fault_readback,
                timestamps,
                timestamp_readback,
                pending: Mutex::new(Pending::default()),
                next_launch: AtomicU32::new(1),
                lost,
                sync_lock: Mutex::new(()),
            }),
        })
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
