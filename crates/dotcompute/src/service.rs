//! The compute service: the entry point that finds accelerators and makes buffers.

use crate::placement::{AcceleratorProfile, Auto, PlacementDecision, PlacementState};
use dotcompute_core::AcceleratorId;
use dotcompute_core::backend::BackendPlugin;
use dotcompute_core::pool::{MemoryPool, PoolConfig};
use dotcompute_core::{
    Accelerator, AcceleratorManager, BackendKind, BackendReport, Error, Grid, Kernel, KernelArg,
    KernelManager, KernelStatistics, ServiceContext, UnifiedBuffer,
};
use std::sync::Arc;

/// The entry point of DotCompute: finds the accelerators of this machine, makes buffers, and
/// launches kernels by name.
///
/// ```
/// use dotcompute::prelude::*;
///
/// #[kernel]
/// fn scale(factor: f32, data: &mut [f32]) {
///     let i = global_id();
///     data[i] *= factor;
/// }
///
/// # fn main() -> Result<(), dotcompute::Error> {
/// let dc = ComputeService::new()?;
/// let cpu = dc.accelerator(BackendKind::Cpu)?;
/// let mut data = dc.buffer_from_slice(&[1.0f32, 2.0, 3.0])?;
/// scale::launch(&cpu, data.len(), 10.0, &mut data)?;
/// assert_eq!(data.to_vec()?, [10.0, 20.0, 30.0]);
/// # Ok(())
/// # }
/// ```
///
/// `Send + Sync`: share it (or clones of its accelerators) between threads freely.
pub struct ComputeService {
    context: Arc<ServiceContext>,
    accelerators: AcceleratorManager,
    placement: PlacementState,
}

impl std::fmt::Debug for ComputeService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComputeService")
            .field("id", &self.context.id())
            .field("backends", &self.accelerators.reports())
            .finish()
    }
}

impl ComputeService {
    /// A service with every backend compiled in (discovered lazily: GPU drivers start only
    /// when a GPU accelerator is asked for).
    pub fn new() -> Result<ComputeService, Error> {
        ComputeService::builder().build()
    }

    /// A builder, to set CPU options, pool limits, or add plugins.
    pub fn builder() -> ComputeServiceBuilder {
        ComputeServiceBuilder::default()
    }

    /// Every accelerator of every backend.
    pub fn accelerators(&self) -> Vec<Accelerator> {
        self.accelerators.accelerators()
    }

    /// The first accelerator of a backend, e.g. `BackendKind::Cpu`.
    pub fn accelerator(&self, backend: BackendKind) -> Result<Accelerator, Error> {
        let mut found = self.accelerators.of_backend(backend)?;
        Ok(found.remove(0))
    }

    /// The best accelerator: a GPU with the most memory if there is one, else the CPU.
    pub fn best_accelerator(&self) -> Result<Accelerator, Error> {
        self.accelerators.best()
    }

    /// What each backend found, or why it found nothing (backends not asked yet say so).
    pub fn backend_reports(&self) -> Vec<BackendReport> {
        self.accelerators.reports()
    }

    /// A buffer holding a copy of `data`.
    pub fn buffer_from_slice<T: bytemuck::Pod>(
        &self,
        data: &[T],
    ) -> Result<UnifiedBuffer<T>, Error> {
        self.context.buffer_from_slice(data)
    }

    /// A buffer of `len` zeroed elements.
    pub fn buffer_zeroed<T: bytemuck::Pod>(&self, len: usize) -> Result<UnifiedBuffer<T>, Error> {
        self.context.buffer_zeroed(len)
    }

    /// The kernel manager: registered kernels, compiled kernels, statistics.
    pub fn kernels(&self) -> &KernelManager {
        self.context.kernels()
    }

    /// Registers a kernel for [`ComputeService::launch_by_name`].
    pub fn register(&self, kernel: &dyn Kernel) -> Result<(), Error> {
        self.context.kernels().register(kernel)
    }

    /// Launches a registered kernel by name, with arguments checked at run time (count, types,
    /// and access: `KernelArg::buffer` for `&[T]`, `KernelArg::buffer_mut` for `&mut [T]`).
    ///
    /// ```
    /// use dotcompute::prelude::*;
    ///
    /// #[kernel]
    /// fn fill(value: u32, out: &mut [u32]) {
    ///     out[global_id()] = value;
    /// }
    ///
    /// # fn main() -> Result<(), dotcompute::Error> {
    /// let dc = ComputeService::new()?;
    /// let cpu = dc.accelerator(BackendKind::Cpu)?;
    /// dc.register(&fill)?;
    /// let mut out = dc.buffer_zeroed::<u32>(4)?;
    /// dc.launch_by_name(&cpu, "fill", 4usize, &mut [KernelArg::scalar(7u32), KernelArg::buffer_mut(&mut out)])?;
    /// assert_eq!(out.to_vec()?, [7; 4]);
    ///
    /// // A wrong argument is an error, not a crash:
    /// let err = dc.launch_by_name(&cpu, "fill", 4usize, &mut [KernelArg::scalar(7.0f32), KernelArg::buffer_mut(&mut out)]);
    /// assert!(err.unwrap_err().to_string().contains("parameter `value` is `u32`"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn launch_by_name(
        &self,
        accelerator: &Accelerator,
        name: &str,
        grid: impl Into<Grid>,
        args: &mut [KernelArg<'_>],
    ) -> Result<(), Error> {
        let def = self.context.kernels().definition(name)?;
        accelerator.launch(def, grid.into(), args)
    }

    /// Launch statistics of every kernel compiled so far, per accelerator.
    pub fn statistics(&self) -> Vec<KernelStatistics> {
        self.context.kernels().statistics()
    }

