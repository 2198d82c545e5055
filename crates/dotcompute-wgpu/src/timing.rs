//! Kernel times measured by the device: a timestamp at the start and end of each launch's
//! compute pass, resolved and read back by the next collection of launch outcomes (a
//! synchronisation, or a read of a buffer a launch wrote).

use std::time::Duration;

/// Launches timed between two collections; later ones go untimed.
const SLOTS: u32 = wgpu::QUERY_SET_MAX_QUERIES / 2;

/// The device's timestamp queries: two per launch slot.
pub(crate) struct TimestampQueries {
    query_set: wgpu::QuerySet,
    /// Where the queries resolve to (`QUERY_RESOLVE | COPY_SRC`).
    resolved: wgpu::Buffer,
    /// Nanoseconds per tick.
    period: f64,
}

impl TimestampQueries {
    /// Queries for `device`, when it has the `TIMESTAMP_QUERY` feature.
    pub(crate) fn new(device: &wgpu::Device, queue: &wgpu::Queue) -> Option<TimestampQueries> {
        if !device.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
            return None;
        }
        let query_set = device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("dotcompute kernel timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count: 2 * SLOTS,
        });
        let resolved = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("dotcompute resolved timestamps"),
            size: u64::from(2 * SLOTS) * 8,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        Some(TimestampQueries {
            query_set,
            resolved,
            period: f64::from(queue.get_timestamp_period()),
        })
    }

    /// Whether launch slot `slot` exists (a launch's slot is its position among the launches
    /// since the last collection).
    pub(crate) fn has_slot(slot: u32) -> bool {
        slot < SLOTS
    }

    /// The pass timestamps of launch slot `slot`.
    pub(crate) fn writes(&self, slot: u32) -> wgpu::ComputePassTimestampWrites<'_> {
        wgpu::ComputePassTimestampWrites {
            query_set: &self.query_set,
            beginning_of_pass_write_index: Some(2 * slot),
            end_of_pass_write_index: Some(2 * slot + 1),
        }
    }

    /// Resolves slots `0..slots` and copies the ticks into `readback` (at offset 0).
    pub(crate) fn resolve(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        slots: u32,
        readback: &wgpu::Buffer,
    ) {
        let queries = 2 * slots.min(SLOTS);
        if queries == 0 {
            return;
        }
        encoder.resolve_query_set(&self.query_set, 0..queries, &self.resolved, 0);
        encoder.copy_buffer_to_buffer(&self.resolved, 0, readback, 0, u64::from(queries) * 8);
    }

    /// A readback buffer for [`TimestampQueries::resolve`].
    pub(crate) fn readback(device: &wgpu::Device) -> wgpu::Buffer {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("dotcompute timestamp readback"),
            size: u64::from(2 * SLOTS) * 8,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// The duration of slot `slot` from the read-back ticks; `None` when the pair is not a
    /// plausible interval (a launch registered but never submitted reads as zeros).
    pub(crate) fn duration(&self, ticks: &[u8], slot: u32) -> Option<Duration> {
        let at = 16 * slot as usize;
        let word = |i: usize| {
            ticks
                .get(i..i + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes)
        };
        let (start, end) = (word(at)?, word(at + 8)?);
        if start == 0 || end < start {
            return None;
        }
        let nanos = (end - start) as f64 * self.period;
        Some(Duration::from_nanos(nanos.round() as u64))
    }
}
