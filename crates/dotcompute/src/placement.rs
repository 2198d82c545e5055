//! Placement: [`ComputeService::auto`] picks an accelerator for each query from measured
//! figures of every accelerator (copy bandwidth, launch latency, transfer bandwidth) and from
//! where the query's data is current.
//!
//! ```
//! use dotcompute::prelude::*;
//! use dotcompute::query;
//!
//! # fn main() -> Result<(), dotcompute::Error> {
//! let dc = ComputeService::new()?;
//! let xs = dc.buffer_from_slice(&[1.0f32, 2.0, 3.0])?;
//! // Three elements: no GPU beats the CPU's launch latency.
//! let total = query!(dc.auto().query(&xs).map(|x: f32| x * 2.0).sum())?;
//! assert_eq!(total, 12.0);
//! let decision = dc.placements().pop().expect("the query was placed");
//! assert_eq!(decision.accelerator.backend, BackendKind::Cpu);
//! println!("{}", decision.reason);
//! # Ok(())
//! # }
//! ```
//!
//! # The cost model
//!
//! The candidates are the accelerators that can run every kernel the query compiles to
//! (and, when an input holds `f64`, that have `f64`: the library kernels a driver launches
//! work on the inputs' types). For each, the estimate is
//!
//! - the transfers: each input buffer not current on it moves there (from a device to the
//!   host at that device's download rate when the host copy is stale, then to a device at
//!   its upload rate; the CPU reads host memory in place);
//! - the launches: the number of kernels the query compiles to, times the launch latency
//!   (the library's own passes, a sort's or a long reduction's, are not counted);
//! - the memory traffic: the inputs' bytes (a range's indices count as the `u64`s they
//!   stand for; `take`/`skip` aside, the whole sources count) at the copy bandwidth.
//!
//! The least estimate wins, ties going to the earlier accelerator (the CPU first). Not
//! modelled: work that is compute-bound rather than memory-bound, what the query writes,
//! and the download of a result the host reads later. Small inputs stay on the CPU because
//! its launch latency is the smallest. Each accelerator is measured once per service, on
//! first use ([`AcceleratorProfile::measure`], a fraction of a second), unless
//! [`ComputeService::set_profile`] gave its figures; one whose measurement fails is chosen
//! only when no candidate has figures (the failure is logged), and a download from a device
//! without figures counts at 1 GB/s. Every decision is logged (`tracing`, target
//! `dotcompute::placement`) and kept, with its reason, in [`ComputeService::placements`].

use crate::ir::ScalarType;
use crate::prelude::*;
use crate::{AcceleratorId, ComputeService, KernelDefinition, Residency};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

/// Measured figures of one accelerator, for placement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AcceleratorProfile {
    /// Bytes per second a copy kernel moves (read plus written), its data in place.
    pub bandwidth: f64,
    /// Seconds from the launch of a one-item kernel to its end (the median).
    pub launch_latency: f64,
    /// Bytes per second from host memory to the accelerator (infinite for the CPU, whose
    /// kernels read host memory).
    pub upload: f64,
    /// Bytes per second from the accelerator to host memory (infinite for the CPU).
    pub download: f64,
}

/// Elements of the measuring copy: 16 MiB of `f32` each way.
const MEASURE_LEN: usize = 4 << 20;

/// Copies `x` into `y`: the bandwidth probe.
#[kernel]
pub fn placement_copy(x: &[f32], y: &mut [f32]) {
    let i = global_id();
    y[i] = x[i];
}

/// One item's increment: the latency probe.
#[kernel]
pub fn placement_touch(x: &mut [u32]) {
    let i = global_id();
    x[i] += 1;
}

/// The median of `runs` timings of `run` (seconds).
fn median_time(runs: usize, mut run: impl FnMut() -> Result<f64, Error>) -> Result<f64, Error> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        times.push(run()?);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[runs / 2])
}

/// The seconds `f` takes.
fn timed(f: impl FnOnce() -> Result<(), Error>) -> Result<f64, Error> {
    let started = Instant::now();
    f()?;
    Ok(started.elapsed().as_secs_f64())
}

