//! Which launch faulted, and who is told: the bookkeeping that asynchronous devices (wgpu,
//! CUDA) share.
//!
//! Each launch on such a device writes its first fault into a fault record of its own (a
//! *slot* of the device's record array), so that the faults of launches in flight together
//! stay apart. A *collection* waits for every launch submitted so far, reads their slots
//! back and settles each launch's [`Outcome`]. Who learns of a fault:
//!
//! - a host read of a buffer the launch wrote (through the buffer's last writer, a
//!   [`TrackedLaunch`]), and every later read until the buffer is written again;
//! - a launch that reads such a buffer: it reports the fault as its own outcome (its result
//!   was computed from undefined data);
//! - `synchronize()` on the accelerator: each fault once, oldest first.
//!
//! The backend provides the device side: submitting the readback of the slots and waiting
//! for it. Everything else (ids, slots, the submission order, decoding, who is told) is here.

use crate::definition::KernelDefinition;
use crate::error::Error;
use crate::fault::KernelFault;
use crate::fault_record::{LaunchInfo, fault_from_record};
use crate::info::AcceleratorId;
use smallvec::SmallVec;
use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};

/// Faults kept for `synchronize()` when nobody calls it (each is still reported by reads of
/// the buffers its launch wrote); beyond this the oldest are dropped, with a warning.
const MAX_UNREPORTED: usize = 1024;

/// A kernel's fault, as every reader of its results sees it.
#[derive(Clone, Debug)]
pub struct FaultReport {
    /// The kernel that faulted.
    pub kernel: String,
    /// The accelerator it ran on.
    pub accelerator: String,
    /// The fault, described with parameter names.
    pub message: String,
    /// The fault itself.
    pub fault: KernelFault,
}

impl FaultReport {
    /// The fault as an [`Error::KernelFault`].
    pub fn to_error(&self) -> Error {
        Error::KernelFault {
            kernel: self.kernel.clone(),
            accelerator: self.accelerator.clone(),
            message: self.message.clone(),
            fault: self.fault.clone(),
        }
    }
}

/// How a launch ended.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Every work item ran without a fault.
    Clean,
    /// The kernel faulted, or read a buffer whose writer faulted.
    Fault(Arc<FaultReport>),
    /// The device failed before the outcome could be read (device lost, driver error).
    Failed(Arc<str>),
}

impl Outcome {
    fn into_result(self, backend: &str) -> Result<(), Error> {
        match self {
            Outcome::Clean => Ok(()),
            Outcome::Fault(report) => Err(report.to_error()),
            Outcome::Failed(reason) => Err(Error::Backend {
                backend: backend.to_string(),
                message: format!("a launch's outcome could not be read: {reason}"),
                source: None,
            }),
        }
    }
}

/// What a device does to settle outcomes: wait for everything submitted and read the fault
/// records back (through [`LaunchTracker::collect`]).
pub trait LaunchCollector: Send + Sync {
    /// Waits for every launch submitted so far and settles their outcomes.
    fn collect(&self) -> Result<(), Error>;

    /// Drops `report` from the faults `synchronize()` will return (its reader handled it):
    /// [`LaunchTracker::acknowledge`].
    fn acknowledge(&self, report: &Arc<FaultReport>);
}

/// One launch on an asynchronous device, from submission until its outcome is known; a
/// buffer holds its last writer's so that reads of it report that writer's fault.
pub struct TrackedLaunch {
    accelerator: AcceleratorId,
    /// Launches on the same device whose results this one reads, unsettled when it was
    /// submitted: a fault of theirs becomes this launch's outcome. Emptied when settled, so
    /// chains of launches do not keep each other alive.
    inputs: Mutex<SmallVec<[Arc<TrackedLaunch>; 2]>>,
    outcome: OnceLock<Outcome>,
    collector: OnceLock<Weak<dyn LaunchCollector>>,
}

impl std::fmt::Debug for TrackedLaunch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackedLaunch")
            .field("accelerator", &self.accelerator)
            .field("outcome", &self.outcome.get())
            .finish()
    }
}

impl TrackedLaunch {
    /// A launch about to be submitted to `accelerator`, reading the results of `inputs`
    /// (unsettled launches on the same accelerator).
    pub fn new(
        accelerator: AcceleratorId,
        inputs: SmallVec<[Arc<TrackedLaunch>; 2]>,
    ) -> Arc<TrackedLaunch> {
        Arc::new(TrackedLaunch {
            accelerator,
            inputs: Mutex::new(inputs),
            outcome: OnceLock::new(),
            collector: OnceLock::new(),
        })
    }

