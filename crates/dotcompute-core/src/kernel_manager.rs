//! The kernel manager: compiles each kernel once per accelerator, and launches by name.

use crate::backend::{CompiledKernel, Device};
use crate::definition::{Kernel, KernelDefinition};
use crate::error::Error;
use crate::info::{AcceleratorId, Capabilities};
use crate::stats::{KernelCounters, KernelStatistics};
use dotcompute_ir::{KernelHash, Requirements};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// A kernel compiled for one accelerator, with its launch counters.
pub(crate) struct CompiledEntry {
    pub(crate) kernel: Arc<dyn CompiledKernel>,
    pub(crate) counters: KernelCounters,
    /// Per parameter: whether the kernel reads the buffer's contents (loads or atomics), so
    /// that a launch on a buffer whose writer faulted knows whether it reads undefined data.
    pub(crate) reads: Vec<bool>,
    /// The kernel's groups cooperate (barriers, shared arrays): their size is bounded.
    pub(crate) cooperative: bool,
    /// The kernel uses subgroup operations: its groups are whole subgroups.
    pub(crate) subgroups: bool,
    name: &'static str,
    compile_time: Duration,
}

/// Compiles kernels once per (kernel hash, accelerator) and keeps the results; holds the
/// kernels registered for launches by name.
#[derive(Default)]
pub struct KernelManager {
    compiled: RwLock<HashMap<(KernelHash, AcceleratorId), Arc<CompiledEntry>>>,
    registry: RwLock<BTreeMap<&'static str, &'static KernelDefinition>>,
}

impl std::fmt::Debug for KernelManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelManager")
            .field("registered", &self.names())
            .finish_non_exhaustive()
    }
}

impl KernelManager {
    /// The compiled kernel for `device`, compiling it on first use.
    pub(crate) fn compiled(
        &self,
        def: &'static KernelDefinition,
        device: &dyn Device,
    ) -> Result<Arc<CompiledEntry>, Error> {
        let info = device.info();
        let key = (def.hash(), info.id);
        if let Some(entry) = self
            .compiled
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(entry.clone());
        }
        let _span =
            tracing::debug_span!("compile", kernel = def.name(), accelerator = %info.id).entered();
        let started = Instant::now();
        let ir = def.ir()?;
        check_requirements(def, &ir.requirements(), &info.capabilities, &info.name)?;
        let kernel = device.compile(def)?;
        let compile_time = started.elapsed();
        tracing::debug!(?compile_time, hash = %def.hash().short(), "compiled");
        let entry = Arc::new(CompiledEntry {
            kernel,
            counters: KernelCounters::default(),
            reads: buffer_reads(ir),
            cooperative: ir.is_cooperative(),
            subgroups: ir.uses_subgroups(),
            name: def.name(),
            compile_time,
        });
        let mut map = self
            .compiled
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // Another thread may have compiled it meanwhile: keep the first.
        Ok(map.entry(key).or_insert(entry).clone())
    }

    /// Whether `def` is compiled for accelerator `id` already.
    pub fn is_compiled(&self, def: &KernelDefinition, id: AcceleratorId) -> bool {
        self.compiled
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&(def.hash(), id))
    }

    /// Registers a kernel for launches by name.
    ///
    /// Registering the same kernel twice is fine; a different kernel under a taken name is
    /// an error.
    pub fn register(&self, kernel: &dyn Kernel) -> Result<(), Error> {
        self.register_definition(kernel.definition())
    }

    /// Registers a kernel definition for launches by name.
    pub fn register_definition(&self, def: &'static KernelDefinition) -> Result<(), Error> {
        def.ir()?;
        let mut registry = self
            .registry
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        match registry.get(def.name()) {
            Some(existing) if existing.hash() != def.hash() => Err(Error::DuplicateKernel {
                name: def.name().to_string(),
            }),
            _ => {
                registry.insert(def.name(), def);
                Ok(())
            }
        }
    }

    /// The registered kernel named `name`.
    pub fn definition(&self, name: &str) -> Result<&'static KernelDefinition, Error> {
        let registry = self.registry.read().unwrap_or_else(PoisonError::into_inner);
        registry.get(name).copied().ok_or_else(|| {
            let known: Vec<&str> = registry.keys().copied().collect();
            Error::UnknownKernel {
                name: name.to_string(),
                known: if known.is_empty() {
                    " (none are registered: call register first)".into()
                } else {
                    format!(" (registered: {})", known.join(", "))
                },
            }
        })
    }

    /// Names of the registered kernels.
    pub fn names(&self) -> Vec<&'static str> {
        self.registry
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect()
    }

    /// Statistics of every kernel compiled so far, per accelerator.
    pub fn statistics(&self) -> Vec<KernelStatistics> {
        let map = self.compiled.read().unwrap_or_else(PoisonError::into_inner);
        let mut stats: Vec<KernelStatistics> = map
            .iter()
            .map(|((_, id), entry)| KernelStatistics {
                kernel: entry.name.to_string(),
                accelerator: id.to_string(),
                compile_time: entry.compile_time,
                launches: entry.counters.snapshot(),
                device: entry.kernel.device_times(),
            })
            .collect();
        stats.sort_by(|a, b| (&a.kernel, &a.accelerator).cmp(&(&b.kernel, &b.accelerator)));
        stats
    }
}

