//! Per-kernel choice of the SIMD clone, by measurement.
//!
//! The widest clone is not always the fastest: on the AMD EPYC machines we measure on, the
//! AVX2 clone of a streaming kernel (vector add, STREAM triad) moves data 5-10% slower than
//! the baseline clone (LLVM's AVX2 loop touches two cache lines per stream per iteration),
//! while compute-bound kernels run about twice as fast with it. So each kernel times its first
//! large launches with each candidate clone and keeps the fastest, separately for each size
//! class: a launch whose data fits in cache can prefer another clone than one that streams
//! from memory.
//!
//! Launches from several threads at once: one trial per size class runs at a time (a trial
//! timed while another trial of the same kernel shares the cores measures the sharing), and
//! concurrent launches meanwhile run the widest clone, untimed.

use dotcompute_core::cpu_abi::SimdLevel;
use std::sync::atomic::{
    AtomicBool, AtomicU32, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};

/// Launches smaller than this are not timed: their times say more about overheads than about
/// the code.
pub(crate) const TUNE_MIN_ITEMS: u64 = 1 << 18;
/// Size classes: 2^18.., 2^20.., 2^22.., 2^24.., 2^26.. work items (each 4x the previous).
const SIZE_CLASSES: usize = 5;
/// Timed launches per candidate before choosing (the fastest of them counts).
const TRIALS_PER_CANDIDATE: u32 = 2;
/// At most this many candidates (AVX-512, AVX2, baseline).
const MAX_CANDIDATES: usize = 3;
/// A narrower clone replaces a wider one only when it is at least this much faster (in
/// percent), so that timing noise does not flip a choice that compute-bound kernels need.
const NARROWER_MARGIN_PERCENT: u64 = 3;

/// The clones a device may choose among, widest first.
pub(crate) fn candidates(best: SimdLevel) -> Vec<SimdLevel> {
    match best {
        SimdLevel::Avx512 => vec![SimdLevel::Avx512, SimdLevel::Avx2, SimdLevel::Generic],
        SimdLevel::Avx2 => vec![SimdLevel::Avx2, SimdLevel::Generic],
        other => vec![other],
    }
}

/// The size class of a launch, or `None` below [`TUNE_MIN_ITEMS`].
fn size_class(work_items: u64) -> Option<usize> {
    if work_items < TUNE_MIN_ITEMS {
        return None;
    }
    let log2 = 63 - work_items.leading_zeros() as usize;
    Some(((log2 - 18) / 2).min(SIZE_CLASSES - 1))
}

/// The choice for one size class.
#[derive(Default)]
struct ClassChoice {
    /// Index of the chosen candidate plus one; 0 while undecided.
    chosen: AtomicU32,
    /// Timed launches so far.
    trials: AtomicU32,
    /// Whether a trial is running (at most one at a time).
    trial_running: AtomicBool,
    /// Fastest picoseconds per work item seen, per candidate (0: none yet).
    best_ps: [AtomicU64; MAX_CANDIDATES],
}

/// The measured state of one kernel's choice.
pub(crate) struct SimdTuner {
    candidates: Vec<SimdLevel>,
    classes: [ClassChoice; SIZE_CLASSES],
}

impl SimdTuner {
    pub(crate) fn new(candidates: Vec<SimdLevel>) -> SimdTuner {
        let mut candidates = candidates;
        candidates.truncate(MAX_CANDIDATES);
        if candidates.is_empty() {
            candidates.push(SimdLevel::Generic);
        }
        SimdTuner {
            candidates,
            classes: Default::default(),
        }
    }