    /// A launch that has already ended (synchronous devices report faults at once).
    pub fn settled(accelerator: AcceleratorId, outcome: Outcome) -> Arc<TrackedLaunch> {
        let launch = TrackedLaunch::new(accelerator, SmallVec::new());
        let _ = launch.outcome.set(outcome);
        launch
    }

    /// The accelerator it runs on.
    pub fn accelerator(&self) -> AcceleratorId {
        self.accelerator
    }

    /// Its outcome, if already known (never waits).
    pub fn outcome_if_settled(&self) -> Option<&Outcome> {
        self.outcome.get()
    }

    /// Takes its fault, once settled, off the faults `synchronize()` returns (whoever
    /// called this handled it); reads of the buffers it wrote still report it.
    pub fn acknowledge(&self) {
        if let (Some(Outcome::Fault(report)), Some(collector)) = (
            self.outcome.get(),
            self.collector.get().and_then(Weak::upgrade),
        ) {
            collector.acknowledge(report);
        }
    }

    /// Waits for its outcome: `Ok` if it ran cleanly, else the fault (or the device's
    /// failure) as an error.
    pub fn wait(&self) -> Result<(), Error> {
        if self.outcome.get().is_none() {
            let unreadable = |why: &str| Error::Backend {
                backend: self.accelerator.backend.to_string(),
                message: format!(
                    "the outcome of a launch on {} cannot be read: {why}",
                    self.accelerator
                ),
                source: None,
            };
            match self.collector.get() {
                Some(weak) => match weak.upgrade() {
                    Some(collector) => collector.collect()?,
                    None => return Err(unreadable("the device is gone")),
                },
                None => {
                    return Err(unreadable(
                        "the backend never registered it with a LaunchTracker (a defect of the backend)",
                    ));
                }
            }
        }
        // A collection settles every launch submitted before it began, and a launch is
        // handed out (to buffers) only after its submission.
        let outcome = self.outcome.get().cloned().unwrap_or_else(|| {
            Outcome::Failed("a collection did not settle a submitted launch".into())
        });
        outcome.into_result(&self.accelerator.backend.to_string())
    }

    /// Settles the outcome from the launch's own fault, or the first fault among its inputs
    /// (all submitted earlier, so already settled).
    fn settle(&self, own: Outcome) {
        let inputs =
            std::mem::take(&mut *self.inputs.lock().unwrap_or_else(PoisonError::into_inner));
        let outcome = match own {
            Outcome::Clean => inputs
                .iter()
                .find_map(|i| match i.outcome.get() {
                    Some(Outcome::Clean) | None => None,
                    Some(other) => Some(other.clone()),
                })
                .unwrap_or(Outcome::Clean),
            other => other,
        };
        let _ = self.outcome.set(outcome);
    }
}

/// What a tracker remembers of a launch in flight: enough to name its fault, and the
/// backend's own data (`E`, e.g. timing events).
pub struct PendingLaunch<E> {
    launch: Arc<TrackedLaunch>,
    kernel: &'static KernelDefinition,
    buffer_lens: Vec<u64>,
    traps: Arc<Vec<String>>,
    slot: u32,
    id: u32,
    /// The backend's data for this launch.
    pub extra: E,
}

struct TrackerState<E> {
    next_id: u32,
    free_slots: BTreeSet<u32>,
    /// Submitted and not yet collected, in submission order.
    pending: Vec<PendingLaunch<E>>,
    /// Faults not yet returned by `synchronize()`, oldest first.
    unreported: VecDeque<Arc<FaultReport>>,
    /// Faults dropped from `unreported` because it was full.
    dropped_unreported: u64,
    /// Slots whose records may not have been cleared (a collection failed): never reused.
    lost_slots: u32,
    /// Why the last collection failed, for the error when every slot is lost.
    last_failure: Option<Arc<str>>,
}

/// The launches of one asynchronous device: their ids, fault record slots, submission order
/// and outcomes.
///
/// The state lock is also the device's submission lock: it is held from a launch's
/// registration to its submission, and from a collection's taking of the pending launches to
/// the submission of its readback, so that every launch taken was submitted before the
/// readback and every later one after it.
pub struct LaunchTracker<E> {
    accelerator: String,
    backend: String,
    slots: u32,
    /// Words between consecutive slots of the record array.
    stride_words: usize,
    state: Mutex<TrackerState<E>>,
    /// One collection at a time.
    collecting: Mutex<()>,
    collector: OnceLock<Weak<dyn LaunchCollector>>,
}

