//! `dotcompute bench`: each kernel on each accelerator, against peers measured in the same
//! run, with the floor computed from bytes moved and the machine's measured bandwidth.
//!
//! Every benchmark runs its contenders round-robin (A B C, B C A, ...) after warm-up runs of
//! each (enough for the CPU backend to settle which SIMD clone a kernel runs fastest with), so
//! that a machine whose speed drifts during the run slows all of them alike, with a short pause
//! before each timed run so that no contender's idle-spinning threads slow the next; the
//! figures are medians over the repetitions, and ratios are ratios of medians.

mod compute;
mod fft;
mod gemm;
mod histogram;
pub(crate) mod launch;
mod math;
mod matmul;
mod opencl_peer;
mod query;
mod sort;
mod streaming;

use crate::{CliError, c_peer, select_accelerators, table};
use dotcompute::{Accelerator, ComputeService, SimdLevel};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Options of `dotcompute bench`.
#[derive(clap::Args, Clone, Debug)]
pub struct BenchArgs {
    /// Small sizes and few repetitions: a smoke test that finishes in seconds.
    #[arg(long)]
    pub quick: bool,
    /// Only these accelerators: ids or backend names, comma-separated (e.g. `cpu:0,wgpu:0`).
    #[arg(long)]
    pub accelerator: Option<String>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Also draw throughput against size, per accelerator and peer, as SVG to this file.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Repetitions of each measurement (default 7; 3 with --quick).
    #[arg(long)]
    pub reps: Option<usize>,
    /// Only the benchmarks whose name contains this, or one of several separated by commas
    /// (`--filter triad,sum`: a sum with the run's STREAM triad beside it).
    #[arg(long)]
    pub filter: Option<String>,
}

/// The machine a run was made on.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Hardware threads available.
    pub threads: usize,
    /// System memory in bytes.
    pub memory_bytes: u64,
    /// SIMD level the CPU backend runs with.
    pub simd: String,
    /// OpenMP threads of the C peer, when it was built.
    pub c_peer_threads: Option<usize>,
    /// Operating system and architecture.
    pub os: String,
}

/// One implementation of one benchmark at one size.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Row {
    /// The benchmark, e.g. `vector_add`.
    pub benchmark: String,
    /// The size, e.g. `64M f32`.
    pub size: String,
    /// Work items or elements.
    pub items: u64,
    /// `dotcompute` or a peer's name.
    pub implementation: String,
    /// The accelerator, for dotcompute rows.
    pub accelerator: Option<String>,
    /// Median seconds per run.
    pub median_s: f64,
    /// Fastest run.
    pub min_s: f64,
    /// Slowest run.
    pub max_s: f64,
    /// Runs measured.
    pub reps: usize,
    /// Median throughput.
    pub throughput: f64,
    /// Its unit (`GB/s`, `GFLOP/s`, `Mpixel/s`, `µs/launch`, `ms`).
    pub unit: String,
    /// Bytes the work reads and writes at least, when counted.
    pub bytes: Option<u64>,
    /// The least time the work can take on this machine (bytes over measured STREAM
    /// bandwidth), when computable.
    pub floor_s: Option<f64>,
    /// For dotcompute rows: throughput divided by each peer's (above 1 is faster), and by the
    /// machine's STREAM triad bandwidth for memory-bound benchmarks.
    pub vs: BTreeMap<String, f64>,
}

/// Everything one `bench` run measured.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct BenchReport {
    /// UTC date of the run.
    pub date: String,
    /// The command that made it.
    pub command: String,
    /// DotCompute version.
    pub version: String,
    /// Where it ran.
    pub machine: Machine,
    /// STREAM triad bandwidth of this machine in this run (GB/s), from the C peer (or the
    /// rayon peer without a C compiler).
    pub stream_triad_gbps: Option<f64>,
    /// Whether this was a `--quick` run.
    pub quick: bool,
    /// The measurements.
    pub rows: Vec<Row>,
    /// What a reader should know (missing peers, ...).
    pub notes: Vec<String>,
    /// Wall time of the whole run, in seconds (absent in reports of older versions).
    #[serde(default)]
    pub elapsed_s: Option<f64>,
}

/// How a benchmark's work is counted.
#[derive(Clone, Copy)]
enum Work {
    /// Bytes read and written: memory-bound, reported in GB/s with a floor.
    Bytes(u64),
    /// Floating-point operations, and the bytes they read and write: reported in GFLOP/s,
    /// with the bytes' floor.
    Flops {
        /// Operations.
        flops: u64,
        /// Bytes moved.
        bytes: u64,
    },
    /// Pixels: reported in Mpixel/s.
    Pixels(u64),
    /// Elements (options priced, values mapped): reported in Melem/s.
    Elements(u64),
    /// Launches: reported in µs per launch.
    Launches(u64),
    /// Whole-process time: reported in ms.
    Process,
}

