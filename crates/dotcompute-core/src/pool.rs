//! Memory pools: size-classed reuse of blocks, with a limit, a cache cap and statistics.

use crate::error::Error;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Blocks of at least this many bytes are mapped from the OS (page aligned, zeroed lazily);
/// smaller ones come from the heap.
const MAP_THRESHOLD: u64 = 1 << 20;

/// Up to this size, classes are multiples of 64 bytes.
const SMALL_LIMIT: u64 = 4096;

/// Mapped blocks start at one of this many offsets ("colours"), `COLOR_STRIDE` bytes apart.
/// The kernel places large anonymous maps on 2 MiB boundaries, so without colours the
/// arrays of a kernel (`a[i]`, `b[i]`, `c[i]`) share every low address bit and compete for the
/// same cache sets: measured here, a STREAM triad over three such arrays ran 15% slower.
const COLORS: usize = 8;
/// A page plus a cache line, so that colours differ in L1, L2 and L3 set index bits.
const COLOR_STRIDE: usize = 4096 + 64;

/// The size class (bytes actually reserved) for a request of `bytes`.
///
/// Up to 4 KiB classes are multiples of 64 bytes (at most 63 bytes of rounding); above, each
/// power of two is split into 64 classes, so rounding wastes under 1/64 (1.6%) of a block.
///
/// ```
/// use dotcompute_core::pool::size_class;
/// assert_eq!(size_class(1), Some(64));
/// assert_eq!(size_class(4097), Some(4160));
/// let n = 100_000_000;
/// assert!((size_class(n).unwrap() - n) as f64 / (n as f64) < 0.016);
/// ```
pub fn size_class(bytes: u64) -> Option<u64> {
    let step = if bytes <= SMALL_LIMIT {
        64
    } else {
        let k = 63 - bytes.leading_zeros();
        1u64 << (k - 6)
    };
    Some(bytes.max(1).checked_add(step - 1)? / step * step)
}

/// A 64-byte aligned line: heap blocks are vectors of these, so they are aligned for any
/// element type and for SIMD without unsafe code.
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C, align(64))]
struct Line([u8; 64]);

enum Storage {
    Heap(Vec<Line>),
    /// A mapping of `class + (COLORS - 1) * COLOR_STRIDE` bytes; the block starts at `offset`.
    Mapped {
        map: memmap2::MmapMut,
        offset: usize,
        class: usize,
    },
}

impl Storage {
    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Heap(lines) => bytemuck::cast_slice(lines),
            Storage::Mapped { map, offset, class } => &map[*offset..*offset + *class],
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            Storage::Heap(lines) => bytemuck::cast_slice_mut(lines),
            Storage::Mapped { map, offset, class } => &mut map[*offset..*offset + *class],
        }
    }
}

/// A snapshot of a pool's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStatistics {
    /// Allocations asked for.
    pub requests: u64,
    /// Allocations served from cached blocks.
    pub hits: u64,
    /// Bytes asked for, in total.
    pub bytes_requested: u64,
    /// Bytes in blocks handed out and not yet returned.
    pub bytes_in_use: u64,
    /// Bytes in returned blocks kept for reuse.
    pub bytes_cached: u64,
    /// Bytes held from the system: in use plus cached.
    pub bytes_reserved: u64,
    /// The most bytes ever reserved at once.
    pub peak_reserved: u64,
    /// Bytes given back to the system by trims and by the cache cap.
    pub bytes_released: u64,
}

impl PoolStatistics {
    /// Fraction of requests served from the cache.
    pub fn hit_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.hits as f64 / self.requests as f64
        }
    }
}

/// Settings of a [`MemoryPool`].
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// Name used in errors and statistics.
    pub name: String,
    /// Most bytes in use at once; an allocation beyond it is an error. `None`: no limit.
    pub limit: Option<u64>,
    /// Most bytes kept in returned blocks for reuse; beyond it the oldest cached blocks go
    /// back to the system to make room for the one just returned.
    pub max_cached: u64,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            name: "host".into(),
            limit: None,
            max_cached: 512 << 20,
        }
    }
}

