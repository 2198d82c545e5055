//! A pool of device memory blocks, reused by size class (the host pool's classes).
//!
//! One stream per device: work is ordered, so a block freed by one buffer can be handed to
//! the next at once (kernels that used it were enqueued before anything that reuses it).

use crate::device::Context;
use dotcompute_core::Error;
use dotcompute_core::pool::{PoolStatistics, size_class};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Cached bytes kept for reuse at most (beyond that, freed blocks go back to the driver).
const MAX_CACHED: u64 = 1 << 30;

struct PoolState {
    free: BTreeMap<u64, Vec<u64>>,
    stats: PoolStatistics,
}

pub(crate) struct PoolInner {
    context: Arc<Context>,
    state: Mutex<PoolState>,
}

impl PoolInner {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The device's pool.
#[derive(Clone)]
pub(crate) struct DevicePool {
    inner: Arc<PoolInner>,
}

/// A block from the pool (a device pointer), returned to it when dropped.
pub(crate) struct PooledBlock {
    pub(crate) ptr: u64,
    class: u64,
    pool: Arc<PoolInner>,
}

impl DevicePool {
    pub(crate) fn new(context: Arc<Context>) -> DevicePool {
        DevicePool {
            inner: Arc::new(PoolInner {
                context,
                state: Mutex::new(PoolState {
                    free: BTreeMap::new(),
                    stats: PoolStatistics::default(),
                }),
            }),
        }
    }

    /// A block of at least `bytes` bytes (at least 1: device pointers must be distinct).
    /// Out of memory: cached blocks are freed and the allocation retried once.
    pub(crate) fn allocate(&self, bytes: u64) -> Result<PooledBlock, Error> {
        let class = size_class(bytes.max(1)).ok_or_else(|| {
            self.inner
                .context
                .error(&format!("allocating {bytes} bytes"), "size overflows")
        })?;
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
        let ptr = match reused {
            Some(p) => p,
            None => match self.inner.context.malloc(class) {
                Ok(p) => p,
                Err(first) => {
                    if self.trim() == 0 {
                        return Err(first);
                    }
                    self.inner.context.malloc(class)?
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
            ptr,
            class,
            pool: self.inner.clone(),
        })
    }

    /// Frees cached blocks; returns the bytes released.
    pub(crate) fn trim(&self) -> u64 {
        let (blocks, bytes) = {
            let mut st = self.inner.lock();
            let bytes = st.stats.bytes_cached;
            st.stats.bytes_cached = 0;
            st.stats.bytes_reserved -= bytes;
            st.stats.bytes_released += bytes;
            (std::mem::take(&mut st.free), bytes)
        };
        for ptr in blocks.into_values().flatten() {
            self.inner.context.free(ptr);
        }
        bytes
    }

    pub(crate) fn statistics(&self) -> PoolStatistics {
        self.inner.lock().stats
    }
}

impl Drop for PooledBlock {
    fn drop(&mut self) {
        let keep = {
            let mut st = self.pool.lock();
            st.stats.bytes_in_use -= self.class;
            if st.stats.bytes_cached + self.class <= MAX_CACHED {
                st.stats.bytes_cached += self.class;
                st.free.entry(self.class).or_default().push(self.ptr);
                true
            } else {
                st.stats.bytes_reserved -= self.class;
                st.stats.bytes_released += self.class;
                false
            }
        };
        if !keep {
            self.pool.context.free(self.ptr);
        }
    }
}