impl Work {
    fn throughput(self, seconds: f64) -> (f64, &'static str) {
        match self {
            Work::Bytes(b) => (b as f64 / seconds / 1e9, "GB/s"),
            Work::Flops { flops, .. } => (flops as f64 / seconds / 1e9, "GFLOP/s"),
            Work::Pixels(p) => (p as f64 / seconds / 1e6, "Mpixel/s"),
            Work::Elements(n) => (n as f64 / seconds / 1e6, "Melem/s"),
            Work::Launches(n) => (seconds / n as f64 * 1e6, "µs/launch"),
            Work::Process => (seconds * 1e3, "ms"),
        }
    }

    /// Bytes moved, when counted.
    fn bytes(self) -> Option<u64> {
        match self {
            Work::Bytes(b) | Work::Flops { bytes: b, .. } => Some(b),
            _ => None,
        }
    }

    /// Whether a larger throughput figure is better.
    fn higher_is_better(self) -> bool {
        !matches!(self, Work::Launches(_) | Work::Process)
    }
}

type Run<'a> = Box<dyn FnMut() -> Result<(), CliError> + 'a>;

/// Unmeasured runs of each contender first: the CPU backend times its first large launches of
/// a kernel with each SIMD clone (two each, up to three clones) before settling on one.
const WARM_UP_RUNS: usize = 6;

/// Pause before each timed run.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(2);

/// One implementation taking part in a benchmark.
struct Contender<'a> {
    name: String,
    accelerator: Option<String>,
    run: Run<'a>,
}

impl<'a> Contender<'a> {
    fn dotcompute(acc: &Accelerator, run: impl FnMut() -> Result<(), CliError> + 'a) -> Self {
        Contender {
            name: "dotcompute".into(),
            accelerator: Some(acc.id().to_string()),
            run: Box::new(run),
        }
    }

    /// A contender on an accelerator that is not the library's default path (e.g. a
    /// `fast_math` kernel): a peer of the `dotcompute` rows, named `name`.
    fn variant(
        name: &str,
        acc: &Accelerator,
        run: impl FnMut() -> Result<(), CliError> + 'a,
    ) -> Self {
        Contender {
            name: name.into(),
            accelerator: Some(acc.id().to_string()),
            run: Box::new(run),
        }
    }

    fn peer(name: &str, run: impl FnMut() -> Result<(), CliError> + 'a) -> Self {
        Contender {
            name: name.into(),
            accelerator: None,
            run: Box::new(run),
        }
    }
}

struct Runner {
    reps: usize,
    quick: bool,
    filter: Option<String>,
    rows: Vec<Row>,
    notes: Vec<String>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

impl Runner {
    fn wants(&self, benchmark: &str) -> bool {
        self.filter
            .as_deref()
            .is_none_or(|f| f.split(',').any(|part| benchmark.contains(part.trim())))
    }

    /// The accelerators that can bind a buffer of `bytes` bytes; the others are left out of
    /// this race, with a note.
    fn fitting(&mut self, accs: &[Accelerator], bytes: u64, race: &str) -> Vec<Accelerator> {
        let mut fit = Vec::new();
        for acc in accs {
            let limit = acc.info().capabilities.max_buffer_bytes;
            if bytes <= limit {
                fit.push(acc.clone());
            } else {
                self.notes.push(format!(
                    "{race}: {} left out, its buffers hold at most {limit} bytes (the race needs {bytes})",
                    acc.id()
                ));
            }
        }
        fit
    }

