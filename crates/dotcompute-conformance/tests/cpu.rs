//! The conformance suite on the CPU backend, once per SIMD level: the best this CPU has, and
//! each kernel clone that can run here (a level the CPU lacks is reported as skipped).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute::SimdLevel;
use dotcompute_conformance::{Env, conformance_tests, fault_rule_tests};

mod best {
    use super::*;
    conformance_tests!(|| Env::cpu(None));
}

mod generic {
    use super::*;
    conformance_tests!(|| Env::cpu(Some(SimdLevel::Generic)));
}

mod avx2 {
    use super::*;
    conformance_tests!(|| Env::cpu(Some(SimdLevel::Avx2)));
}

mod avx512 {
    use super::*;
    conformance_tests!(|| Env::cpu(Some(SimdLevel::Avx512)));
}

/// Who is told of a fault: the CPU reports a launch's own fault at once, and reads of what it
/// wrote keep reporting it.
mod fault_rules {
    use super::*;
    fault_rule_tests!(|| Env::cpu(None).map(|env| (env.dc, env.acc)));
}
