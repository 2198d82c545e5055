//! The accelerator manager: asks every backend plugin for its devices, isolates failing
//! plugins, and picks the best accelerator.

use crate::accelerator::{Accelerator, ServiceContext};
use crate::backend::BackendPlugin;
use crate::error::Error;
use crate::info::{AcceleratorKind, BackendKind};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};

/// What a backend plugin found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendStatus {
    /// The plugin has not been asked yet (discovery is lazy).
    NotProbed,
    /// It found this many accelerators (zero when the machine has none of its kind).
    Available {
        /// Accelerators found.
        accelerators: usize,
    },
    /// It could not start (no driver, no adapter, an error or a panic), and why.
    Unavailable {
        /// The reason.
        reason: String,
    },
}

/// One line of the backend report: a plugin and what it found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendReport {
    /// The backend.
    pub backend: BackendKind,
    /// The plugin's name.
    pub plugin: String,
    /// What it found.
    pub status: BackendStatus,
}

struct PluginSlot {
    plugin: Box<dyn BackendPlugin>,
    outcome: OnceLock<Result<Vec<Accelerator>, String>>,
}

/// Holds the registered backend plugins and the accelerators they found.
///
/// Discovery is lazy and happens once per plugin: asking for the CPU does not start a GPU
/// driver. A plugin that fails or panics is logged and reported; the others still work.
pub struct AcceleratorManager {
    context: Arc<ServiceContext>,
    plugins: Vec<PluginSlot>,
}

impl std::fmt::Debug for AcceleratorManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcceleratorManager")
            .field("reports", &self.reports())
            .finish()
    }
}

impl AcceleratorManager {
    /// A manager over `plugins`, binding what they find to `context`.
    ///
    /// One plugin per backend: accelerator ids (`wgpu:0`) are numbered per backend, so a
    /// second plugin of a backend already registered is not probed, and reports why.
    pub fn new(context: Arc<ServiceContext>, plugins: Vec<Box<dyn BackendPlugin>>) -> Self {
        let mut seen: Vec<(BackendKind, String)> = Vec::new();
        let slots = plugins
            .into_iter()
            .map(|plugin| {
                let outcome = OnceLock::new();
                let backend = plugin.backend();
                if let Some((_, first)) = seen.iter().find(|(b, _)| *b == backend) {
                    let _ = outcome.set(Err(format!(
                        "not used: plugin `{first}` already provides backend `{backend}` (register one plugin per backend)"
                    )));
                } else {
                    seen.push((backend, plugin.name().to_string()));
                }
                PluginSlot { plugin, outcome }
            })
            .collect();
        AcceleratorManager {
            context,
            plugins: slots,
        }
    }

    fn probe<'a>(&'a self, slot: &'a PluginSlot) -> &'a Result<Vec<Accelerator>, String> {
        slot.outcome.get_or_init(|| {
            let name = slot.plugin.name().to_string();
            let _span = tracing::info_span!("discover", backend = %name).entered();
            let found = catch_unwind(AssertUnwindSafe(|| slot.plugin.discover()));
            let outcome = match found {
                Ok(Ok(devices)) => Ok(devices
                    .into_iter()
                    .map(|d| Accelerator::new(d, self.context.clone()))
                    .collect::<Vec<_>>()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(panic) => Err(format!("the plugin panicked: {}", panic_message(&*panic))),
            };
            match &outcome {
                Ok(accs) => tracing::info!(count = accs.len(), "backend `{name}` ready"),
                Err(reason) => tracing::warn!("backend `{name}` unavailable: {reason}"),
            }
            outcome
        })
    }

    /// Every accelerator of every plugin (probing those not probed yet).
    pub fn accelerators(&self) -> Vec<Accelerator> {
        self.plugins
            .iter()
            .filter_map(|slot| self.probe(slot).as_ref().ok())
            .flatten()
            .cloned()
            .collect()
    }

    /// The accelerators of one backend (probing only that backend's plugins).
    pub fn of_backend(&self, backend: BackendKind) -> Result<Vec<Accelerator>, Error> {
        let mut found = Vec::new();
        let mut reasons = Vec::new();
        for slot in self
            .plugins
            .iter()
            .filter(|s| s.plugin.backend() == backend)
        {
            match self.probe(slot) {
                Ok(accs) => found.extend(accs.iter().cloned()),
                Err(reason) => reasons.push(format!("{}: {reason}", slot.plugin.name())),
            }
        }
        if found.is_empty() {
            return Err(Error::NoAccelerator {
                kind: backend.to_string(),
                reason: if reasons.is_empty() {
                    " (no plugin for it is registered: is its cargo feature on?)".into()
                } else {
                    format!(" ({})", reasons.join("; "))
                },
            });
        }
        Ok(found)
    }

    /// The best accelerator: a GPU with the most memory, else the CPU backend (never the CPU
    /// through another runtime, such as OpenCL, nor a software GPU). Accelerators that cannot
    /// run kernels at all (no 64-bit integers, which work-item ids need) are never chosen.
    pub fn best(&self) -> Result<Accelerator, Error> {
        self.accelerators()
            .into_iter()
            .filter(|a| a.info().capabilities.int64)
            .max_by_key(|a| {
                let info = a.info();
                let rank = match info.kind {
                    AcceleratorKind::DiscreteGpu => 4,
                    AcceleratorKind::IntegratedGpu => 3,
                    AcceleratorKind::Other => 2,
                    // The CPU backend: our own kernels, vectorised natively.
                    AcceleratorKind::Cpu if info.id.backend == BackendKind::Cpu => 1,
                    // The same cores through another runtime (an OpenCL CPU device) are
                    // never preferred to it.
                    AcceleratorKind::Cpu => 0,
                    // Software GPUs (lavapipe) are slower than the CPU backend.
                    AcceleratorKind::VirtualGpu => 0,
                };
                (rank, info.memory_bytes, info.compute_units)
            })
            .ok_or_else(|| Error::NoAccelerator {
                kind: "usable".into(),
                reason: format!(" ({})", self.describe_reports()),
            })
    }

    /// What every plugin found, without probing any.
    pub fn reports(&self) -> Vec<BackendReport> {
        self.plugins
            .iter()
            .map(|slot| BackendReport {
                backend: slot.plugin.backend(),
                plugin: slot.plugin.name().to_string(),
                status: match slot.outcome.get() {
                    None => BackendStatus::NotProbed,
                    Some(Ok(accs)) => BackendStatus::Available {
                        accelerators: accs.len(),
                    },
                    Some(Err(reason)) => BackendStatus::Unavailable {
                        reason: reason.clone(),
                    },
                },
            })
            .collect()
    }

    fn describe_reports(&self) -> String {
        let lines: Vec<String> = self
            .reports()
            .iter()
            .map(|r| format!("{}: {:?}", r.plugin, r.status))
            .collect();
        if lines.is_empty() {
            "no backend plugins are registered".into()
        } else {
            lines.join("; ")
        }
    }
}

/// The message of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic payload".into()
    }
}
