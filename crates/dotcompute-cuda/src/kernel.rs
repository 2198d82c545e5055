//! Kernels compiled for a GPU: CUDA C++ from the IR, a CUBIN for the device's architecture
//! (from the caches or NVRTC), a loaded module, and launches with the parameter block.

use crate::cache;
use crate::device::{Events, Shared};
use cudarc::driver::result as cu;
use cudarc::driver::{CudaFunction, CudaModule};
use cudarc::nvrtc::Ptx;
use dotcompute_core::backend::{CompiledKernel, LaunchArg, LaunchError, device_buffers};
use dotcompute_core::launch_tracker::TrackedLaunch;
use dotcompute_core::{
    DeviceTimeCounters, DeviceTimes, Error, Grid, KernelDefinition, ParameterBlock,
};
use dotcompute_ir::emit::abi::ParamsLayout;
use dotcompute_ir::emit::cuda::ENTRY_POINT;
use std::ffi::c_void;
use std::sync::Arc;

/// The largest grid x dimension the driver accepts.
const MAX_GRID_X: u64 = (1 << 31) - 1;
/// The largest grid y dimension.
const MAX_GRID_Y: u64 = 65_535;
/// The largest block along x, y and z (the product is bounded by the device's threads per
/// block, which the core checks).
const MAX_BLOCK: [u64; 3] = [1024, 1024, 64];

pub(crate) struct CudaKernel {
    shared: Arc<Shared>,
    def: &'static KernelDefinition,
    params: ParamsLayout,
    traps: Arc<Vec<String>>,
    function: CudaFunction,
    /// Keeps the module loaded while the function is in use.
    _module: Arc<CudaModule>,
    /// Threads per block of an ordinary kernel (a cooperative kernel's blocks are its
    /// groups).
    block_size: u32,
    cooperative: bool,
    device_times: Arc<DeviceTimeCounters>,
}

impl CudaKernel {
    pub(crate) fn compile(
        shared: Arc<Shared>,
        def: &'static KernelDefinition,
    ) -> Result<CudaKernel, Error> {
        let context = &shared.context;
        context.bind()?;
        let (program, cubin) = cache::cubin(def, shared.arch)?;
        let module = match context
            .ctx
            .load_module(Ptx::from_binary(cubin.as_ref().clone()))
        {
            Ok(m) => m,
            Err(first) => {
                // A cached CUBIN the driver rejects (damaged, or from another toolchain):
                // forget it and compile once more.
                tracing::warn!(
                    kernel = def.name(),
                    "cached CUBIN rejected ({first:?}); recompiling"
                );
                cache::evict(def, shared.arch);
                let (_, fresh) = cache::cubin(def, shared.arch)?;
                context
                    .ctx
                    .load_module(Ptx::from_binary(fresh.as_ref().clone()))
                    .map_err(|e| {
                        context.driver_error(&format!("loading kernel `{}`", def.name()), e)
                    })?
            }
        };
        let function = module
            .load_function(ENTRY_POINT)
            .map_err(|e| context.driver_error(&format!("loading kernel `{}`", def.name()), e))?;
        // The block size with the best occupancy for this kernel's registers.
        // SAFETY: the function was just loaded in the bound context; no dynamic shared memory.
        let (_, block) =
            unsafe { cu::occupancy::max_potential_block_size(function.cu_function(), None, 0, 0) }
                .map_err(|e| context.driver_error("querying occupancy", e))?;
        let block_size = u32::try_from(block).unwrap_or(256).clamp(32, 1024);
        tracing::debug!(kernel = def.name(), block_size, "CUDA kernel loaded");
        Ok(CudaKernel {
            cooperative: def.ir()?.is_cooperative(),
            params: program.params.clone(),
            traps: Arc::new(program.traps.clone()),
            shared,
            def,
            function,
            _module: module,
            block_size,
            device_times: Arc::default(),
        })
    }
}

