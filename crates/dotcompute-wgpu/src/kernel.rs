//! Kernels compiled for a wgpu device: WGSL from the IR, one compute pipeline per kernel, or,
//! for a cooperative kernel, one per group size it is launched with (its workgroups are its
//! groups).

use crate::device::Shared;
use crate::error::{WgpuError, capture};
use crate::memory::WgpuMemory;
use crate::timing::TimestampQueries;
use dotcompute_core::DeviceTimeCounters;
use dotcompute_core::backend::{CompiledKernel, LaunchArg, LaunchError, device_buffers};
use dotcompute_core::launch_tracker::TrackedLaunch;
use dotcompute_core::{Error, Grid, KernelDefinition, ParameterBlock};
use dotcompute_ir::emit::wgsl::{self, WgslOptions, WgslProgram};
use dotcompute_ir::{Access, ParamKind};
use std::num::NonZeroU64;
use std::sync::{Arc, Mutex, PoisonError};
use wgpu::util::DeviceExt;

/// Bytes of a launch's fault record (eight `u32`s).
const FAULT_RECORD_BYTES: u64 = 32;

/// Invocations per workgroup (clamped to the device's limit).
const WORKGROUP_SIZE: u32 = 256;

pub(crate) struct WgpuKernel {
    shared: Arc<Shared>,
    def: &'static KernelDefinition,
    traps: Arc<Vec<String>>,
    /// An ordinary kernel's pipeline (none for a cooperative kernel).
    pipeline: Option<Arc<Pipeline>>,
    /// A cooperative kernel's pipelines, one per group size, made when a launch first uses
    /// it.
    group_pipelines: Mutex<Vec<([u32; 3], Arc<Pipeline>)>>,
    device_times: Arc<DeviceTimeCounters>,
}

/// A compiled module and its pipeline.
struct Pipeline {
    program: WgslProgram,
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

/// A compute-visible storage buffer binding.
pub(crate) fn storage_entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

impl WgpuKernel {
    pub(crate) fn compile(
        shared: Arc<Shared>,
        def: &'static KernelDefinition,
    ) -> Result<WgpuKernel, Error> {
        shared.check_lost()?;
        let ir = def.ir()?;
        let cooperative = ir.is_cooperative();
        let workgroup = [
            WORKGROUP_SIZE
                .min(shared.limits.max_compute_workgroup_size_x)
                .min(shared.limits.max_compute_invocations_per_workgroup)
                .max(1),
            1,
            1,
        ];
        let (traps, pipeline) = if cooperative {
            // Pipelines wait for a group size; the panic messages do not depend on it.
            let program = wgsl::emit(ir, &Self::options(&shared, workgroup));
            (program.traps, None)
        } else {
            let pipeline = Self::pipeline(&shared, def, workgroup)?;
            (pipeline.program.traps.clone(), Some(Arc::new(pipeline)))
        };
        Ok(WgpuKernel {
            traps: Arc::new(traps),
            shared,
            def,
            pipeline,
            group_pipelines: Mutex::new(Vec::new()),
            device_times: Arc::default(),
        })
    }

    fn options(shared: &Shared, workgroup_size: [u32; 3]) -> WgslOptions {
        WgslOptions {
            workgroup_size,
            correct_rounding: shared.correct_rounding,
            simulate_inexact_driver: shared.simulate_inexact_driver,
            device_f64: shared.info.capabilities.f64,
            int64: shared.int64,
            loop_limit_check: shared.loop_limit,
            // Without SPIR-V's `NoContraction` nothing else stops the driver from rewriting
            // float arithmetic.
            opaque_float_results: !shared.exact_spirv,
        }
    }