    /// The clone to run a launch of `work_items` with, and the candidate index when the launch
    /// is a trial to be timed.
    pub(crate) fn pick(&self, work_items: u64) -> (SimdLevel, Option<usize>) {
        let widest = self.candidates[0];
        let Some(class) = size_class(work_items) else {
            return (widest, None);
        };
        if self.candidates.len() == 1 {
            return (widest, None);
        }
        let choice = &self.classes[class];
        if let Some(level) = self.decode(choice.chosen.load(Relaxed)) {
            return (level, None);
        }
        if choice
            .trial_running
            .compare_exchange(false, true, Acquire, Relaxed)
            .is_err()
        {
            return (widest, None);
        }
        // The choice may have been made since the first look, by the trial that just ended.
        if let Some(level) = self.decode(choice.chosen.load(Relaxed)) {
            choice.trial_running.store(false, Release);
            return (level, None);
        }
        let trial = choice.trials.load(Relaxed) as usize % self.candidates.len();
        (self.candidates[trial], Some(trial))
    }

    /// The level a class's `chosen` word names (0: not chosen yet; else candidate + 1).
    fn decode(&self, chosen: u32) -> Option<SimdLevel> {
        match chosen {
            0 => None,
            c => self.candidates.get(c as usize - 1).copied(),
        }
    }

    /// Ends the trial that [`pick`](Self::pick) handed out for a launch of `work_items`: with
    /// its time, or `None` when the launch failed (not counted). After enough trials in its
    /// size class, chooses for that class.
    pub(crate) fn finish_trial(&self, work_items: u64, candidate: usize, ps_per_item: Option<u64>) {
        let Some(class) = size_class(work_items) else {
            return;
        };
        let choice = &self.classes[class];
        if let Some(ps) = ps_per_item {
            self.record(choice, class, candidate, ps);
        }
        choice.trial_running.store(false, Release);
    }

    /// Records a trial's time (only the one running trial of the class calls this).
    fn record(&self, choice: &ClassChoice, class: usize, candidate: usize, ps_per_item: u64) {
        let ps = ps_per_item.max(1);
        if let Some(best) = choice.best_ps.get(candidate) {
            // 0 means "none yet": keep the smallest non-zero time.
            let _ = best.fetch_update(Relaxed, Relaxed, |old| (old == 0 || ps < old).then_some(ps));
        }
        let done = choice.trials.fetch_add(1, Relaxed) + 1;
        if done >= TRIALS_PER_CANDIDATE * self.candidates.len() as u32 {
            // Candidates are widest first: keep the current pick unless a later (narrower) one
            // beats it by the margin.
            let time = |i: usize| match choice.best_ps[i].load(Relaxed) {
                0 => u64::MAX,
                t => t,
            };
            let mut fastest = 0;
            for i in 1..self.candidates.len() {
                let (best, candidate) = (time(fastest), time(i));
                if candidate.saturating_mul(100 + NARROWER_MARGIN_PERCENT)
                    < best.saturating_mul(100)
                {
                    fastest = i;
                }
            }
            choice.chosen.store(fastest as u32 + 1, Relaxed);
            tracing::debug!(
                choice = self.candidates[fastest].name(),
                size_class = class,
                "SIMD clone chosen by measurement"
            );
        }
    }

