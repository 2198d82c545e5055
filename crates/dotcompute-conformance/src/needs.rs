//! What a conformance case needs of an accelerator beyond ordinary kernels (which, with
//! their 64-bit ids, every device backend runs today): `f64`, 64-bit or float atomics,
//! cooperative kernels and their shared memory, subgroups. A case an accelerator cannot run
//! is skipped with the reason (a failure under `DOTCOMPUTE_REQUIRE_ALL_CASES=1`), and every
//! run checks the declaration against the kernels the case launched, so that it cannot
//! fall behind the case.

use dotcompute::ir::Requirements;
use dotcompute::{Accelerator, Capabilities, ComputeService};

/// A case's needs (the default: none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// `f64` arithmetic.
    pub f64: bool,
    /// Atomics on 64-bit elements.
    pub atomics64: bool,
    /// Atomic add on float elements.
    pub float_atomics: bool,
    /// Cooperative kernels (`barrier()`, shared arrays).
    pub cooperative: bool,
    /// Subgroup operations.
    pub subgroups: bool,
    /// Bytes of shared memory per group.
    pub shared_bytes: u64,
    /// Launches of 2^32 work items or more (refused where ids are pairs of 32-bit words:
    /// `Capabilities::int64_emulated`).
    pub large_grids: bool,
}

impl Needs {
    /// Nothing beyond ordinary kernels.
    pub const NONE: Needs = Needs {
        f64: false,
        atomics64: false,
        float_atomics: false,
        cooperative: false,
        subgroups: false,
        shared_bytes: 0,
        large_grids: false,
    };

    /// `f64` arithmetic.
    pub const F64: Needs = Needs {
        f64: true,
        ..Needs::NONE
    };

    /// Cooperative kernels with `shared_bytes` of shared memory per group.
    pub const fn cooperative(shared_bytes: u64) -> Needs {
        Needs {
            cooperative: true,
            shared_bytes,
            ..Needs::NONE
        }
    }

    /// Subgroup operations (in cooperative kernels with `shared_bytes` of shared memory).
    pub const fn subgroups(shared_bytes: u64) -> Needs {
        Needs {
            subgroups: true,
            ..Needs::cooperative(shared_bytes)
        }
    }

    /// These needs and `other`'s.
    pub const fn and(self, other: Needs) -> Needs {
        Needs {
            f64: self.f64 || other.f64,
            atomics64: self.atomics64 || other.atomics64,
            float_atomics: self.float_atomics || other.float_atomics,
            cooperative: self.cooperative || other.cooperative,
            subgroups: self.subgroups || other.subgroups,
            shared_bytes: if self.shared_bytes > other.shared_bytes {
                self.shared_bytes
            } else {
                other.shared_bytes
            },
            large_grids: self.large_grids || other.large_grids,
        }
    }

    /// A kernel's needs.
    pub fn of(requirements: &Requirements) -> Needs {
        Needs {
            f64: requirements.f64,
            atomics64: requirements.atomics64,
            float_atomics: requirements.float_atomics,
            cooperative: requirements.cooperative,
            subgroups: requirements.subgroups,
            shared_bytes: requirements.shared_bytes,
            large_grids: false,
        }
    }

    /// The needs of the suite's kernels (`kernels::all()`) that `dc` has compiled for
    /// `acc` (each found by its hash, so that kernels sharing a name stay apart), and how
    /// many kernels were compiled there that the suite does not list (whose needs are
    /// unknown).
    pub fn launched(dc: &ComputeService, acc: &Accelerator) -> (Needs, usize) {
        let mut needs = Needs::NONE;
        let mut matched = 0;
        for def in crate::kernels::all() {
            if dc.kernels().is_compiled(def, acc.id()) {
                matched += 1;
                if let Ok(ir) = def.ir() {
                    needs = needs.and(Needs::of(&ir.requirements()));
                }
            }
        }
        let compiled = dc
            .statistics()
            .iter()
            .filter(|s| s.accelerator == acc.id().to_string())
            .count();
        (needs, compiled.saturating_sub(matched))
    }

    /// What these needs hold that `caps` lacks, in words (`None`: it has everything).
    pub fn unmet(&self, caps: &Capabilities) -> Option<String> {
        let mut lacks = Vec::new();
        if self.f64 && !caps.f64 {
            lacks.push("f64".to_string());
        }
        if self.atomics64 && !caps.atomics64 {
            lacks.push("64-bit atomics".into());
        }
        if self.float_atomics && !caps.float_atomics {
            lacks.push("float atomics".into());
        }
        if self.cooperative && !caps.cooperative {
            lacks.push("cooperative kernels".into());
        }
        if self.subgroups && caps.subgroup_size == 0 {
            lacks.push("subgroups".into());
        }
        if self.large_grids && caps.int64_emulated {
            lacks.push("launches of 2^32 work items or more (its ids are 32-bit words)".into());
        }
        if self.shared_bytes > caps.shared_memory_bytes {
            lacks.push(format!(
                "{} bytes of shared memory (it has {})",
                self.shared_bytes, caps.shared_memory_bytes
            ));
        }
        (!lacks.is_empty()).then(|| lacks.join(", "))
    }

    /// What `launched` needs beyond these needs, in words (`None`: they cover it).
    pub fn missing(&self, launched: &Needs) -> Option<String> {
        let mut missing = Vec::new();
        for (name, has, wants) in [
            ("f64", self.f64, launched.f64),
            ("atomics64", self.atomics64, launched.atomics64),
            ("float_atomics", self.float_atomics, launched.float_atomics),
            ("cooperative", self.cooperative, launched.cooperative),
            ("subgroups", self.subgroups, launched.subgroups),
        ] {
            if wants && !has {
                missing.push(name.to_string());
            }
        }
        if launched.shared_bytes > self.shared_bytes {
            missing.push(format!("shared_bytes: {}", launched.shared_bytes));
        }
        (!missing.is_empty()).then(|| missing.join(", "))
    }
}
