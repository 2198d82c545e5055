//! Every kernel the conformance suite generates compiles as HIP C++ for AMD's `gfx90a`
//! (CDNA 2, wavefronts of 64) and `gfx1030` (RDNA 2, wavefronts of 32) with `hipcc`, no GPU
//! needed. CI uses Debian's `hipcc` (ROCm 5.2, clang 15): its device libraries stop before
//! RDNA 3, so `gfx1100` cannot be built there. Kernels with subgroup operations are refused
//! by the emitter (counted, not built). Skipped without `hipcc`, unless
//! `DOTCOMPUTE_REQUIRE_HIPCC=1` (`scripts/test.sh` installs it and sets that).
//!
//! The kernels go to `hipcc` in two translation units (one per core), each kernel in a
//! namespace of its own with its entry point renamed, as one file per kernel would spend most
//! of the time parsing the HIP headers again; a unit that fails is compiled kernel by kernel
//! to name the culprits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute::ir::emit::hip::{self, ENTRY_POINT, HIP_COMPILE_OPTIONS};
use std::path::{Path, PathBuf};
use std::process::Command;

const ARCHS: [&str; 2] = ["gfx90a", "gfx1030"];
const HEADER: &str = "#include <hip/hip_runtime.h>\n";

fn hipcc() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("hipcc"))
        .find(|p| p.is_file())
}

/// Compiles `source` (in `dir`, as `name`) for every arch; the compiler's errors on failure.
fn compile(hipcc: &Path, dir: &Path, name: &str, source: &str) -> Result<(), String> {
    let file = dir.join(format!("{name}.hip"));
    std::fs::write(&file, source).unwrap();
    let mut cmd = Command::new(hipcc);
    cmd.args(HIP_COMPILE_OPTIONS)
        .args(ARCHS.map(|a| format!("--offload-arch={a}")))
        .args(["--cuda-device-only", "-c"])
        .arg(&file)
        .arg("-o")
        .arg(dir.join(format!("{name}.o")));
    let out = cmd.output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        let log = String::from_utf8_lossy(&out.stderr);
        let errors: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("error"))
            .take(10)
            .collect();
        // No error line (a crash, a killed compiler): the end of its output.
        let lines: Vec<&str> = log.lines().collect();
        let tail = &lines[lines.len().saturating_sub(10)..];
        Err(if errors.is_empty() { tail } else { &errors[..] }.join("\n"))
    }
}

/// Kernel `i`'s source without the header, in a namespace of its own, entry point renamed.
fn wrapped(i: usize, source: &str) -> String {
    let body = source.strip_prefix(HEADER).unwrap_or(source);
    format!(
        "namespace dc{i} {{\n{}\n}}\n",
        body.replace(ENTRY_POINT, &format!("{ENTRY_POINT}_{i}"))
    )
}

#[test]
fn every_conformance_kernel_compiles_for_gfx90a_and_gfx1030() {
    let Some(hipcc) = hipcc() else {
        assert!(
            std::env::var("DOTCOMPUTE_REQUIRE_HIPCC").as_deref() != Ok("1"),
            "DOTCOMPUTE_REQUIRE_HIPCC=1 but hipcc is not on the PATH"
        );
        eprintln!("SKIPPED: no hipcc on this machine");
        return;
    };
    let mut kernels = Vec::new();
    let mut refused = 0;
    for def in dotcompute_conformance::kernels::all() {
        let ir = def.ir().unwrap();
        match hip::emit(ir) {
            Ok(program) => {
                assert!(program.source.starts_with(HEADER));
                kernels.push((def.name(), program.source));
            }
            Err(e) => {
                assert!(ir.uses_subgroups(), "{}: {e}", def.name());
                refused += 1;
            }
        }
    }
    let dir = TempDir(std::env::temp_dir().join(format!("dotcompute-hip-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let dir = &dir.0;
    assert!(!kernels.is_empty(), "no kernel to compile");
    let half = kernels.len().div_ceil(2);
    let failures: Vec<String> = std::thread::scope(|scope| {
        let units: Vec<_> = kernels
            .chunks(half)
            .enumerate()
            .map(|(unit, chunk)| {
                let (hipcc, dir, offset) = (&hipcc, &dir, unit * half);
                scope.spawn(move || {
                    let mut source = HEADER.to_string();
                    for (k, (_, kernel)) in chunk.iter().enumerate() {
                        source.push_str(&wrapped(offset + k, kernel));
                    }
                    let Err(unit_log) = compile(hipcc, dir, &format!("unit{unit}"), &source) else {
                        return Vec::new();
                    };
                    let culprits: Vec<String> = chunk
                        .iter()
                        .filter_map(|(name, kernel)| {
                            compile(hipcc, dir, name, kernel)
                                .err()
                                .map(|log| format!("== {name}\n{log}"))
                        })
                        .collect();
                    // Every kernel compiles alone: the unit's failure is the test's own.
                    if culprits.is_empty() {
                        vec![format!(
                            "== unit {unit} (each kernel compiles alone)\n{unit_log}"
                        )]
                    } else {
                        culprits
                    }
                })
            })
            .collect();
        units.into_iter().flat_map(|u| u.join().unwrap()).collect()
    });
    eprintln!(
        "{} kernels compiled for {ARCHS:?}, {refused} refused (subgroups)",
        kernels.len() - failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        kernels.len(),
        failures.join("\n")
    );
}

/// A folder removed when the test ends, passing or not.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
