//! Errors of the wgpu backend.

use dotcompute_core::Error;
use thiserror::Error;

/// What can go wrong in the wgpu backend.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WgpuError {
    /// No adapter was found.
    #[error(
        "no wgpu adapter found for backends {backends} (is a Vulkan, Metal or DX12 driver installed? on Linux without a GPU, Mesa's lavapipe: `apt install mesa-vulkan-drivers`)"
    )]
    NoAdapter {
        /// The backends searched.
        backends: String,
    },
    /// An adapter would not open a device.
    #[error("adapter `{adapter}` would not open a device: {reason}")]
    RequestDevice {
        /// The adapter's name.
        adapter: String,
        /// Its reason.
        reason: String,
    },
    /// wgpu reported a validation error, out of memory or an internal error.
    #[error("{what} on `{adapter}`: {reason}")]
    Device {
        /// What was being done (e.g. "compiling kernel `saxpy`").
        what: String,
        /// The adapter's name.
        adapter: String,
        /// wgpu's message.
        reason: String,
    },
    /// The device was lost (driver reset, device removed); it refuses further work.
    #[error("device `{adapter}` was lost ({reason}); it refuses further work")]
    DeviceLost {
        /// The adapter's name.
        adapter: String,
        /// Why, as the driver said.
        reason: String,
    },
    /// Waiting for the device or mapping a buffer failed.
    #[error("waiting for `{adapter}` failed: {reason}")]
    Wait {
        /// The adapter's name.
        adapter: String,
        /// What failed.
        reason: String,
    },
}

impl From<WgpuError> for Error {
    fn from(e: WgpuError) -> Error {
        Error::Backend {
            backend: "wgpu".into(),
            message: e.to_string(),
            source: Some(Box::new(e)),
        }
    }
}

/// Runs `f` with wgpu's errors captured (validation, out of memory, internal), and returns
/// the first: wgpu reports them through error scopes, not through the calls that cause them.
pub(crate) fn capture<T>(device: &wgpu::Device, f: impl FnOnce() -> T) -> (T, Option<wgpu::Error>) {
    let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
    let out_of_memory = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let value = f();
    // Scopes pop in the reverse order of their pushes.
    let error = pollster::block_on(validation.pop())
        .or(pollster::block_on(out_of_memory.pop()))
        .or(pollster::block_on(internal.pop()));
    (value, error)
}
