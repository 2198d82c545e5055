//! Device copies of unified buffers.

use crate::device::Shared;
use crate::error::{WgpuError, capture};
use crate::pool::PooledBuffer;
use dotcompute_core::backend::DeviceMemory;
use dotcompute_core::{AcceleratorId, Error};
use std::any::Any;
use std::sync::Arc;

/// A buffer's copy on a wgpu device.
pub(crate) struct WgpuMemory {
    shared: Arc<Shared>,
    pub(crate) block: PooledBuffer,
    bytes: u64,
}

/// Copies and mappings move multiples of 4 bytes.
fn padded(bytes: u64) -> u64 {
    bytes.div_ceil(4) * 4
}

impl WgpuMemory {
    pub(crate) fn new(shared: Arc<Shared>, bytes: u64) -> Result<WgpuMemory, Error> {
        let block = shared.pool.allocate(bytes)?;
        Ok(WgpuMemory {
            shared,
            block,
            bytes,
        })
    }
}

impl WgpuMemory {
    fn failed(&self, what: &str, e: wgpu::Error) -> WgpuError {
        WgpuError::Device {
            what: what.to_string(),
            adapter: self.shared.adapter_name(),
            reason: e.to_string(),
        }
    }
}

impl DeviceMemory for WgpuMemory {
    fn accelerator(&self) -> AcceleratorId {
        self.shared.info.id
    }

    fn upload(&self, src: &[u8]) -> Result<(), Error> {
        self.shared.check_lost()?;
        if src.is_empty() {
            return Ok(());
        }
        let ((), error) = capture(&self.shared.device, || {
            if src.len().is_multiple_of(4) {
                self.shared.queue.write_buffer(self.block.block(), 0, src);
            } else {
                let mut data = src.to_vec();
                data.resize(padded(src.len() as u64) as usize, 0);
                self.shared.queue.write_buffer(self.block.block(), 0, &data);
            }
        });
        // A failed upload must not leave the copy marked current.
        match error {
            None => Ok(()),
            Some(e) => Err(self.failed("uploading a buffer", e).into()),
        }
    }

    fn download(&self, dst: &mut [u8]) -> Result<(), Error> {
        self.shared.check_lost()?;
        if self.bytes == 0 {
            return Ok(());
        }
        let size = padded(self.bytes);
        let ((staging, index), error) = capture(&self.shared.device, || {
            let staging = self.shared.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("dotcompute download"),
                size,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let mut encoder =
                self.shared
                    .device
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                        label: Some("dotcompute download"),
                    });
            encoder.copy_buffer_to_buffer(self.block.block(), 0, &staging, 0, size);
            let index = self.shared.queue.submit([encoder.finish()]);
            (staging, index)
        });
        if let Some(e) = error {
            return Err(self.failed("downloading a buffer", e).into());
        }
        // The kernels that wrote this buffer ran before the copy (their faults are the
        // buffer's business: see `DeviceMemory::download`).
        let bytes = self.shared.read_mapped(&staging, index, size)?;
        let n = dst.len().min(bytes.len());
        dst[..n].copy_from_slice(&bytes[..n]);
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
