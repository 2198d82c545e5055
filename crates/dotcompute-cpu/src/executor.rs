//! Runs a compiled kernel over a grid: inline for small launches; for large ones, the calling
//! thread starts on the work at once while pool workers join as they wake, each claiming spans
//! of work items from a shared counter. Panics are caught per span.
//!
//! Why not a plain `par_iter`: a launch from a thread outside the pool would wait idle while
//! sleeping workers wake up (tens to hundreds of microseconds on small VMs), which for a
//! launch of a few hundred microseconds is most of its time. Here the caller computes from the
//! first microsecond, and a helper that wakes after all spans are taken leaves at once.

use crate::options::CpuOptions;
use crate::tuner::SimdTuner;
use dotcompute_core::cpu_abi::{CpuArg, CpuLaunch, SimdLevel};
use dotcompute_core::{CpuEntry, Grid, KernelFault, panic_message};
use smallvec::SmallVec;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// Spans per thread, so that uneven work (divergent kernels) balances.
const SPANS_PER_THREAD: u64 = 8;
/// Fewest work items in one span while the kernel's cost is unknown.
const MIN_SPAN: u64 = 1024;
/// Once the cost is known, spans are made to take at least this long, so that claiming a
/// span never costs more than running it.
const MIN_SPAN_NS: u64 = 20_000;
/// Inline launches time one in this many runs to keep the cost estimate current (a clock read
/// costs about 30 ns, a tiny launch about 200).
const SAMPLE_EVERY: u64 = 8;

/// A kernel compiled for the CPU: its generated entry point, a running estimate of its cost
/// per work item (which decides whether a launch runs inline), and its SIMD clone choice.
pub(crate) struct CpuKernel {
    pub(crate) name: &'static str,
    pub(crate) entry: CpuEntry,
    /// Single-thread picoseconds per work item, a moving average of timed inline launches; 0
    /// until one ran.
    ps_per_item: AtomicU64,
    /// Inline launches so far (for sampling).
    inline_runs: AtomicU64,
    /// Which SIMD clone this kernel runs with.
    tuner: SimdTuner,
}

/// Where the helpers of a launch run.
pub(crate) struct Executor<'a> {
    /// A dedicated pool, or `None` for rayon's global pool.
    pub(crate) pool: Option<&'a rayon::ThreadPool>,
    pub(crate) options: &'a CpuOptions,
}

fn ps_per_item(started: Instant, work_items: u64) -> u64 {
    let ps = started.elapsed().as_nanos().saturating_mul(1000) / u128::from(work_items.max(1));
    u64::try_from(ps).unwrap_or(u64::MAX)
}

/// Runs work items `start..end`, turning a panic into a fault so that the caller and the
/// pool survive it.
///
/// # Safety
///
/// `launch` describes valid buffers for the duration of the call (see `CpuLaunch::new`), and
/// for unchecked kernels every access of these work items is in bounds.
unsafe fn run_span(
    entry: CpuEntry,
    launch: &CpuLaunch<'_>,
    start: u64,
    end: u64,
) -> Result<(), KernelFault> {
    // SAFETY: the caller's guarantees are the entry point's.
    catch_unwind(AssertUnwindSafe(|| unsafe { entry(launch, start, end) })).unwrap_or_else(
        |panic| {
            let message = panic_message(&*panic);
            // Dropping a payload can itself panic; leak it instead, so that nothing unwinds
            // out of a span.
            std::mem::forget(panic);
            Err(KernelFault::Panic {
                message: message.into(),
            })
        },
    )
}

/// The state of a parallel launch, shared by the caller and its helpers.
///
/// Every span index below `spans` is claimed exactly once (by `fetch_add` on `next`) and then
/// counted in `finished`. A claimed span runs unless `stop` was set before its claimer looked:
/// `stop` is set only by a fault (the launch's results are then undefined anyway) or by the
/// caller unwinding, never by the normal end of a launch, which waits for every claimed span
/// to run. The caller returns only when all `spans` are finished, so buffer pointers are
/// dereferenced only while the launch is alive; a helper that claims an index at or beyond
/// `spans` touches nothing.
struct SharedLaunch {
    entry: CpuEntry,
    args: SmallVec<[CpuArg; 8]>,
    grid: [u64; 3],
    group: [u64; 3],
    simd: SimdLevel,
    work_items: u64,
    span: u64,
    spans: u64,
    next: AtomicU64,
    finished: AtomicU64,
    stop: AtomicBool,
    fault: Mutex<Option<KernelFault>>,
    subgroup: u32,
}

