//! The CUDA backend of DotCompute: NVIDIA GPUs through the driver API (cudarc, loaded at run
//! time) and NVRTC.
//!
//! Kernels are emitted as CUDA C++ from their IR (`dotcompute_ir::emit::cuda`) and compiled
//! by NVRTC to a CUBIN for the device's exact architecture, cached in memory and on disk
//! (keyed by IR hash, architecture and NVRTC version). Neither a CUDA toolkit nor a driver is
//! needed to build; without a driver the backend is absent from the service, with the reason
//! in its report. NVRTC is found at run time in the loader's path, pip wheels
//! (`nvidia-cuda-nvrtc`), conda environments, `/usr/local/cuda*`, or `DOTCOMPUTE_NVRTC_DIR`.
//!
//! Each GPU is an accelerator with its primary context and one stream. Buffers get device
//! copies from a per-device pool; launches are asynchronous, each with a fault record of its
//! own, and a fault (out-of-bounds access, division by zero, `panic!`) belongs to the launch
//! that caused it (the rules: `dotcompute_core::launch_tracker`), naming the kernel, the
//! parameter and the index. An illegal address poisons a CUDA context for the
//! life of the process: the accelerator then refuses further work with an error saying so.

mod cache;
mod compiler;
mod device;
mod error;
mod kernel;
mod libraries;
mod memory;
mod plugin;
mod pool;

pub use cache::cubin;
pub use compiler::{compile_kernel, compile_source, nvrtc_version};
pub use device::CudaDevice;
pub use error::CudaError;
pub use plugin::CudaPlugin;