    /// The pipeline for workgroups of `workgroup` invocations: the cached one, or a new one.
    fn pipeline_for(&self, workgroup: [u32; 3]) -> Result<Arc<Pipeline>, Error> {
        let mut pipelines = self
            .group_pipelines
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, p)) = pipelines.iter().find(|(w, _)| *w == workgroup) {
            return Ok(p.clone());
        }
        let p = Arc::new(Self::pipeline(&self.shared, self.def, workgroup)?);
        pipelines.push((workgroup, p.clone()));
        Ok(p)
    }

    fn pipeline(
        shared: &Shared,
        def: &'static KernelDefinition,
        workgroup: [u32; 3],
    ) -> Result<Pipeline, Error> {
        let ir = def.ir()?;
        let program = wgsl::emit(ir, &Self::options(shared, workgroup));
        let device = &shared.device;
        let started = std::time::Instant::now();
        // Validation, out-of-memory and internal (driver compiler) errors all fail the
        // compilation, so that a broken pipeline is never cached.
        let spirv = if shared.exact_spirv {
            let words = crate::spirv::exact_spirv(&program.source, ir.uses_subgroups()).map_err(
                |reason| WgpuError::Device {
                    what: format!("translating kernel `{}` to SPIR-V", def.name()),
                    adapter: shared.adapter_name(),
                    reason,
                },
            )?;
            Some(words)
        } else {
            None
        };
        let translated = started.elapsed();
        let ((layout, pipeline), error) = capture(device, || {
            let module = shader_module(
                device,
                def.name(),
                &program.source,
                spirv.as_deref(),
                program.workgroup_size,
            );
            let mut entries = vec![
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                storage_entry(1, false),
            ];
            for (i, binding) in wgsl::buffer_bindings(ir) {
                if let ParamKind::Buffer { access, .. } = ir.params[i].kind {
                    entries.push(storage_entry(binding, access == Access::Read));
                }
            }
            let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(def.name()),
                entries: &entries,
            });
            let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(def.name()),
                bind_group_layouts: &[Some(&layout)],
                immediate_size: 0,
            });
            let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(def.name()),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some("main"),
                // The kernels zero their shared arrays themselves (see `exact_spirv`).
                compilation_options: wgpu::PipelineCompilationOptions {
                    zero_initialize_workgroup_memory: false,
                    ..Default::default()
                },
                cache: None,
            });
            (layout, pipeline)
        });
        if let Some(e) = error {
            return Err(WgpuError::Device {
                what: format!("compiling kernel `{}`", def.name()),
                adapter: shared.adapter_name(),
                reason: e.to_string(),
            }
            .into());
        }
        tracing::debug!(
            kernel = def.name(),
            bytes = program.source.len(),
            translate_ms = translated.as_secs_f64() * 1e3,
            total_ms = started.elapsed().as_secs_f64() * 1e3,
            "WGSL pipeline created"
        );
        Ok(Pipeline {
            program,
            pipeline,
            layout,
        })
    }

    /// The pipeline, workgroups along x and y, and invocations per workgroup of a launch.
    fn dispatch(&self, grid: &Grid, work_items: u64) -> Result<(Arc<Pipeline>, u64, u64), Error> {
        let limits = &self.shared.limits;
        let (pipeline, groups, wg) = if let Some(pipeline) = &self.pipeline {
            let wg = u64::from(pipeline.program.workgroup_size[0]);
            (pipeline.clone(), work_items.div_ceil(wg), wg)
        } else {
            let group = grid.group_size_or_default();
            let max = [
                limits.max_compute_workgroup_size_x,
                limits.max_compute_workgroup_size_y,
                limits.max_compute_workgroup_size_z,
            ];
            if (0..3).any(|i| group[i] > u64::from(max[i])) {
                return Err(Error::InvalidGrid {
                    grid: grid.to_string(),
                    reason: format!(
                        "groups of {group:?} work items; `{}` cooperates within groups, and `{}` runs groups of at most {max:?}",
                        self.def.name(),
                        self.shared.adapter_name()
                    ),
                });
            }
            // Each at most a device limit (a u32): checked above.
            let workgroup = group.map(|g| g as u32);
            let dims = grid.dims();
            let groups: u64 = (0..3).map(|i| dims[i].div_ceil(group[i])).product();
            (
                self.pipeline_for(workgroup)?,
                groups,
                group.iter().product(),
            )
        };
        // Workgroups: (nx, ny, 1), so that grids beyond the per-dimension limit fit. The
        // ordinary shader computes `id.y * groups.x * wg + id.x` from 32-bit builtins: keep
        // `groups.x * wg` within u32.
        let max_dim = u64::from(limits.max_compute_workgroups_per_dimension)
            .min(u64::from(u32::MAX) / wg)
            .max(1);
        let nx = groups.min(max_dim);
        let ny = groups.div_ceil(nx.max(1));
        if ny > max_dim {
            return Err(Error::InvalidGrid {
                grid: grid.to_string(),
                reason: format!(
                    "`{}` runs at most {} work items in one launch",
                    self.shared.adapter_name(),
                    max_dim.saturating_mul(max_dim).saturating_mul(wg)
                ),
            });
        }
        // Without 64-bit integers, ids and the linear invocation index are 32-bit words.
        if !self.shared.int64 && nx * ny * wg > 1 << 32 {
            return Err(Error::InvalidGrid {
                grid: grid.to_string(),
                reason: format!(
                    "`{}` has no 64-bit integers, so a launch runs fewer than 2^32 work items there, padding to whole groups included",
                    self.shared.adapter_name()
                ),
            });
        }
        Ok((pipeline, nx, ny))
    }
}