struct PoolState {
    /// Cached blocks per class, oldest first, each with its sequence number.
    free: BTreeMap<u64, VecDeque<(u64, Storage)>>,
    /// The class of every cached block by sequence number (oldest first): when the cache
    /// is full, the oldest go back to the system to make room for a block just returned,
    /// whose size is the likelier to be asked for again.
    order: BTreeMap<u64, u64>,
    next_sequence: u64,
    stats: PoolStatistics,
}

impl PoolState {
    /// Takes a cached block of `class` (the most recently returned).
    fn take(&mut self, class: u64) -> Option<Storage> {
        let (sequence, storage) = self.free.get_mut(&class).and_then(VecDeque::pop_back)?;
        self.order.remove(&sequence);
        self.stats.bytes_cached -= class;
        Some(storage)
    }

    /// Caches `storage` of `class`, giving the oldest cached blocks back (into `released`)
    /// until it fits under `max_cached`. The block itself goes back instead when it is
    /// larger than the whole cache, or when making room would give back a larger block
    /// (a small buffer freed between large ones must not cost a warm large block).
    fn cache(
        &mut self,
        class: u64,
        storage: Storage,
        max_cached: u64,
        released: &mut Vec<Storage>,
    ) {
        let fits = |st: &PoolState| st.stats.bytes_cached + class <= max_cached;
        let mut room = class <= max_cached;
        while room && !fits(self) {
            let Some((_, &oldest)) = self.order.first_key_value() else {
                break;
            };
            if oldest > class {
                room = false;
                break;
            }
            // The class's oldest block is the globally oldest entry of that class.
            if let Some((sequence, block)) =
                self.free.get_mut(&oldest).and_then(VecDeque::pop_front)
            {
                self.order.remove(&sequence);
                released.push(block);
                self.stats.bytes_cached -= oldest;
                self.stats.bytes_reserved -= oldest;
                self.stats.bytes_released += oldest;
            }
        }
        if !room || !fits(self) {
            self.stats.bytes_reserved -= class;
            self.stats.bytes_released += class;
            released.push(storage);
            return;
        }
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.stats.bytes_cached += class;
        self.free
            .entry(class)
            .or_default()
            .push_back((sequence, storage));
        self.order.insert(sequence, class);
    }
}

struct PoolInner {
    config: PoolConfig,
    state: Mutex<PoolState>,
    next_color: std::sync::atomic::AtomicUsize,
}

impl PoolInner {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // The state is consistent between statements, so a panic elsewhere cannot leave it
        // half-updated: recover from poisoning.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A pool of host memory blocks, reused by size class.
///
/// Cloning gives another handle to the same pool. Blocks return to the pool when dropped.
///
/// ```
/// use dotcompute_core::pool::{MemoryPool, PoolConfig};
/// let pool = MemoryPool::new(PoolConfig::default());
/// let block = pool.allocate_zeroed(1000)?;
/// assert!(block.bytes().iter().all(|&b| b == 0));
/// drop(block);
/// let again = pool.allocate_zeroed(1000)?;      // served from the cache
/// assert_eq!(pool.statistics().hits, 1);
/// # drop(again);
/// # Ok::<(), dotcompute_core::Error>(())
/// ```
#[derive(Clone)]
pub struct MemoryPool {
    inner: Arc<PoolInner>,
}

impl std::fmt::Debug for MemoryPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryPool")
            .field("config", &self.inner.config)
            .field("statistics", &self.statistics())
            .finish()
    }
}

