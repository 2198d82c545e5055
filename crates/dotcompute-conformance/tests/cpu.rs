//! The conformance suite on the CPU backend, once per SIMD level: the best this CPU has, and
//! each kernel clone that can run here (a level the CPU lacks is reported as skipped). Each
//! runs with another subgroup size (16, 4, 32, 64), so that the subgroup cases cover four.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute::{CpuOptions, SimdLevel};
use dotcompute_conformance::{Env, conformance_tests, fault_rule_tests};

mod best {
    use super::*;
    conformance_tests!(|| Env::cpu(None));
}

mod generic {
    use super::*;
    conformance_tests!(|| Env::cpu_with(CpuOptions {
        simd: Some(SimdLevel::Generic),
        subgroup_size: 4,
        ..CpuOptions::default()
    }));
}

mod avx2 {
    use super::*;
    conformance_tests!(|| Env::cpu_with(CpuOptions {
        simd: Some(SimdLevel::Avx2),
        subgroup_size: 32,
        ..CpuOptions::default()
    }));
}

mod avx512 {
    use super::*;
    conformance_tests!(|| Env::cpu_with(CpuOptions {
        simd: Some(SimdLevel::Avx512),
        subgroup_size: 64,
        ..CpuOptions::default()
    }));
}

/// Who is told of a fault: the CPU reports a launch's own fault at once, and reads of what it
/// wrote keep reporting it.
mod fault_rules {
    use super::*;
    fault_rule_tests!(|| Env::cpu(None).map(|env| (env.dc, env.acc)));
}
