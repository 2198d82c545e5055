//! The disk cache of program binaries: a second process builds nothing, and a damaged entry
//! is refused, rebuilt from source and replaced. Each step runs in a child process with the
//! cache in a folder of its own, its logs on stderr.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::path::Path;
use std::process::Command;

const ROLE: &str = "DOTCOMPUTE_OPENCL_CACHE_TEST_ROLE";
const FROM_CACHE: &str = "OpenCL program from the disk cache";
const FROM_SOURCE: &str = "OpenCL program built from source";

/// Runs this test binary again, as the builder, with the cache in `dir`; returns its output.
fn child(dir: &Path) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_second_process_builds_nothing", "--nocapture"])
        .env(ROLE, "build")
        .env("DOTCOMPUTE_CACHE_DIR", dir)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    text
}

#[test]
fn a_second_process_builds_nothing() {
    let Ok(devices) = dotcompute_opencl::devices() else {
        assert!(
            std::env::var("DOTCOMPUTE_REQUIRE_OPENCL").as_deref() != Ok("1"),
            "OpenCL is required but missing"
        );
        return;
    };
    let Some(device) = devices.into_iter().find(|d| d.ieee_f32) else {
        return;
    };
    if std::env::var(ROLE).is_ok() {
        tracing_subscriber::fmt()
            .with_env_filter("dotcompute_opencl=debug")
            .with_writer(std::io::stderr)
            .init();
        let compiler = dotcompute_opencl::OpenClCompiler::new(&device).unwrap();
        compiler
            .build(dotcompute_conformance::kernels::all()[0])
            .unwrap();
        return;
    }
    let dir = std::env::temp_dir().join(format!("dotcompute-opencl-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    let first = child(&dir);
    assert!(
        first.contains(FROM_SOURCE) && !first.contains(FROM_CACHE),
        "{first}"
    );
    let entries: Vec<_> = std::fs::read_dir(dir.join("opencl"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(entries.len(), 1, "one binary: {entries:?}");
    let file = &entries[0];
    assert!(!std::fs::read(file).unwrap().is_empty());

    let second = child(&dir);
    assert!(
        second.contains(FROM_CACHE) && !second.contains(FROM_SOURCE),
        "{second}"
    );

    // A damaged entry: refused, rebuilt, replaced.
    std::fs::write(file, b"not a program binary").unwrap();
    let third = child(&dir);
    assert!(
        third.contains("refused") && third.contains(FROM_SOURCE),
        "{third}"
    );
    assert_ne!(std::fs::read(file).unwrap(), b"not a program binary");
    let fourth = child(&dir);
    assert!(fourth.contains(FROM_CACHE), "{fourth}");
    let _ = std::fs::remove_dir_all(&dir);
}
