//! A pool of device storage buffers, reused by size class (the host pool's classes).

use crate::error::{WgpuError, capture};
use dotcompute_core::pool::{PoolStatistics, size_class};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Usage of every pooled buffer: bound as storage, uploaded to and downloaded from.
const USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

struct PoolState {
    free: BTreeMap<u64, Vec<wgpu::Buffer>>,
    stats: PoolStatistics,
}

pub(crate) struct PoolInner {
    device: wgpu::Device,
    adapter: String,
    max_cached: u64,
    state: Mutex<PoolState>,
}

impl PoolInner {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The device's buffer pool.
#[derive(Clone)]
pub(crate) struct DevicePool {
    inner: Arc<PoolInner>,
}

/// A buffer from the pool, returned to it when dropped.
pub(crate) struct PooledBuffer {
    pub(crate) buffer: wgpu::Buffer,
    class: u64,
    pool: Arc<PoolInner>,
}

impl DevicePool {
    pub(crate) fn new(device: wgpu::Device, adapter: String) -> DevicePool {
        DevicePool {
            inner: Arc::new(PoolInner {
                device,
                adapter,
                max_cached: 1 << 30,
                state: Mutex::new(PoolState {
                    free: BTreeMap::new(),
                    stats: PoolStatistics::default(),
                }),
            }),
        }
    }

    /// A buffer of at least `bytes` bytes (and at least 4: bindings cannot be empty).
    pub(crate) fn allocate(&self, bytes: u64) -> Result<PooledBuffer, WgpuError> {
        let class = size_class(bytes.max(4)).ok_or_else(|| WgpuError::Device {
            what: format!("allocating {bytes} bytes"),
            adapter: self.inner.adapter.clone(),
            reason: "size overflows".into(),
        })?;
        // A size class rounds up by under 1.6%; near the device's limit, take the exact
        // (4-byte padded) size instead so that what fits is not refused.
        let limit = self.inner.device.limits().max_buffer_size;
        let class = if class > limit {
            bytes.max(4).div_ceil(4) * 4
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
        let buffer = match reused {
            Some(b) => b,
            None => match self.create(class) {
                Ok(b) => b,
                Err(first) => {
                    // Out of memory: give cached buffers back and try once more.
                    if self.trim() == 0 {
                        return Err(first);
                    }
                    self.create(class)?
                }
            },
        };
        let mut st = self.inner.lock();
        st.stats.bytes_in_use += class;
        if st.stats.bytes_in_use + st.stats.bytes_cached > st.stats.bytes_reserved {
            st.stats.bytes_reserved = st.stats.bytes_in_use + st.stats.bytes_cached;
        }
        st.stats.peak_reserved = st.stats.peak_reserved.max(st.stats.bytes_reserved);
        Ok(PooledBuffer {
            buffer,
            class,
            pool: self.inner.clone(),
        })
    }

    fn create(&self, class: u64) -> Result<wgpu::Buffer, WgpuError> {
        let (buffer, error) = capture(&self.inner.device, || {
            self.inner.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("dotcompute buffer"),
                size: class,
                usage: USAGE,
                mapped_at_creation: false,
            })
        });
        match error {
            None => Ok(buffer),
            Some(e) => Err(WgpuError::Device {
                what: format!("allocating a buffer of {class} bytes"),
                adapter: self.inner.adapter.clone(),
                reason: e.to_string(),
            }),
        }
    }

    /// Gives cached buffers back to the device; returns the bytes released.
    pub(crate) fn trim(&self) -> u64 {
        let (blocks, bytes) = {
            let mut st = self.inner.lock();
            let bytes = st.stats.bytes_cached;
            st.stats.bytes_cached = 0;
            st.stats.bytes_reserved -= bytes;
            st.stats.bytes_released += bytes;
            (std::mem::take(&mut st.free), bytes)
        };
        drop(blocks);
        bytes
    }

    pub(crate) fn statistics(&self) -> PoolStatistics {
        self.inner.lock().stats
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        let mut st = self.pool.lock();
        st.stats.bytes_in_use -= self.class;
        if st.stats.bytes_cached + self.class <= self.pool.max_cached {
            st.stats.bytes_cached += self.class;
            // wgpu keeps the buffer alive until submitted work that uses it is done, and
            // later work is ordered after that work, so reuse is safe at once.
            st.free
                .entry(self.class)
                .or_default()
                .push(self.buffer.clone());
        } else {
            st.stats.bytes_reserved -= self.class;
            st.stats.bytes_released += self.class;
        }
    }
}
