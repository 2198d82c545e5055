//! Device copies of unified buffers on a GPU.

use crate::device::Shared;
use crate::pool::PooledMemory;
use cudarc::driver::result as cu;
use dotcompute_core::backend::DeviceMemory;
use dotcompute_core::{AcceleratorId, Error};
use std::any::Any;
use std::sync::Arc;

/// A buffer's copy in GPU memory.
pub(crate) struct CudaMemory {
    shared: Arc<Shared>,
    pub(crate) block: PooledMemory,
    bytes: u64,
}

impl CudaMemory {
    pub(crate) fn new(shared: Arc<Shared>, bytes: u64) -> Result<CudaMemory, Error> {
        shared.context.check()?;
        let block = shared.pool.allocate(bytes)?;
        Ok(CudaMemory {
            shared,
            block,
            bytes,
        })
    }
}

impl DeviceMemory for CudaMemory {
    fn accelerator(&self) -> AcceleratorId {
        self.shared.info.id
    }

    fn upload(&self, src: &[u8]) -> Result<(), Error> {
        let context = &self.shared.context;
        context.bind()?;
        if src.is_empty() {
            return Ok(());
        }
        let n = src.len().min(self.bytes as usize);
        // Ordered on the stream after the work already enqueued; from pageable memory the
        // call returns once `src` has been read, so the caller may reuse it at once.
        // SAFETY: the context is bound; the block holds at least `bytes` >= n bytes.
        unsafe { cu::memcpy_htod_async(*self.block.block(), &src[..n], context.stream.cu_stream()) }
            .map_err(|e| context.driver_error("uploading a buffer", e))
    }

    fn download(&self, dst: &mut [u8]) -> Result<(), Error> {
        let context = &self.shared.context;
        context.bind()?;
        let n = dst.len().min(self.bytes as usize);
        if n > 0 {
            // Ordered after the kernels that wrote the block; to pageable memory the call
            // returns once the copy is done.
            // SAFETY: the context is bound; the block holds at least n bytes, `dst` n bytes.
            unsafe {
                cu::memcpy_dtoh_async(
                    &mut dst[..n],
                    *self.block.block(),
                    context.stream.cu_stream(),
                )
            }
            .map_err(|e| context.driver_error("downloading a buffer", e))?;
        }
        // The kernels that wrote this buffer ran before the copy (their faults are the
        // buffer's business: see `DeviceMemory::download`).
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
