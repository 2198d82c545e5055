//! Every WGSL module the conformance suite generates passes naga's validation (no adapter
//! needed), with the capabilities the backend requests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute_ir::emit::wgsl::{WgslOptions, emit};
use naga::valid::{Capabilities, ValidationFlags, Validator};

/// naga's parse and validation of `src` with `caps`, errors rendered against the source.
fn validate(src: &str, caps: Capabilities) -> Result<(), String> {
    let module = naga::front::wgsl::parse_str(src).map_err(|e| e.emit_to_string(src))?;
    Validator::new(ValidationFlags::all(), caps)
        .validate(&module)
        .map(|_| ())
        .map_err(|e| e.emit_to_string(src))
}

#[test]
fn every_conformance_kernel_validates() {
    let caps = Capabilities::SHADER_INT64
        | Capabilities::FLOAT64
        | Capabilities::SHADER_INT64_ATOMIC_ALL_OPS
        | Capabilities::SHADER_INT64_ATOMIC_MIN_MAX
        | Capabilities::SUBGROUP;
    let mut failures = Vec::new();
    let options = [
        WgslOptions::default(),
        WgslOptions {
            correct_rounding: true,
            ..WgslOptions::default()
        },
        // `f32` fused multiply-adds without `f64` (Boldo and Melquiond's emulation).
        WgslOptions {
            device_f64: false,
            ..WgslOptions::default()
        },
    ];
    for (def, options) in dotcompute_conformance::kernels::all()
        .into_iter()
        .flat_map(|d| options.iter().map(move |o| (d, o)))
    {
        let program = emit(def.ir().unwrap(), options);
        if let Err(e) = validate(&program.source, caps) {
            failures.push(format!("== {}\n{e}", def.name()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} kernels failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// With 64-bit integers as pairs of words (adapters without `SHADER_INT64`), every
/// conformance kernel that needs neither `f64` nor 64-bit atomics validates without 64-bit
/// capabilities: no 64-bit type is left in the module.
#[test]
fn kernels_validate_without_64_bit_integers() {
    let caps = Capabilities::SUBGROUP;
    let mut failures = Vec::new();
    let mut checked = 0;
    for correct_rounding in [false, true] {
        // As for GL: no 64-bit integers, no `NoContraction`.
        let options = WgslOptions {
            int64: false,
            device_f64: false,
            correct_rounding,
            opaque_float_results: true,
            ..WgslOptions::default()
        };
        for def in dotcompute_conformance::kernels::all() {
            let ir = def.ir().unwrap();
            let needs = ir.requirements();
            if needs.f64 || needs.atomics64 {
                continue;
            }
            checked += 1;
            let program = emit(ir, &options);
            if let Err(e) = validate(&program.source, caps) {
                failures.push(format!("== {}\n{e}", def.name()));
            }
        }
    }
    assert!(checked > 40, "only {checked} kernels checked");
    assert!(
        failures.is_empty(),
        "{} kernels failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
