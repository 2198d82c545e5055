//! `dotcompute bench`: each kernel on each accelerator, against peers measured in the same
//! run, with the floor computed from bytes moved and the machine's measured bandwidth.
//!
//! Every benchmark runs its contenders round-robin (A B C, B C A, ...) after warm-up runs of
//! each (enough for the CPU backend to settle which SIMD clone a kernel runs fastest with), so
//! that a machine whose speed drifts during the run slows all of them alike, with a short pause
//! before each timed run so that no contender's idle-spinning threads slow the next; the
//! figures are medians over the repetitions, and ratios are ratios of medians.

mod fft;
mod gemm;
mod math;
mod sort;

use crate::{CliError, c_peer, select_accelerators, table};
use dotcompute::{Accelerator, ComputeService, Grid, SimdLevel, UnifiedBuffer};
use dotcompute_conformance::{cooperative, kernels, reference};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::hint::black_box;
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
        // By default: what can run kernels, less software GPUs (lavapipe runs on the same
        // cores as the CPU backend, slower); name one with `--accelerator` to include it.
        accs.retain(|a| {
            let info = a.info();
            let keep = info.capabilities.int64 && info.kind != dotcompute::AcceleratorKind::VirtualGpu;
            if !keep {
                skipped.push(format!(
                    "{} ({}) not benchmarked by default: {}; name it with --accelerator to include it",
                    a.id(),
                    info.name,
                    if info.capabilities.int64 {
                        "a software GPU on the same cores"
                    } else {
                        "it cannot run kernels (no 64-bit integers)"
                    }
                ));
            }
            keep
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
    streaming(&mut r, &dc, &accs)?;
    poly8(&mut r, &dc, &accs)?;
    mandelbrot(&mut r, &dc, &accs)?;
    matmul(&mut r, &dc, &accs)?;
    gemm::run(&mut r, &dc, &accs)?;
    fft::run(&mut r, &dc, &accs)?;
    histogram(&mut r, &dc, &accs)?;
    sort::run(&mut r, &dc, &accs)?;
    math::run(&mut r, &dc, &accs)?;
    launch_latency(&mut r, &dc, &accs)?;
    cold_start(&mut r)?;

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

/// Memory-bound kernels: vector add, triad, sum.
fn streaming(r: &mut Runner, dc: &ComputeService, accs: &[Accelerator]) -> Result<(), CliError> {
    let mut sizes: Vec<usize> = if r.quick {
        vec![1 << 16, 1 << 20]
    } else {
        vec![1 << 20, 1 << 24, 1 << 26]
    };
    // GPUs reach their bandwidth only on large arrays: 256M f32 (1 GiB per array), the size
    // the GPU peers (`../shared/gpu/peers.py`: torch.add) are measured at.
    let gpu = accs.iter().any(|a| {
        matches!(
            a.info().kind,
            dotcompute::AcceleratorKind::DiscreteGpu | dotcompute::AcceleratorKind::IntegratedGpu
        )
    });
    if gpu && !r.quick {
        sizes.push(1 << 28);
    }
    let sizes = &sizes[..];
    for &n in sizes {
        let a = inputs(n, 1);
        let b = inputs(n, 2);
        let size = size_label(n, "f32");
        if r.wants("vector_add") {
            let mut peer_out = vec![0f32; n];
            let mut rayon_out = vec![0f32; n];
            let accs = r.fitting(accs, 4 * n as u64, &format!("vector_add {size}"));
            let bufs: Vec<(UnifiedBuffer<f32>, UnifiedBuffer<f32>, UnifiedBuffer<f32>)> = accs
                .iter()
                .map(|_| {
                    Ok((
                        dc.buffer_from_slice(&a)?,
                        dc.buffer_from_slice(&b)?,
                        dc.buffer_zeroed(n)?,
                    ))
                })
                .collect::<Result<_, dotcompute::Error>>()?;
            let mut contenders = Vec::new();
            for (acc, (da, db, dout)) in accs.iter().zip(bufs) {
                let mut dout = dout;
                contenders.push(Contender::dotcompute(acc, move || {
                    kernels::vector_add::launch(acc, n, &da, &db, &mut dout)?;
                    sync(acc)
                }));
            }
            if c_peer::threads().is_some() {
                let (a, b) = (&a, &b);
                contenders.push(Contender::peer("stream-c", move || {
                    c_peer::add(&mut peer_out, a, b)
                        .ok_or_else(|| CliError::Message("C peer failed".into()))
                }));
            }
            let (a2, b2) = (&a, &b);
            contenders.push(Contender::peer("rayon", move || {
                rayon_out
                    .par_iter_mut()
                    .zip(a2.par_iter().zip(b2.par_iter()))
                    .for_each(|(o, (x, y))| *o = x + y);
                Ok(())
            }));
            r.race(
                "vector_add",
                &size,
                n as u64,
                Work::Bytes(12 * n as u64),
                contenders,
            )?;
        }
        if r.wants("triad") {
            let mut peer_out = vec![0f32; n];
            let mut rayon_out = vec![0f32; n];
            let s = 3.0f32;
            let accs = r.fitting(accs, 4 * n as u64, &format!("triad {size}"));
            let mut contenders = Vec::new();
            for acc in &accs {
                let (db, dc2) = (dc.buffer_from_slice(&a)?, dc.buffer_from_slice(&b)?);
                let mut da = dc.buffer_zeroed::<f32>(n)?;
                contenders.push(Contender::dotcompute(acc, move || {
                    kernels::triad::launch(acc, n, &mut da, &db, &dc2, s)?;
                    sync(acc)
                }));
            }
            if c_peer::threads().is_some() {
                let (a, b) = (&a, &b);
                contenders.push(Contender::peer("stream-c", move || {
                    c_peer::triad(&mut peer_out, a, b, s)
                        .ok_or_else(|| CliError::Message("C peer failed".into()))
                }));
            }
            let (a2, b2) = (&a, &b);
            contenders.push(Contender::peer("rayon", move || {
                rayon_out
                    .par_iter_mut()
                    .zip(a2.par_iter().zip(b2.par_iter()))
                    .for_each(|(o, (x, y))| *o = x + s * y);
                Ok(())
            }));
            r.race(
                "triad",
                &size,
                n as u64,
                Work::Bytes(12 * n as u64),
                contenders,
            )?;
        }
        if r.wants("sum") && n == *sizes.last().unwrap_or(&n) {
            let chunk = 1 << 16;
            let groups = n.div_ceil(chunk);
            let accs = r.fitting(accs, 4 * n as u64, &format!("sum {size}"));
            let mut contenders = Vec::new();
            for acc in &accs {
                let dx = dc.buffer_from_slice(&a)?;
                let mut partial = dc.buffer_zeroed::<f32>(groups)?;
                contenders.push(Contender::dotcompute(acc, move || {
                    kernels::partial_sums::launch(acc, groups, chunk, &dx, &mut partial)?;
                    let total: f32 = partial.read()?.iter().sum();
                    black_box(total);
                    Ok(())
                }));
                // The same sum as a cooperative kernel: groups of 256 items, each item a
                // chunk, a tree in shared memory per group.
                let item_chunk = 1u64 << 10;
                let items = (n as u64).div_ceil(item_chunk);
                let block_groups = items.div_ceil(256) as usize;
                let dx = dc.buffer_from_slice(&a)?;
                let mut sums = dc.buffer_zeroed::<f32>(block_groups)?;
                // The algorithms library's deterministic sum (fixed order, the same bits on
                // every accelerator).
                let dx_alg = dc.buffer_from_slice(&a)?;
                contenders.push(Contender::variant("algorithms::sum", acc, move || {
                    black_box(dotcompute::algorithms::sum(acc, &dx_alg)?);
                    Ok(())
                }));
                contenders.push(Contender::variant("block reduce", acc, move || {
                    cooperative::block_reduce::launch(
                        acc,
                        Grid::d1(items).with_group_size([256, 1, 1]),
                        item_chunk,
                        &dx,
                        &mut sums,
                    )?;
                    let total: f32 = sums.read()?.iter().sum();
                    black_box(total);
                    Ok(())
                }));
            }
            if c_peer::threads().is_some() {
                let a = &a;
                contenders.push(Contender::peer("stream-c", move || {
                    black_box(c_peer::sum(a));
                    Ok(())
                }));
            }
            let a2 = &a;
            contenders.push(Contender::peer("rayon", move || {
                black_box(a2.par_iter().sum::<f32>());
                Ok(())
            }));
            r.race(
                "sum",
                &size,
                n as u64,
                Work::Bytes(4 * n as u64),
                contenders,
            )?;
        }
        if r.wants("scan") && n == *sizes.last().unwrap_or(&n) {
            let accs = r.fitting(accs, 8 * n as u64, &format!("scan {size}"));
            let mut contenders = Vec::new();
            for acc in &accs {
                let dx = dc.buffer_from_slice(&a)?;
                let mut y = dc.buffer_zeroed::<f32>(n)?;
                contenders.push(Contender::dotcompute(acc, move || {
                    dotcompute::algorithms::inclusive_scan(acc, &dx, &mut y)?;
                    Ok(())
                }));
            }
            let a2 = &a;
            let mut seq = vec![0f32; n];
            contenders.push(Contender::peer("sequential", move || {
                let mut running = -0.0f32;
                for (o, v) in seq.iter_mut().zip(a2) {
                    running += v;
                    *o = running;
                }
                black_box(&seq);
                Ok(())
            }));
            // Rayon, two passes: chunk sums in parallel, their prefix, then each chunk's
            // scan from its carry in parallel.
            let a3 = &a;
            let mut out = vec![0f32; n];
            contenders.push(Contender::peer("rayon (two passes)", move || {
                let chunk = 1 << 16;
                let sums: Vec<f32> = a3.par_chunks(chunk).map(|c| c.iter().sum()).collect();
                let mut carry = -0.0f32;
                let carries: Vec<f32> = sums
                    .iter()
                    .map(|s| {
                        let c = carry;
                        carry += s;
                        c
                    })
                    .collect();
                out.par_chunks_mut(chunk)
                    .zip(a3.par_chunks(chunk))
                    .zip(carries.par_iter())
                    .for_each(|((o, x), &c)| {
                        let mut running = c;
                        for (o, v) in o.iter_mut().zip(x) {
                            running += v;
                            *o = running;
                        }
                    });
                black_box(&out);
                Ok(())
            }));
            r.race(
                "inclusive scan",
                &size,
                n as u64,
                Work::Bytes(8 * n as u64),
                contenders,
            )?;
        }
    }
    Ok(())
}

/// The compute-bound kernel: a degree-8 polynomial per element (16 flops, unfused), at a size
/// that stays in cache (compute-bound) and one that does not (bound by memory: 2 flops per
/// byte moved).
fn poly8(r: &mut Runner, dc: &ComputeService, accs: &[Accelerator]) -> Result<(), CliError> {
    let sizes: &[usize] = if r.quick {
        &[1 << 18]
    } else {
        &[1 << 20, 1 << 24]
    };
    if r.wants("poly8") {
        for &n in sizes {
            polynomial(r, dc, accs, n, Polynomial::Degree8, reference::poly8)?;
        }
    }
    if r.wants("poly32") {
        let n = if r.quick { 1 << 18 } else { 1 << 22 };
        polynomial(r, dc, accs, n, Polynomial::Degree32, reference::poly32)?;
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Polynomial {
    Degree8,
    Degree32,
}

/// `scalar` is the reference function itself (not a pointer), so that the peers inline it and
/// the rayon peer vectorises as well as a default release build allows.
fn polynomial(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
    n: usize,
    p: Polynomial,
    scalar: impl Fn(f32) -> f32 + Copy + Send + Sync,
) -> Result<(), CliError> {
    let x = inputs(n, 3);
    let (name, flops_per_item) = match p {
        Polynomial::Degree8 => ("poly8", 16),
        Polynomial::Degree32 => ("poly32", 64),
    };
    let accs = r.fitting(accs, 4 * n as u64, &format!("{name} {n}"));
    let mut contenders = Vec::new();
    for acc in &accs {
        let dx = dc.buffer_from_slice(&x)?;
        let mut out = dc.buffer_zeroed::<f32>(n)?;
        contenders.push(Contender::dotcompute(acc, move || {
            match p {
                Polynomial::Degree8 => kernels::poly8::launch(acc, n, &dx, &mut out)?,
                Polynomial::Degree32 => kernels::poly32::launch(acc, n, &dx, &mut out)?,
            }
            sync(acc)
        }));
    }
    let xs = &x;
    let mut scalar_out = vec![0f32; n];
    contenders.push(Contender::peer("scalar", move || {
        // One element at a time: black_box keeps the compiler from vectorising the loop.
        for (o, v) in scalar_out.iter_mut().zip(xs) {
            *o = scalar(black_box(*v));
        }
        Ok(())
    }));
    let mut rayon_out = vec![0f32; n];
    contenders.push(Contender::peer("rayon", move || {
        // Chunks with a plain inner loop: the form in which rustc vectorises the body whatever
        // its size (a per-element `for_each` closure is called through rayon's `&F` shim, which
        // LLVM stops inlining once the body is large, and then nothing vectorises).
        rayon_out
            .par_chunks_mut(4096)
            .zip(xs.par_chunks(4096))
            .for_each(move |(out, x)| {
                for (o, v) in out.iter_mut().zip(x) {
                    *o = scalar(*v);
                }
            });
        Ok(())
    }));
    if c_peer::threads().is_some() && matches!(p, Polynomial::Degree8) {
        let mut c_out = vec![0f32; n];
        contenders.push(Contender::peer("c-openmp", move || {
            c_peer::poly8(xs, &mut c_out).ok_or_else(|| CliError::Message("C peer failed".into()))
        }));
    }
    r.race(
        name,
        &size_label(n, "f32"),
        n as u64,
        Work::Flops {
            flops: flops_per_item * n as u64,
            bytes: 8 * n as u64,
        },
        contenders,
    )
}

/// Divergent control flow: the Mandelbrot set, one work item per pixel.
fn mandelbrot(r: &mut Runner, dc: &ComputeService, accs: &[Accelerator]) -> Result<(), CliError> {
    if !r.wants("mandelbrot") {
        return Ok(());
    }
    let (w, h, max_iter) = if r.quick {
        (256usize, 192usize, 128u32)
    } else {
        (1024, 768, 256)
    };
    let (x0, y0, step) = (-2.2f32, -1.2f32, 2.4f32 / h as f32);
    let mut contenders = Vec::new();
    for acc in accs {
        let mut out = dc.buffer_zeroed::<u32>(w * h)?;
        contenders.push(Contender::dotcompute(acc, move || {
            kernels::mandelbrot::launch(acc, (w, h), x0, y0, step, max_iter, &mut out)?;
            sync(acc)
        }));
    }
    let pixel = move |l: usize| {
        let (px, py) = (l % w, l / w);
        kernels::escape_time(x0 + px as f32 * step, y0 + py as f32 * step, max_iter)
    };
    let mut scalar_out = vec![0u32; w * h];
    contenders.push(Contender::peer("scalar", move || {
        for (l, o) in scalar_out.iter_mut().enumerate() {
            *o = pixel(l);
        }
        Ok(())
    }));
    let mut rayon_out = vec![0u32; w * h];
    contenders.push(Contender::peer("rayon", move || {
        rayon_out
            .par_iter_mut()
            .enumerate()
            .for_each(|(l, o)| *o = pixel(l));
        Ok(())
    }));
    r.race(
        "mandelbrot",
        &format!("{w}x{h}, {max_iter} iter"),
        (w * h) as u64,
        Work::Pixels((w * h) as u64),
        contenders,
    )
}

/// Naive matrix multiply over f64.
fn matmul(r: &mut Runner, dc: &ComputeService, accs: &[Accelerator]) -> Result<(), CliError> {
    if !r.wants("matmul") {
        return Ok(());
    }
    let n = if r.quick { 64usize } else { 384 };
    let a: Vec<f64> = inputs(n * n, 4).into_iter().map(f64::from).collect();
    let b: Vec<f64> = inputs(n * n, 5).into_iter().map(f64::from).collect();
    let mut contenders = Vec::new();
    for acc in accs {
        let (da, db) = (dc.buffer_from_slice(&a)?, dc.buffer_from_slice(&b)?);
        let mut dcm = dc.buffer_zeroed::<f64>(n * n)?;
        let k = n as u32;
        contenders.push(Contender::dotcompute(acc, move || {
            kernels::matmul_f64::launch(acc, (n, n), &da, &db, &mut dcm, k, k, k, k)?;
            sync(acc)
        }));
    }
    let (a2, b2) = (&a, &b);
    let mut rayon_out = vec![0f64; n * n];
    contenders.push(Contender::peer("rayon", move || {
        rayon_out
            .par_chunks_mut(n)
            .enumerate()
            .for_each(|(row, out)| {
                for (col, o) in out.iter_mut().enumerate() {
                    let mut sum = 0.0;
                    for p in 0..n {
                        sum += a2[row * n + p] * b2[p * n + col];
                    }
                    *o = sum;
                }
            });
        Ok(())
    }));
    let mut scalar_out = vec![0f64; n * n];
    contenders.push(Contender::peer("scalar", move || {
        for row in 0..n {
            for col in 0..n {
                let mut sum = 0.0;
                for p in 0..n {
                    sum += a2[row * n + p] * b2[p * n + col];
                }
                scalar_out[row * n + col] = sum;
            }
        }
        Ok(())
    }));
    let flops = 2 * (n as u64).pow(3);
    let bytes = 3 * 8 * (n * n) as u64;
    r.race(
        "matmul_f64",
        &format!("{n}x{n}"),
        (n * n) as u64,
        Work::Flops { flops, bytes },
        contenders,
    )?;
    matmul_f32(r, dc, accs)
}

/// `f32` matrix multiply: the naive kernel, the cooperative one through 16 x 16 shared tiles
/// (with and without a 1 x 4 register tile per item), and a register tile alone.
fn matmul_f32(r: &mut Runner, dc: &ComputeService, accs: &[Accelerator]) -> Result<(), CliError> {
    let n = if r.quick { 128usize } else { 1024 };
    let a = inputs(n * n, 6);
    let b = inputs(n * n, 7);
    let mut contenders = Vec::new();
    for acc in accs {
        let (da, db) = (dc.buffer_from_slice(&a)?, dc.buffer_from_slice(&b)?);
        let mut dcm = dc.buffer_zeroed::<f32>(n * n)?;
        contenders.push(Contender::dotcompute(acc, move || {
            cooperative::matmul_naive_f32::launch(acc, (n, n), n as u64, &da, &db, &mut dcm)?;
            sync(acc)
        }));
        let (da, db) = (dc.buffer_from_slice(&a)?, dc.buffer_from_slice(&b)?);
        let mut dcm = dc.buffer_zeroed::<f32>(n * n)?;
        let tiles = n.next_multiple_of(16) as u64;
        contenders.push(Contender::variant("tiled (shared 16x16)", acc, move || {
            cooperative::matmul_tiled_f32::launch(
                acc,
                Grid::d2(tiles, tiles).with_group_size([16, 16, 1]),
                n as u64,
                &da,
                &db,
                &mut dcm,
            )?;
            sync(acc)
        }));
        let (da, db) = (dc.buffer_from_slice(&a)?, dc.buffer_from_slice(&b)?);
        let mut dct = dc.buffer_zeroed::<f32>(n * n)?;
        let grid = Grid::d2(
            n.div_ceil(4).next_multiple_of(16) as u64,
            n.next_multiple_of(16) as u64,
        )
        .with_group_size([16, 16, 1]);
        contenders.push(Contender::variant(
            "tiled + register tile",
            acc,
            move || {
                cooperative::matmul_tiled_register_f32::launch(
                    acc, grid, n as u64, &da, &db, &mut dct,
                )?;
                sync(acc)
            },
        ));
        let (da, db) = (dc.buffer_from_slice(&a)?, dc.buffer_from_slice(&b)?);
        let mut dcm = dc.buffer_zeroed::<f32>(n * n)?;
        contenders.push(Contender::variant("register tile 1x4", acc, move || {
            cooperative::matmul_register_tile::launch(
                acc,
                (n / 4, n),
                n as u64,
                &da,
                &db,
                &mut dcm,
            )?;
            sync(acc)
        }));
    }
    let (a2, b2) = (&a, &b);
    let mut rayon_out = vec![0f32; n * n];
    contenders.push(Contender::peer("rayon", move || {
        rayon_out
            .par_chunks_mut(n)
            .enumerate()
            .for_each(|(row, out)| {
                for (col, o) in out.iter_mut().enumerate() {
                    let mut sum = 0.0;
                    for p in 0..n {
                        sum += a2[row * n + p] * b2[p * n + col];
                    }
                    *o = sum;
                }
            });
        Ok(())
    }));
    let flops = 2 * (n as u64).pow(3);
    let bytes = 3 * 4 * (n * n) as u64;
    r.race(
        "matmul_f32",
        &format!("{n}x{n}"),
        (n * n) as u64,
        Work::Flops { flops, bytes },
        contenders,
    )
}

/// Atomics: a histogram of 256 bins.
fn histogram(r: &mut Runner, dc: &ComputeService, accs: &[Accelerator]) -> Result<(), CliError> {
    if !r.wants("histogram") {
        return Ok(());
    }
    let n = if r.quick { 1 << 18 } else { 1 << 24 };
    let values: Vec<u32> = (0..n as u32)
        .map(|i| i.wrapping_mul(0x9E37_79B9) >> 7)
        .collect();
    let bins = 256usize;
    let mut contenders = Vec::new();
    for acc in accs {
        let dv = dc.buffer_from_slice(&values)?;
        let mut db = dc.buffer_zeroed::<u32>(bins)?;
        contenders.push(Contender::dotcompute(acc, move || {
            kernels::histogram::launch(acc, n, &dv, &mut db)?;
            sync(acc)
        }));
        // Per-group shared bins (a cooperative kernel): each item counts 1024 values.
        let per_item = 1024usize;
        let items = (n as u64).div_ceil(per_item as u64).next_multiple_of(256);
        let dv = dc.buffer_from_slice(&values)?;
        let mut db = dc.buffer_zeroed::<u32>(bins)?;
        // The algorithms library's histogram: 256 bins of equal width over the values'
        // range (every value is below 2^25), instead of the value modulo 256.
        let dv_alg = dc.buffer_from_slice(&values)?;
        contenders.push(Contender::variant(
            "algorithms::histogram",
            acc,
            move || {
                black_box(dotcompute::algorithms::histogram(
                    acc,
                    &dv_alg,
                    bins,
                    0u32,
                    1 << 25,
                )?);
                sync(acc)
            },
        ));
        contenders.push(Contender::variant("shared bins", acc, move || {
            db.copy_from_slice(&[0; 256])?;
            cooperative::histogram_shared::launch(
                acc,
                Grid::d1(items).with_group_size([256, 1, 1]),
                per_item as u64,
                &dv,
                &mut db,
            )?;
            sync(acc)
        }));
    }
    let v = &values;
    contenders.push(Contender::peer("rayon (per-thread bins)", move || {
        let hist = v
            .par_iter()
            .fold(
                || vec![0u32; bins],
                |mut h, &x| {
                    h[x as usize % bins] += 1;
                    h
                },
            )
            .reduce(
                || vec![0u32; bins],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                    a
                },
            );
        black_box(hist);
        Ok(())
    }));
    contenders.push(Contender::peer("scalar", move || {
        let mut h = vec![0u32; bins];
        for &x in v {
            h[x as usize % bins] += 1;
        }
        black_box(h);
        Ok(())
    }));
    r.race(
        "histogram",
        &size_label(n, "u32"),
        n as u64,
        Work::Bytes(4 * n as u64),
        contenders,
    )
}

/// Launch overhead: a kernel on a 1-element grid.
fn launch_latency(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
) -> Result<(), CliError> {
    if !r.wants("launch") {
        return Ok(());
    }
    let batch: u64 = if r.quick { 2_000 } else { 20_000 };
    let mut contenders = Vec::new();
    for acc in accs {
        let mut out = dc.buffer_zeroed::<u64>(1)?;
        contenders.push(Contender::dotcompute(acc, move || {
            for _ in 0..batch {
                kernels::iota::launch(acc, Grid::d1(1), &mut out)?;
            }
            sync(acc)
        }));
    }
    contenders.push(Contender::peer("rayon::join (empty)", move || {
        for _ in 0..batch {
            rayon::join(|| black_box(()), || black_box(()));
        }
        Ok(())
    }));
    r.race(
        "launch_1_item",
        &format!("{batch} launches"),
        batch,
        Work::Launches(batch),
        contenders,
    )
}

/// Cold start: a fresh process to its first kernel result, against a process that does
/// nothing.
fn cold_start(r: &mut Runner) -> Result<(), CliError> {
    if !r.wants("cold_start") {
        return Ok(());
    }
    let exe = std::env::current_exe()?;
    let spawn = |arg: &'static str| {
        let exe = exe.clone();
        move || -> Result<(), CliError> {
            let out = std::process::Command::new(&exe).arg(arg).output()?;
            if out.status.success() {
                Ok(())
            } else {
                Err(CliError::Message(format!(
                    "`dotcompute {arg}` failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                )))
            }
        }
    };
    let probe = spawn("cold-start-probe");
    let baseline = spawn("--version");
    let contenders = vec![
        Contender {
            name: "dotcompute".into(),
            accelerator: Some("cpu:0".into()),
            run: Box::new(probe),
        },
        Contender::peer("process only (--version)", baseline),
    ];
    r.race(
        "cold_start",
        "spawn to first result",
        1,
        Work::Process,
        contenders,
    )
}

/// The hidden `cold-start-probe` command: a service, a buffer, one kernel, the result.
pub fn cold_start_probe(process_start: Instant) -> Result<ExitCode, CliError> {
    let dc = ComputeService::new()?;
    let acc = dc.accelerator(dotcompute::BackendKind::Cpu)?;
    let a = dc.buffer_from_slice(&[1.0f32, 2.0, 3.0])?;
    let b = dc.buffer_from_slice(&[10.0f32, 20.0, 30.0])?;
    let mut out = dc.buffer_zeroed::<f32>(3)?;
    kernels::vector_add::launch(&acc, 3, &a, &b, &mut out)?;
    let result = out.to_vec()?;
    let micros = process_start.elapsed().as_micros();
    if result != [11.0, 22.0, 33.0] {
        return Err(CliError::Message(format!("wrong result {result:?}")));
    }
    println!("{micros}");
    Ok(ExitCode::SUCCESS)
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
