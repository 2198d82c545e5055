//! OpenCL support of DotCompute (in progress: the backend's runtime is not here yet, so no
//! accelerator runs on OpenCL). What exists: the OpenCL library is loaded at run time
//! (`opencl3`'s dynamic loading: nothing OpenCL is needed to build, and without a library
//! [`devices`] says why), every platform's devices are listed, and a kernel's OpenCL C
//! (`dotcompute_ir::emit::opencl`) is built for a device with the options its semantics
//! need, a failed build carrying the device's log. The tests build every kernel of the
//! conformance suite on each device found (PoCL in CI).
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
mod error;

pub use compiler::{OpenClCompiler, OpenClDevice, devices};
pub use error::OpenClError;
