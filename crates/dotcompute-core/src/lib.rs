//! The core of DotCompute: what every backend and the facade share.
//!
//! - [`KernelDefinition`]: what `#[kernel]` bakes into a binary (IR, hash, CPU code).
//! - [`Grid`], [`KernelArg`]: the shape and arguments of a launch.
//! - [`UnifiedBuffer`]: arrays that move between host and devices only when needed,
//!   allocated from a [`pool::MemoryPool`].
//! - [`Accelerator`], [`AcceleratorManager`], [`KernelManager`]: devices, discovery, and the
//!   compile-once kernel cache with per-kernel statistics.
//! - [`disk_cache`]: where the device backends keep compiled kernels across processes.
//! - [`launch_tracker`]: which launch on an asynchronous device faulted, and who is told.
//! - [`backend`]: the traits a backend plugin implements; [`cpu_abi`]: the contract between
//!   generated CPU code and the CPU backend.
//!
//! Users reach all of this through the `dotcompute` crate.

mod accelerator;
mod accelerator_manager;
mod args;
pub mod backend;
mod buffer;
pub mod cpu_abi;
mod definition;
pub mod device_pool;
pub mod disk_cache;
mod error;
mod fault;
mod fault_record;
mod grid;
mod info;
mod kernel_manager;
pub mod launch_tracker;
mod parameter_block;
pub mod pool;
mod scalar;
mod stats;

pub use accelerator::{Accelerator, ServiceContext};
pub use accelerator_manager::{AcceleratorManager, BackendReport, BackendStatus, panic_message};
pub use args::KernelArg;
pub use buffer::{
    HostRead, HostWrite, RawBuffer, Residency, ServiceId, TransferStatistics, UnifiedBuffer,
};
pub use definition::{CpuEntry, Kernel, KernelDefinition, ParamInfo};
pub use error::Error;
pub use fault::KernelFault;
pub use fault_record::{LaunchInfo, fault_from_record};
pub use grid::Grid;
pub use info::{AcceleratorId, AcceleratorInfo, AcceleratorKind, BackendKind, Capabilities};
pub use kernel_manager::KernelManager;
pub use parameter_block::ParameterBlock;
pub use scalar::{KernelScalar, ScalarValue};
pub use stats::{DeviceTimeCounters, DeviceTimes, KernelStatistics, LaunchTimes};
