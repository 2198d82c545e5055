//! Every kernel the conformance suite generates builds as OpenCL C on each OpenCL device
//! found (PoCL in CI: `scripts/test.sh` installs it and sets `DOTCOMPUTE_REQUIRE_OPENCL=1`,
//! so that a missing OpenCL fails the test instead of skipping it). Kernels with subgroup
//! operations are refused by the emitter (counted, not built).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute_opencl::{OpenClCompiler, OpenClError, devices};

fn required() -> bool {
    std::env::var("DOTCOMPUTE_REQUIRE_OPENCL").as_deref() == Ok("1")
}

#[test]
fn every_conformance_kernel_builds_on_each_device() {
    let found = match devices() {
        Ok(found) if !found.is_empty() => found,
        Ok(_) | Err(_) if !required() => {
            eprintln!("SKIPPED: no OpenCL device ({:?})", devices().err());
            return;
        }
        other => panic!("DOTCOMPUTE_REQUIRE_OPENCL=1 but no OpenCL device: {other:?}"),
    };
    for device in &found {
        eprintln!("{device}: {}, driver {}", device.version, device.driver);
        let compiler = OpenClCompiler::new(device).unwrap();
        let (mut built, mut refused, mut failures) = (0, 0, Vec::new());
        for def in dotcompute_conformance::kernels::all() {
            let ir = def.ir().unwrap();
            match compiler.build(def) {
                Ok(program) => {
                    assert!(program.source.contains("__kernel void dotcompute_main("));
                    built += 1;
                }
                Err(OpenClError::Emit(e)) => {
                    assert!(ir.uses_subgroups(), "{}: {e}", def.name());
                    refused += 1;
                }
                // PoCL has every capability but subgroups: a refusal there is a lost
                // capability.
                Err(e @ OpenClError::Unsupported { .. })
                    if !device.platform.contains("Portable Computing Language") =>
                {
                    eprintln!("refused: {e}");
                    refused += 1;
                }
                Err(e) => failures.push(format!("== {}\n{e}", def.name())),
            }
        }
        eprintln!("{device}: {built} built, {refused} refused");
        assert!(
            failures.is_empty(),
            "{} of {} failed on {device}:\n{}",
            failures.len(),
            built + failures.len(),
            failures.join("\n")
        );
        // A device without IEEE f32 refuses every kernel.
        assert!(built > 0 || !device.ieee_f32, "{device} built nothing");
    }
}

#[test]
fn a_build_error_carries_the_devices_log() {
    let Ok(found) = devices() else {
        assert!(!required(), "OpenCL is required but missing");
        return;
    };
    let Some(device) = found.first() else {
        assert!(!required(), "OpenCL is required but lists no device");
        return;
    };
    let compiler = OpenClCompiler::new(device).unwrap();
    assert_eq!(compiler.device().name, device.name);
    let err = compiler
        .build_source("broken", "this is not OpenCL C;")
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("could not build kernel `broken`"), "{msg}");
    assert!(msg.contains("error"), "the log is in the message: {msg}");
    // A source without the entry point is refused too.
    let err = compiler
        .build_source(
            "no_entry",
            "__kernel void other(__global int* x) { x[0] = 1; }",
        )
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("no_entry"), "{msg}");
    assert!(msg.contains("CL_INVALID_KERNEL_NAME"), "{msg}");
}
