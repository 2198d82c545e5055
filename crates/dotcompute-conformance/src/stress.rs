//! Many threads launching at once on every accelerator: random sizes, clean and faulting
//! launches interleaved, chains across accelerators, buffers dropped with launches in
//! flight. Every result is checked, and every fault must reach exactly the launch that
//! caused it: a faulting launch's out-of-bounds index names the launch (`len + tag`, unique),
//! so a fault that reached the wrong reader cannot pass as the right one.
//!
//! Used by the test suite (a few seconds) and by `dotcompute stress` (as long as asked).

use crate::random::Rng;
use dotcompute::prelude::*;
use dotcompute::{Error, KernelFault};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// `y[i] = a * x[i] + b`.
#[kernel]
pub fn affine(a: f32, b: f32, x: &[f32], y: &mut [f32]) {
    let i = global_id();
    y[i] = a * x[i] + b;
}

/// `y[i] = x[idx[i]]`: faults when an index is out of bounds.
#[kernel]
pub fn gather(idx: &[u32], x: &[f32], y: &mut [f32]) {
    let i = global_id();
    y[i] = x[idx[i] as usize];
}

/// How long and how hard to stress.
#[derive(Clone, Debug)]
pub struct StressOptions {
    /// How long each thread keeps launching.
    pub duration: Duration,
    /// Threads launching at once.
    pub threads: usize,
    /// Largest buffer, in elements.
    pub max_len: usize,
    /// Seed of the random choices (each thread derives its own).
    pub seed: u64,
}

/// What a stress run did and saw. A correct run has `wrong_results`, `missed_faults`,
/// `misattributed_faults` and `other_errors` all zero, and every fault made seen once
/// (`faults_seen + faults_inherited == faults_made`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StressReport {
    /// Kernel launches made.
    pub launches: u64,
    /// Launches made to fault.
    pub faults_made: u64,
    /// Faults reported to the launch that caused them.
    pub faults_seen: u64,
    /// Faults that reached a reader through a launch that read a faulted buffer.
    pub faults_inherited: u64,
    /// Results that differed from what the launch computes.
    pub wrong_results: u64,
    /// Faulting launches whose results read back without an error.
    pub missed_faults: u64,
    /// Errors naming another launch's fault, or a fault where there was none.
    pub misattributed_faults: u64,
    /// Errors of any other kind.
    pub other_errors: u64,
    /// Buffers dropped with a launch still in flight.
    pub dropped_in_flight: u64,
    /// Faults `synchronize()` returned (any launch's on that accelerator: that is its rule).
    pub synchronize_faults: u64,
    /// The first few problems, described.
    pub problems: Vec<String>,
}

impl StressReport {
    /// Whether every result and every fault was right.
    pub fn is_clean(&self) -> bool {
        self.faults_seen + self.faults_inherited == self.faults_made
            && self.wrong_results == 0
            && self.missed_faults == 0
            && self.misattributed_faults == 0
            && self.other_errors == 0
    }
}

impl std::fmt::Display for StressReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} launches, {} faults made, {} seen by their launch, {} inherited by readers, \
             {} synchronize() faults, {} buffers dropped in flight; wrong results: {}, \
             missed faults: {}, misattributed faults: {}, other errors: {}",
            self.launches,
            self.faults_made,
            self.faults_seen,
            self.faults_inherited,
            self.synchronize_faults,
            self.dropped_in_flight,
            self.wrong_results,
            self.missed_faults,
            self.misattributed_faults,
            self.other_errors
        )
    }
}

#[derive(Default)]
struct Counters {
    launches: AtomicU64,
    faults_made: AtomicU64,
    faults_seen: AtomicU64,
    faults_inherited: AtomicU64,
    wrong_results: AtomicU64,
    missed_faults: AtomicU64,
    misattributed_faults: AtomicU64,
    other_errors: AtomicU64,
    dropped_in_flight: AtomicU64,
    synchronize_faults: AtomicU64,
    problems: std::sync::Mutex<Vec<String>>,
}

