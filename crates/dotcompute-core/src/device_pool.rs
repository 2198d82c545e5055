//! A pool of device memory blocks for GPU backends: the host pool's size classes, reuse of
//! freed blocks, a cache cap, trimming, one retry after freeing the cache when the device is
//! out of memory, and statistics. Backends supply the allocation itself.
//!
//! Reuse at once is safe for backends that order all work on a device (one queue or stream):
//! whatever used a block was submitted before anything that reuses it.

use crate::error::Error;
use crate::pool::{PoolStatistics, size_class};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Cached bytes kept for reuse at most; beyond that, freed blocks go back to the device.
const MAX_CACHED: u64 = 1 << 30;

/// How a backend allocates and frees device memory.
pub trait DeviceAllocator: Send + Sync + 'static {
    /// A block of device memory (a buffer object, a device pointer).
    type Block: Send + 'static;
    /// A block of exactly `bytes` bytes (a size class).
    fn allocate(&self, bytes: u64) -> Result<Self::Block, Error>;
    /// Gives a block back to the device.
    fn free(&self, block: Self::Block);
    /// The largest block the device can make; classes above it are not rounded up.
    fn max_block_bytes(&self) -> u64 {
        u64::MAX
    }
}

struct PoolState<B> {
    free: BTreeMap<u64, Vec<B>>,
    stats: PoolStatistics,
}

struct Inner<A: DeviceAllocator> {
    allocator: A,
    state: Mutex<PoolState<A::Block>>,
}

impl<A: DeviceAllocator> Inner<A> {
    fn lock(&self) -> MutexGuard<'_, PoolState<A::Block>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A device's pool of memory blocks.
pub struct DevicePool<A: DeviceAllocator> {
    inner: Arc<Inner<A>>,
}

impl<A: DeviceAllocator> Clone for DevicePool<A> {
    fn clone(&self) -> Self {
        DevicePool {
            inner: self.inner.clone(),
        }
    }
}

/// A block from a [`DevicePool`], returned to it when dropped.
pub struct PooledBlock<A: DeviceAllocator> {
    block: Option<A::Block>,
    class: u64,
    pool: Arc<Inner<A>>,
}

impl<A: DeviceAllocator> PooledBlock<A> {
    /// The device block.
    pub fn block(&self) -> &A::Block {
        // Present from creation until drop.
        self.block.as_ref().unwrap_or_else(|| unreachable!())
    }

    /// The block's size in bytes (its size class).
    pub fn bytes(&self) -> u64 {
        self.class
    }
}

impl<A: DeviceAllocator> DevicePool<A> {
    /// A pool allocating through `allocator`.
    pub fn new(allocator: A) -> DevicePool<A> {
        DevicePool {
            inner: Arc::new(Inner {
                allocator,
                state: Mutex::new(PoolState {
                    free: BTreeMap::new(),
                    stats: PoolStatistics::default(),
                }),
            }),
        }
    }

    /// A block of at least `bytes` bytes (at least 4: bindings and pointers must not be
    /// empty). Out of memory, cached blocks are freed and the allocation is retried once.
    pub fn allocate(&self, bytes: u64) -> Result<PooledBlock<A>, Error> {
        let wanted = bytes.max(4);
        let class = size_class(wanted).ok_or_else(|| Error::OutOfMemory {
            pool: "device".into(),
            bytes,
            reason: "the size overflows".into(),
        })?;
        // Near the device's limit, the exact (4-byte padded) size, so that what fits is not
        // refused for its rounding.
        let class = if class > self.inner.allocator.max_block_bytes() {
            wanted.div_ceil(4) * 4
        } else {
            class
        };
        let reused = {
            let mut st = self.inner.lock();
            st.stats.requests += 1;
            st.stats.bytes_requested = st.stats.bytes_requested.saturating_add(bytes);
            let reused = st.free.get_mut(&class).and_then(Vec::pop);
            if reused.is_some() {
                st.stats.hits += 1;
                st.stats.bytes_cached -= class;
            }
            reused
        };
        let block = match reused {
            Some(b) => b,
            None => match self.inner.allocator.allocate(class) {
                Ok(b) => b,
                Err(first) => {
                    if self.trim() == 0 {
                        return Err(first);
                    }
                    self.inner.allocator.allocate(class)?
                }
            },
        };
        let mut st = self.inner.lock();
        st.stats.bytes_in_use += class;
        st.stats.bytes_reserved = st
            .stats
            .bytes_reserved
            .max(st.stats.bytes_in_use + st.stats.bytes_cached);
        st.stats.peak_reserved = st.stats.peak_reserved.max(st.stats.bytes_reserved);
        Ok(PooledBlock {
            block: Some(block),
            class,
            pool: self.inner.clone(),
        })
    }

