//! Storage buffers for device copies, from core's device pool.

use crate::error::{WgpuError, capture};
use dotcompute_core::Error;
use dotcompute_core::device_pool::{DeviceAllocator, DevicePool, PooledBlock};

/// Usage of every pooled buffer: bound as storage, uploaded to and downloaded from.
const USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// Makes storage buffers on one device.
pub(crate) struct BufferAllocator {
    device: wgpu::Device,
    adapter: String,
}

impl DeviceAllocator for BufferAllocator {
    type Block = wgpu::Buffer;

    fn allocate(&self, bytes: u64) -> Result<wgpu::Buffer, Error> {
        let (buffer, error) = capture(&self.device, || {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("dotcompute buffer"),
                size: bytes,
                usage: USAGE,
                mapped_at_creation: false,
            })
        });
        match error {
            None => Ok(buffer),
            Some(e) => Err(WgpuError::Device {
                what: format!("allocating a buffer of {bytes} bytes"),
                adapter: self.adapter.clone(),
                reason: e.to_string(),
            }
            .into()),
        }
    }

    // wgpu frees a buffer once the work that uses it is done.
    fn free(&self, buffer: wgpu::Buffer) {
        drop(buffer);
    }

    fn max_block_bytes(&self) -> u64 {
        self.device.limits().max_buffer_size
    }
}

/// The device's pool of storage buffers.
pub(crate) type BufferPool = DevicePool<BufferAllocator>;
/// A storage buffer from the pool.
pub(crate) type PooledBuffer = PooledBlock<BufferAllocator>;

pub(crate) fn buffer_pool(device: wgpu::Device, adapter: String) -> BufferPool {
    DevicePool::new(BufferAllocator { device, adapter })
}