impl Counters {
    fn problem(&self, counter: &AtomicU64, what: String) {
        counter.fetch_add(1, Relaxed);
        let mut problems = self
            .problems
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if problems.len() < 20 {
            problems.push(what);
        }
    }
}

/// What a launch's output must read as.
enum Expect {
    /// These values.
    Values(Vec<f32>),
    /// The out-of-bounds fault at this index (the launch's tag), either its own or inherited
    /// from the launch whose output it read.
    Fault { index: u64, inherited: bool },
}

/// Runs the stress on `accelerators` (all of one service, `dc`) and reports what it saw.
pub fn run(
    dc: &ComputeService,
    accelerators: &[Accelerator],
    options: &StressOptions,
) -> StressReport {
    let counters = Counters::default();
    let deadline = Instant::now() + options.duration;
    std::thread::scope(|s| {
        for t in 0..options.threads.max(1) {
            let counters = &counters;
            s.spawn(move || {
                let mut rng =
                    Rng::new(options.seed ^ (t as u64 + 1).wrapping_mul(0x51_7cc1_b727_220a));
                let mut tag = 0u64;
                while Instant::now() < deadline {
                    tag += 1;
                    // Tags are unique across threads: thread in the low bits.
                    let tag = tag * options.threads.max(1) as u64 + t as u64;
                    one_round(dc, accelerators, options, &mut rng, tag, counters);
                }
            });
        }
    });
    let problems = counters
        .problems
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    StressReport {
        launches: counters.launches.into_inner(),
        faults_made: counters.faults_made.into_inner(),
        faults_seen: counters.faults_seen.into_inner(),
        faults_inherited: counters.faults_inherited.into_inner(),
        wrong_results: counters.wrong_results.into_inner(),
        missed_faults: counters.missed_faults.into_inner(),
        misattributed_faults: counters.misattributed_faults.into_inner(),
        other_errors: counters.other_errors.into_inner(),
        dropped_in_flight: counters.dropped_in_flight.into_inner(),
        synchronize_faults: counters.synchronize_faults.into_inner(),
        problems,
    }
}

/// True one time in `n`.
fn one_in(rng: &mut Rng, n: u64) -> bool {
    rng.next_u64().is_multiple_of(n)
}

fn pick<'a>(rng: &mut Rng, accelerators: &'a [Accelerator]) -> &'a Accelerator {
    &accelerators[(rng.next_u64() % accelerators.len() as u64) as usize]
}