impl CompiledKernel for CudaKernel {
    unsafe fn launch(
        &self,
        grid: &Grid,
        work_items: u64,
        args: &[LaunchArg<'_>],
        tracked: Option<&Arc<TrackedLaunch>>,
    ) -> Result<(), LaunchError> {
        let context = &self.shared.context;
        context.bind().map_err(LaunchError::Failed)?;
        let (block_dims, blocks) = if self.cooperative {
            let group = grid.group_size_or_default();
            if (0..3).any(|i| group[i] > MAX_BLOCK[i]) {
                return Err(LaunchError::Failed(Error::InvalidGrid {
                    grid: grid.to_string(),
                    reason: format!(
                        "groups of {group:?} work items; `{}` cooperates within groups, and CUDA blocks are at most {MAX_BLOCK:?}",
                        self.def.name()
                    ),
                }));
            }
            let dims = grid.dims();
            let blocks: u64 = (0..3).map(|i| dims[i].div_ceil(group[i])).product();
            // Each dimension at most 1024: checked above.
            ((group[0] as u32, group[1] as u32, group[2] as u32), blocks)
        } else {
            let block = u64::from(self.block_size);
            ((self.block_size, 1, 1), work_items.div_ceil(block))
        };
        let block = u64::from(block_dims.0) * u64::from(block_dims.1) * u64::from(block_dims.2);
        let nx = blocks.min(MAX_GRID_X);
        let ny = blocks.div_ceil(nx.max(1));
        if ny > MAX_GRID_Y {
            return Err(LaunchError::Failed(Error::InvalidGrid {
                grid: grid.to_string(),
                reason: format!(
                    "a CUDA launch runs at most {} work items",
                    MAX_GRID_X.saturating_mul(MAX_GRID_Y).saturating_mul(block)
                ),
            }));
        }

        // The parameter block, and one pointer per kernel parameter (null for scalars),
        // after the block and the fault record.
        let mut params = ParameterBlock::new(self.params.size, grid, work_items, args);
        let mut pointers = vec![0u64; args.len()];
        for b in device_buffers::<crate::memory::CudaMemory>(args)? {
            pointers[b.param] = *b.memory.block.block();
        }
        let timing = if self.shared.timing() {
            Events::new()
                .map_err(|e| LaunchError::Failed(context.driver_error("creating events", e)))?
                .into()
        } else {
            None
        };
        let tracked = tracked.ok_or_else(|| {
            LaunchError::Failed(Error::Backend {
                backend: "cuda".into(),
                message: "a launch on a CUDA device must be tracked".into(),
                source: None,
            })
        })?;
        let registration = self
            .shared
            .launches
            .register(
                tracked,
                self.def,
                params.buffer_lens().to_vec(),
                self.traps.clone(),
                timing.map(|events| (events, self.device_times.clone())),
                || self.shared.collect(),
            )
            .map_err(LaunchError::Failed)?;
        params.set_launch_id(registration.id());

        let mut fault = self.shared.fault_record(registration.slot());
        let mut kernel_params: Vec<*mut c_void> = Vec::with_capacity(2 + pointers.len());
        kernel_params.push(params.slots_mut().as_mut_ptr().cast());
        kernel_params.push((&raw mut fault).cast());
        for p in pointers.iter_mut() {
            kernel_params.push((p as *mut u64).cast());
        }
        let stream = context.stream.cu_stream();
        let events = registration
            .extra()
            .and_then(Option::as_ref)
            .map(|(e, _)| (e.start, e.end));
        // SAFETY: the context is bound; the function takes (dc_params by value, a fault
        // pointer, one pointer per parameter), and `kernel_params` points at exactly those
        // values (the block holds the kernel's whole `dc_params`), all alive until the call
        // returns (the driver copies them). Buffers are device blocks of at least the
        // lengths in the block, and the events belong to this context.
        let enqueued = unsafe {
            events
                .map_or(Ok(()), |(start, _)| cu::event::record(start, stream))
                .and_then(|()| {
                    cu::launch_kernel(
                        self.function.cu_function(),
                        (nx as u32, ny as u32, 1),
                        block_dims,
                        0,
                        stream,
                        &mut kernel_params,
                    )
                })
        };
        if let Err(e) = enqueued {
            // Nothing was enqueued: the launch cannot write its fault record.
            drop(registration);
            return Err(LaunchError::Failed(context.driver_error(
                &format!("launching kernel `{}`", self.def.name()),
                e,
            )));
        }
        // The kernel is queued and may write its record whatever happens now: it stays
        // registered. A missing end event only costs its timing.
        if let Some((_, end)) = events {
            // SAFETY: the event belongs to this context, which is bound.
            if let Err(e) = unsafe { cu::event::record(end, stream) } {
                tracing::warn!(kernel = self.def.name(), "kernel not timed: {e:?}");
            }
        }
        registration.submitted();
        tracing::trace!(
            kernel = self.def.name(),
            work_items,
            nx,
            ny,
            "CUDA launch enqueued"
        );
        Ok(())
    }

    fn device_times(&self) -> Option<DeviceTimes> {
        self.shared.timing().then(|| self.device_times.snapshot())
    }
}
