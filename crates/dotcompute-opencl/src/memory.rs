//! Device copies of unified buffers: OpenCL buffer objects from core's device pool.
//!
//! One in-order queue per device orders all work, so a block freed by one buffer can serve
//! the next at once; OpenCL keeps a released buffer object alive until the commands that
//! use it are done.

use crate::device::{Shared, api_error};
use crate::discovery::OpenClDeviceInfo;
use dotcompute_core::backend::DeviceMemory;
use dotcompute_core::device_pool::{DeviceAllocator, DevicePool, PooledBlock};
use dotcompute_core::{AcceleratorId, Error};
use opencl3::context::Context;
use opencl3::error_codes::{
    CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_OUT_OF_HOST_MEMORY, CL_OUT_OF_RESOURCES,
};
use opencl3::memory::{Buffer, CL_MEM_READ_WRITE, ClMem};
use opencl3::types::CL_BLOCKING;
use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A buffer object, and a number no other buffer object of this process gets: a released
/// object's handle may come back for a new one, so kernels tell bound buffers apart by it.
pub(crate) struct ClBuffer {
    pub(crate) buffer: Buffer<u8>,
    pub(crate) serial: u64,
}

/// `device` could not give `bytes` bytes, and why.
fn out_of_memory(device: &OpenClDeviceInfo, bytes: u64, reason: &str) -> Error {
    Error::OutOfMemory {
        pool: format!("{device} (OpenCL)"),
        bytes,
        reason: reason.to_string(),
    }
}

/// Makes buffer objects in one context.
pub(crate) struct BufferAllocator {
    context: Arc<Context>,
    device: OpenClDeviceInfo,
    max_bytes: u64,
}

impl DeviceAllocator for BufferAllocator {
    type Block = ClBuffer;

    fn allocate(&self, bytes: u64) -> Result<ClBuffer, Error> {
        static SERIALS: AtomicU64 = AtomicU64::new(1);
        let count = usize::try_from(bytes)
            .map_err(|_| out_of_memory(&self.device, bytes, "more than this host can address"))?;
        // SAFETY: no host pointer; the size is a plain count.
        let buffer = unsafe {
            Buffer::<u8>::create(
                &self.context,
                CL_MEM_READ_WRITE,
                count,
                std::ptr::null_mut(),
            )
        }
        .map_err(|e| match e.0 {
            CL_MEM_OBJECT_ALLOCATION_FAILURE | CL_OUT_OF_RESOURCES | CL_OUT_OF_HOST_MEMORY => {
                out_of_memory(&self.device, bytes, &e.to_string())
            }
            _ => api_error(
                &format!("allocating a buffer of {bytes} bytes"),
                &self.device,
                e,
            ),
        })?;
        Ok(ClBuffer {
            buffer,
            serial: SERIALS.fetch_add(1, Ordering::Relaxed),
        })
    }

    fn free(&self, buffer: ClBuffer) {
        drop(buffer);
    }

    fn max_block_bytes(&self) -> u64 {
        self.max_bytes
    }
}

/// The device's pool of buffer objects.
pub(crate) type MemoryPool = DevicePool<BufferAllocator>;

pub(crate) fn memory_pool(
    context: Arc<Context>,
    device: OpenClDeviceInfo,
    max_bytes: u64,
) -> MemoryPool {
    DevicePool::new(BufferAllocator {
        context,
        device,
        max_bytes,
    })
}

/// A buffer's copy on an OpenCL device.
pub(crate) struct OpenClMemory {
    shared: Arc<Shared>,
    pub(crate) block: PooledBlock<BufferAllocator>,
    bytes: u64,
}

impl OpenClMemory {
    pub(crate) fn new(shared: Arc<Shared>, bytes: u64) -> Result<OpenClMemory, Error> {
        let block = shared.pool.allocate(bytes)?;
        Ok(OpenClMemory {
            shared,
            block,
            bytes,
        })
    }
}

impl DeviceMemory for OpenClMemory {
    fn accelerator(&self) -> AcceleratorId {
        self.shared.info.id
    }

    fn upload(&self, src: &[u8]) -> Result<(), Error> {
        let n = src
            .len()
            .min(usize::try_from(self.bytes).unwrap_or(usize::MAX));
        if n == 0 {
            return Ok(());
        }
        // Blocking: the caller may reuse `src` once this returns. (It waits for the work
        // enqueued before it, as the queue is in order.)
        // SAFETY: the block holds at least `bytes` >= n bytes; `src` is n bytes, read before
        // the call returns.
        let written = unsafe {
            opencl3::command_queue::enqueue_write_buffer(
                self.shared.queue.get(),
                self.block.block().buffer.get(),
                CL_BLOCKING,
                0,
                n,
                src.as_ptr().cast(),
                0,
                std::ptr::null(),
            )
        };
        written
            .map(|event| drop(opencl3::event::Event::new(event)))
            .map_err(|e| match e {
                // Drivers that allocate at first use run out of memory here.
                CL_MEM_OBJECT_ALLOCATION_FAILURE | CL_OUT_OF_RESOURCES => out_of_memory(
                    &self.shared.device,
                    self.bytes,
                    &opencl3::error_codes::ClError(e).to_string(),
                ),
                _ => self
                    .shared
                    .error("uploading a buffer", opencl3::error_codes::ClError(e)),
            })
    }

    fn download(&self, dst: &mut [u8]) -> Result<(), Error> {
        let n = dst
            .len()
            .min(usize::try_from(self.bytes).unwrap_or(usize::MAX));
        if n == 0 {
            return Ok(());
        }
        // Ordered after the kernels that wrote the block; blocking, so done on return. The
        // kernels' faults are the buffer's business (see `DeviceMemory::download`).
        // SAFETY: the block holds at least n bytes, `dst` n bytes.
        let read = unsafe {
            self.shared.queue.enqueue_read_buffer(
                &self.block.block().buffer,
                CL_BLOCKING,
                0,
                &mut dst[..n],
                &[],
            )
        };
        read.map(drop)
            .map_err(|e| self.shared.error("downloading a buffer", e))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
