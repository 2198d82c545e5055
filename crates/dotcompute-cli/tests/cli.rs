//! The `dotcompute` command, end to end on this machine's CPU.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::process::Command;

fn dotcompute(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dotcompute"))
        .args(args)
        .output()
        .expect("the dotcompute binary runs")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn devices_lists_the_cpu() {
    let out = dotcompute(&["devices"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.lines().next().unwrap().starts_with("id"), "{text}");
    assert!(text.contains("cpu:0"), "{text}");
    assert!(text.contains("simd="), "{text}");
}

#[test]
fn devices_json_is_valid() {
    let out = dotcompute(&["devices", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["accelerators"][0]["id"], "cpu:0");
    assert!(v["accelerators"][0]["compute_units"].as_u64().unwrap() >= 1);
    assert_eq!(v["backends"][0]["plugin"], "cpu");
}

#[test]
fn selftest_passes_on_the_cpu() {
    let out = dotcompute(&["selftest", "--accelerator", "cpu"]);
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The vector_add row itself says pass (the summary line says "passed" too).
    let row = text
        .lines()
        .find(|l| l.starts_with("vector_add "))
        .unwrap_or_else(|| panic!("no vector_add row in\n{text}"));
    assert!(row.split_whitespace().any(|cell| cell == "pass"), "{row}");
    assert!(!text.contains("FAIL"), "{text}");
    assert!(text.contains("passed on 1 accelerator"), "{text}");
}

#[test]
fn selftest_rejects_an_unknown_accelerator() {
    let out = dotcompute(&["selftest", "--accelerator", "tpu:3"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no accelerator `tpu:3`"));
}

#[test]
fn quick_bench_writes_json_and_the_report_renders_it() {
    let dir = std::env::temp_dir().join(format!("dotcompute-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("bench.json");
    let svg = dir.join("bench.svg");
    let out = dotcompute(&[
        "bench",
        "--quick",
        "--reps",
        "1",
        "--filter",
        "a",
        "--json",
        json.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rows = report["rows"].as_array().unwrap();
    // "a" matches vector_add, triad, mandelbrot, matmul, histogram, launch and cold_start.
    for name in [
        "vector_add",
        "triad",
        "mandelbrot",
        "matmul_f64",
        "launch_1_item",
        "cold_start",
    ] {
        let mine = rows
            .iter()
            .find(|r| r["benchmark"] == name && r["implementation"] == "dotcompute")
            .unwrap_or_else(|| panic!("no dotcompute row for {name}"));
        assert!(mine["median_s"].as_f64().unwrap() > 0.0);
        assert!(
            !mine["vs"].as_object().unwrap().is_empty(),
            "{name} has ratios to peers"
        );
    }
    assert!(report["stream_triad_gbps"].as_f64().unwrap() > 0.0);
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(
        chart.starts_with("<svg"),
        "{}",
        &chart[..chart.len().min(200)]
    );
    assert!(
        chart.contains("vector_add (GB/s)") && chart.contains("stream-c"),
        "the chart has panels and legends"
    );
    let md = dotcompute(&["report", json.to_str().unwrap()]);
    assert!(md.status.success());
    let md = stdout(&md);
    assert!(md.starts_with("# Benchmarks"), "{md}");
    assert!(md.contains("| vector_add |"), "{md}");
    assert!(md.contains("Quick run"), "{md}");
    // Several runs: one section each.
    let md = dotcompute(&["report", json.to_str().unwrap(), json.to_str().unwrap()]);
    assert!(md.status.success());
    let md = stdout(&md);
    assert!(md.contains("## Run 1: `dotcompute bench"), "{md}");
    assert!(md.contains("## Run 2: "), "{md}");
    assert_eq!(md.matches("# Benchmarks").count(), 1, "{md}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn cold_start_probe_prints_its_time() {
    let out = dotcompute(&["cold-start-probe"]);
    assert!(out.status.success(), "{out:?}");
    let micros: u64 = stdout(&out).trim().parse().unwrap();
    assert!(micros > 0);
}

/// With lavapipe installed (`scripts/test.sh` installs it and sets `DOTCOMPUTE_REQUIRE_WGPU`),
/// the report lists it, and the benchmark leaves software GPUs out unless asked.
#[test]
fn devices_lists_wgpu_adapters_and_bench_skips_software_gpus() {
    if std::env::var("DOTCOMPUTE_REQUIRE_WGPU").as_deref() != Ok("1") {
        eprintln!("DOTCOMPUTE_REQUIRE_WGPU is not 1: not checking for wgpu adapters");
        return;
    }
    let out = dotcompute(&["devices"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    let wgpu_line = text
        .lines()
        .find(|l| l.starts_with("wgpu:0"))
        .unwrap_or_else(|| panic!("no wgpu:0 in\n{text}"));
    assert!(wgpu_line.contains("i64"), "{wgpu_line}");
    assert!(wgpu_line.contains("api: vulkan"), "{wgpu_line}");

    let out = dotcompute(&["bench", "--quick", "--reps", "1", "--filter", "launch"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("wgpu:0") && text.contains("not benchmarked by default"),
        "{text}"
    );
    // Named, it is benchmarked.
    let out = dotcompute(&[
        "bench",
        "--quick",
        "--reps",
        "1",
        "--filter",
        "vector_add",
        "--accelerator",
        "wgpu:0",
    ]);
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("dotcompute (wgpu:0)"), "{text}");
}