pub(crate) fn check_requirements(
    def: &KernelDefinition,
    needs: &Requirements,
    caps: &Capabilities,
    device: &str,
) -> Result<(), Error> {
    let missing = [
        (needs.f64 && !caps.f64, "f64 arithmetic"),
        (
            needs.cooperative && !caps.cooperative,
            "cooperative work-groups (`barrier()` and shared arrays)",
        ),
        (
            needs.subgroups && caps.subgroup_size == 0,
            "subgroup operations",
        ),
        (needs.int64 && !caps.int64, "64-bit integers"),
        (needs.atomics && !caps.atomics, "atomics"),
        (needs.atomics64 && !caps.atomics64, "64-bit atomics"),
        (needs.float_atomics && !caps.float_atomics, "float atomics"),
        (
            needs.f64_device_math && !caps.f64_device_math,
            "the device's own f64 transcendental functions (a `fast_math` kernel)",
        ),
    ];
    // Every missing need at once, so that one message says all the kernel lacks here.
    let mut lacking: Vec<String> = missing
        .iter()
        .filter(|(lacking, _)| *lacking)
        .map(|(_, need)| need.to_string())
        .collect();
    if needs.cooperative && caps.cooperative && needs.shared_bytes > caps.shared_memory_bytes {
        lacking.push(format!(
            "{} bytes of shared arrays per group (it has {})",
            needs.shared_bytes, caps.shared_memory_bytes
        ));
    }
    if lacking.is_empty() {
        return Ok(());
    }
    Err(Error::Unsupported {
        kernel: def.name().to_string(),
        need: lacking.join(" and "),
        accelerator: device.to_string(),
    })
}

/// Per parameter of `kernel`: whether its body reads the buffer's contents (a load or an
/// atomic; `.len()` reads no contents). Helper functions cannot touch buffers.
fn buffer_reads(kernel: &dotcompute_ir::Kernel) -> Vec<bool> {
    use dotcompute_ir::ExprKind;
    let mut reads = vec![false; kernel.params.len()];
    dotcompute_ir::walk_stmts(&kernel.body, &mut |stmt| {
        dotcompute_ir::stmt_exprs(stmt, &mut |e| {
            e.walk(&mut |e| {
                if let ExprKind::Load { buffer, .. } | ExprKind::Atomic { buffer, .. } = &e.kind
                    && let Some(r) = reads.get_mut(buffer.0 as usize)
                {
                    *r = true;
                }
            });
        });
    });
    reads
}
