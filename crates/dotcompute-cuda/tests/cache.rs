//! The disk cache: a second process gets a kernel's CUBIN without NVRTC. Needs NVRTC for the
//! first process only (skipped without it); no GPU.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::process::Command;

const ROLE: &str = "DOTCOMPUTE_CACHE_TEST_ROLE";
/// Appended to the cached CUBIN by the test, to recognise it when it comes back.
const SENTINEL: &[u8] = b"dotcompute cache test sentinel";

/// Runs this test binary again, as `role`, with the cache in `dir`.
fn child(role: &str, dir: &std::path::Path, with_nvrtc: bool) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "a_second_process_uses_the_disk_cache",
        "--nocapture",
    ])
    .env(ROLE, role)
    .env("DOTCOMPUTE_CACHE_DIR", dir);
    if !with_nvrtc {
        // Where CI installs it; elsewhere NVRTC may still be on the loader's path, which
        // the child then reports.
        cmd.env_remove("DOTCOMPUTE_NVRTC_DIR");
    }
    let out = cmd.output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{role}: {text}");
    text
}

#[test]
fn a_second_process_uses_the_disk_cache() {
    let def = dotcompute_conformance::kernels::all()[0];
    match std::env::var(ROLE).as_deref() {
        Ok("compile") => {
            let (_, cubin) = dotcompute_cuda::cubin(def, 90).unwrap();
            println!("CUBIN {} bytes", cubin.len());
        }
        Ok("load") => {
            let nvrtc = dotcompute_cuda::nvrtc_version().is_ok();
            let (_, cubin) = dotcompute_cuda::cubin(def, 90).unwrap();
            println!(
                "CUBIN {} bytes, NVRTC present: {nvrtc}, sentinel: {}",
                cubin.len(),
                cubin.ends_with(SENTINEL)
            );
        }
        _ => {
            if dotcompute_cuda::nvrtc_version().is_err() {
                eprintln!("SKIPPED: no NVRTC to fill the cache");
                return;
            }
            let dir = std::env::temp_dir().join(format!("dotcompute-cache-{}", std::process::id()));
            let first = child("compile", &dir, true);
            let files: Vec<_> = std::fs::read_dir(dir.join("cuda"))
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            assert_eq!(files.len(), 1, "{files:?}");
            assert!(
                files[0].starts_with(&format!("{}-sm90-nvrtc", def.hash())),
                "{files:?}"
            );
            // Mark the cached file: the second process must return exactly these bytes,
            // which no compilation would produce.
            let path = dir.join("cuda").join(&files[0]);
            let mut marked = std::fs::read(&path).unwrap();
            marked.extend_from_slice(SENTINEL);
            std::fs::write(&path, &marked).unwrap();
            let second = child("load", &dir, false);
            let bytes = |s: &str| {
                s.split("CUBIN ")
                    .nth(1)
                    .and_then(|r| r.split(' ').next())
                    .and_then(|n| n.parse::<usize>().ok())
            };
            assert_eq!(
                bytes(&first).map(|n| n + SENTINEL.len()),
                bytes(&second),
                "{first}\n{second}"
            );
            assert!(
                second.contains("sentinel: true"),
                "the second process did not use the cached file:\n{second}"
            );
            std::fs::remove_dir_all(&dir).ok();
        }
    }
}