    /// The pool host memory comes from.
    pub fn host_pool(&self) -> &MemoryPool {
        self.context.host_pool()
    }

    /// Placement by a cost model: a query on `dc.auto()` runs on the accelerator where it
    /// is estimated to finish first, from measured figures and where its data is (see
    /// [`placement`](crate::placement)).
    pub fn auto(&self) -> Auto<'_> {
        Auto::new(self)
    }

    /// The figures placement uses for `acc`: given by [`set_profile`](Self::set_profile),
    /// measured before, or measured now (a fraction of a second, once per service).
    pub fn profile(&self, acc: &Accelerator) -> Result<AcceleratorProfile, Error> {
        self.placement.profile(acc)
    }

    /// Gives placement `acc`'s figures instead of measuring them (figures measured
    /// elsewhere, or a fixed model in tests).
    pub fn set_profile(&self, acc: AcceleratorId, profile: AcceleratorProfile) {
        self.placement.set_profile(acc, profile);
    }

    /// The last placements (at most 256, oldest first): which accelerator each query on
    /// [`auto`](Self::auto) ran on, and why.
    pub fn placements(&self) -> Vec<PlacementDecision> {
        self.placement.decisions()
    }

    pub(crate) fn placement(&self) -> &PlacementState {
        &self.placement
    }
}

/// Configures a [`ComputeService`].
///
/// ```
/// use dotcompute::{ComputeService, CpuOptions, PoolConfig};
/// let dc = ComputeService::builder()
///     .cpu(CpuOptions { threads: Some(2), ..CpuOptions::default() })
///     .host_pool(PoolConfig { limit: Some(1 << 30), ..PoolConfig::default() })
///     .build()?;
/// # Ok::<(), dotcompute::Error>(())
/// ```
#[derive(Default)]
pub struct ComputeServiceBuilder {
    #[cfg(feature = "cpu")]
    cpu: Option<dotcompute_cpu::CpuOptions>,
    without_cpu: bool,
    without_wgpu: bool,
    without_cuda: bool,
    without_opencl: bool,
    plugins: Vec<Box<dyn BackendPlugin>>,
    host_pool: Option<PoolConfig>,
}

impl std::fmt::Debug for ComputeServiceBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComputeServiceBuilder")
            .field("plugins", &self.plugins.len())
            .field("host_pool", &self.host_pool)
            .finish_non_exhaustive()
    }
}

impl ComputeServiceBuilder {
    /// Options of the CPU backend.
    #[cfg(feature = "cpu")]
    pub fn cpu(mut self, options: dotcompute_cpu::CpuOptions) -> Self {
        self.cpu = Some(options);
        self
    }

    /// Leaves the CPU backend out (for services that must only use GPUs).
    pub fn without_cpu(mut self) -> Self {
        self.without_cpu = true;
        self
    }

    /// Leaves the wgpu backend out (it is searched by default when the `wgpu` feature is on).
    pub fn without_wgpu(mut self) -> Self {
        self.without_wgpu = true;
        self
    }

    /// Leaves the CUDA backend out (it is searched by default when the `cuda` feature is on).
    pub fn without_cuda(mut self) -> Self {
        self.without_cuda = true;
        self
    }

    /// Leaves the OpenCL backend out (it is searched by default when the `opencl` feature is
    /// on).
    pub fn without_opencl(mut self) -> Self {
        self.without_opencl = true;
        self
    }

    /// Adds a backend plugin. A plugin for a built-in backend (e.g. a `WgpuPlugin` searching
    /// only Vulkan) replaces the built-in one.
    pub fn plugin(mut self, plugin: Box<dyn BackendPlugin>) -> Self {
        self.plugins.push(plugin);
        self
    }

    /// Settings of the host memory pool.
    pub fn host_pool(mut self, config: PoolConfig) -> Self {
        self.host_pool = Some(config);
        self
    }

    /// Makes the service. Backends are discovered lazily, so this is cheap.
    pub fn build(self) -> Result<ComputeService, Error> {
        let context = ServiceContext::new(self.host_pool.unwrap_or_default());
        let mut plugins: Vec<Box<dyn BackendPlugin>> = Vec::new();
        // Backends the caller brings its own plugin for: their built-in plugin stays out.
        let replaced: Vec<BackendKind> = self.plugins.iter().map(|p| p.backend()).collect();
        #[cfg(feature = "cpu")]
        if !self.without_cpu && !replaced.contains(&BackendKind::Cpu) {
            plugins.push(Box::new(dotcompute_cpu::CpuPlugin::new(
                self.cpu.unwrap_or_default(),
            )));
        }
        #[cfg(feature = "cuda")]
        if !self.without_cuda && !replaced.contains(&BackendKind::Cuda) {
            plugins.push(Box::new(dotcompute_cuda::CudaPlugin::default()));
        }
        #[cfg(not(feature = "cuda"))]
        let _ = self.without_cuda;
        #[cfg(feature = "wgpu")]
        if !self.without_wgpu && !replaced.contains(&BackendKind::Wgpu) {
            plugins.push(Box::new(dotcompute_wgpu::WgpuPlugin::default()));
        }
        #[cfg(not(feature = "wgpu"))]
        let _ = self.without_wgpu;
        #[cfg(feature = "opencl")]
        if !self.without_opencl && !replaced.contains(&BackendKind::OpenCl) {
            plugins.push(Box::new(dotcompute_opencl::OpenClPlugin::default()));
        }
        #[cfg(not(feature = "opencl"))]
        let _ = self.without_opencl;
        plugins.extend(self.plugins);
        Ok(ComputeService {
            accelerators: AcceleratorManager::new(context.clone(), plugins),
            context,
            placement: PlacementState::default(),
        })
    }
}
