//! `dotcompute`: the device report, the benchmark suite against peers, and the cross-backend
//! self-test.
//!
//! ```text
//! dotcompute devices [--json]
//! dotcompute bench [--quick] [--accelerator cpu:0] [--json results.json]
//! dotcompute report results.json > BENCHMARKS.md
//! dotcompute selftest [--json]
//! dotcompute stress [--seconds 60] [--threads 16]
//! ```

mod bench;
mod c_peer;
mod chart;
mod devices;
mod fftw_peer;
mod openblas_peer;
mod report;
mod selftest;
mod stress;
mod table;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// DotCompute: write compute kernels once in Rust, run them on every accelerator.
#[derive(Parser)]
#[command(name = "dotcompute", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log what the library does (compilation, discovery, launches) to stderr.
    #[arg(long, short, global = true)]
    verbose: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Lists every accelerator, and every backend that found none with the reason.
    Devices {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Runs the benchmark suite on each accelerator against peers measured in the same run.
    Bench(bench::BenchArgs),
    /// Writes BENCHMARKS.md-style Markdown from `bench --json` results.
    Report {
        /// The JSON files `bench --json` wrote (the first is the main run; others become
        /// sections after it).
        #[arg(required = true)]
        results: Vec<std::path::PathBuf>,
    },
    /// Runs every conformance kernel on every accelerator and compares with the references.
    Selftest {
        /// Only these accelerators: ids or backend names, comma-separated (e.g. `cpu:0,wgpu`).
        #[arg(long)]
        accelerator: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Many threads launching on every accelerator at once, checking every result and that
    /// each fault reaches the launch that caused it.
    Stress(stress::StressArgs),
    /// Starts a service and runs one kernel, printing microseconds since `main` began
    /// (`bench` spawns it and times the whole process, start-up included).
    #[command(hide = true)]
    ColdStartProbe,
}

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    restart_with_environment();
    let cli = Cli::parse();
    if cli.verbose {
        tracing_subscriber::fmt()
            .with_env_filter("dotcompute_core=debug,dotcompute_cpu=debug,dotcompute_wgpu=debug")
            .with_writer(std::io::stderr)
            .init();
    }
    let result = match cli.command {
        Command::Devices { json } => devices::run(json),
        Command::Bench(args) => bench::run(&args),
        Command::Report { results } => report::run(&results),
        Command::Selftest { accelerator, json } => selftest::run(accelerator.as_deref(), json),
        Command::Stress(args) => stress::run(&args),
        Command::ColdStartProbe => bench::launch::cold_start_probe(started),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Restarts the process with the environment its peers and drivers need, when it lacks it:
///
/// - `OMP_WAIT_POLICY=PASSIVE`: the C peer's OpenMP workers would otherwise spin after each
///   run, taking cores from whichever contender runs next. libgomp reads the variable when it
///   is loaded, before `main`, so setting it here would be too late.
/// - `OPENBLAS_THREAD_TIMEOUT=4`: the same for the GEMM peer, whose threads otherwise spin for
///   about 2^28 cycles after each call (measured here: the next contender's GEMM ran at 0.53x
///   to 1.20x of OpenBLAS from run to run, bimodally; OpenBLAS reads it when loaded).
/// - `XDG_RUNTIME_DIR`: Mesa's Vulkan drivers complain on stderr without one (containers and
///   CI runners often have none); a private directory under the temporary directory does.
fn restart_with_environment() {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::process::CommandExt;
        let mut env: Vec<(&str, std::ffi::OsString)> = Vec::new();
        if std::env::var_os("OMP_WAIT_POLICY").is_none() {
            env.push(("OMP_WAIT_POLICY", "PASSIVE".into()));
        }
        if std::env::var_os("OPENBLAS_THREAD_TIMEOUT").is_none() {
            env.push(("OPENBLAS_THREAD_TIMEOUT", "4".into()));
        }
        let runtime_dir_ok =
            std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| std::path::Path::new(&d).is_dir());
        if !runtime_dir_ok {
            let dir = std::env::temp_dir().join(format!("dotcompute-xdg-{}", unix_uid()));
            let made = std::fs::create_dir_all(&dir).and_then(|()| {
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            });
            if made.is_ok() {
                env.push(("XDG_RUNTIME_DIR", dir.into_os_string()));
            }
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        if !env.is_empty() {
            let err = std::process::Command::new(exe)
                .args(std::env::args_os().skip(1))
                .envs(env)
                .exec();
            // exec returns only on failure; carry on in this environment then.
            eprintln!(
                "warning: could not restart with OMP_WAIT_POLICY, OPENBLAS_THREAD_TIMEOUT and XDG_RUNTIME_DIR set: {err}"
            );
        }
    }
}

/// The user id, to name a per-user runtime directory.
#[cfg(unix)]
fn unix_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    // `/proc/self` belongs to the user the process runs as (Linux).
    std::fs::metadata("/proc/self").map_or(0, |m| m.uid())
}

/// The errors of the CLI: the library's, I/O, JSON, or a message.
#[derive(Debug)]
pub enum CliError {
    /// From the library.
    Compute(dotcompute::Error),
    /// Reading or writing a file.
    Io(std::io::Error),
    /// Encoding or decoding JSON.
    Json(serde_json::Error),
    /// Anything else.
    Message(String),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Compute(e) => write!(f, "{e}"),
            CliError::Io(e) => write!(f, "{e}"),
            CliError::Json(e) => write!(f, "{e}"),
            CliError::Message(m) => f.write_str(m),
        }
    }
}

impl From<dotcompute::Error> for CliError {
    fn from(e: dotcompute::Error) -> Self {
        CliError::Compute(e)
    }
}
impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Io(e)
    }
}
impl From<serde_json::Error> for CliError {
    fn from(e: serde_json::Error) -> Self {
        CliError::Json(e)
    }
}

/// The accelerators `spec` names (`cpu`, `cpu:0`), or all of them.
pub fn select_accelerators(
    dc: &dotcompute::ComputeService,
    spec: Option<&str>,
) -> Result<Vec<dotcompute::Accelerator>, CliError> {
    let all = dc.accelerators();
    let Some(spec) = spec else {
        return Ok(all);
    };
    // A comma-separated list of ids (`cpu:0`) or backend names (`wgpu`).
    let wanted: Vec<&str> = spec.split(',').map(str::trim).collect();
    let chosen: Vec<_> = all
        .into_iter()
        .filter(|a| {
            let id = a.id();
            wanted
                .iter()
                .any(|w| *w == id.to_string() || *w == id.backend.name())
        })
        .collect();
    if chosen.is_empty() {
        let known: Vec<String> = dc
            .accelerators()
            .iter()
            .map(|a| a.id().to_string())
            .collect();
        return Err(CliError::Message(format!(
            "no accelerator `{spec}` (this machine has: {})",
            known.join(", ")
        )));
    }
    Ok(chosen)
}
