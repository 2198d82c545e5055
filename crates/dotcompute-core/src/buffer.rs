//! Unified buffers: one logical array, with a host copy and (on GPU backends) device copies.

use crate::backend::{Device, DeviceMemory};
use crate::error::Error;
use crate::info::AcceleratorId;
use crate::launch_tracker::TrackedLaunch;
use crate::pool::{HostBlock, MemoryPool};
use crate::scalar::KernelScalar;
use dotcompute_ir::ScalarType;
use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Identifies the `ComputeService` a buffer or accelerator belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ServiceId(pub u64);

/// A buffer's copy in one device's memory.
struct DeviceCopy {
    accelerator: AcceleratorId,
    memory: std::sync::Arc<dyn DeviceMemory>,
    current: bool,
}

/// The copies of a buffer and which are current: the host copy and at most one copy per
/// device. At least one copy is current at any time.
///
/// The rules (DESIGN section 5): a launch uploads a stale input before the device reads it; a
/// launch that writes a buffer makes every other copy stale; the host reads wait for pending
/// device writes and download only when the host copy is stale. All access goes through the
/// methods here, so the rules live in one place.
///
/// The device copies sit behind their own lock, so that a launch that only reads the buffer
/// can upload it under a shared borrow of the state (for instance while the host holds a
/// `read()` guard on it).
///
/// The last launch that wrote the buffer is kept until it is written again: when it faulted,
/// the contents are undefined, and every read reports its fault (see
/// [`crate::launch_tracker`]).
pub(crate) struct BufferState {
    host: HostBlock,
    host_current: bool,
    devices: Mutex<DeviceCopies>,
    last_writer: Option<Arc<TrackedLaunch>>,
}

#[derive(Default)]
struct DeviceCopies {
    copies: Vec<DeviceCopy>,
    transfers: TransferStatistics,
}

impl DeviceCopies {
    /// The index of `device`'s copy, allocated if it has none.
    fn index_of(&mut self, device: &dyn Device, bytes: usize) -> Result<usize, Error> {
        let id = device.info().id;
        if let Some(i) = self.copies.iter().position(|c| c.accelerator == id) {
            return Ok(i);
        }
        let memory = device.allocate(bytes)?.into();
        self.copies.push(DeviceCopy {
            accelerator: id,
            memory,
            current: false,
        });
        Ok(self.copies.len() - 1)
    }

    /// Uploads `host` into copy `index` if it is stale.
    fn refresh(&mut self, index: usize, host: &[u8]) -> Result<(), Error> {
        if self.copies[index].current {
            return Ok(());
        }
        let _span =
            tracing::trace_span!("transfer", direction = "upload", bytes = host.len()).entered();
        self.copies[index].memory.upload(host)?;
        self.copies[index].current = true;
        self.transfers.uploads += 1;
        self.transfers.bytes_uploaded += host.len() as u64;
        Ok(())
    }

    fn mark_all_stale(&mut self) {
        for c in &mut self.copies {
            c.current = false;
        }
    }
}

/// Where a buffer's data is current: the copies a reader can use without a transfer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Residency {
    /// The host copy is current (the CPU reads it in place).
    pub host: bool,
    /// The devices whose copies are current.
    pub devices: Vec<AcceleratorId>,
}

/// How often a buffer's data moved between the host and devices, and how many bytes.
///
/// Data moves only when needed: an input is uploaded when a device's copy is stale, and a
/// device's result is downloaded when the host reads it. On the CPU nothing moves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TransferStatistics {
    /// Copies from the host to a device.
    pub uploads: u64,
    /// Copies from a device to the host.
    pub downloads: u64,
    /// Bytes uploaded.
    pub bytes_uploaded: u64,
    /// Bytes downloaded.
    pub bytes_downloaded: u64,
}