    /// Measures the contenders round-robin and records a row for each.
    fn race(
        &mut self,
        benchmark: &str,
        size: &str,
        items: u64,
        work: Work,
        mut contenders: Vec<Contender<'_>>,
    ) -> Result<(), CliError> {
        let runs = ((WARM_UP_RUNS + self.reps) * contenders.len()) as u64;
        // Drawn only on a terminal, and only once a race has run for a second.
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(runs),
            indicatif::ProgressDrawTarget::hidden(),
        );
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:32} [{bar:30}] {pos}/{len} runs, {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(format!("{benchmark} {size}"));
        let race_started = Instant::now();
        let tick = |bar: &indicatif::ProgressBar| {
            bar.inc(1);
            if bar.is_hidden() && race_started.elapsed().as_secs_f64() > 1.0 {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
        };
        for _ in 0..WARM_UP_RUNS {
            for c in contenders.iter_mut() {
                (c.run)()?;
                tick(&bar);
            }
        }
        let mut times = vec![Vec::with_capacity(self.reps); contenders.len()];
        for rep in 0..self.reps {
            for k in 0..contenders.len() {
                let i = (k + rep) % contenders.len();
                // Let the previous contender's threads go idle (rayon's and OpenMP's workers
                // spin briefly after a parallel region) so that they do not take cores from
                // this one: every contender starts from a quiet machine.
                std::thread::sleep(SETTLE);
                let started = Instant::now();
                (contenders[i].run)()?;
                times[i].push(started.elapsed().as_secs_f64());
                tick(&bar);
            }
        }
        bar.finish_and_clear();
        eprintln!(
            "bench: {benchmark} {size}: {} contenders, {:.1} s",
            contenders.len(),
            race_started.elapsed().as_secs_f64()
        );
        // This race's rows are the ones pushed now.
        let first_row = self.rows.len();
        for (c, mut t) in contenders.into_iter().zip(times) {
            let med = median(&mut t);
            let (throughput, unit) = work.throughput(med);
            self.rows.push(Row {
                benchmark: benchmark.into(),
                size: size.into(),
                items,
                implementation: c.name,
                accelerator: c.accelerator,
                median_s: med,
                min_s: t.first().copied().unwrap_or(f64::NAN),
                max_s: t.last().copied().unwrap_or(f64::NAN),
                reps: t.len(),
                throughput,
                unit: unit.into(),
                bytes: work.bytes(),
                floor_s: None,
                vs: BTreeMap::new(),
            });
        }
        let group: Vec<usize> = (first_row..self.rows.len()).collect();
        for &i in &group {
            // Rows on an accelerator (the library's default path and its variants, such as
            // `fast_math` or a cooperative kernel) are compared with the host peers and with
            // the other rows on the same accelerator.
            let Some(mine_acc) = self.rows[i].accelerator.clone() else {
                continue;
            };
            for &j in &group {
                let other_accelerator = self.rows[j]
                    .accelerator
                    .as_ref()
                    .is_some_and(|a| *a != mine_acc);
                if i == j || other_accelerator {
                    continue;
                }
                let (mine, theirs) = (self.rows[i].throughput, self.rows[j].throughput);
                let ratio = if work.higher_is_better() {
                    mine / theirs
                } else {
                    theirs / mine
                };
                let peer = self.rows[j].implementation.clone();
                self.rows[i].vs.insert(peer, ratio);
            }
        }
        Ok(())
    }
}

fn size_label(n: usize, ty: &str) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{}M {ty}", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{}K {ty}", n >> 10)
    } else {
        format!("{n} {ty}")
    }
}