/// One round: fresh buffers, one or two launches, the result read back and checked.
fn one_round(
    dc: &ComputeService,
    accelerators: &[Accelerator],
    options: &StressOptions,
    rng: &mut Rng,
    tag: u64,
    counters: &Counters,
) {
    // Mostly small buffers, some large.
    let len = match rng.next_u64() % 4 {
        0 => 1 + (rng.next_u64() % 64) as usize,
        _ => 1 + (rng.next_u64() % options.max_len.max(1) as u64) as usize,
    };
    let xs: Vec<f32> = (0..len)
        .map(|i| ((i * 7 + tag as usize) % 1000) as f32)
        .collect();
    let mk = |r: Result<UnifiedBuffer<f32>, Error>| r.map_err(|e| e.to_string());
    let (Ok(x), Ok(mut y)) = (
        mk(dc.buffer_from_slice(&xs)),
        mk(dc.buffer_zeroed::<f32>(len)),
    ) else {
        counters.problem(&counters.other_errors, "allocation failed".into());
        return;
    };
    let acc = pick(rng, accelerators);
    let gathering = one_in(rng, 5);
    let faulting = gathering && one_in(rng, 2);
    let launched;
    let expect = if gathering {
        // A gather, faulting at one index in half of them.
        let mut idx: Vec<u32> = (0..len).map(|i| ((i * 13 + 5) % len) as u32).collect();
        let bad_index = len as u64 + tag % 1_000_000;
        if faulting {
            let at = (rng.next_u64() % len as u64) as usize;
            idx[at] = bad_index as u32;
            counters.faults_made.fetch_add(1, Relaxed);
        }
        let Ok(idx_buf) = dc.buffer_from_slice(&idx) else {
            counters.problem(&counters.other_errors, "allocation failed".into());
            return;
        };
        launched = gather::launch(acc, len, &idx_buf, &x, &mut y);
        if faulting {
            Expect::Fault {
                index: bad_index,
                inherited: false,
            }
        } else {
            Expect::Values(idx.iter().map(|&j| xs[j as usize]).collect())
        }
    } else {
        let (a, b) = ((rng.next_u64() % 5) as f32, (rng.next_u64() % 9) as f32);
        launched = affine::launch(acc, len, a, b, &x, &mut y);
        Expect::Values(xs.iter().map(|&v| a * v + b).collect())
    };
    counters.launches.fetch_add(1, Relaxed);
    if !check_launch(launched, &expect, counters, tag) {
        return;
    }
    // Now and then a buffer goes away with its (clean) launch still in flight.
    if !faulting && one_in(rng, 16) {
        drop(y);
        counters.dropped_in_flight.fetch_add(1, Relaxed);
        return;
    }
    // Sometimes a second launch, maybe elsewhere, reads the first one's output.
    let (out, expect) = if one_in(rng, 3) {
        let Ok(mut z) = dc.buffer_zeroed::<f32>(len) else {
            counters.problem(&counters.other_errors, "allocation failed".into());
            return;
        };
        let second = pick(rng, accelerators);
        let launched = affine::launch(second, len, 2.0, 1.0, &y, &mut z);
        counters.launches.fetch_add(1, Relaxed);
        let expect = match expect {
            Expect::Values(v) => Expect::Values(v.iter().map(|&e| 2.0 * e + 1.0).collect()),
            Expect::Fault { index, .. } => Expect::Fault {
                index,
                inherited: true,
            },
        };
        if !check_launch(launched, &expect, counters, tag) {
            return;
        }
        (z, expect)
    } else {
        (y, expect)
    };
    if one_in(rng, 50) && acc.synchronize().is_err() {
        counters.synchronize_faults.fetch_add(1, Relaxed);
    }
    check_read(out.to_vec(), &expect, counters, tag);
}

/// Checks what a launch returned (the CPU reports its own fault at once; GPUs return `Ok`).
/// `false` when the round is over.
fn check_launch(
    launched: Result<(), Error>,
    expect: &Expect,
    counters: &Counters,
    tag: u64,
) -> bool {
    match launched {
        Ok(()) => true,
        Err(e) => {
            check_read(Err(e), expect, counters, tag);
            false
        }
    }
}

fn check_read(read: Result<Vec<f32>, Error>, expect: &Expect, counters: &Counters, tag: u64) {
    match (read, expect) {
        (Ok(got), Expect::Values(want)) => {
            if let Some(i) = (0..want.len()).find(|&i| got.get(i) != Some(&want[i])) {
                counters.problem(
                    &counters.wrong_results,
                    format!(
                        "round {tag}: item {i} of {} is {:?}, not {}",
                        want.len(),
                        got.get(i),
                        want[i]
                    ),
                );
            }
        }
        (Ok(_), Expect::Fault { .. }) => counters.problem(
            &counters.missed_faults,
            format!("round {tag}: a faulting launch's output read without an error"),
        ),
        (Err(e), Expect::Fault { index, inherited }) => match e.fault() {
            Some(KernelFault::OutOfBounds { index: got, .. }) if got == index => {
                let counter = if *inherited {
                    &counters.faults_inherited
                } else {
                    &counters.faults_seen
                };
                counter.fetch_add(1, Relaxed);
            }
            Some(_) => counters.problem(
                &counters.misattributed_faults,
                format!("round {tag}: expected the fault at index {index}, got: {e}"),
            ),
            None => counters.problem(&counters.other_errors, format!("round {tag}: {e}")),
        },
        (Err(e), Expect::Values(_)) => {
            let counter = if e.fault().is_some() {
                &counters.misattributed_faults
            } else {
                &counters.other_errors
            };
            counters.problem(counter, format!("round {tag}: a clean launch read: {e}"));
        }
    }
}