impl AcceleratorProfile {
    /// Measures `acc`: the median of 15 one-item launches, of 5 copies of 16 MiB with the
    /// data in place, and (not on the CPU) of 3 uploads and 3 downloads of 16 MiB.
    pub fn measure(acc: &Accelerator) -> Result<AcceleratorProfile, Error> {
        let _span = tracing::debug_span!("measure", accelerator = %acc.id()).entered();
        let mut one = acc.buffer_zeroed::<u32>(1)?;
        // The first launches compile the probes and allocate their device copies.
        for _ in 0..3 {
            placement_touch::launch(acc, 1, &mut one)?;
        }
        acc.synchronize()?;
        let launch_latency = median_time(15, || {
            timed(|| {
                placement_touch::launch(acc, 1, &mut one)?;
                acc.synchronize()
            })
        })?;
        let host: Vec<f32> = (0..MEASURE_LEN).map(|i| i as f32).collect();
        let mut x = acc.context().buffer_from_slice(&host)?;
        let mut y = acc.buffer_zeroed::<f32>(MEASURE_LEN)?;
        placement_copy::launch(acc, MEASURE_LEN, &x, &mut y)?;
        acc.synchronize()?;
        let bytes = (MEASURE_LEN * 4) as f64;
        let copy = median_time(5, || {
            timed(|| {
                placement_copy::launch(acc, MEASURE_LEN, &x, &mut y)?;
                acc.synchronize()
            })
        })?;
        let bandwidth = 2.0 * bytes / copy;
        if acc.id().backend == BackendKind::Cpu {
            return Ok(AcceleratorProfile {
                bandwidth,
                launch_latency,
                upload: f64::INFINITY,
                download: f64::INFINITY,
            });
        }
        // A write from the host makes the device copy stale: the next launch uploads it.
        let with_upload = median_time(3, || {
            x.copy_from_slice(&host)?;
            timed(|| {
                placement_copy::launch(acc, MEASURE_LEN, &x, &mut y)?;
                acc.synchronize()
            })
        })?;
        // A launch that writes `y` leaves only the device copy current: reading downloads.
        let download = median_time(3, || {
            placement_copy::launch(acc, MEASURE_LEN, &x, &mut y)?;
            acc.synchronize()?;
            timed(|| y.read().map(drop))
        })?;
        // Clock resolution bounds how small a measured transfer can be.
        let upload_time = (with_upload - copy).max(1e-7);
        Ok(AcceleratorProfile {
            bandwidth,
            launch_latency,
            upload: bytes / upload_time,
            download: bytes / download.max(1e-7),
        })
    }
}

/// What a query reads from one buffer: its bytes and where they are current.
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct Footprint {
    bytes: u64,
    elem: Option<ScalarType>,
    /// Computed where the query runs (a range): nothing to move.
    computed: bool,
    residency: Residency,
}

/// `buffer`'s footprint, for placement (called by `query!`'s expansion).
#[doc(hidden)]
pub fn footprint<T: bytemuck::Pod>(buffer: &UnifiedBuffer<T>) -> Footprint {
    Footprint {
        bytes: (buffer.len() * std::mem::size_of::<T>()) as u64,
        elem: buffer.raw().elem(),
        computed: false,
        residency: buffer.raw().residency(),
    }
}

/// A range source of `len` indices, for placement: computed where the query runs, counted
/// as the `u64`s it stands for (called by `query!`'s expansion).
#[doc(hidden)]
pub fn range_footprint(len: usize) -> Footprint {
    Footprint {
        bytes: (len as u64).saturating_mul(8),
        elem: Some(ScalarType::U64),
        computed: true,
        residency: Residency::default(),
    }
}

/// One placement: the accelerator chosen for a query, every candidate's estimate, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacementDecision {
    /// The accelerator that ran the query.
    pub accelerator: AcceleratorId,
    /// Each candidate's estimated seconds, in the order considered.
    pub estimates: Vec<(AcceleratorId, f64)>,
    /// The estimates in words: transfers, launches and traffic per candidate, and the
    /// accelerators left out (with what they lack).
    pub reason: String,
}

/// How many decisions a service keeps.
const KEPT_DECISIONS: usize = 256;

/// One accelerator's figures: measured once (or given); a failed measurement is kept as its
/// message, so that it is not retried on every query.
type ProfileCell = Arc<OnceLock<Result<AcceleratorProfile, String>>>;

/// A service's measured profiles and its recent decisions.
#[derive(Debug, Default)]
pub(crate) struct PlacementState {
    profiles: Mutex<HashMap<AcceleratorId, ProfileCell>>,
    decisions: Mutex<VecDeque<PlacementDecision>>,
}

