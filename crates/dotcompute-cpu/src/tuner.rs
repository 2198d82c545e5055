//! Per-kernel choice of the SIMD clone, by measurement.
//!
//! The widest clone is not always the fastest: on the AMD EPYC machines we measure on, the
//! AVX2 clone of a streaming kernel (vector add, STREAM triad) moves data 5-10% slower than
//! the baseline clone (LLVM's AVX2 loop touches two cache lines per stream per iteration),
//! while compute-bound kernels run about twice as fast with it. So each kernel times its
//! first large launches with each candidate clone and keeps the fastest.

use dotcompute_core::cpu_abi::SimdLevel;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

/// Launches smaller than this are not timed: their times say more about overheads than about
/// the code.
pub(crate) const TUNE_MIN_ITEMS: u64 = 1 << 18;
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

/// The measured state of one kernel's choice.
pub(crate) struct SimdTuner {
    candidates: Vec<SimdLevel>,
    /// Index of the chosen candidate plus one; 0 while undecided.
    chosen: AtomicU32,
    /// Timed launches so far.
    trials: AtomicU32,
    /// Fastest picoseconds per work item seen, per candidate (`u64::MAX`: none yet).
    best_ps: [AtomicU64; MAX_CANDIDATES],
}

impl SimdTuner {
    pub(crate) fn new(candidates: Vec<SimdLevel>) -> SimdTuner {
        let mut candidates = candidates;
        candidates.truncate(MAX_CANDIDATES);
        let decided = u32::from(candidates.len() <= 1);
        SimdTuner {
            candidates,
            chosen: AtomicU32::new(decided),
            trials: AtomicU32::new(0),
            best_ps: std::array::from_fn(|_| AtomicU64::new(u64::MAX)),
        }
    }

    /// The clone to run a launch of `work_items` with, and the candidate index when the launch
    /// is a trial to be timed.
    pub(crate) fn pick(&self, work_items: u64) -> (SimdLevel, Option<usize>) {
        let chosen = self.chosen.load(Relaxed);
        let widest = self
            .candidates
            .first()
            .copied()
            .unwrap_or(SimdLevel::Generic);
        if chosen > 0 {
            let level = self.candidates.get(chosen as usize - 1).copied();
            return (level.unwrap_or(widest), None);
        }
        if work_items < TUNE_MIN_ITEMS {
            return (widest, None);
        }
        let trial = self.trials.load(Relaxed) as usize % self.candidates.len();
        (self.candidates[trial], Some(trial))
    }

    /// Records a timed trial; after enough of them, chooses.
    pub(crate) fn record(&self, candidate: usize, ps_per_item: u64) {
        if let Some(best) = self.best_ps.get(candidate) {
            best.fetch_min(ps_per_item, Relaxed);
        }
        let done = self.trials.fetch_add(1, Relaxed) + 1;
        if done >= TRIALS_PER_CANDIDATE * self.candidates.len() as u32 {
            // Candidates are widest first: keep the current pick unless a later (narrower) one
            // beats it by the margin.
            let mut fastest = 0;
            for i in 1..self.candidates.len() {
                let (best, candidate) = (
                    self.best_ps[fastest].load(Relaxed),
                    self.best_ps[i].load(Relaxed),
                );
                if candidate.saturating_mul(100 + NARROWER_MARGIN_PERCENT)
                    < best.saturating_mul(100)
                {
                    fastest = i;
                }
            }
            self.chosen.store(fastest as u32 + 1, Relaxed);
            tracing::debug!(
                choice = self.candidates[fastest].name(),
                "SIMD clone chosen by measurement"
            );
        }
    }

    /// The chosen clone, once decided.
    #[cfg(test)]
    pub(crate) fn chosen(&self) -> Option<SimdLevel> {
        match self.chosen.load(Relaxed) {
            0 => None,
            c => self.candidates.get(c as usize - 1).copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fastest_candidate_wins_after_the_trials() {
        let t = SimdTuner::new(vec![SimdLevel::Avx2, SimdLevel::Generic]);
        assert_eq!(
            t.pick(10),
            (SimdLevel::Avx2, None),
            "small launches are not trials"
        );
        let mut seen = Vec::new();
        for _ in 0..4 {
            let (level, trial) = t.pick(TUNE_MIN_ITEMS);
            let trial = trial.unwrap();
            seen.push(level);
            t.record(
                trial,
                if level == SimdLevel::Generic {
                    900
                } else {
                    1000
                },
            );
        }
        assert_eq!(
            seen,
            [
                SimdLevel::Avx2,
                SimdLevel::Generic,
                SimdLevel::Avx2,
                SimdLevel::Generic
            ]
        );
        assert_eq!(t.chosen(), Some(SimdLevel::Generic));
        assert_eq!(t.pick(TUNE_MIN_ITEMS), (SimdLevel::Generic, None));
    }

    #[test]
    fn a_single_candidate_is_chosen_at_once() {
        let t = SimdTuner::new(candidates(SimdLevel::Generic));
        assert_eq!(t.chosen(), Some(SimdLevel::Generic));
        assert_eq!(t.pick(u64::MAX), (SimdLevel::Generic, None));
    }
}

#[cfg(test)]
mod margin_tests {
    use super::*;

    #[test]
    fn a_narrower_clone_must_win_clearly() {
        let t = SimdTuner::new(vec![SimdLevel::Avx2, SimdLevel::Generic]);
        for _ in 0..4 {
            let (level, trial) = t.pick(TUNE_MIN_ITEMS);
            // 1% faster is noise: the wider clone stays.
            t.record(
                trial.unwrap(),
                if level == SimdLevel::Generic {
                    990
                } else {
                    1000
                },
            );
        }
        assert_eq!(t.chosen(), Some(SimdLevel::Avx2));
    }
}
