//! `dotcompute devices`: every accelerator, and why a backend found none.

use crate::{CliError, table};
use dotcompute::{BackendStatus, ComputeService};
use serde::Serialize;
use std::process::ExitCode;

#[derive(Serialize)]
struct DeviceJson {
    id: String,
    backend: String,
    name: String,
    kind: String,
    vendor: String,
    memory_bytes: u64,
    compute_units: u32,
    capabilities: Vec<String>,
    versions: Vec<(String, String)>,
}

#[derive(Serialize)]
struct BackendJson {
    plugin: String,
    backend: String,
    status: String,
    reason: Option<String>,
    /// Probed and found no accelerator (for the table's closing lines).
    #[serde(skip)]
    found_nothing: bool,
}

#[derive(Serialize)]
struct Report {
    accelerators: Vec<DeviceJson>,
    backends: Vec<BackendJson>,
}

fn capabilities(c: &dotcompute::Capabilities) -> Vec<String> {
    let mut v = Vec::new();
    for (on, name) in [
        (c.f64, "f64"),
        (c.int64, "i64"),
        (c.atomics, "atomics"),
        (c.atomics64, "atomics64"),
        (c.float_atomics, "float-atomics"),
        (c.device_timing, "timestamps"),
    ] {
        if on {
            v.push(name.to_string());
        }
    }
    if let Some(simd) = &c.simd {
        v.push(format!("simd={simd}"));
    }
    if c.cooperative {
        // Runs barrier() and shared arrays, with groups of at most this many items.
        v.push(format!("groups<={}", c.max_group_size));
    }
    if c.subgroup_size > 0 {
        v.push(format!("subgroup={}", c.subgroup_size));
    }
    if c.shared_memory_bytes > 0 {
        v.push(format!("shared={}", table::bytes(c.shared_memory_bytes)));
    }
    v
}

pub fn run(json: bool) -> Result<ExitCode, CliError> {
    let dc = ComputeService::new()?;
    let report = collect(&dc);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// The device table of `dc`, as `devices` prints it.
pub fn table(dc: &ComputeService) -> String {
    render(&collect(dc))
}

fn collect(dc: &ComputeService) -> Report {
    let accelerators = dc.accelerators();
    Report {
        accelerators: accelerators
            .iter()
            .map(|a| {
                let i = a.info();
                DeviceJson {
                    id: i.id.to_string(),
                    backend: i.id.backend.to_string(),
                    name: i.name.clone(),
                    kind: i.kind.to_string(),
                    vendor: i.vendor.clone(),
                    memory_bytes: i.memory_bytes,
                    compute_units: i.compute_units,
                    capabilities: capabilities(&i.capabilities),
                    versions: i.versions.clone(),
                }
            })
            .collect(),
        backends: dc
            .backend_reports()
            .into_iter()
            .map(|r| {
                let (status, reason, found_nothing) = match r.status {
                    BackendStatus::Available { accelerators } => (
                        format!("{accelerators} accelerator(s)"),
                        None,
                        accelerators == 0,
                    ),
                    BackendStatus::Unavailable { reason } => {
                        ("unavailable".into(), Some(reason), true)
                    }
                    BackendStatus::NotProbed => ("not probed".into(), None, false),
                };
                BackendJson {
                    plugin: r.plugin,
                    backend: r.backend.to_string(),
                    status,
                    reason,
                    found_nothing,
                }
            })
            .collect(),
    }
}

fn render(report: &Report) -> String {
    let rows: Vec<Vec<String>> = report
        .accelerators
        .iter()
        .map(|d| {
            vec![
                d.id.clone(),
                d.name.clone(),
                d.kind.clone(),
                // Zero means the backend cannot tell (wgpu reports neither).
                if d.memory_bytes == 0 {
                    "?".into()
                } else {
                    table::bytes(d.memory_bytes)
                },
                if d.compute_units == 0 {
                    "?".into()
                } else {
                    d.compute_units.to_string()
                },
                d.capabilities.join(" "),
                d.versions
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            ]
        })
        .collect();
    let mut out = table::render(
        &[
            "id",
            "name",
            "kind",
            "memory",
            "units",
            "capabilities",
            "versions",
        ],
        &rows,
    );
    for b in &report.backends {
        if !b.found_nothing {
            continue;
        }
        out.push_str(&format!(
            "backend {} ({}): found nothing: {}\n",
            b.plugin,
            b.backend,
            b.reason.as_deref().unwrap_or("no devices of this kind")
        ));
    }
    out
}