impl PlacementState {
    /// `acc`'s profile: given, measured before, or measured now (the error of a failed
    /// measurement, then and later).
    pub(crate) fn profile(&self, acc: &Accelerator) -> Result<AcceleratorProfile, Error> {
        // The map's lock is held only to find the cell: measuring one accelerator does not
        // hold up placements that need only figures already known.
        let cell = self
            .profiles
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(acc.id())
            .or_default()
            .clone();
        let figures = cell.get_or_init(|| {
            let measured = AcceleratorProfile::measure(acc);
            match &measured {
                Ok(p) => {
                    tracing::debug!(target: "dotcompute::placement", accelerator = %acc.id(), ?p, "measured");
                }
                Err(e) => {
                    tracing::warn!(target: "dotcompute::placement", accelerator = %acc.id(), %e, "not measured: never chosen");
                }
            }
            measured.map_err(|e| e.to_string())
        });
        figures.clone().map_err(|reason| Error::InvalidArgument {
            operation: format!("measuring {} for placement", acc.id()),
            reason,
        })
    }

    pub(crate) fn set_profile(&self, id: AcceleratorId, profile: AcceleratorProfile) {
        self.profiles
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, Arc::new(OnceLock::from(Ok(profile))));
    }

    pub(crate) fn record(&self, decision: PlacementDecision) {
        let mut decisions = self
            .decisions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if decisions.len() == KEPT_DECISIONS {
            decisions.pop_front();
        }
        decisions.push_back(decision);
    }

    pub(crate) fn decisions(&self) -> Vec<PlacementDecision> {
        self.decisions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }
}

/// "Run where it is fastest": a query on `dc.auto()` runs on the accelerator the cost model
/// picks for it (see the [module docs](self)).
pub struct Auto<'a> {
    service: &'a ComputeService,
    accelerators: Vec<Accelerator>,
}

impl std::fmt::Debug for Auto<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<AcceleratorId> = self.accelerators.iter().map(Accelerator::id).collect();
        f.debug_struct("Auto").field("accelerators", &ids).finish()
    }
}

