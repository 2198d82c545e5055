//! The conformance suite on the IR interpreter: the hand-written references check the
//! interpreter, which is the reference for the backends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute_conformance::{Env, conformance_tests};

conformance_tests!(
    Env::interpreter,
    huge_grid_ignored: "2^32 + 7 work items, one after another: about 7 minutes (cargo test --test interpreter -- --ignored)"
);