impl CompiledKernel for WgpuKernel {
    unsafe fn launch(
        &self,
        grid: &Grid,
        work_items: u64,
        args: &[LaunchArg<'_>],
        tracked: Option<&Arc<TrackedLaunch>>,
    ) -> Result<(), LaunchError> {
        let shared = &self.shared;
        let failed = |e: WgpuError| LaunchError::Failed(e.into());
        shared.check_lost().map_err(failed)?;

        let (pipeline, nx, ny) = self
            .dispatch(grid, work_items)
            .map_err(LaunchError::Failed)?;

        // The parameter block and the buffer bindings.
        let mut block = ParameterBlock::new(pipeline.program.params.size, grid, work_items, args);
        let mut buffers: Vec<(u32, &WgpuMemory, u64)> = Vec::new();
        for b in device_buffers::<WgpuMemory>(args)? {
            // Core refused buffers beyond the device's binding limit before any copy.
            // Bindings follow the buffer parameters in order (`wgsl::buffer_bindings`).
            let binding = 2 + buffers.len() as u32;
            buffers.push((binding, b.memory, b.len * b.elem.size_bytes() as u64));
        }
        let tracked = tracked.ok_or_else(|| {
            LaunchError::Failed(Error::Backend {
                backend: "wgpu".into(),
                message: "a launch on a wgpu device must be tracked".into(),
                source: None,
            })
        })?;
        let registration = shared
            .launches
            .register(
                tracked,
                self.def,
                block.buffer_lens().to_vec(),
                self.traps.clone(),
                self.device_times.clone(),
                || shared.collect(),
            )
            .map_err(LaunchError::Failed)?;
        block.set_launch_id(registration.id());
        let fault_offset = u64::from(registration.slot()) * shared.fault_stride;
        let timestamp_slot = Some(registration.position())
            .filter(|&p| shared.timestamps.is_some() && TimestampQueries::has_slot(p));

        let device = &shared.device;
        let ((), error) = capture(device, || {
            let params = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("dotcompute params"),
                contents: block.bytes(),
                usage: wgpu::BufferUsages::UNIFORM,
            });
            let mut entries = vec![
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: params.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &shared.fault,
                        offset: fault_offset,
                        size: NonZeroU64::new(FAULT_RECORD_BYTES),
                    }),
                },
            ];
            for (binding, memory, bytes) in &buffers {
                entries.push(wgpu::BindGroupEntry {
                    binding: *binding,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: memory.block.block(),
                        offset: 0,
                        // Bindings cannot be empty; the kernel sees the real length anyway.
                        size: NonZeroU64::new(bytes.div_ceil(4).max(1) * 4),
                    }),
                });
            }
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(self.def.name()),
                layout: &pipeline.layout,
                entries: &entries,
            });
            let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some(self.def.name()),
            });
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some(self.def.name()),
                    timestamp_writes: shared
                        .timestamps
                        .as_ref()
                        .zip(timestamp_slot)
                        .map(|(queries, slot)| queries.writes(slot)),
                });
                pass.set_pipeline(&pipeline.pipeline);
                pass.set_bind_group(0, &bind_group, &[]);
                // nx, ny <= the per-dimension limit, a u32.
                pass.dispatch_workgroups(nx as u32, ny as u32, 1);
            }
            shared.queue.submit([encoder.finish()]);
        });
        if let Some(e) = error {
            // Nothing ran: the launch cannot fault, and its outputs are unchanged.
            drop(registration);
            return Err(failed(WgpuError::Device {
                what: format!("launching kernel `{}`", self.def.name()),
                adapter: shared.adapter_name(),
                reason: e.to_string(),
            }));
        }
        registration.submitted();
        tracing::trace!(
            kernel = self.def.name(),
            work_items,
            nx,
            ny,
            "wgpu launch submitted"
        );
        Ok(())
    }

    fn device_times(&self) -> Option<dotcompute_core::DeviceTimes> {
        self.shared
            .timestamps
            .as_ref()
            .map(|_| self.device_times.snapshot())
    }
}

/// A compute shader module with entry point `main`: the SPIR-V `words` when given (made by
/// [`crate::spirv::exact_spirv`] from `wgsl`), else the WGSL itself. The caller's pipeline
/// must use an explicit layout that matches the module's bindings.
pub(crate) fn shader_module(
    device: &wgpu::Device,
    label: &str,
    wgsl: &str,
    words: Option<&[u32]>,
    workgroup_size: [u32; 3],
) -> wgpu::ShaderModule {
    match words {
        // SAFETY: naga made the words from WGSL that it validated, adding only `NoContraction`
        // decorations on float operations' results; the entry point and its workgroup size
        // are the WGSL's, and the callers' pipelines use explicit layouts matching the
        // module's bindings, as the WGSL path would derive them.
        Some(words) => unsafe {
            device.create_shader_module_passthrough(wgpu::ShaderModuleDescriptorPassthrough {
                label: Some(label),
                entry_points: std::borrow::Cow::Owned(vec![wgpu::PassthroughShaderEntryPoint {
                    name: "main".into(),
                    workgroup_size: (workgroup_size[0], workgroup_size[1], workgroup_size[2]),
                }]),
                spirv: Some(std::borrow::Cow::Borrowed(words)),
                ..Default::default()
            })
        },
        None => device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(wgsl.into()),
        }),
    }
}