impl std::fmt::Debug for BufferState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let devices = self.devices();
        f.debug_struct("BufferState")
            .field("bytes", &self.host.len())
            .field("host_current", &self.host_current)
            .field(
                "copies",
                &devices
                    .copies
                    .iter()
                    .map(|c| (c.accelerator, c.current))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl BufferState {
    fn new(host: HostBlock) -> BufferState {
        BufferState {
            host,
            host_current: true,
            devices: Mutex::new(DeviceCopies::default()),
            last_writer: None,
        }
    }

    /// `Ok` unless the last launch that wrote the buffer faulted (waiting for its outcome if
    /// it is still running): its contents are then undefined.
    pub(crate) fn check_writer(&self) -> Result<(), Error> {
        self.last_writer.as_ref().map_or(Ok(()), |w| w.wait())
    }

    /// The last launch that wrote the buffer, if any.
    pub(crate) fn last_writer(&self) -> Option<&Arc<TrackedLaunch>> {
        self.last_writer.as_ref()
    }

    /// Records who wrote the buffer last: a launch, or the host (`None`).
    pub(crate) fn set_last_writer(&mut self, writer: Option<Arc<TrackedLaunch>>) {
        self.last_writer = writer;
    }

    /// The device copies (their state is never left half-updated by a panic).
    fn devices(&self) -> MutexGuard<'_, DeviceCopies> {
        self.devices.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn devices_mut(&mut self) -> &mut DeviceCopies {
        self.devices
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn transfers(&self) -> TransferStatistics {
        self.devices().transfers
    }

    /// Where the current copies are.
    fn residency(&self) -> Residency {
        Residency {
            host: self.host_current,
            devices: self
                .devices()
                .copies
                .iter()
                .filter(|c| c.current)
                .map(|c| c.accelerator)
                .collect(),
        }
    }

    /// The host copy, if it is current (no download needed).
    pub(crate) fn host_if_current(&self) -> Option<&[u8]> {
        self.host_current.then(|| self.host.bytes())
    }

    /// Makes the host copy current, downloading the current device copy if needed.
    pub(crate) fn make_host_current(&mut self) -> Result<(), Error> {
        if self.host_current {
            return Ok(());
        }
        let bytes = self.host.len();
        let _span = tracing::trace_span!("transfer", direction = "download", bytes).entered();
        let devices = self
            .devices
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        let source = devices
            .copies
            .iter()
            .find(|c| c.current)
            .ok_or_else(|| Error::Backend {
                backend: "core".into(),
                message: "a buffer has no current copy (a device failed while writing it)".into(),
                source: None,
            })?;
        source.memory.download(self.host.bytes_mut())?;
        self.host_current = true;
        devices.transfers.downloads += 1;
        devices.transfers.bytes_downloaded += bytes as u64;
        Ok(())
    }

    /// The host copy, current, for writing; device copies become stale.
    pub(crate) fn host_for_write(&mut self) -> Result<&mut [u8], Error> {
        self.make_host_current()?;
        self.devices_mut().mark_all_stale();
        Ok(self.host.bytes_mut())
    }

    /// The host copy for overwriting in full: nothing is downloaded, device copies become
    /// stale.
    pub(crate) fn host_for_overwrite(&mut self) -> &mut [u8] {
        self.host_current = true;
        self.last_writer = None;
        self.devices_mut().mark_all_stale();
        self.host.bytes_mut()
    }

    /// `device`'s copy, current, for a launch that only reads it, under a shared borrow:
    /// `None` when bringing it up to date needs a download first (then use
    /// [`BufferState::device_copy`]; no host read guard can exist in that state, since taking
    /// one makes the host copy current).
    pub(crate) fn device_copy_for_read(
        &self,
        device: &dyn Device,
    ) -> Result<Option<std::sync::Arc<dyn DeviceMemory>>, Error> {
        let mut devices = self.devices();
        let id = device.info().id;
        if let Some(c) = devices
            .copies
            .iter()
            .find(|c| c.accelerator == id && c.current)
        {
            return Ok(Some(c.memory.clone()));
        }
        if !self.host_current {
            return Ok(None);
        }
        let index = devices.index_of(device, self.host.len())?;
        devices.refresh(index, self.host.bytes())?;
        Ok(Some(devices.copies[index].memory.clone()))
    }

    /// `device`'s copy, current, allocated and uploaded as needed; when `write`, every other
    /// copy becomes stale (the launch will write this one).
    pub(crate) fn device_copy(
        &mut self,
        device: &dyn Device,
        write: bool,
    ) -> Result<std::sync::Arc<dyn DeviceMemory>, Error> {
        let bytes = self.host.len();
        let index = self.devices_mut().index_of(device, bytes)?;
        if !self.devices_mut().copies[index].current {
            self.make_host_current()?;
            let devices = self
                .devices
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner);
            devices.refresh(index, self.host.bytes())?;
        }
        let devices = self
            .devices
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        if write {
            self.host_current = false;
            for (i, c) in devices.copies.iter_mut().enumerate() {
                c.current = i == index;
            }
        }
        Ok(devices.copies[index].memory.clone())
    }
}

/// The untyped part of a [`UnifiedBuffer`]: what a launch needs to bind it.
#[derive(Debug)]
pub struct RawBuffer {
    len: usize,
    elem: Option<ScalarType>,
    service: ServiceId,
    state: RwLock<BufferState>,
}

impl RawBuffer {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` when the buffer has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The element type, when it is a kernel scalar type.
    pub fn elem(&self) -> Option<ScalarType> {
        self.elem
    }

    /// The service the buffer belongs to.
    pub fn service(&self) -> ServiceId {
        self.service
    }

    /// How often its data moved between the host and devices.
    pub fn transfers(&self) -> TransferStatistics {
        self.read_state().transfers()
    }

    /// Where its data is current now: in host memory, in devices' memory (a launch there
    /// reads it without a transfer).
    pub fn residency(&self) -> Residency {
        self.read_state().residency()
    }

    /// The state, shared. A recursive read: it never queues behind a waiting writer while
    /// this or another thread holds a read lock, so that a thread holding a `read()` guard
    /// (or a launch reading the buffer twice) cannot deadlock with another thread's download.
    pub(crate) fn read_state(&self) -> RwLockReadGuard<'_, BufferState> {
        self.state.read_recursive()
    }

    /// The state, exclusively, through a shared reference (for downloads). Taken only while
    /// holding no lock of this buffer.
    pub(crate) fn write_state(&self) -> RwLockWriteGuard<'_, BufferState> {
        self.state.write()
    }

    /// The state, locked for reading, with the host copy current and written by a launch
    /// that did not fault.
    pub(crate) fn read_state_host_current(
        &self,
    ) -> Result<RwLockReadGuard<'_, BufferState>, Error> {
        loop {
            let guard = self.read_state();
            if guard.host_current {
                guard.check_writer()?;
                return Ok(guard);
            }
            drop(guard);
            self.write_state().make_host_current()?;
        }
    }

    pub(crate) fn state_mut(&mut self) -> &mut BufferState {
        self.state.get_mut()
    }
}

/// An array of `T` that kernels on any accelerator can read and write.
///
/// Create one with `ComputeService::buffer_from_slice` or `buffer_zeroed`. Kernel launches
/// take `&UnifiedBuffer` for `&[T]` parameters and `&mut UnifiedBuffer` for `&mut [T]` ones,
/// so Rust's borrow rules keep a buffer from being both read and written by one launch. Data
/// moves between host and devices only when the other side needs it.
///
/// ```
/// # use dotcompute_core::{UnifiedBuffer, ServiceId, pool::{MemoryPool, PoolConfig}};
/// # let pool = MemoryPool::new(PoolConfig::default());
/// let mut buf = UnifiedBuffer::from_slice(&pool, ServiceId(0), &[1.0f32, 2.0, 3.0])?;
/// buf.write()?[0] = 10.0;
/// assert_eq!(buf.to_vec()?, vec![10.0, 2.0, 3.0]);
/// assert_eq!(&buf.read()?[1..], &[2.0, 3.0]);
/// # Ok::<(), dotcompute_core::Error>(())
/// ```
#[derive(Debug)]
pub struct UnifiedBuffer<T> {
    raw: RawBuffer,
    _elem: PhantomData<T>,
}

impl<T: bytemuck::Pod> UnifiedBuffer<T> {
    fn from_block(block: HostBlock, len: usize, service: ServiceId) -> Self {
        const {
            assert!(
                align_of::<T>() <= 64,
                "UnifiedBuffer elements must be aligned to at most 64 bytes"
            )
        };
        UnifiedBuffer {
            raw: RawBuffer {
                len,
                elem: element_type::<T>(),
                service,
                state: RwLock::new(BufferState::new(block)),
            },
            _elem: PhantomData,
        }
    }

    fn bytes_for(len: usize) -> Result<usize, Error> {
        len.checked_mul(size_of::<T>())
            .ok_or_else(|| Error::OutOfMemory {
                pool: "host".into(),
                bytes: u64::MAX,
                reason: format!("{len} elements of {} bytes overflow", size_of::<T>()),
            })
    }

    /// A buffer of `len` zeroed elements from `pool`.
    pub fn zeroed(pool: &MemoryPool, service: ServiceId, len: usize) -> Result<Self, Error> {
        let block = pool.allocate_zeroed(Self::bytes_for(len)?)?;
        Ok(Self::from_block(block, len, service))
    }

    /// A buffer holding a copy of `data`, from `pool`.
    pub fn from_slice(pool: &MemoryPool, service: ServiceId, data: &[T]) -> Result<Self, Error> {
        let mut block = pool.allocate_for_overwrite(Self::bytes_for(data.len())?)?;
        block
            .bytes_mut()
            .copy_from_slice(bytemuck::cast_slice(data));
        Ok(Self::from_block(block, data.len(), service))
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.raw.len
    }

    /// `true` when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.raw.len == 0
    }

    /// Reads the contents on the host (after pending device writes, copying back if needed).
    ///
    /// # Errors
    ///
    /// When a copy back from a device fails, or the last kernel that wrote the buffer faulted
    /// (then the contents are undefined, and every read reports that fault until the buffer
    /// is written again: by [`copy_from_slice`](Self::copy_from_slice) or by a launch that
    /// takes it as `&mut`).
    pub fn read(&self) -> Result<HostRead<'_, T>, Error> {
        Ok(HostRead {
            guard: self.raw.read_state_host_current()?,
            _elem: PhantomData,
        })
    }

    /// Writes the contents on the host; device copies become stale.
    ///
    /// # Errors
    ///
    /// As for [`read`](Self::read): the guard shows the current contents, which are undefined
    /// after a fault of the kernel that wrote them (overwrite them with
    /// [`copy_from_slice`](Self::copy_from_slice) instead).
    pub fn write(&mut self) -> Result<HostWrite<'_, T>, Error> {
        let state = self.raw.state_mut();
        state.make_host_current()?;
        state.check_writer()?;
        state.set_last_writer(None);
        Ok(HostWrite {
            bytes: state.host_for_write()?,
            _elem: PhantomData,
        })
    }

    /// A copy of the contents.
    pub fn to_vec(&self) -> Result<Vec<T>, Error> {
        Ok(self.read()?.to_vec())
    }

    /// Waits until the last launch that wrote the buffer has finished (at once on the CPU,
    /// whose launches return finished), without copying anything.
    ///
    /// # Errors
    ///
    /// That launch's fault, as every read would report it.
    pub fn wait(&self) -> Result<(), Error> {
        self.raw.read_state().check_writer()
    }

    /// Marks the fault of the last launch that wrote the buffer, if it faulted, as handled:
    /// the accelerator's `synchronize()` no longer returns it (reads of the buffer still
    /// report it). For a caller that launched a kernel expecting a fault and dealt with it.
    pub fn acknowledge_fault(&self) {
        if let Some(writer) = self.raw.read_state().last_writer() {
            writer.acknowledge();
        }
    }

    /// Reads the contents on the host even when the last kernel that wrote the buffer
    /// faulted, with that fault's error. After a fault the contents are what the work items
    /// wrote: each faulting item up to its fault, each other item that ran in full; items
    /// that the accelerator did not run (the CPU stops at a fault, a GPU runs every item)
    /// left the earlier contents. For finding where a kernel faulted (queries mark their
    /// elements this way); [`read`](Self::read) refuses such contents.
    ///
    /// # Errors
    ///
    /// When the copy back from a device fails.
    pub fn read_after_fault(&self) -> Result<(HostRead<'_, T>, Option<Error>), Error> {
        loop {
            let guard = self.raw.read_state();
            if guard.host_current {
                let fault = guard.check_writer().err();
                let read = HostRead {
                    guard,
                    _elem: PhantomData,
                };
                return Ok((read, fault));
            }
            drop(guard);
            self.raw.write_state().make_host_current()?;
        }
    }

    /// Copies `data` into the buffer; the lengths must match. This also makes a buffer whose
    /// writer faulted readable again.
    pub fn copy_from_slice(&mut self, data: &[T]) -> Result<(), Error> {
        if data.len() != self.len() {
            return Err(Error::LengthMismatch {
                expected: self.len(),
                found: data.len(),
            });
        }
        // Every byte is replaced, so a stale host copy is not downloaded first.
        self.raw
            .state_mut()
            .host_for_overwrite()
            .copy_from_slice(bytemuck::cast_slice(data));
        Ok(())
    }

    /// How often its data moved between the host and devices (never, while only the CPU uses
    /// it).
    pub fn transfers(&self) -> TransferStatistics {
        self.raw.transfers()
    }

    /// The untyped buffer, for launches.
    pub fn raw(&self) -> &RawBuffer {
        &self.raw
    }

    /// The untyped buffer, writable, for launches.
    pub fn raw_mut(&mut self) -> &mut RawBuffer {
        &mut self.raw
    }
}