// SAFETY: the raw pointers in `args` are dereferenced only inside claimed spans, which all
// finish before the launching call returns (see the type's documentation); everything else is
// plain data or synchronised.
unsafe impl Send for SharedLaunch {}
// SAFETY: as for Send.
unsafe impl Sync for SharedLaunch {}

impl SharedLaunch {
    /// Claims and runs spans until none are left.
    fn work(&self) {
        loop {
            let k = self.next.fetch_add(1, Ordering::Relaxed);
            if k >= self.spans {
                return;
            }
            #[cfg(test)]
            tests::between_claim_and_run();
            // Relaxed suffices: `stop` only saves work after a fault or during unwinding, and
            // which spans it skips then does not matter.
            if !self.stop.load(Ordering::Relaxed) {
                // k < spans = ceil(work_items / span), so start < work_items: no overflow.
                let start = k * self.span;
                let end = start + self.span.min(self.work_items - start);
                // SAFETY: span k was claimed and the launch waits for it to finish, so the
                // buffers are alive; they are valid per the launching call's contract.
                let launch =
                    unsafe { CpuLaunch::new(self.grid, self.group, self.simd, &self.args) }
                        .with_subgroup_size(self.subgroup);
                // SAFETY: as above.
                if let Err(fault) = unsafe { run_span(self.entry, &launch, start, end) } {
                    self.stop.store(true, Ordering::Relaxed);
                    let mut first = self.fault.lock().unwrap_or_else(PoisonError::into_inner);
                    first.get_or_insert(fault);
                }
            }
            self.finished.fetch_add(1, Ordering::Release);
        }
    }

    /// Waits until every span is finished (the caller has claimed all it could: only spans
    /// that helpers are running remain).
    fn wait(&self) {
        let mut spins = 0u32;
        while self.finished.load(Ordering::Acquire) < self.spans {
            if spins < 64 {
                std::hint::spin_loop();
                spins += 1;
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// A SIMD trial in progress: ends it (with its time, if it ran cleanly) when dropped.
struct Trial<'a> {
    tuner: &'a SimdTuner,
    work_items: u64,
    candidate: usize,
    ps_per_item: Option<u64>,
}

impl Drop for Trial<'_> {
    fn drop(&mut self) {
        self.tuner
            .finish_trial(self.work_items, self.candidate, self.ps_per_item);
    }
}

/// Keeps the caller from leaving a launch while helpers may still run its spans.
///
/// The normal end is [`WaitForSpans::finish`]: every claimed span runs. Dropped without it
/// (the caller is unwinding, e.g. from a failed spawn), it stops the launch: unclaimed spans
/// are skipped, and it waits only for spans already running.
struct WaitForSpans<'a>(&'a SharedLaunch);

impl WaitForSpans<'_> {
    /// Waits for every span to finish, run in full.
    fn finish(self) {
        self.0.wait();
        std::mem::forget(self);
    }
}

impl Drop for WaitForSpans<'_> {
    fn drop(&mut self) {
        // Claim whatever is left (skipping it), so that the wait ends.
        self.0.stop.store(true, Ordering::Relaxed);
        self.0.work();
        self.0.wait();
    }
}

impl CpuKernel {
    /// `simd_candidates`: the clones this kernel may run with (all supported by the CPU),
    /// widest first; with more than one, the first large launches choose by timing.
    pub(crate) fn new(
        name: &'static str,
        entry: CpuEntry,
        simd_candidates: Vec<SimdLevel>,
    ) -> CpuKernel {
        CpuKernel {
            name,
            entry,
            ps_per_item: AtomicU64::new(0),
            inline_runs: AtomicU64::new(0),
            tuner: SimdTuner::new(simd_candidates),
        }
    }