fn inputs(n: usize, seed: u32) -> Vec<f32> {
    // Cheap, deterministic, in [-1, 1).
    (0..n)
        .map(|i| {
            let h = (i as u32 ^ seed).wrapping_mul(0x9E37_79B9).rotate_left(13);
            (h >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        })
        .collect()
}

fn sync(acc: &Accelerator) -> Result<(), CliError> {
    Ok(acc.synchronize()?)
}

/// Runs the benchmark suite.
pub fn run(args: &BenchArgs) -> Result<ExitCode, CliError> {
    let dc = ComputeService::new()?;
    let mut skipped = Vec::new();
    let mut accs = select_accelerators(&dc, args.accelerator.as_deref())?;
    if args.accelerator.is_none() {
        // By default: what can run kernels, less what runs on the CPU backend's own cores
        // through another runtime (lavapipe, PoCL: slower, and they would halve each other's
        // figures); name one with `--accelerator` to include it.
        accs.retain(|a| {
            let info = a.info();
            let why = if !info.capabilities.int64 {
                Some("it cannot run kernels (no 64-bit integers)")
            } else if info.kind == dotcompute::AcceleratorKind::VirtualGpu {
                Some("a software GPU on the same cores")
            } else if info.kind == dotcompute::AcceleratorKind::Cpu
                && a.id().backend != dotcompute::BackendKind::Cpu
            {
                Some("the CPU backend's cores through another runtime")
            } else {
                None
            };
            if let Some(why) = why {
                skipped.push(format!(
                    "{} ({}) not benchmarked by default: {why}; name it with --accelerator to include it",
                    a.id(),
                    info.name,
                ));
            }
            why.is_none()
        });
    }
    println!("{}", crate::devices::table(&dc));
    let reps = args.reps.unwrap_or(if args.quick { 3 } else { 7 }).max(1);
    let mut r = Runner {
        reps,
        quick: args.quick,
        filter: args.filter.clone(),
        rows: Vec::new(),
        notes: skipped,
    };
    if c_peer::threads().is_none() {
        r.notes.push(
            "the STREAM-style C peer was not built (no C compiler with OpenMP): memory-bound rows compare with rayon only".into(),
        );
    }
    let started = Instant::now();
    streaming::run(&mut r, &dc, &accs)?;
    compute::poly8(&mut r, &dc, &accs)?;
    compute::mandelbrot(&mut r, &dc, &accs)?;
    matmul::run(&mut r, &dc, &accs)?;
    gemm::run(&mut r, &dc, &accs)?;
    fft::run(&mut r, &dc, &accs)?;
    histogram::run(&mut r, &dc, &accs)?;
    sort::run(&mut r, &dc, &accs)?;
    math::run(&mut r, &dc, &accs)?;
    query::run(&mut r, &dc, &accs)?;
    launch::launch_latency(&mut r, &dc, &accs)?;
    launch::cold_start(&mut r)?;

    // The machine's bandwidth: the STREAM triad at the largest size, C peer if present.
    let stream = ["stream-c", "rayon"].iter().find_map(|peer| {
        r.rows
            .iter()
            .filter(|row| row.benchmark == "triad" && row.implementation == *peer)
            .max_by_key(|row| row.items)
            .map(|row| row.throughput)
    });
    if let Some(gbps) = stream {
        for row in r.rows.iter_mut() {
            if let Some(bytes) = row.bytes {
                row.floor_s = Some(bytes as f64 / (gbps * 1e9));
            }
            if row.unit == "GB/s" && row.accelerator.is_some() {
                row.vs.insert("STREAM triad".into(), row.throughput / gbps);
            }
        }
    }
    let report = BenchReport {
        date: utc_date(),
        command: std::iter::once("dotcompute".to_string())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" "),
        version: env!("CARGO_PKG_VERSION").into(),
        machine: machine(&dc),
        stream_triad_gbps: stream,
        quick: args.quick,
        rows: r.rows,
        notes: r.notes,
        elapsed_s: Some(started.elapsed().as_secs_f64()),
    };
    print!("{}", render(&report));
    eprintln!(
        "bench: finished in {:.1} s",
        report.elapsed_s.unwrap_or(0.0)
    );
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        eprintln!("bench: wrote {}", path.display());
    }
    if let Some(path) = &args.svg {
        crate::chart::write_svg(&report, path)?;
        eprintln!("bench: wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn machine(dc: &ComputeService) -> Machine {
    // The CPU's description, whichever accelerators are benchmarked.
    let cpu = dc
        .accelerator(dotcompute::BackendKind::Cpu)
        .ok()
        .map(|a| a.info().clone());
    Machine {
        cpu: cpu.as_ref().map_or("unknown".into(), |i| i.name.clone()),
        threads: std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        memory_bytes: cpu.as_ref().map_or(0, |i| i.memory_bytes),
        simd: SimdLevel::detect().name().into(),
        c_peer_threads: c_peer::threads(),
        os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
    }
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn utc_date() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The terminal table of a report.
pub fn render(report: &BenchReport) -> String {
    let mut out = format!(
        "{} on {} ({} threads, {}), {}\n",
        report.command,
        report.machine.cpu,
        report.machine.threads,
        report.machine.simd,
        report.date
    );
    if let Some(bw) = report.stream_triad_gbps {
        out.push_str(&format!(
            "STREAM triad bandwidth in this run: {bw:.1} GB/s\n"
        ));
    }
    let rows: Vec<Vec<String>> = report
        .rows
        .iter()
        .map(|row| {
            vec![
                row.benchmark.clone(),
                row.size.clone(),
                match &row.accelerator {
                    Some(a) => format!("{} ({a})", row.implementation),
                    None => row.implementation.clone(),
                },
                format_seconds(row.median_s),
                format!("{:.3} {}", row.throughput, row.unit),
                row.floor_s.map(format_seconds).unwrap_or_default(),
                row.vs
                    .iter()
                    .map(|(k, v)| format!("{v:.2}x {k}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ]
        })
        .collect();
    out.push_str(&table::render(
        &[
            "benchmark",
            "size",
            "implementation",
            "median",
            "throughput",
            "floor",
            "ratio (dotcompute / peer)",
        ],
        &rows,
    ));
    for note in &report.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

/// Seconds with a readable unit.
pub fn format_seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else {
        format!("{:.3} µs", s * 1e6)
    }
}