fn element_type<T: 'static>() -> Option<ScalarType> {
    use std::any::TypeId;
    let id = TypeId::of::<T>();
    [
        (TypeId::of::<f32>(), <f32 as KernelScalar>::TYPE),
        (TypeId::of::<f64>(), <f64 as KernelScalar>::TYPE),
        (TypeId::of::<i32>(), <i32 as KernelScalar>::TYPE),
        (TypeId::of::<u32>(), <u32 as KernelScalar>::TYPE),
        (TypeId::of::<i64>(), <i64 as KernelScalar>::TYPE),
        (TypeId::of::<u64>(), <u64 as KernelScalar>::TYPE),
    ]
    .into_iter()
    .find_map(|(t, s)| (t == id).then_some(s))
}

fn as_elements<T: bytemuck::Pod>(bytes: &[u8]) -> &[T] {
    if bytes.is_empty() {
        // An empty block's pointer is not aligned for T; an empty slice of T needs no memory.
        return &[];
    }
    // Blocks are 64-byte aligned (T's alignment is at most 64, checked when the buffer is made)
    // and hold exactly len * size_of::<T>() bytes, so the cast cannot fail.
    bytemuck::cast_slice(bytes)
}

/// The host contents of a buffer, borrowed for reading.
pub struct HostRead<'a, T> {
    guard: RwLockReadGuard<'a, BufferState>,
    _elem: PhantomData<T>,
}