/// A launch registered and not yet submitted: holds the submission lock.
pub struct Registration<'a, E> {
    state: MutexGuard<'a, TrackerState<E>>,
    pending: Option<PendingLaunch<E>>,
    position: u32,
}

impl<E> Registration<'_, E> {
    /// The launch's id (written into its fault record by the kernel).
    pub fn id(&self) -> u32 {
        self.pending.as_ref().map_or(0, |p| p.id)
    }

    /// Its fault record slot.
    pub fn slot(&self) -> u32 {
        self.pending.as_ref().map_or(0, |p| p.slot)
    }

    /// Its position among the launches since the last collection (0, 1, ...), e.g. for
    /// timestamp query slots.
    pub fn position(&self) -> u32 {
        self.position
    }

    /// The backend's data.
    pub fn extra(&self) -> Option<&E> {
        self.pending.as_ref().map(|p| &p.extra)
    }

    /// The launch was submitted: it is pending until the next collection.
    pub fn submitted(mut self) {
        if let Some(p) = self.pending.take() {
            self.state.pending.push(p);
        }
    }
}

impl<E> Drop for Registration<'_, E> {
    /// Not submitted (an error on the way): its slot is free again.
    fn drop(&mut self) {
        if let Some(p) = self.pending.take() {
            self.state.free_slots.insert(p.slot);
        }
    }
}

impl<E> LaunchTracker<E> {
    /// A tracker for a device whose fault record array has `slots` records, `stride_bytes`
    /// apart (each record is 32 bytes: see `dotcompute_ir::emit::abi`).
    pub fn new(
        accelerator: &crate::info::AcceleratorInfo,
        slots: u32,
        stride_bytes: usize,
    ) -> LaunchTracker<E> {
        LaunchTracker {
            accelerator: accelerator.to_string(),
            backend: accelerator.id.backend.to_string(),
            slots: slots.max(1),
            stride_words: stride_bytes.max(32) / 4,
            state: Mutex::new(TrackerState {
                next_id: 1,
                free_slots: (0..slots.max(1)).collect(),
                pending: Vec::new(),
                unreported: VecDeque::new(),
                dropped_unreported: 0,
                lost_slots: 0,
                last_failure: None,
            }),
            collecting: Mutex::new(()),
            collector: OnceLock::new(),
        }
    }

    /// Sets the device that collects (once, right after the device is made).
    pub fn set_collector(&self, collector: Weak<dyn LaunchCollector>) {
        let _ = self.collector.set(collector);
    }

