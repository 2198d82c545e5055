//! `dotcompute selftest`: every conformance case on every accelerator.

use crate::{CliError, select_accelerators, table};
use dotcompute::ComputeService;
use dotcompute_conformance::{CASES, Env};
use serde::Serialize;
use std::process::ExitCode;

#[derive(Serialize)]
struct CaseResult {
    case: String,
    accelerator: String,
    passed: bool,
    compared: usize,
    max_ulp: u64,
    tolerance: String,
    /// Wall time of the case: its kernels' builds (none on the CPU; on GPUs, none when the
    /// disk cache has them), uploads, launches and reads.
    seconds: f64,
    detail: Option<String>,
}

pub fn run(accelerator: Option<&str>, json: bool) -> Result<ExitCode, CliError> {
    let probe = ComputeService::new()?;
    let mut targets = Vec::new();
    for acc in select_accelerators(&probe, accelerator)? {
        // Without 64-bit integers no kernel can run (work-item ids are 64-bit); an accelerator
        // named on the command line is tested anyway, so that its refusals show.
        if accelerator.is_none() && !acc.info().capabilities.int64 {
            eprintln!(
                "skipping {} ({}): it lacks 64-bit integers in kernels",
                acc.id(),
                acc.info().name
            );
            continue;
        }
        targets.push(acc.id().to_string());
    }
    drop(probe);
    let mut results = Vec::new();
    for target in &targets {
        // A fresh service per accelerator, so that one accelerator's state cannot leak into
        // another's results.
        let dc = ComputeService::new()?;
        let acc = select_accelerators(&dc, Some(target))?.remove(0);
        let env = Env { dc, acc };
        for case in CASES {
            // A case the accelerator cannot run passes as skipped, saying why.
            let started = std::time::Instant::now();
            let (compared, max_ulp, detail) = match case.needs.unmet(&env.acc.info().capabilities) {
                Some(lacks) => {
                    eprintln!("skipping {} on {target}: it needs {lacks}", case.name);
                    continue;
                }
                None => match (case.run)(&env) {
                    Ok(o) => (o.compared, o.max_ulp, None),
                    Err(e) => (0, 0, Some(e.to_string())),
                },
            };
            results.push(CaseResult {
                case: case.name.into(),
                accelerator: target.clone(),
                passed: detail.is_none(),
                compared,
                max_ulp,
                tolerance: case.tolerance.to_string(),
                seconds: started.elapsed().as_secs_f64(),
                detail,
            });
        }
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    if json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        let rows: Vec<Vec<String>> = results
            .iter()
            .map(|r| {
                vec![
                    r.case.clone(),
                    r.accelerator.clone(),
                    if r.passed {
                        "pass".into()
                    } else {
                        "FAIL".into()
                    },
                    r.compared.to_string(),
                    r.max_ulp.to_string(),
                    r.tolerance.clone(),
                    format!("{:.1}", r.seconds * 1e3),
                    r.detail.clone().unwrap_or_default(),
                ]
            })
            .collect();
        print!(
            "{}",
            table::render(
                &[
                    "case",
                    "accelerator",
                    "result",
                    "values",
                    "max ulp",
                    "tolerance",
                    "ms",
                    "detail"
                ],
                &rows
            )
        );
        println!(
            "{} of {} passed on {} accelerator(s); references are scalar Rust with release-build semantics",
            results.len() - failed,
            results.len(),
            targets.len()
        );
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
