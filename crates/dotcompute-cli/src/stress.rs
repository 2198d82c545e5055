//! `dotcompute stress`: many threads launching on every accelerator at once, every result and
//! every fault checked (the suite's stress test, for as long as asked).

use crate::CliError;
use dotcompute::ComputeService;
use dotcompute_conformance::stress::{self, StressOptions};
use std::process::ExitCode;
use std::time::Duration;

/// Options of `dotcompute stress`.
#[derive(clap::Args)]
pub struct StressArgs {
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Threads launching at once.
    #[arg(long, default_value_t = 16)]
    threads: usize,
    /// Largest buffer, in elements.
    #[arg(long, default_value_t = 70_000)]
    max_len: usize,
    /// Seed of the random choices (default: from the clock).
    #[arg(long)]
    seed: Option<u64>,
    /// Only these accelerators: ids or backend names, comma-separated (default: every one
    /// that can run kernels, software GPUs included).
    #[arg(long)]
    accelerator: Option<String>,
}

/// Runs the stress and prints what it saw; fails on any wrong result or misplaced fault.
pub fn run(args: &StressArgs) -> Result<ExitCode, CliError> {
    let dc = ComputeService::new()?;
    let accelerators: Vec<_> = crate::select_accelerators(&dc, args.accelerator.as_deref())?
        .into_iter()
        .filter(|a| a.info().capabilities.int64)
        .collect();
    if accelerators.is_empty() {
        return Err(CliError::Message(
            "no accelerator here can run kernels".into(),
        ));
    }
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let names: Vec<String> = accelerators.iter().map(|a| a.id().to_string()).collect();
    println!(
        "stress: {} threads for {} s on {} (seed {seed})",
        args.threads,
        args.seconds,
        names.join(", ")
    );
    let report = stress::run(
        &dc,
        &accelerators,
        &StressOptions {
            duration: Duration::from_secs(args.seconds),
            threads: args.threads,
            max_len: args.max_len,
            seed,
        },
    );
    println!("{report}");
    for problem in &report.problems {
        println!("  {problem}");
    }
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
