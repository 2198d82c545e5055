//! Kernel definitions: what the `#[kernel]` macro bakes into a binary for each kernel.

use crate::cpu_abi::CpuLaunch;
use crate::error::Error;
use crate::fault::{FaultSubject, KernelFault};
use dotcompute_ir::{BoundsChecks, IrError, KernelHash, ParamKind};
use std::sync::OnceLock;

/// The CPU entry point generated for a kernel: runs the work items with linear ids
/// `start..end` of a launch. It is `unsafe` to call for `#[kernel(unchecked)]` kernels, whose
/// accesses are not checked.
pub type CpuEntry = unsafe fn(&CpuLaunch<'_>, u64, u64) -> Result<(), KernelFault>;

/// A kernel parameter as the typed and by-name launches see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParamInfo {
    /// Name in the source.
    pub name: &'static str,
    /// Scalar or buffer, with type and access mode.
    pub kind: ParamKind,
}

/// Everything known about a kernel at compile time: its signature, its IR (serialized), its
/// hash, and its CPU code. One `static` per `#[kernel]`.
#[derive(Debug)]
pub struct KernelDefinition {
    name: &'static str,
    params: &'static [ParamInfo],
    hash: KernelHash,
    bounds_checks: BoundsChecks,
    ir_bytes: &'static [u8],
    cpu: Option<CpuEntry>,
    ir: OnceLock<Result<dotcompute_ir::Kernel, IrError>>,
}

impl KernelDefinition {
    /// A definition; the macro writes this call.
    ///
    /// # Safety
    ///
    /// `ir_bytes` is `Kernel::to_bytes()` of a validated kernel whose hash is `hash`, whose
    /// parameters are `params` and whose bounds-check mode is `bounds_checks`, and `cpu` is the
    /// entry point generated from that same kernel: launches trust the entry point to access
    /// only the buffers its parameters describe, in the way they describe (and, for checked
    /// kernels, only in bounds).
    pub const unsafe fn new(
        name: &'static str,
        params: &'static [ParamInfo],
        hash: KernelHash,
        bounds_checks: BoundsChecks,
        ir_bytes: &'static [u8],
        cpu: Option<CpuEntry>,
    ) -> KernelDefinition {
        KernelDefinition {
            name,
            params,
            hash,
            bounds_checks,
            ir_bytes,
            cpu,
            ir: OnceLock::new(),
        }
    }

    /// The kernel's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its parameters, in order.
    pub fn params(&self) -> &'static [ParamInfo] {
        self.params
    }

    /// Its canonical hash (the key of compiled-kernel caches).
    pub fn hash(&self) -> KernelHash {
        self.hash
    }

    /// Whether its buffer accesses are checked.
    pub fn bounds_checks(&self) -> BoundsChecks {
        self.bounds_checks
    }

    /// The CPU entry point, when the kernel was compiled for the CPU.
    pub fn cpu_entry(&self) -> Option<CpuEntry> {
        self.cpu
    }

    /// The kernel's IR, decoded and validated on first use.
    pub fn ir(&self) -> Result<&dotcompute_ir::Kernel, Error> {
        self.ir
            .get_or_init(|| {
                let kernel = dotcompute_ir::Kernel::from_bytes(self.ir_bytes)?;
                dotcompute_ir::validate(&kernel)?;
                Ok(kernel)
            })
            .as_ref()
            .map_err(|e| Error::Ir(e.clone()))
    }

    /// The name of a fault's parameter or shared array, for messages.
    pub fn subject_name(&self, subject: FaultSubject) -> String {
        match subject {
            FaultSubject::Param(p) => self.param_name(p),
            FaultSubject::Array(a) => self.ir().ok().and_then(|k| k.array(a)).map_or_else(
                || format!("array #{a}"),
                |(name, _, shared)| {
                    if shared {
                        format!("shared array `{name}`")
                    } else {
                        format!("array `{name}`")
                    }
                },
            ),
        }
    }

    /// The name of parameter `index`, for messages.
    pub fn param_name(&self, index: u32) -> String {
        self.params
            .get(index as usize)
            .map_or_else(|| format!("#{index}"), |p| p.name.to_string())
    }
}

/// Implemented by the handle `#[kernel]` makes of each kernel function.
pub trait Kernel {
    /// The kernel's definition.
    fn definition(&self) -> &'static KernelDefinition;
}