    /// Gives every cached block back to the device; returns the bytes released.
    pub fn trim(&self) -> u64 {
        let (blocks, bytes) = {
            let mut st = self.inner.lock();
            let bytes = st.stats.bytes_cached;
            st.stats.bytes_cached = 0;
            st.stats.bytes_reserved -= bytes;
            st.stats.bytes_released += bytes;
            (std::mem::take(&mut st.free), bytes)
        };
        for block in blocks.into_values().flatten() {
            self.inner.allocator.free(block);
        }
        bytes
    }

    /// The pool's counters.
    pub fn statistics(&self) -> PoolStatistics {
        self.inner.lock().stats
    }
}

impl<A: DeviceAllocator> Drop for Inner<A> {
    fn drop(&mut self) {
        // The last block is back and the pool is going: cached blocks go back to the device.
        let free = std::mem::take(&mut self.lock().free);
        for block in free.into_values().flatten() {
            self.allocator.free(block);
        }
    }
}

impl<A: DeviceAllocator> Drop for PooledBlock<A> {
    fn drop(&mut self) {
        let Some(block) = self.block.take() else {
            return;
        };
        let spill = {
            let mut st = self.pool.lock();
            st.stats.bytes_in_use -= self.class;
            if st.stats.bytes_cached + self.class <= MAX_CACHED {
                st.stats.bytes_cached += self.class;
                st.free.entry(self.class).or_default().push(block);
                None
            } else {
                st.stats.bytes_reserved -= self.class;
                st.stats.bytes_released += self.class;
                Some(block)
            }
        };
        if let Some(block) = spill {
            self.pool.allocator.free(block);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Host memory standing in for a device, counting what it hands out.
    #[derive(Default)]
    struct Counting {
        live: Arc<AtomicU64>,
        fail_above: u64,
    }

    impl DeviceAllocator for Counting {
        type Block = Vec<u8>;
        fn allocate(&self, bytes: u64) -> Result<Vec<u8>, Error> {
            if self.fail_above > 0 && self.live.load(Ordering::Relaxed) + bytes > self.fail_above {
                return Err(Error::OutOfMemory {
                    pool: "test device".into(),
                    bytes,
                    reason: "full".into(),
                });
            }
            self.live.fetch_add(bytes, Ordering::Relaxed);
            Ok(vec![0; bytes as usize])
        }
        fn free(&self, block: Vec<u8>) {
            self.live.fetch_sub(block.len() as u64, Ordering::Relaxed);
        }
    }

    #[test]
    fn blocks_are_reused_by_class_and_counted() {
        let live = Arc::new(AtomicU64::new(0));
        let pool = DevicePool::new(Counting {
            live: live.clone(),
            fail_above: 0,
        });
        let a = pool.allocate(1000).unwrap();
        assert!(a.bytes() >= 1000 && a.block().len() as u64 == a.bytes());
        drop(a);
        let b = pool.allocate(990).unwrap();
        let st = pool.statistics();
        assert_eq!((st.requests, st.hits), (2, 1));
        assert_eq!(st.bytes_in_use, b.bytes());
        assert_eq!(st.bytes_reserved, b.bytes());
        drop(b);
        assert_eq!(pool.trim(), pool.statistics().bytes_released);
        assert_eq!(live.load(Ordering::Relaxed), 0);
        assert_eq!(pool.statistics().bytes_reserved, 0);
    }

    #[test]
    fn dropping_the_pool_frees_its_cached_blocks() {
        let live = Arc::new(AtomicU64::new(0));
        let pool = DevicePool::new(Counting {
            live: live.clone(),
            fail_above: 0,
        });
        let block = pool.allocate(5000).unwrap();
        drop(pool); // the block keeps the pool's state alive
        assert!(live.load(Ordering::Relaxed) > 0);
        drop(block);
        assert_eq!(live.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn out_of_memory_frees_the_cache_and_retries_once() {
        let live = Arc::new(AtomicU64::new(0));
        let pool = DevicePool::new(Counting {
            live: live.clone(),
            fail_above: 10_000,
        });
        drop(pool.allocate(8000).unwrap()); // cached
        // 8000 cached + 4000 more is over the device's 10000: the cache goes, then it fits.
        let big = pool.allocate(4000).unwrap();
        assert!(live.load(Ordering::Relaxed) <= 10_000);
        assert_eq!(pool.statistics().bytes_cached, 0);
        // Too large even for an empty device: the device's error.
        assert!(pool.allocate(20_000).is_err());
        drop(big);
    }
}