impl MemoryPool {
    /// A new, empty pool.
    pub fn new(config: PoolConfig) -> MemoryPool {
        MemoryPool {
            inner: Arc::new(PoolInner {
                config,
                state: Mutex::new(PoolState {
                    free: BTreeMap::new(),
                    order: BTreeMap::new(),
                    next_sequence: 0,
                    stats: PoolStatistics::default(),
                }),
                next_color: std::sync::atomic::AtomicUsize::new(0),
            }),
        }
    }

    /// The pool's settings.
    pub fn config(&self) -> &PoolConfig {
        &self.inner.config
    }

    /// A block of `bytes` zeroed bytes.
    pub fn allocate_zeroed(&self, bytes: usize) -> Result<HostBlock, Error> {
        self.allocate(bytes, true)
    }

    /// A block whose contents the caller overwrites at once (a reused block is not zeroed).
    pub(crate) fn allocate_for_overwrite(&self, bytes: usize) -> Result<HostBlock, Error> {
        self.allocate(bytes, false)
    }

    fn allocate(&self, bytes: usize, zeroed: bool) -> Result<HostBlock, Error> {
        let requested = bytes as u64;
        let oom = |reason: String| Error::OutOfMemory {
            pool: self.inner.config.name.clone(),
            bytes: requested,
            reason,
        };
        let class = size_class(requested)
            .filter(|&c| c <= isize::MAX as u64)
            .ok_or_else(|| oom("larger than any allocation can be".into()))?;
        let reused = {
            let mut st = self.inner.lock();
            st.stats.requests += 1;
            st.stats.bytes_requested = st.stats.bytes_requested.saturating_add(requested);
            if bytes == 0 {
                return Ok(HostBlock {
                    storage: None,
                    len: 0,
                    class: 0,
                    pool: self.inner.clone(),
                });
            }
            if let Some(limit) = self.inner.config.limit
                && st.stats.bytes_in_use.saturating_add(class) > limit
            {
                return Err(Error::PoolLimit {
                    pool: self.inner.config.name.clone(),
                    requested: class,
                    in_use: st.stats.bytes_in_use,
                    limit,
                });
            }
            let reused = st.take(class);
            if reused.is_some() {
                st.stats.hits += 1;
            } else {
                st.stats.bytes_reserved = st.stats.bytes_reserved.saturating_add(class);
                st.stats.peak_reserved = st.stats.peak_reserved.max(st.stats.bytes_reserved);
            }
            st.stats.bytes_in_use = st.stats.bytes_in_use.saturating_add(class);
            reused
        };
        let storage = match reused {
            Some(mut storage) => {
                if zeroed {
                    storage.bytes_mut()[..bytes].fill(0);
                }
                storage
            }
            None => match fresh_storage(
                class,
                self.inner
                    .next_color
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    % COLORS,
            ) {
                Ok(storage) => storage,
                Err(reason) => {
                    let mut st = self.inner.lock();
                    st.stats.bytes_in_use = st.stats.bytes_in_use.saturating_sub(class);
                    st.stats.bytes_reserved = st.stats.bytes_reserved.saturating_sub(class);
                    return Err(oom(reason));
                }
            },
        };
        Ok(HostBlock {
            storage: Some(storage),
            len: bytes,
            class,
            pool: self.inner.clone(),
        })
    }

    /// Gives every cached block back to the system; returns the bytes released.
    pub fn trim(&self) -> u64 {
        let (blocks, bytes) = {
            let mut st = self.inner.lock();
            let bytes = st.stats.bytes_cached;
            st.stats.bytes_cached = 0;
            st.stats.bytes_reserved -= bytes;
            st.stats.bytes_released += bytes;
            st.order.clear();
            (std::mem::take(&mut st.free), bytes)
        };
        // Unmapping and freeing happen outside the lock.
        drop(blocks);
        bytes
    }

    /// A snapshot of the counters.
    pub fn statistics(&self) -> PoolStatistics {
        self.inner.lock().stats
    }
}