impl<'a> Auto<'a> {
    /// Placement among every accelerator of `service`.
    pub(crate) fn new(service: &'a ComputeService) -> Auto<'a> {
        Auto {
            service,
            accelerators: service.accelerators(),
        }
    }

    /// The accelerator for work that launches `kernels` (`launches` launches in all) over
    /// `inputs`: the least estimate among those that can run every kernel (their first
    /// refusal when none can).
    pub fn place(
        &self,
        kernels: &[&'static KernelDefinition],
        inputs: &[Footprint],
        launches: usize,
    ) -> Result<&Accelerator, Error> {
        let mut candidates = Vec::new();
        let mut refused = Vec::new();
        let mut first_refusal = None;
        // The library's kernels that the drivers launch (sums, sorts, ...) work on the
        // inputs' element types: f64 data needs f64 even where the query's own kernels are
        // not known (a chain without closures).
        let f64_data = inputs.iter().any(|f| f.elem == Some(ScalarType::F64));
        for acc in &self.accelerators {
            let supported = kernels.iter().try_for_each(|def| acc.supports(def));
            let supported = match supported {
                Ok(()) if f64_data && !acc.info().capabilities.f64 => Err(Error::Unsupported {
                    kernel: "the query".into(),
                    need: "f64 arithmetic (its data is f64)".into(),
                    accelerator: acc.info().to_string(),
                }),
                other => other,
            };
            match supported {
                Ok(()) => candidates.push(acc),
                Err(e) => {
                    refused.push(format!("{} cannot: {e}", acc.id()));
                    first_refusal.get_or_insert(e);
                }
            }
        }
        if candidates.is_empty() {
            return Err(first_refusal.unwrap_or_else(|| Error::InvalidArgument {
                operation: "auto placement".into(),
                reason: "the service has no accelerators".into(),
            }));
        }
        let mut profiles = HashMap::new();
        for acc in &self.accelerators {
            // Only the candidates and the devices holding inputs matter.
            let holds_input = inputs
                .iter()
                .any(|f| f.residency.devices.contains(&acc.id()));
            if candidates.iter().any(|c| c.id() == acc.id()) || holds_input {
                // Without figures an accelerator is never chosen (the reason says so).
                if let Ok(p) = self.service.placement().profile(acc) {
                    profiles.insert(acc.id(), p);
                }
            }
        }
        let ids: Vec<AcceleratorId> = candidates.iter().map(|c| c.id()).collect();
        let choice = choose(&ids, &profiles, inputs, launches);
        let mut reason = choice.reason;
        if !refused.is_empty() {
            reason.push_str("; ");
            reason.push_str(&refused.join("; "));
        }
        let chosen = candidates[choice.index];
        tracing::info!(target: "dotcompute::placement", accelerator = %chosen.id(), %reason, "placed");
        self.service.placement().record(PlacementDecision {
            accelerator: chosen.id(),
            estimates: ids.iter().copied().zip(choice.estimates).collect(),
            reason,
        });
        Ok(chosen)
    }
}

/// Where a query runs: an [`Accelerator`] (there), or [`Auto`] (where the model says).
/// `query!` calls it with the query's kernels, its input buffers' footprints (made only
/// when asked for: a plain accelerator needs none, and queries can be sub-microsecond) and
/// its launch count.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "a query runs on an `Accelerator` or on `dc.auto()`, not on `{Self}`",
    note = "pass the accelerator itself: `query!((*acc).query(..) ..)` or `query!(acc.as_ref().query(..) ..)`"
)]
pub trait QueryTarget {
    /// The accelerator for the query.
    fn place(
        &self,
        kernels: &[&'static KernelDefinition],
        inputs: &dyn Fn() -> Vec<Footprint>,
        launches: usize,
    ) -> Result<&Accelerator, Error>;
}

impl QueryTarget for Accelerator {
    fn place(
        &self,
        _kernels: &[&'static KernelDefinition],
        _inputs: &dyn Fn() -> Vec<Footprint>,
        _launches: usize,
    ) -> Result<&Accelerator, Error> {
        Ok(self)
    }
}

impl QueryTarget for Auto<'_> {
    fn place(
        &self,
        kernels: &[&'static KernelDefinition],
        inputs: &dyn Fn() -> Vec<Footprint>,
        launches: usize,
    ) -> Result<&Accelerator, Error> {
        Auto::place(self, kernels, &inputs(), launches)
    }
}

/// Forwards `place` to what a pointer holds.
macro_rules! forward_query_target {
    ($($pointer:ty),*) => {$(
        impl<T: QueryTarget + ?Sized> QueryTarget for $pointer {
            fn place(
                &self,
                kernels: &[&'static KernelDefinition],
                inputs: &dyn Fn() -> Vec<Footprint>,
                launches: usize,
            ) -> Result<&Accelerator, Error> {
                (**self).place(kernels, inputs, launches)
            }
        }
    )*};
}

forward_query_target!(&T, &mut T, Arc<T>, Box<T>, std::rc::Rc<T>);

/// The model's answer: the index of the least estimate, every estimate, and the words.
struct Choice {
    index: usize,
    estimates: Vec<f64>,
    reason: String,
}

/// Seconds as a short human figure.
fn seconds(s: f64) -> String {
    if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

/// Bytes per second assumed for a download from a device without figures.
const UNKNOWN_DOWNLOAD: f64 = 1e9;

/// The cost model over `candidates` (see the module docs), with every candidate's profile
/// and those of the devices holding inputs in `profiles`.
fn choose(
    candidates: &[AcceleratorId],
    profiles: &HashMap<AcceleratorId, AcceleratorProfile>,
    inputs: &[Footprint],
    launches: usize,
) -> Choice {
    let mut estimates = Vec::new();
    let mut words = Vec::new();
    for id in candidates {
        let Some(p) = profiles.get(id) else {
            estimates.push(f64::INFINITY);
            words.push(format!("{id}: not measured"));
            continue;
        };
        let host = id.backend == BackendKind::Cpu;
        let mut transfer = 0.0;
        let mut moved = 0u64;
        let mut traffic = 0u64;
        for f in inputs {
            traffic = traffic.saturating_add(f.bytes);
            let here = if f.computed || f.bytes == 0 {
                true
            } else if host {
                f.residency.host
            } else {
                f.residency.devices.contains(id)
            };
            if here {
                continue;
            }
            moved = moved.saturating_add(f.bytes);
            if !f.residency.host {
                // From the device that holds it to the host first.
                // A holder without figures counts as a slow link, not a free one.
                let holder = f.residency.devices.iter().find_map(|d| profiles.get(d));
                let rate = holder.map_or(UNKNOWN_DOWNLOAD, |h| h.download);
                transfer += f.bytes as f64 / rate;
            }
            if !host {
                transfer += f.bytes as f64 / p.upload;
            }
        }
        let launch = launches as f64 * p.launch_latency;
        let memory = if traffic == 0 {
            0.0
        } else {
            traffic as f64 / p.bandwidth
        };
        // Figures that make no sense (a zero rate over nothing, NaN) never win.
        let total = transfer + launch + memory;
        let total = if total.is_nan() { f64::INFINITY } else { total };
        estimates.push(total);
        words.push(format!(
            "{id}: {} ({} moved in {}, {launches} launches in {}, {} read at {:.1} GB/s in {})",
            seconds(total),
            bytes_text(moved),
            seconds(transfer),
            seconds(launch),
            bytes_text(traffic),
            p.bandwidth / 1e9,
            seconds(memory),
        ));
    }
    // The least estimate; ties keep the earlier candidate.
    let mut index = 0;
    for (i, e) in estimates.iter().enumerate() {
        if *e < estimates[index] {
            index = i;
        }
    }
    let verdict = if estimates[index].is_finite() {
        format!("{} is fastest", candidates[index])
    } else {
        format!(
            "no candidate has figures, so the first, {}, runs it",
            candidates[index]
        )
    };
    Choice {
        index,
        reason: format!("{verdict}: {}", words.join("; ")),
        estimates,
    }
}

/// Bytes as a short human figure.
fn bytes_text(b: u64) -> String {
    if b >= 1 << 20 {
        format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20))
    } else if b >= 1 << 10 {
        format!("{:.1} KiB", b as f64 / 1024.0)
    } else {
        format!("{b} B")
    }
}

/// Every kernel placement launches itself (the probes), for tests that compile or
/// validate every kernel.
pub fn kernels() -> Vec<&'static KernelDefinition> {
    vec![placement_copy::definition(), placement_touch::definition()]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail by panicking

