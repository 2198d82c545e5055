//! Device memory for device copies, from core's device pool.
//!
//! One stream per device orders all work, so a block freed by one buffer can serve the next
//! at once; `cuMemFree` itself waits for work that still uses a block.

use crate::device::Context;
use dotcompute_core::Error;
use dotcompute_core::device_pool::{DeviceAllocator, DevicePool, PooledBlock};
use std::sync::Arc;

/// Allocates device memory in one context.
pub(crate) struct MemoryAllocator {
    context: Arc<Context>,
}

impl DeviceAllocator for MemoryAllocator {
    /// A device pointer.
    type Block = u64;

    fn allocate(&self, bytes: u64) -> Result<u64, Error> {
        self.context.malloc(bytes)
    }

    fn free(&self, ptr: u64) {
        self.context.free(ptr);
    }
}

/// The device's memory pool.
pub(crate) type MemoryPool = DevicePool<MemoryAllocator>;
/// A block of device memory from the pool.
pub(crate) type PooledMemory = PooledBlock<MemoryAllocator>;

pub(crate) fn memory_pool(context: Arc<Context>) -> MemoryPool {
    DevicePool::new(MemoryAllocator { context })
}
