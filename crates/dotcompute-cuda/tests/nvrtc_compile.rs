//! Every CUDA C++ source the conformance suite generates compiles with NVRTC for `sm_80`
//! (Ampere) and `sm_90` (Hopper). Needs NVRTC, not a GPU: `scripts/test.sh` installs the
//! `nvidia-cuda-nvrtc` wheel and sets `DOTCOMPUTE_REQUIRE_NVRTC=1`, so that a missing NVRTC
//! fails the test instead of skipping it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute_cuda::{compile_kernel, nvrtc_version};

/// NVRTC's version; `None` (the test skips) where NVRTC is missing and not required.
fn nvrtc_or_skip() -> Option<(i32, i32)> {
    match nvrtc_version() {
        Ok(v) => Some(v),
        Err(e) if std::env::var("DOTCOMPUTE_REQUIRE_NVRTC").as_deref() != Ok("1") => {
            eprintln!("SKIPPED: {e}");
            None
        }
        Err(e) => panic!("DOTCOMPUTE_REQUIRE_NVRTC=1 but NVRTC is missing: {e}"),
    }
}

#[test]
fn every_conformance_kernel_compiles_for_sm80_and_sm90() {
    let Some(version) = nvrtc_or_skip() else {
        return;
    };
    eprintln!("NVRTC {}.{}", version.0, version.1);
    let mut failures = Vec::new();
    let mut compiled = 0;
    for def in dotcompute_conformance::kernels::all() {
        for arch in [80, 90] {
            match compile_kernel(def, arch) {
                Ok((_, cubin)) => {
                    // An ELF image.
                    assert_eq!(&cubin[..4], b"\x7fELF", "{} sm_{arch}", def.name());
                    compiled += 1;
                }
                Err(e) => failures.push(format!("== {} sm_{arch}\n{e}", def.name())),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        compiled + failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_compile_error_carries_nvrtcs_log() {
    if nvrtc_or_skip().is_none() {
        return;
    }
    let err = dotcompute_cuda::compile_source("broken", "this is not C++;", 90).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("NVRTC could not compile kernel `broken` for sm_90"),
        "{msg}"
    );
    assert!(msg.contains("error"), "the log is in the message: {msg}");
}

#[test]
fn a_missing_nvrtc_is_an_error_that_lists_where_it_looked() {
    // Only meaningful where NVRTC is absent; where it is present the error cannot occur.
    if let Err(e) = nvrtc_version() {
        let msg = e.to_string();
        assert!(msg.contains("libnvrtc.so.13"), "{msg}");
        assert!(msg.contains("searched:"), "{msg}");
    }
}

/// The random kernels of `dotcompute_conformance::random_kernels` compile for `sm_90` (the
/// seeds `DOTCOMPUTE_RANDOM_SEEDS` names, else a fixed batch); running them needs a GPU.
#[test]
fn random_kernels_compile_for_sm90() {
    if nvrtc_or_skip().is_none() {
        return;
    }
    use dotcompute_conformance::{random_differential, random_kernels};
    let mut failures = Vec::new();
    let seeds = random_differential::seeds(0..60);
    let count = seeds.end - seeds.start;
    for seed in seeds {
        let case = random_kernels::generate(seed);
        let def = random_differential::definition(&case.kernel);
        if let Err(e) = compile_kernel(def, 90) {
            failures.push(format!("== seed {seed}\n{e}\n{}", case.kernel));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
