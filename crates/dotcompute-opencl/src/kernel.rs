//! Kernels built for an OpenCL device: OpenCL C from the IR, a program built for the device,
//! and launches with the parameter block passed by value.

use crate::device::{LaunchTiming, Shared};
use crate::memory::OpenClMemory;
use dotcompute_core::backend::{CompiledKernel, LaunchArg, LaunchError, device_buffers};
use dotcompute_core::launch_tracker::TrackedLaunch;
use dotcompute_core::{
    DeviceTimeCounters, DeviceTimes, Error, Grid, KernelDefinition, KernelFault, ParameterBlock,
};
use dotcompute_ir::ParamKind;
use dotcompute_ir::emit::abi::ParamsLayout;
use opencl3::device::Device;
use opencl3::error_codes::ClError;
use opencl3::event::Event;
use opencl3::kernel::Kernel;
use opencl3::memory::ClMem;
use opencl3::program::Program;
use opencl3::types::cl_mem;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Work items per group of an ordinary kernel, at most (fewer where the kernel allows
/// fewer).
const ORDINARY_GROUP: usize = 256;

/// The work-group size the backend launches an ordinary (not cooperative) `kernel` with on
/// `device`: a multiple of the kernel's preferred granule (the device's SIMD width or warp)
/// up to 256, within what the kernel and the device allow. Public so that a program calling
/// OpenCL itself (the launch benchmark's peer) launches the same way.
///
/// # Errors
///
/// When the kernel's work-group sizes cannot be queried.
pub fn ordinary_group_size(kernel: &Kernel, device: &Device) -> Result<usize, ClError> {
    let max = kernel.get_work_group_size(device.id())?.max(1);
    let granule = kernel
        .get_work_group_size_multiple(device.id())
        .unwrap_or(1)
        .max(1);
    let along_x = device
        .max_work_item_sizes()
        .ok()
        .and_then(|sizes| sizes.first().copied())
        .unwrap_or(usize::MAX);
    let limit = max.min(ORDINARY_GROUP).min(along_x).max(1);
    Ok(if granule <= limit {
        limit / granule * granule
    } else {
        limit
    })
}

/// A kernel object and the buffers its arguments hold: OpenCL keeps argument values from one
/// launch to the next, so a buffer already bound is not set again (setting an argument costs
/// about as much as enqueueing the launch on PoCL).
struct BoundKernel {
    kernel: Kernel,
    /// The buffers bound, by their serial numbers (0: none, or unknown after a failed set):
    /// a handle's address may be reused by a new buffer object, which must be set again
    /// (drivers may resolve the address when the argument is set).
    buffers: Vec<u64>,
}

pub(crate) struct OpenClKernel {
    shared: Arc<Shared>,
    def: &'static KernelDefinition,
    params: ParamsLayout,
    traps: Arc<Vec<String>>,
    /// Arguments are set and the kernel enqueued under this lock (an OpenCL kernel object's
    /// arguments are shared state).
    kernel: Mutex<BoundKernel>,
    /// Keeps the program alive while the kernel is in use.
    _program: Program,
    /// Most work items per group this kernel allows on the device.
    max_group: u64,
    /// Work items per group of an ordinary launch.
    group: u64,
    /// Buffer parameters: the kernel's arguments after the block and the fault record.
    buffers: usize,
    cooperative: bool,
    device_times: Arc<DeviceTimeCounters>,
}

impl OpenClKernel {
    pub(crate) fn compile(
        shared: Arc<Shared>,
        def: &'static KernelDefinition,
    ) -> Result<OpenClKernel, Error> {
        let (emitted, program, kernel) = shared.compiler.program(def)?;
        let group_sizes = |e| shared.error("querying the kernel's work-group sizes", e);
        let max_group = kernel
            .get_work_group_size(shared.device.device.id())
            .map_err(group_sizes)?
            .max(1);
        let group = ordinary_group_size(&kernel, &shared.device.device).map_err(group_sizes)?;
        // The arguments: the block by value, then one pointer for the fault record and each
        // buffer (at most 8 bytes each); the device bounds their total.
        let buffers = def
            .params()
            .iter()
            .filter(|p| matches!(p.kind, ParamKind::Buffer { .. }))
            .count();
        let argument_bytes = u64::from(emitted.params.size) + 8 * (1 + buffers as u64);
        if argument_bytes > shared.max_parameter_bytes {
            return Err(Error::Unsupported {
                kernel: def.name().to_string(),
                need: format!(
                    "{argument_bytes} bytes of kernel arguments ({} parameters)",
                    def.params().len()
                ),
                accelerator: format!(
                    "{} (at most {} bytes)",
                    shared.info, shared.max_parameter_bytes
                ),
            });
        }
        // SAFETY: argument 1 is the fault record array, a buffer object of this context that
        // the device keeps as long as the kernel; set once, as every launch finds its own
        // record through the parameter block.
        unsafe { kernel.set_arg(1, &shared.fault.get()) }
            .map_err(|e| shared.error("binding the fault records", e))?;
        let arguments = kernel
            .num_args()
            .map_err(|e| shared.error("counting the kernel's arguments", e))?;
        if arguments as usize != 2 + buffers {
            return Err(shared.error(
                &format!("checking kernel `{}`", def.name()),
                ClError(opencl3::error_codes::CL_INVALID_KERNEL_ARGS),
            ));
        }
        tracing::debug!(kernel = def.name(), group, max_group, "OpenCL kernel built");
        Ok(OpenClKernel {
            cooperative: def.ir()?.is_cooperative(),
            params: emitted.params.clone(),
            traps: Arc::new(emitted.traps.clone()),
            shared,
            def,
            kernel: Mutex::new(BoundKernel {
                kernel,
                buffers: vec![0; buffers],
            }),
            _program: program,
            max_group: max_group as u64,
            group: group as u64,
            buffers,
            device_times: Arc::default(),
        })
    }

    /// The global and local sizes of a launch over `grid`, and how many dimensions they use.
    fn ranges(&self, grid: &Grid, work_items: u64) -> Result<([usize; 3], [usize; 3], u32), Error> {
        let invalid = |reason: String| Error::InvalidGrid {
            grid: grid.to_string(),
            reason,
        };
        let size = |v: Option<u64>| {
            v.and_then(|v| usize::try_from(v).ok()).ok_or_else(|| {
                invalid("its work items along one axis exceed this host's size_t".into())
            })
        };
        if !self.cooperative {
            let global = work_items.div_ceil(self.group).checked_mul(self.group);
            return Ok(([size(global)?, 1, 1], [self.group as usize, 1, 1], 1));
        }
        let group = grid.group_size_or_default();
        let max = self.shared.max_work_item_sizes;
        let items: u64 = group.iter().product();
        if (0..3).any(|i| group[i] > max[i]) || items > self.max_group {
            return Err(invalid(format!(
                "groups of {group:?} work items; `{}` cooperates within groups, and {} runs it in groups of at most {} items and {max:?} along x, y, z",
                self.def.name(),
                self.shared.info.name,
                self.max_group
            )));
        }
        let dims = grid.dims();
        let mut global = [0usize; 3];
        let mut local = [0usize; 3];
        for i in 0..3 {
            global[i] = size(dims[i].div_ceil(group[i]).checked_mul(group[i]))?;
            local[i] = size(Some(group[i]))?;
        }
        Ok((global, local, 3))
    }
}

impl CompiledKernel for OpenClKernel {
    unsafe fn launch(
        &self,
        grid: &Grid,
        work_items: u64,
        args: &[LaunchArg<'_>],
        tracked: Option<&Arc<TrackedLaunch>>,
    ) -> Result<(), LaunchError> {
        let shared = &self.shared;
        let (global, local, dims) = self.ranges(grid, work_items).map_err(LaunchError::Failed)?;
        let mut params = ParameterBlock::new(self.params.size, grid, work_items, args);
        let buffers: Vec<(cl_mem, u64)> = device_buffers::<OpenClMemory>(args)?
            .iter()
            .map(|b| {
                let block = b.memory.block.block();
                (block.buffer.get(), block.serial)
            })
            .collect();
        // Every buffer argument must be this launch's: OpenCL keeps the previous launch's
        // values (possibly freed buffers) for any left unset.
        if buffers.len() != self.buffers {
            return Err(KernelFault::ArgumentMismatch {
                param: args.len() as u32,
            }
            .into());
        }
        let tracked = tracked.ok_or_else(|| {
            LaunchError::Failed(Error::Backend {
                backend: "opencl".into(),
                message: "a launch on an OpenCL device must be tracked".into(),
                source: None,
            })
        })?;
        let timing = shared.timing().then(|| LaunchTiming {
            event: OnceLock::new(),
            counters: self.device_times.clone(),
        });
        let registration = shared
            .launches
            .register(
                tracked,
                self.def,
                params.buffer_lens().to_vec(),
                self.traps.clone(),
                timing,
                || shared.collect(),
            )
            .map_err(LaunchError::Failed)?;
        params.set_launch_id(registration.id());
        params.set_fault_offset(Shared::fault_offset(registration.slot()));

        let mut bound = self.kernel.lock().unwrap_or_else(PoisonError::into_inner);
        let BoundKernel {
            kernel,
            buffers: held,
        } = &mut *bound;
        let block = params.bytes();
        // SAFETY: the kernel takes (dc_params by value, the fault record array, one buffer
        // per buffer parameter in order): the block is the kernel's whole `dc_params` (its
        // layout size), copied by the call; the buffers are buffer objects of this context, of
        // at least the lengths in the block (a buffer whose serial the kernel holds was set
        // as this very object, which this launch keeps alive). Values are captured when the
        // kernel is enqueued, under the same lock.
        let enqueued = unsafe {
            let mut set = opencl3::kernel::set_kernel_arg(
                kernel.get(),
                0,
                block.len(),
                block.as_ptr().cast(),
            );
            for (i, (buffer, held)) in buffers.iter().zip(held.iter_mut()).enumerate() {
                let (handle, serial) = *buffer;
                if set.is_ok() && serial != *held {
                    set = kernel.set_arg(2 + i as u32, &handle).map_err(|e| e.0);
                    // Unknown after a failure: set it again next time.
                    *held = if set.is_ok() { serial } else { 0 };
                }
            }
            set.map_err(ClError).and_then(|()| {
                shared.queue.enqueue_nd_range_kernel(
                    kernel.get(),
                    dims,
                    std::ptr::null(),
                    global.as_ptr(),
                    local.as_ptr(),
                    &[],
                )
            })
        };
        drop(bound);
        let event = match enqueued {
            Ok(event) => event,
            Err(e) => {
                // Nothing was enqueued: the launch cannot write its fault record.
                drop(registration);
                return Err(LaunchError::Failed(
                    shared.error(&format!("launching kernel `{}`", self.def.name()), e),
                ));
            }
        };
        if let Some(Some(timing)) = registration.extra() {
            let _ = timing.event.set(event);
        } else {
            drop::<Event>(event);
        }
        registration.submitted();
        // Start the work now rather than at the next wait.
        if let Err(e) = shared.queue.flush() {
            tracing::warn!(kernel = self.def.name(), "flushing the queue: {e}");
        }
        tracing::trace!(
            kernel = self.def.name(),
            work_items,
            ?global,
            ?local,
            "OpenCL launch enqueued"
        );
        Ok(())
    }

    fn device_times(&self) -> Option<DeviceTimes> {
        self.shared.timing().then(|| self.device_times.snapshot())
    }
}
