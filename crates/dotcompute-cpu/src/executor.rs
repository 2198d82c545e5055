//! Runs a compiled kernel over a grid: inline for small launches, split over the pool for
//! large ones, with panics caught per span.

use dotcompute_core::cpu_abi::{CpuArg, CpuLaunch, SimdLevel};
use dotcompute_core::{CpuEntry, Grid, KernelFault, panic_message};
use rayon::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use crate::options::CpuOptions;

/// Work-group size when the grid does not set one.
const DEFAULT_GROUP: [u64; 3] = [64, 1, 1];
/// Spans per thread, so that uneven work (divergent kernels) balances by stealing.
const SPANS_PER_THREAD: u64 = 8;
/// Fewest work items in one span, so that splitting never costs more than it saves.
const MIN_SPAN: u64 = 1024;

/// A kernel compiled for the CPU: its generated entry point and a running estimate of its
/// cost per work item, which decides whether a launch runs inline.
pub(crate) struct CpuKernel {
    pub(crate) name: &'static str,
    pub(crate) entry: CpuEntry,
    /// Single-thread picoseconds per work item, from the last inline launch; 0 until one ran.
    ps_per_item: AtomicU64,
}

pub(crate) struct Executor<'a> {
    pub(crate) pool: &'a rayon::ThreadPool,
    pub(crate) options: &'a CpuOptions,
    pub(crate) simd: SimdLevel,
}

impl CpuKernel {
    pub(crate) fn new(name: &'static str, entry: CpuEntry) -> CpuKernel {
        CpuKernel {
            name,
            entry,
            ps_per_item: AtomicU64::new(0),
        }
    }

    fn runs_inline(&self, work_items: u64, options: &CpuOptions) -> bool {
        match self.ps_per_item.load(Relaxed) {
            0 => work_items < options.inline_work_items,
            ps => work_items.saturating_mul(ps) / 1000 < options.inline_budget_ns,
        }
    }

    /// Runs the kernel.
    ///
    /// # Safety
    ///
    /// As for `CompiledKernel::launch`: arguments match the kernel and their buffers are valid
    /// and unshared for the call; unchecked kernels access only in-bounds elements.
    pub(crate) unsafe fn run(
        &self,
        exec: &Executor<'_>,
        grid: &Grid,
        work_items: u64,
        args: &[CpuArg],
    ) -> Result<(), KernelFault> {
        let group = grid
            .group_size()
            .map_or(DEFAULT_GROUP, |g| g.map(u64::from));
        // SAFETY: the caller guarantees the buffers; exec.simd was checked against the CPU
        // when the device was created.
        let launch = unsafe { CpuLaunch::new(grid.dims(), group, exec.simd, args) };
        if !self.runs_inline(work_items, exec.options) {
            let threads = exec.pool.current_num_threads().max(1) as u64;
            let span = work_items
                .div_ceil(threads * SPANS_PER_THREAD)
                .max(MIN_SPAN);
            let spans = work_items.div_ceil(span);
            return exec.pool.install(|| {
                (0..spans).into_par_iter().try_for_each(|s| {
                    self.span(&launch, s * span, ((s + 1) * span).min(work_items))
                })
            });
        }
        // Inline runs measure the kernel's single-thread cost, which decides later launches.
        let started = Instant::now();
        let result = self.span(&launch, 0, work_items);
        let ps = started.elapsed().as_nanos().saturating_mul(1000) / u128::from(work_items);
        self.ps_per_item
            .store(u64::try_from(ps).unwrap_or(u64::MAX).max(1), Relaxed);
        result
    }

    /// Runs work items `start..end`, turning a panic into a fault so that the caller and the
    /// pool survive it.
    fn span(&self, launch: &CpuLaunch<'_>, start: u64, end: u64) -> Result<(), KernelFault> {
        // SAFETY: `run`'s caller guarantees what the entry point needs.
        catch_unwind(AssertUnwindSafe(|| unsafe {
            (self.entry)(launch, start, end)
        }))
        .unwrap_or_else(|panic| {
            Err(KernelFault::Panic {
                message: panic_message(&*panic).into(),
            })
        })
    }
}
