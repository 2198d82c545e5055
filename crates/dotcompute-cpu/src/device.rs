//! The CPU as an accelerator.

use crate::error::CpuError;
use crate::executor::{CpuKernel, Executor};
use crate::options::CpuOptions;
use crate::system;
use crate::tuner;
use dotcompute_core::backend::{CompiledKernel, Device, LaunchArg, LaunchError};
use dotcompute_core::cpu_abi::{CpuArg, SimdLevel};
use dotcompute_core::launch_tracker::TrackedLaunch;
use dotcompute_core::{
    AcceleratorId, AcceleratorInfo, AcceleratorKind, BackendKind, Capabilities, Error, Grid,
    KernelDefinition, KernelFault,
};
use smallvec::SmallVec;
use std::sync::Arc;

/// Shared arrays a cooperative kernel may declare, in bytes per group.
const CPU_SHARED_MEMORY_BYTES: u64 = 16 << 20;

/// The CPU device: a rayon pool over every core, and the SIMD level kernels run with.
pub struct CpuDevice {
    info: AcceleratorInfo,
    /// The clones kernels may run with, widest first: only the forced one when the level is
    /// forced, else every supported level that may be faster for some kernel.
    simd_candidates: Vec<SimdLevel>,
    /// A dedicated pool when `CpuOptions::threads` is set; otherwise rayon's global pool, shared
    /// with the rest of the program (so that DotCompute and the program's own rayon code do
    /// not oversubscribe the cores with two sets of threads).
    pool: Option<Arc<rayon::ThreadPool>>,
    options: CpuOptions,
}

impl std::fmt::Debug for CpuDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuDevice")
            .field("info", &self.info)
            .field("options", &self.options)
            .finish()
    }
}

impl CpuDevice {
    /// Starts the CPU device: detects the SIMD level and starts the worker threads.
    pub fn new(options: CpuOptions) -> Result<CpuDevice, CpuError> {
        let forced = match std::env::var("DOTCOMPUTE_CPU_SIMD") {
            Ok(name) => Some(SimdLevel::from_name(&name).ok_or(CpuError::UnknownSimd(name))?),
            Err(_) => None,
        };
        // Candidates widest first: the first is the widest level kernels may use.
        let simd_candidates = match forced.or(options.simd) {
            Some(level) if !level.is_supported() => {
                return Err(CpuError::UnsupportedSimd(level.name()));
            }
            Some(level) => vec![level],
            None => tuner::candidates(SimdLevel::detect()),
        };
        let simd = simd_candidates[0];
        let subgroup = options.subgroup_size;
        if !subgroup.is_power_of_two()
            || u64::from(subgroup) > dotcompute_core::cpu_abi::MAX_SUBGROUP_SIZE
        {
            return Err(CpuError::InvalidSubgroupSize(subgroup));
        }
        let pool = match options.threads {
            Some(threads) => Some(Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("dotcompute-cpu-{i}"))
                    .build()?,
            )),
            None => None,
        };
        let threads = pool
            .as_ref()
            .map_or_else(rayon::current_num_threads, |p| p.current_num_threads());
        let info = AcceleratorInfo {
            id: AcceleratorId {
                backend: BackendKind::Cpu,
                index: 0,
            },
            name: system::cpu_name(),
            kind: AcceleratorKind::Cpu,
            vendor: system::cpu_vendor(),
            memory_bytes: system::memory_bytes(),
            compute_units: u32::try_from(threads).unwrap_or(u32::MAX),
            versions: vec![(
                "kernels".into(),
                format!(
                    "native Rust; clones: {}",
                    simd_candidates
                        .iter()
                        .map(|l| l.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )],
            capabilities: Capabilities {
                f64: true,
                int64: true,
                int64_emulated: false,
                atomics: true,
                atomics64: true,
                float_atomics: true,
                f64_device_math: true,
                // Shared arrays are heap blocks, one per group in flight; the cap only keeps
                // a mistaken size from exhausting memory.
                shared_memory_bytes: CPU_SHARED_MEMORY_BYTES,
                cooperative: true,
                max_group_size: 1024,
                subgroup_size: subgroup,
                max_buffer_bytes: isize::MAX as u64,
                simd: Some(simd.name().into()),
                device_timing: false,
            },
        };
        Ok(CpuDevice {
            info,
            simd_candidates,
            pool,
            options,
        })
    }

    /// The widest SIMD level kernels may run with.
    pub fn simd(&self) -> SimdLevel {
        self.simd_candidates[0]
    }
}

impl Device for CpuDevice {
    fn info(&self) -> &AcceleratorInfo {
        &self.info
    }

    fn compile(&self, kernel: &'static KernelDefinition) -> Result<Arc<dyn CompiledKernel>, Error> {
        let entry = kernel.cpu_entry().ok_or_else(|| Error::Unsupported {
            kernel: kernel.name().to_string(),
            need: "CPU code (the definition carries none)".into(),
            accelerator: self.info.name.clone(),
        })?;
        Ok(Arc::new(CpuCompiled {
            cooperative: kernel.ir()?.is_cooperative(),
            kernel: CpuKernel::new(kernel.name(), entry, self.simd_candidates.clone()),
            pool: self.pool.clone(),
            options: self.options.clone(),
        }))
    }

    fn synchronize(&self) -> Result<(), Error> {
        // CPU launches complete before they return.
        Ok(())
    }

    fn run_in_host_pool(&self, task: &mut (dyn FnMut(usize) + Send)) -> bool {
        match &self.pool {
            Some(pool) => pool.install(|| task(pool.current_num_threads())),
            None => task(rayon::current_num_threads()),
        }
        true
    }
}

struct CpuCompiled {
    kernel: CpuKernel,
    /// Runs by groups: the entry point's range counts groups, not work items.
    cooperative: bool,
    pool: Option<Arc<rayon::ThreadPool>>,
    options: CpuOptions,
}

impl CompiledKernel for CpuCompiled {
    unsafe fn launch(
        &self,
        grid: &Grid,
        work_items: u64,
        args: &[LaunchArg<'_>],
        _tracked: Option<&Arc<TrackedLaunch>>,
    ) -> Result<(), LaunchError> {
        let mut cpu_args: SmallVec<[CpuArg; 8]> = SmallVec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            // The core binds host memory for this device (its memory space is the host's).
            let arg = a
                .as_cpu_arg()
                .ok_or(KernelFault::ArgumentMismatch { param: i as u32 })?;
            cpu_args.push(arg);
        }
        let exec = Executor {
            pool: self.pool.as_deref(),
            options: &self.options,
        };
        tracing::trace!(kernel = self.kernel.name, work_items, "cpu launch");
        let (units, items_per_unit) = if self.cooperative {
            let group = grid.group_size_or_default();
            let dims = grid.dims();
            let groups = (0..3).map(|i| dims[i].div_ceil(group[i])).product();
            (groups, group.iter().product())
        } else {
            (work_items, 1)
        };
        // SAFETY: the caller's guarantees are those `run` needs.
        Ok(unsafe {
            self.kernel
                .run(&exec, grid, units, items_per_unit, &cpu_args)
        }?)
    }
}