impl<T: bytemuck::Pod> Deref for HostRead<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // The guard was taken with the host copy current, and it cannot become stale while
        // the read lock is held (staleness needs `&mut` or the write lock).
        as_elements(self.guard.host_if_current().unwrap_or(&[]))
    }
}

/// The host contents of a buffer, borrowed for writing.
pub struct HostWrite<'a, T> {
    bytes: &'a mut [u8],
    _elem: PhantomData<T>,
}

impl<T: bytemuck::Pod> Deref for HostWrite<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        as_elements(self.bytes)
    }
}

impl<T: bytemuck::Pod> DerefMut for HostWrite<'_, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        if self.bytes.is_empty() {
            return &mut [];
        }
        // Blocks are 64-byte aligned (T's alignment is at most 64, checked when the buffer is
        // made) and hold exactly len * size_of::<T>() bytes, so the cast cannot fail.
        bytemuck::cast_slice_mut(self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::PoolConfig;
    use std::time::Duration;

    #[test]
    fn a_read_never_queues_behind_a_writer_while_a_read_is_held() {
        // A launch that reads one buffer twice, or reads a buffer whose `read()` guard its
        // thread holds, takes a second read lock; another thread's download queues for the
        // write lock in between. A read that queued behind that writer would wait forever.
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let pool = MemoryPool::new(PoolConfig::default());
            let buffer =
                Arc::new(UnifiedBuffer::from_slice(&pool, ServiceId(0), &[1u32, 2, 3]).unwrap());
            let first = buffer.read().unwrap();
            let writer = {
                let buffer = buffer.clone();
                std::thread::spawn(move || drop(buffer.raw().write_state()))
            };
            // Give the writer time to queue.
            std::thread::sleep(Duration::from_millis(100));
            let second = buffer.read().unwrap();
            assert_eq!((&first[..], &second[..]), (&[1, 2, 3][..], &[1, 2, 3][..]));
            drop((first, second));
            writer.join().unwrap();
            done.send(()).unwrap();
        });
        finished
            .recv_timeout(Duration::from_secs(20))
            .expect("the second read waited behind the queued writer: deadlock");
    }
}