    fn state(&self) -> MutexGuard<'_, TrackerState<E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers `launch` of `kernel`, about to be submitted, and takes the submission lock:
    /// submit its work, then call [`Registration::submitted`] (or drop the registration if
    /// submitting failed). When every slot is in use, collects first (`collect` is the
    /// device's collection).
    pub fn register(
        &self,
        launch: &Arc<TrackedLaunch>,
        kernel: &'static KernelDefinition,
        buffer_lens: Vec<u64>,
        traps: Arc<Vec<String>>,
        extra: E,
        collect: impl Fn() -> Result<(), Error>,
    ) -> Result<Registration<'_, E>, Error> {
        if let Some(collector) = self.collector.get() {
            let _ = launch.collector.set(collector.clone());
        }
        loop {
            let mut state = self.state();
            if let Some(slot) = state.free_slots.pop_first() {
                let id = state.next_id;
                // 0 means "no launch" in a record: skip it when the counter wraps.
                state.next_id = state.next_id.wrapping_add(1).max(1);
                let position = state.pending.len() as u32;
                return Ok(Registration {
                    state,
                    pending: Some(PendingLaunch {
                        launch: launch.clone(),
                        kernel,
                        buffer_lens,
                        traps,
                        slot,
                        id,
                        extra,
                    }),
                    position,
                });
            }
            if state.pending.is_empty() && state.lost_slots >= self.slots {
                // Nothing to collect would free a slot: earlier collections failed. (With
                // slots neither free nor pending nor lost, a collection running on another
                // thread holds them: `collect` below waits for it.)
                return Err(Error::Backend {
                    backend: self.backend.clone(),
                    message: format!(
                        "{}: no fault record is free ({} lost to failed collections{})",
                        self.accelerator,
                        state.lost_slots,
                        state
                            .last_failure
                            .as_ref()
                            .map_or(String::new(), |r| format!("; the last: {r}"))
                    ),
                    source: None,
                });
            }
            drop(state);
            collect()?;
        }
    }

    /// Settles every launch submitted so far. Under the submission lock, `submit_readback`
    /// gets the launches taken and submits the copy of their records (the slots below the
    /// highest one taken) and the clearing of those records; then, without the lock,
    /// `read_back` waits for that copy and returns the record array's words (at least up to
    /// the highest slot taken). Both see the launches in submission order.
    pub fn collect<R>(
        &self,
        submit_readback: impl FnOnce(&[PendingLaunch<E>], u32) -> Result<R, Error>,
        read_back: impl FnOnce(R, &[PendingLaunch<E>]) -> Result<Vec<u32>, Error>,
    ) -> Result<(), Error> {
        let _one = self
            .collecting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (taken, submitted) = {
            let mut state = self.state();
            if state.pending.is_empty() {
                return Ok(());
            }
            let taken = std::mem::take(&mut state.pending);
            let used = taken.iter().map(|p| p.slot + 1).max().unwrap_or(0);
            let submitted = submit_readback(&taken, used);
            (taken, submitted)
        };
        let words = submitted.and_then(|r| read_back(r, &taken));
        let mut faults = Vec::new();
        let failure = match &words {
            Ok(words) => {
                for p in &taken {
                    let start = p.slot as usize * self.stride_words;
                    let record = words.get(start..start + 8).unwrap_or(&[]);
                    let own = self.decode(record, p);
                    if let Outcome::Fault(report) = &own {
                        faults.push(report.clone());
                    }
                    p.launch.settle(own);
                }
                None
            }
            Err(e) => {
                let reason: Arc<str> = e.to_string().into();
                for p in &taken {
                    p.launch.settle(Outcome::Failed(reason.clone()));
                }
                Some(reason)
            }
        };
        let mut state = self.state();
        match failure {
            // The records were read and cleared: the slots can be used again.
            None => state.free_slots.extend(taken.iter().map(|p| p.slot)),
            // They may still hold a fault: a later launch given one would be blamed for it.
            Some(reason) => {
                state.lost_slots += taken.len() as u32;
                state.last_failure = Some(reason);
            }
        }
        for report in faults {
            if state.unreported.len() == MAX_UNREPORTED {
                state.unreported.pop_front();
                if state.dropped_unreported == 0 {
                    tracing::warn!(
                        accelerator = %self.accelerator,
                        "more than {MAX_UNREPORTED} faults were never synchronised; the oldest are dropped from synchronize() (reads of their buffers still report them)"
                    );
                }
                state.dropped_unreported += 1;
            }
            state.unreported.push_back(report);
        }
        drop(state);
        words.map(|_| ())
    }

    /// A launch's own outcome from its fault record.
    fn decode(&self, record: &[u32], p: &PendingLaunch<E>) -> Outcome {
        let word = |i: usize| record.get(i).copied().unwrap_or(0);
        if word(0) != 0 && word(4) != p.id {
            // Records are cleared before reuse: another launch's id means this one's own
            // fault, if any, could not be recorded.
            return Outcome::Failed(
                format!(
                    "its fault record held launch {}'s fault instead of its own (launch {})",
                    word(4),
                    p.id
                )
                .into(),
            );
        }
        let info = LaunchInfo {
            kernel: p.kernel,
            buffer_lens: &p.buffer_lens,
            traps: &p.traps,
        };
        match fault_from_record(record, info, &self.accelerator) {
            Some(report) => Outcome::Fault(Arc::new(report)),
            None => Outcome::Clean,
        }
    }

    /// Takes `report` off the faults `synchronize()` returns (see
    /// [`TrackedLaunch::acknowledge`]).
    pub fn acknowledge(&self, report: &Arc<FaultReport>) {
        self.state().unreported.retain(|r| !Arc::ptr_eq(r, report));
    }

    /// For `synchronize()`: after `collect` (the device's collection), the oldest fault not yet
    /// returned by a synchronisation, if any.
    pub fn synchronize(&self, collect: impl FnOnce() -> Result<(), Error>) -> Result<(), Error> {
        collect()?;
        match self.state().unreported.pop_front() {
            Some(report) => Err(report.to_error()),
            None => Ok(()),
        }
    }
}
