//! The OpenCL backend of DotCompute: every device of every OpenCL platform (GPUs of AMD,
//! Intel and others, CPUs through PoCL), with OpenCL C from the IR.
//!
//! The OpenCL library is loaded at run time (`opencl3`'s dynamic loading): nothing OpenCL is
//! needed to build, and without a library the backend is absent from the service with the
//! reason in its report. Each device is an accelerator with a context of its own and one
//! in-order queue. Kernels are emitted as OpenCL C (`dotcompute_ir::emit::opencl`) and built
//! for the device with the options Rust's float semantics need; a device that lacks what a
//! kernel needs (`f64`, 64-bit atomics, its local memory, IEEE `f32`) refuses it with the
//! reason, and kernels with subgroup operations are refused (OpenCL's subgroups are not
//! targeted yet). Buffers get device copies from a per-device pool; launches are
//! asynchronous, each with a fault record of its own, and a fault (out-of-bounds access,
//! division by zero, `panic!`) belongs to the launch that caused it (the rules:
//! `dotcompute_core::launch_tracker`), naming the kernel, the parameter and the index.
//!
//! ```no_run
//! # fn main() -> Result<(), dotcompute_opencl::OpenClError> {
//! for device in dotcompute_opencl::devices()? {
//!     println!("{} ({}, {})", device.name, device.platform, device.version);
//! }
//! # Ok(())
//! # }
//! ```

mod compiler;
mod device;
mod discovery;
mod error;
mod kernel;
mod memory;
mod plugin;

pub use compiler::OpenClCompiler;
pub use device::OpenClDevice;
pub use discovery::{OpenClDeviceInfo, devices};
pub use error::OpenClError;
pub use kernel::ordinary_group_size;
pub use plugin::OpenClPlugin;