    /// The span size for a parallel launch, or `None` to run inline: on one thread, when the
    /// launch is expected to take less than waking the pool, or when it cannot be split.
    /// `work_items` counts the entry's units (work items, or groups of `items_per_unit`
    /// items for a cooperative kernel); the first launch judges by items.
    fn plan(
        &self,
        work_items: u64,
        items_per_unit: u64,
        threads: u64,
        options: &CpuOptions,
    ) -> Option<u64> {
        if threads <= 1 {
            return None;
        }
        let ps = self.ps_per_item.load(Ordering::Relaxed);
        let min_span = match ps {
            0 if work_items.saturating_mul(items_per_unit) < options.inline_work_items => {
                return None;
            }
            0 => MIN_SPAN.div_ceil(items_per_unit.max(1)),
            ps if work_items.saturating_mul(ps) / 1000 < options.inline_budget_ns => return None,
            ps => (MIN_SPAN_NS * 1000 / ps).max(1),
        };
        let span = work_items
            .div_ceil(threads * SPANS_PER_THREAD)
            .max(min_span);
        (span < work_items).then_some(span)
    }

    /// Folds a timed inline run into the cost estimate (a moving average, so that one run
    /// slowed by an interrupt does not send later small launches to the pool).
    fn learn_cost(&self, sample_ps: u64) {
        let sample = sample_ps.max(1);
        let _ = self
            .ps_per_item
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                Some(if old == 0 {
                    sample
                } else {
                    (old.saturating_mul(3)).saturating_add(sample) / 4
                })
            });
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
        items_per_unit: u64,
        args: &[CpuArg],
    ) -> Result<(), KernelFault> {
        // The SIMD tuner sizes its classes by work items.
        let items = work_items.saturating_mul(items_per_unit.max(1));
        let group = grid.group_size_or_default();
        let (simd, trial) = self.tuner.pick(items);
        // The trial ends however the launch does (one left running would keep its size class
        // from ever choosing).
        let mut trial = trial.map(|candidate| Trial {
            tuner: &self.tuner,
            work_items: items,
            candidate,
            ps_per_item: None,
        });
        let threads = exec
            .pool
            .map_or_else(rayon::current_num_threads, |p| p.current_num_threads())
            .max(1) as u64;
        let plan = self.plan(work_items, items_per_unit.max(1), threads, exec.options);
        // Timed: SIMD trials, and a sample of inline runs (their cost decides later plans);
        // other parallel launches need no clock.
        let timed = trial.is_some()
            || (plan.is_none()
                && self
                    .inline_runs
                    .fetch_add(1, Ordering::Relaxed)
                    .is_multiple_of(SAMPLE_EVERY));
        let started = timed.then(Instant::now);
        let result = if let Some(span) = plan {
            let shared = Arc::new(SharedLaunch {
                entry: self.entry,
                args: SmallVec::from_slice(args),
                grid: grid.dims(),
                group,
                simd,
                work_items,
                span,
                spans: work_items.div_ceil(span),
                next: AtomicU64::new(0),
                finished: AtomicU64::new(0),
                stop: AtomicBool::new(false),
                fault: Mutex::new(None),
                subgroup: exec.options.subgroup_size,
            });
            // Whatever happens on this thread from here on, do not return (or unwind) while a
            // helper may still run a span over the caller's buffers.
            let guard = WaitForSpans(&shared);
            // One helper per pool thread, although the caller works too: the OS often wakes a
            // helper on the caller's own core, and with one helper per thread at least one
            // lands on an idle core. (Measured on 2 cores: a cache-resident 1M-element vector
            // add went from 0.5-0.65x to 0.9-1.2x the OpenMP peer.) Helpers that find no span
            // left return at once.
            for _ in 0..threads.min(shared.spans) {
                let helper = shared.clone();
                let job = move || helper.work();
                match exec.pool {
                    Some(pool) => pool.spawn(job),
                    None => rayon::spawn(job),
                }
            }
            shared.work();
            guard.finish();
            let fault = shared
                .fault
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            fault.map_or(Ok(()), Err)
        } else {
            // SAFETY: the caller guarantees the buffers; every candidate level was checked
            // against the CPU when the device was created.
            let launch = unsafe { CpuLaunch::new(grid.dims(), group, simd, args) }
                .with_subgroup_size(exec.options.subgroup_size);
            // SAFETY: the caller's guarantees.
            let result = unsafe { run_span(self.entry, &launch, 0, work_items) };
            // Inline runs measure the kernel's single-thread cost, which decides later
            // launches (a run cut short by a fault would understate it).
            if let (Some(started), Ok(())) = (started, &result) {
                self.learn_cost(ps_per_item(started, work_items));
            }
            result
        };
        if let (Some(trial), Some(started), Ok(())) = (&mut trial, started, &result) {
            // A failed launch's time means nothing.
            trial.ps_per_item = Some(ps_per_item(started, items));
        }
        drop(trial);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    /// When set, claimers pause between claiming a span and deciding to run it, now and then,
    /// the way a preempted thread does on a busy machine.
    static WIDEN_CLAIM_WINDOW: AtomicBool = AtomicBool::new(false);
    static CLAIMS: AtomicU64 = AtomicU64::new(0);

    pub(super) fn between_claim_and_run() {
        if WIDEN_CLAIM_WINDOW.load(Ordering::Relaxed)
            && CLAIMS.fetch_add(1, Ordering::Relaxed).is_multiple_of(3)
        {
            std::thread::sleep(std::time::Duration::from_micros(300));
        }
    }

    const ITEMS: usize = 16 * 1024;
    static RUNS: [AtomicU32; ITEMS] = [const { AtomicU32::new(0) }; ITEMS];

    fn count_runs(_: &CpuLaunch<'_>, start: u64, end: u64) -> Result<(), KernelFault> {
        for i in start..end {
            RUNS[i as usize].fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    #[test]
    fn a_launch_returns_only_after_every_work_item_ran() {
        // Fails without the fix (the normal end of a launch set `stop`, so a helper paused
        // between its claim and its check skipped a span and the launch returned early).
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let options = CpuOptions::default();
        let exec = Executor {
            pool: Some(&pool),
            options: &options,
        };
        let k = CpuKernel::new("count_runs", count_runs, vec![SimdLevel::Generic]);
        assert!(
            k.plan(ITEMS as u64, 1, 4, &options).is_some(),
            "must run in parallel"
        );
        WIDEN_CLAIM_WINDOW.store(true, Ordering::Relaxed);
        for launch in 1..=40 {
            // SAFETY: the kernel takes no buffers.
            unsafe { k.run(&exec, &Grid::from(ITEMS), ITEMS as u64, 1, &[]) }.unwrap();
            let short: Vec<usize> = (0..ITEMS)
                .filter(|&i| RUNS[i].load(Ordering::Relaxed) != launch)
                .collect();
            assert!(
                short.is_empty(),
                "launch {launch} returned before {} work items ran (first: {})",
                short.len(),
                short[0]
            );
        }
        WIDEN_CLAIM_WINDOW.store(false, Ordering::Relaxed);
    }

    fn noop(_: &CpuLaunch<'_>, _: u64, _: u64) -> Result<(), KernelFault> {
        Ok(())
    }

    fn kernel() -> CpuKernel {
        CpuKernel::new("noop", noop, vec![SimdLevel::Generic])
    }

    #[test]
    fn small_or_unsplittable_launches_run_inline() {
        let k = kernel();
        let opts = CpuOptions::default();
        assert_eq!(
            k.plan(1 << 20, 1, 1, &opts),
            None,
            "one thread: always inline"
        );
        assert_eq!(k.plan(100, 1, 2, &opts), None, "unknown cost, few items");
        assert_eq!(k.plan(1 << 20, 1, 2, &opts), Some((1 << 20) / 16));
        // Known to be cheap: a launch well under the budget stays inline.
        k.learn_cost(500);
        assert_eq!(k.plan(10_000, 1, 2, &opts), None);
        // Known to be expensive (50 µs per item): spans of one item are worth it.
        let heavy = kernel();
        heavy.learn_cost(50_000_000);
        assert_eq!(heavy.plan(4, 1, 2, &opts), Some(1));
        assert_eq!(heavy.plan(1, 1, 2, &opts), None, "one item cannot be split");
    }

    #[test]
    fn one_slow_sample_does_not_send_tiny_launches_to_the_pool() {
        let k = kernel();
        let opts = CpuOptions::default();
        k.learn_cost(200_000); // 200 ns for one item
        k.learn_cost(60_000_000); // one run interrupted for 60 µs
        assert_eq!(k.plan(1, 1, 2, &opts), None);
        // A cooperative kernel's units are groups: an unknown kernel with few groups of many
        // items still goes to the pool.
        let groups = kernel();
        assert_eq!(groups.plan(64, 256, 2, &opts), Some(4));
        for _ in 0..20 {
            k.learn_cost(200_000);
        }
        assert!(k.ps_per_item.load(Ordering::Relaxed) < 1_000_000);
    }
}
