//! The CUDA backend of DotCompute: NVIDIA GPUs through the driver API (cudarc, loaded at run
//! time) and NVRTC.
//!
//! Kernels are emitted as CUDA C++ from their IR (`dotcompute_ir::emit::cuda`) and compiled
//! by NVRTC to a CUBIN for the device's exact architecture. Neither a CUDA toolkit nor a
//! driver is needed to build; NVRTC is found at run time in the loader's path, pip wheels
//! (`nvidia-cuda-nvrtc`), conda environments and `/usr/local/cuda*`, or in
//! `DOTCOMPUTE_NVRTC_DIR`.

mod compiler;
mod error;
mod libraries;

pub use compiler::{compile_kernel, compile_source, nvrtc_version};
pub use error::CudaError;