    /// The clone chosen for launches of `work_items`, once decided.
    #[cfg(test)]
    pub(crate) fn chosen(&self, work_items: u64) -> Option<SimdLevel> {
        let class = size_class(work_items)?;
        self.decode(self.classes[class].chosen.load(Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_trials(t: &SimdTuner, items: u64, time: impl Fn(SimdLevel) -> u64) -> Vec<SimdLevel> {
        let mut seen = Vec::new();
        while t.chosen(items).is_none() {
            let (level, trial) = t.pick(items);
            seen.push(level);
            t.finish_trial(items, trial.unwrap(), Some(time(level)));
        }
        seen
    }

    #[test]
    fn the_fastest_candidate_wins_after_the_trials() {
        let t = SimdTuner::new(vec![SimdLevel::Avx2, SimdLevel::Generic]);
        assert_eq!(
            t.pick(10),
            (SimdLevel::Avx2, None),
            "small launches are not trials"
        );
        let seen = run_trials(&t, TUNE_MIN_ITEMS, |l| {
            if l == SimdLevel::Generic { 900 } else { 1000 }
        });
        assert_eq!(
            seen,
            [
                SimdLevel::Avx2,
                SimdLevel::Generic,
                SimdLevel::Avx2,
                SimdLevel::Generic
            ]
        );
        assert_eq!(t.chosen(TUNE_MIN_ITEMS), Some(SimdLevel::Generic));
        assert_eq!(t.pick(TUNE_MIN_ITEMS), (SimdLevel::Generic, None));
    }

    #[test]
    fn each_size_class_decides_on_its_own() {
        let t = SimdTuner::new(vec![SimdLevel::Avx2, SimdLevel::Generic]);
        // In cache the wide clone wins; streaming from memory the narrow one does.
        run_trials(
            &t,
            1 << 20,
            |l| if l == SimdLevel::Avx2 { 500 } else { 900 },
        );
        run_trials(&t, 1 << 26, |l| {
            if l == SimdLevel::Generic { 900 } else { 1000 }
        });
        assert_eq!(t.chosen(1 << 20), Some(SimdLevel::Avx2));
        assert_eq!(t.chosen(1 << 26), Some(SimdLevel::Generic));
        assert_eq!(t.chosen(1 << 23), None);
        assert_eq!(size_class(1 << 40), Some(SIZE_CLASSES - 1));
    }

    #[test]
    fn a_narrower_clone_must_win_clearly() {
        let t = SimdTuner::new(vec![SimdLevel::Avx2, SimdLevel::Generic]);
        // 1% faster is noise: the wider clone stays.
        run_trials(&t, TUNE_MIN_ITEMS, |l| {
            if l == SimdLevel::Generic { 990 } else { 1000 }
        });
        assert_eq!(t.chosen(TUNE_MIN_ITEMS), Some(SimdLevel::Avx2));
    }

    #[test]
    fn one_trial_runs_at_a_time_and_failed_trials_do_not_count() {
        let t = SimdTuner::new(vec![SimdLevel::Avx2, SimdLevel::Generic]);
        let (first, trial) = t.pick(TUNE_MIN_ITEMS);
        assert_eq!((first, trial), (SimdLevel::Avx2, Some(0)));
        // A concurrent launch meanwhile runs the widest clone, untimed.
        assert_eq!(t.pick(TUNE_MIN_ITEMS), (SimdLevel::Avx2, None));
        // The trial failed: it counts for nothing, and the next launch is a trial again.
        t.finish_trial(TUNE_MIN_ITEMS, 0, None);
        assert_eq!(t.pick(TUNE_MIN_ITEMS), (SimdLevel::Avx2, Some(0)));
        t.finish_trial(TUNE_MIN_ITEMS, 0, Some(1000));
        assert_eq!(t.pick(TUNE_MIN_ITEMS).1, Some(1));
    }

    #[test]
    fn concurrent_first_launches_choose_once() {
        let t = SimdTuner::new(vec![SimdLevel::Avx2, SimdLevel::Generic]);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        if let (level, Some(trial)) = t.pick(TUNE_MIN_ITEMS) {
                            let ps = if level == SimdLevel::Generic {
                                500
                            } else {
                                1000
                            };
                            t.finish_trial(TUNE_MIN_ITEMS, trial, Some(ps));
                        }
                    }
                });
            }
        });
        assert_eq!(t.chosen(TUNE_MIN_ITEMS), Some(SimdLevel::Generic));
        let trials = t.classes[0].trials.load(Relaxed);
        assert_eq!(
            trials,
            2 * TRIALS_PER_CANDIDATE,
            "one decision, from exactly its trials"
        );
    }

    #[test]
    fn a_single_candidate_needs_no_trials() {
        let t = SimdTuner::new(candidates(SimdLevel::Generic));
        assert_eq!(t.pick(u64::MAX), (SimdLevel::Generic, None));
    }
}