    use super::*;

    fn id(backend: BackendKind) -> AcceleratorId {
        AcceleratorId { backend, index: 0 }
    }

    fn profiles() -> HashMap<AcceleratorId, AcceleratorProfile> {
        let mut p = HashMap::new();
        p.insert(
            id(BackendKind::Cpu),
            AcceleratorProfile {
                bandwidth: 40e9,
                launch_latency: 5e-6,
                upload: f64::INFINITY,
                download: f64::INFINITY,
            },
        );
        p.insert(
            id(BackendKind::Cuda),
            AcceleratorProfile {
                bandwidth: 4000e9,
                launch_latency: 20e-6,
                upload: 25e9,
                download: 25e9,
            },
        );
        p
    }

    fn input(bytes: u64, host: bool, device: bool) -> Footprint {
        Footprint {
            bytes,
            elem: Some(ScalarType::F32),
            computed: false,
            residency: Residency {
                host,
                devices: if device {
                    vec![id(BackendKind::Cuda)]
                } else {
                    Vec::new()
                },
            },
        }
    }

    /// Small inputs stay on the CPU; data already on the GPU stays there; large data on the
    /// host stays on the host when the upload costs more than the CPU's whole pass, and goes
    /// to the GPU when it is already there; a device copy is downloaded for the CPU.
    #[test]
    fn the_model_weighs_latency_transfers_and_bandwidth() {
        let both = [id(BackendKind::Cpu), id(BackendKind::Cuda)];
        let p = profiles();
        let pick = |inputs: &[Footprint], launches| both[choose(&both, &p, inputs, launches).index];
        assert_eq!(pick(&[input(4096, true, false)], 2), both[0]);
        // 256 MiB on the host: the CPU reads it in 6.7 ms, the upload alone takes 10.7 ms.
        assert_eq!(pick(&[input(256 << 20, true, false)], 2), both[0]);
        assert_eq!(pick(&[input(256 << 20, true, true)], 2), both[1]);
        assert_eq!(pick(&[input(256 << 20, false, true)], 2), both[1]);
        let choice = choose(&both, &p, &[input(1 << 20, true, false)], 3);
        assert!(
            choice.reason.starts_with("cpu:0 is fastest"),
            "{}",
            choice.reason
        );
        assert!(choice.reason.contains("1.0 MiB moved"), "{}", choice.reason);
        assert_eq!(choice.estimates.len(), 2);
        // An accelerator without figures is never chosen.
        let mut partial = p.clone();
        partial.remove(&both[0]);
        assert_eq!(both[choose(&both, &partial, &[], 1).index], both[1]);
        // With no figures at all, the first runs it, and the reason says so.
        let blind = choose(&both, &HashMap::new(), &[input(4096, true, false)], 1);
        assert_eq!(blind.index, 0);
        assert!(
            blind.reason.starts_with("no candidate has figures"),
            "{}",
            blind.reason
        );
        // A download from a holder without figures is not free.
        let cpu_only = [both[0]];
        let mut no_holder = p.clone();
        no_holder.remove(&both[1]);
        let far = choose(&cpu_only, &no_holder, &[input(1 << 30, false, true)], 1);
        assert!(far.estimates[0] > 1.0, "{:?}", far.estimates);
    }
}
