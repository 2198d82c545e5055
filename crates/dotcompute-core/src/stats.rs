//! Per-kernel launch statistics.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Counters updated by every launch of one kernel on one accelerator (lock-free).
#[derive(Debug, Default)]
pub(crate) struct KernelCounters {
    times: DeviceTimeCounters,
    faults: AtomicU64,
    work_items: AtomicU64,
}

impl KernelCounters {
    pub(crate) fn record(&self, elapsed: Duration, work_items: u64, faulted: bool) {
        self.times.record(elapsed);
        if faulted {
            self.faults.fetch_add(1, Relaxed);
        }
        self.work_items.fetch_add(work_items, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> LaunchTimes {
        let times = self.times.snapshot();
        LaunchTimes {
            launches: times.timed_launches,
            faults: self.faults.load(Relaxed),
            work_items: self.work_items.load(Relaxed),
            total: times.total,
            min: times.min,
            max: times.max,
        }
    }
}

/// `total / count`, zero for no count.
fn mean(total: Duration, count: u64) -> Duration {
    if count == 0 {
        Duration::ZERO
    } else {
        let nanos = total.as_nanos() / u128::from(count);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// Launch counts and host-side times of one kernel on one accelerator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LaunchTimes {
    /// Launches, including those that faulted.
    pub launches: u64,
    /// Launches that ended in a fault.
    pub faults: u64,
    /// Work items run, in total.
    pub work_items: u64,
    /// Total time spent in launches (for asynchronous backends: until the launch returned).
    pub total: Duration,
    /// Shortest launch.
    pub min: Duration,
    /// Longest launch.
    pub max: Duration,
}

impl LaunchTimes {
    /// Mean time per launch.
    pub fn mean(&self) -> Duration {
        mean(self.total, self.launches)
    }
}

/// Statistics of one kernel on one accelerator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelStatistics {
    /// Kernel name.
    pub kernel: String,
    /// Accelerator id, e.g. `cpu:0`.
    pub accelerator: String,
    /// Time spent compiling it for this accelerator.
    pub compile_time: Duration,
    /// Launch counts and times.
    pub launches: LaunchTimes,
    /// Time the kernel ran, measured by the device itself (GPU timestamp queries), for
    /// launches up to the last synchronisation; `None` where the device cannot measure it.
    pub device: Option<DeviceTimes>,
}

/// Kernel run times measured by a device (from the start to the end of its work there).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceTimes {
    /// Launches timed.
    pub timed_launches: u64,
    /// Total time on the device.
    pub total: Duration,
    /// Shortest launch.
    pub min: Duration,
    /// Longest launch.
    pub max: Duration,
}

impl DeviceTimes {
    /// Mean time per timed launch.
    pub fn mean(&self) -> Duration {
        mean(self.total, self.timed_launches)
    }
}

/// Counts and times of one kernel's launches (lock-free): host-side times for every backend,
/// and device-measured ones that GPU backends update as they read their timers.
#[derive(Debug, Default)]
pub struct DeviceTimeCounters {
    timed: AtomicU64,
    total_nanos: AtomicU64,
    min_nanos: AtomicU64,
    max_nanos: AtomicU64,
}

impl DeviceTimeCounters {
    /// Adds one launch's time.
    pub fn record(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let n = self.timed.fetch_add(1, Relaxed);
        self.total_nanos.fetch_add(nanos, Relaxed);
        if n == 0 {
            self.min_nanos.store(nanos, Relaxed);
        } else {
            self.min_nanos.fetch_min(nanos, Relaxed);
        }
        self.max_nanos.fetch_max(nanos, Relaxed);
    }

    /// The times so far.
    pub fn snapshot(&self) -> DeviceTimes {
        DeviceTimes {
            timed_launches: self.timed.load(Relaxed),
            total: Duration::from_nanos(self.total_nanos.load(Relaxed)),
            min: Duration::from_nanos(self.min_nanos.load(Relaxed)),
            max: Duration::from_nanos(self.max_nanos.load(Relaxed)),
        }
    }
}