fn fresh_storage(class: u64, color: usize) -> Result<Storage, String> {
    if class >= MAP_THRESHOLD {
        let class = class as usize;
        let padding = (COLORS - 1) * COLOR_STRIDE;
        memmap2::MmapMut::map_anon(class + padding)
            .map(|map| Storage::Mapped {
                map,
                offset: color * COLOR_STRIDE,
                class,
            })
            .map_err(|e| e.to_string())
    } else {
        let lines = (class / 64) as usize;
        let mut v = Vec::new();
        v.try_reserve_exact(lines).map_err(|e| e.to_string())?;
        v.resize(lines, Line([0; 64]));
        Ok(Storage::Heap(v))
    }
}

/// A block of host memory from a [`MemoryPool`], 64-byte aligned, returned to the pool when
/// dropped. Blocks of 1 MiB and more are mapped from the OS with up to 28 KiB of padding, so
/// that blocks start at different cache colours (see the pool's notes on performance).
pub struct HostBlock {
    storage: Option<Storage>,
    len: usize,
    class: u64,
    pool: Arc<PoolInner>,
}

impl std::fmt::Debug for HostBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostBlock")
            .field("len", &self.len)
            .field("class", &self.class)
            .finish()
    }
}

impl HostBlock {
    /// The bytes asked for.
    pub fn bytes(&self) -> &[u8] {
        match &self.storage {
            Some(s) => &s.bytes()[..self.len],
            None => &[],
        }
    }

    /// The bytes asked for, writable.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        match &mut self.storage {
            Some(s) => &mut s.bytes_mut()[..self.len],
            None => &mut [],
        }
    }

    /// Bytes asked for.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` for a zero-byte block.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for HostBlock {
    fn drop(&mut self) {
        let Some(storage) = self.storage.take() else {
            return;
        };
        let mut released = Vec::new();
        {
            let mut st = self.pool.lock();
            st.stats.bytes_in_use -= self.class;
            st.cache(
                self.class,
                storage,
                self.pool.config.max_cached,
                &mut released,
            );
        }
        // Unmapping happens outside the lock.
        drop(released);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn rounding_waste_is_bounded(bytes in 1u64..(1u64 << 40)) {
            let class = size_class(bytes).unwrap();
            prop_assert!(class >= bytes);
            prop_assert_eq!(class % 64, 0);
            let waste = class - bytes;
            if bytes > SMALL_LIMIT {
                prop_assert!((waste as f64) / (bytes as f64) < 0.02, "{bytes} -> {class}");
            } else {
                prop_assert!(waste < 64);
            }
        }
    }

    #[test]
    fn blocks_are_reused_and_zeroed() {
        let pool = MemoryPool::new(PoolConfig::default());
        let mut a = pool.allocate_zeroed(10_000).unwrap();
        a.bytes_mut().fill(7);
        let class = size_class(10_000).unwrap();
        drop(a);
        assert_eq!(pool.statistics().bytes_cached, class);
        let b = pool.allocate_zeroed(9_990).unwrap();
        assert!(
            b.bytes().iter().all(|&x| x == 0),
            "reused block must be zeroed"
        );
        let s = pool.statistics();
        assert_eq!(
            (s.requests, s.hits, s.bytes_in_use, s.bytes_cached),
            (2, 1, class, 0)
        );
    }

    #[test]
    fn large_blocks_are_mapped_aligned_and_coloured() {
        let pool = MemoryPool::new(PoolConfig::default());
        let blocks: Vec<HostBlock> = (0..3)
            .map(|_| pool.allocate_zeroed(4 << 20).unwrap())
            .collect();
        for b in &blocks {
            assert_eq!(b.bytes().as_ptr() as usize % 64, 0);
            assert!(b.bytes().iter().all(|&x| x == 0));
        }
        // Consecutive blocks start at different offsets modulo 2 MiB, so that their elements
        // do not share cache sets.
        let phase = |b: &HostBlock| b.bytes().as_ptr() as usize % (2 << 20);
        assert_ne!(phase(&blocks[0]), phase(&blocks[1]));
        assert_ne!(phase(&blocks[1]), phase(&blocks[2]));
        let small = pool.allocate_zeroed(100).unwrap();
        assert_eq!(small.bytes().as_ptr() as usize % 64, 0);
    }

    #[test]
    fn limit_is_an_error_and_nothing_is_lost() {
        let pool = MemoryPool::new(PoolConfig {
            limit: Some(1 << 20),
            ..PoolConfig::default()
        });
        let a = pool.allocate_zeroed(600 << 10).unwrap();
        let err = pool.allocate_zeroed(600 << 10).unwrap_err();
        assert!(matches!(err, Error::PoolLimit { .. }), "{err}");
        assert!(err.to_string().contains("limit"));
        drop(a);
        assert!(pool.allocate_zeroed(600 << 10).is_ok());
    }

    #[test]
    fn a_full_cache_makes_room_for_the_newest_size() {
        let pool = MemoryPool::new(PoolConfig {
            max_cached: 8192,
            ..PoolConfig::default()
        });
        // Two small blocks fill the cache; a larger one returned later replaces them.
        let small: Vec<_> = (0..2)
            .map(|_| pool.allocate_zeroed(4096).unwrap())
            .collect();
        drop(small);
        let large = pool.allocate_zeroed(8192).unwrap();
        drop(large);
        let s = pool.statistics();
        assert_eq!((s.bytes_cached, s.bytes_released), (8192, 8192));
        // The next request of the larger size is served from the cache.
        let again = pool.allocate_zeroed(8192).unwrap();
        assert_eq!(pool.statistics().hits, 1);
        assert!(again.bytes().iter().all(|&b| b == 0));
        drop(again);
        // A small block does not push out a larger one: it goes back itself.
        drop(pool.allocate_zeroed(4096).unwrap());
        let s = pool.statistics();
        assert_eq!((s.bytes_cached, s.bytes_released), (8192, 8192 + 4096));
        // A block larger than the whole cache goes back to the system itself.
        drop(pool.allocate_zeroed(16384).unwrap());
        let s = pool.statistics();
        assert_eq!(
            (s.bytes_cached, s.bytes_released),
            (8192, 8192 + 4096 + 16384)
        );
    }

    #[test]
    fn cache_cap_and_trim_release_memory() {
        let pool = MemoryPool::new(PoolConfig {
            max_cached: 8192,
            ..PoolConfig::default()
        });
        let blocks: Vec<_> = (0..4)
            .map(|_| pool.allocate_zeroed(4096).unwrap())
            .collect();
        drop(blocks);
        let s = pool.statistics();
        assert_eq!((s.bytes_cached, s.bytes_released), (8192, 8192));
        assert_eq!(pool.trim(), 8192);
        let s = pool.statistics();
        assert_eq!(
            (s.bytes_cached, s.bytes_reserved, s.peak_reserved),
            (0, 0, 16384)
        );
    }

    #[test]
    fn impossible_sizes_are_errors_not_panics() {
        let pool = MemoryPool::new(PoolConfig::default());
        for _ in 0..3 {
            let err = pool.allocate_zeroed(usize::MAX / 2 + 1).unwrap_err();
            assert!(matches!(err, Error::OutOfMemory { .. }), "{err}");
        }
        let err = pool.allocate_zeroed(1 << 60).unwrap_err();
        assert!(matches!(err, Error::OutOfMemory { .. }), "{err}");
        assert_eq!(pool.statistics().bytes_in_use, 0);
        assert_eq!(pool.statistics().bytes_reserved, 0);
    }

    #[test]
    fn zero_sized_blocks_need_no_memory() {
        let pool = MemoryPool::new(PoolConfig::default());
        let b = pool.allocate_zeroed(0).unwrap();
        assert!(b.is_empty());
        assert_eq!(pool.statistics().bytes_reserved, 0);
    }
}
