//! Random differential testing (issue #14): each kernel of [`crate::random_kernels`] runs on
//! an accelerator and on the IR interpreter, and the two must agree: every buffer the kernel
//! may write holds the same bits (any NaN matches any NaN), and the launch faults on one
//! exactly when it faults on the other. A disagreement is reduced (statements removed,
//! compound statements replaced by their bodies, while it persists) and reported with the
//! seed and the reduced kernel, ready to become a regression test.
//!
//! ```no_run
//! use dotcompute_conformance::{Env, random_differential};
//! let env = Env::interpreter().expect("the interpreter is always there");
//! let report = random_differential::run_seeds(&env, 0..20);
//! assert!(report.disagreements.is_empty(), "{report}");
//! ```

use crate::Env;
use crate::random_kernels::{self, Data, RandomKernel};
use dotcompute::__private::ParamInfo;
use dotcompute::ir::interpret::{self, Arg, Launch, Value};
use dotcompute::ir::{Kernel, KernelHash, ParamKind, Stmt};
use dotcompute::{ComputeService, Error, Grid, KernelArg, KernelDefinition, UnifiedBuffer};
use std::fmt;
use std::ops::Range;

/// What a backend and the interpreter did with one kernel.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Both ran to the end with the same results.
    Agree,
    /// Both faulted.
    BothFaulted,
    /// They disagree: why.
    Disagree(String),
}

/// One disagreement: the seed, what differed, and the reduced kernel.
#[derive(Clone, Debug)]
pub struct Disagreement {
    /// The generator's seed.
    pub seed: u64,
    /// What differed, on the reduced kernel.
    pub what: String,
    /// The reduced kernel, printed.
    pub kernel: String,
}

/// The outcome of a batch of seeds.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Kernels run.
    pub kernels: u64,
    /// Of those, kernels whose launch faulted on both sides.
    pub faulted: u64,
    /// Statements in the kernels run, in total.
    pub statements: u64,
    /// The disagreements found.
    pub disagreements: Vec<Disagreement>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} random kernels ({} statements), {} faulted on both sides, {} disagreement(s)",
            self.kernels,
            self.statements,
            self.faulted,
            self.disagreements.len()
        )?;
        for d in &self.disagreements {
            writeln!(f, "\nseed {}: {}\n{}", d.seed, d.what, d.kernel)?;
        }
        Ok(())
    }
}

/// Disagreements reduced per batch; later ones are reported with their seeds only.
pub const MAX_REDUCED: usize = 3;

/// Runs the kernels of `seeds` on `env` and on the interpreter.
pub fn run_seeds(env: &Env, seeds: Range<u64>) -> Report {
    let mut report = Report::default();
    for seed in seeds {
        let case = random_kernels::generate(seed);
        report.kernels += 1;
        report.statements += count_statements(&case.kernel.body) as u64;
        match check(env, &case) {
            Verdict::Agree => {}
            Verdict::BothFaulted => report.faulted += 1,
            Verdict::Disagree(what) if report.disagreements.len() >= MAX_REDUCED => {
                // Reducing recompiles the kernel many times: the first few are enough.
                report.disagreements.push(Disagreement {
                    seed,
                    what,
                    kernel: format!("(not reduced: {MAX_REDUCED} reduced already)"),
                });
            }
            Verdict::Disagree(_) => {
                let reduced = reduce(env, case);
                let what = match check(env, &reduced) {
                    Verdict::Disagree(what) => what,
                    other => format!("{other:?} after reduction (flaky?)"),
                };
                report.disagreements.push(Disagreement {
                    seed,
                    what,
                    kernel: reduced.kernel.to_string(),
                });
            }
        }
    }
    report
}

fn count_statements(block: &[Stmt]) -> usize {
    block
        .iter()
        .map(|s| {
            1 + match s {
                Stmt::If {
                    then_body,
                    else_body,
                    ..
                } => count_statements(then_body) + count_statements(else_body),
                Stmt::For { body, .. } | Stmt::While { body, .. } | Stmt::Loop { body } => {
                    count_statements(body)
                }
                _ => 0,
            }
        })
        .sum()
}

/// A definition for a kernel built at run time (leaked: tests make a bounded number).
pub fn definition(kernel: &Kernel) -> &'static KernelDefinition {
    let params: Vec<ParamInfo> = kernel
        .params
        .iter()
        .map(|p| ParamInfo {
            name: Box::leak(p.name.clone().into_boxed_str()),
            kind: p.kind,
        })
        .collect();
    let params: &'static [ParamInfo] = Box::leak(params.into_boxed_slice());
    let bytes: &'static [u8] = Box::leak(kernel.to_bytes().into_boxed_slice());
    let name: &'static str = Box::leak(kernel.name.clone().into_boxed_str());
    // SAFETY: there is no CPU entry point; `bytes` encode `kernel`, whose hash, parameters
    // and bounds-check mode are the ones given. A kernel that does not validate is refused
    // when its IR is first decoded.
    let def = unsafe {
        KernelDefinition::new(
            name,
            params,
            KernelHash::of(kernel),
            kernel.bounds_checks,
            bytes,
            None,
        )
    };
    Box::leak(Box::new(def))
}

/// The interpreter's run: the written buffers' contents, or the fault.
fn interpret(case: &RandomKernel) -> Result<Vec<Data>, interpret::Fault> {
    let mut bytes: Vec<Vec<u8>> = case.buffers.iter().map(Data::bytes).collect();
    let scalars = case.scalars();
    let mut args: Vec<Arg<'_>> = Vec::new();
    let mut buffers = bytes.iter_mut();
    let mut scalar = scalars.iter();
    for p in &case.kernel.params {
        match p.kind {
            ParamKind::Scalar(_) => {
                args.push(Arg::Scalar(scalar.next().copied().unwrap_or(scalars[0])));
            }
            ParamKind::Buffer { .. } => {
                if let Some(b) = buffers.next() {
                    args.push(if p.is_writable_buffer() {
                        Arg::BufferMut(b)
                    } else {
                        Arg::Buffer(b)
                    });
                }
            }
        }
    }
    interpret::run(&case.kernel, &Launch::linear(case.items), &mut args)?;
    drop(args);
    Ok(case
        .buffers
        .iter()
        .zip(&bytes)
        .map(|(d, b)| d.with_bytes(b))
        .collect())
}

enum Buffer {
    I32(UnifiedBuffer<i32>),
    U32(UnifiedBuffer<u32>),
    I64(UnifiedBuffer<i64>),
    U64(UnifiedBuffer<u64>),
    F32(UnifiedBuffer<f32>),
    F64(UnifiedBuffer<f64>),
}

impl Buffer {
    fn upload(dc: &ComputeService, data: &Data) -> Result<Buffer, Error> {
        Ok(match data {
            Data::I32(v) => Buffer::I32(dc.buffer_from_slice(v)?),
            Data::U32(v) => Buffer::U32(dc.buffer_from_slice(v)?),
            Data::I64(v) => Buffer::I64(dc.buffer_from_slice(v)?),
            Data::U64(v) => Buffer::U64(dc.buffer_from_slice(v)?),
            Data::F32(v) => Buffer::F32(dc.buffer_from_slice(v)?),
            Data::F64(v) => Buffer::F64(dc.buffer_from_slice(v)?),
        })
    }

    fn download(&self) -> Result<Data, Error> {
        Ok(match self {
            Buffer::I32(b) => Data::I32(b.to_vec()?),
            Buffer::U32(b) => Data::U32(b.to_vec()?),
            Buffer::I64(b) => Data::I64(b.to_vec()?),
            Buffer::U64(b) => Data::U64(b.to_vec()?),
            Buffer::F32(b) => Data::F32(b.to_vec()?),
            Buffer::F64(b) => Data::F64(b.to_vec()?),
        })
    }

    fn arg(&mut self, writable: bool) -> KernelArg<'_> {
        macro_rules! arg {
            ($b:expr) => {
                if writable {
                    KernelArg::buffer_mut($b)
                } else {
                    KernelArg::buffer(&*$b)
                }
            };
        }
        match self {
            Buffer::I32(b) => arg!(b),
            Buffer::U32(b) => arg!(b),
            Buffer::I64(b) => arg!(b),
            Buffer::U64(b) => arg!(b),
            Buffer::F32(b) => arg!(b),
            Buffer::F64(b) => arg!(b),
        }
    }
}

/// The accelerator's run: the written buffers' contents, or the error (a fault, or anything
/// else the launch reported).
fn launch(env: &Env, case: &RandomKernel) -> Result<Vec<Data>, Error> {
    let def = definition(&case.kernel);
    let mut buffers = case
        .buffers
        .iter()
        .map(|d| Buffer::upload(&env.dc, d))
        .collect::<Result<Vec<_>, _>>()?;
    {
        let mut args: Vec<KernelArg<'_>> = Vec::new();
        let mut next = buffers.iter_mut();
        for p in &case.kernel.params {
            match p.kind {
                ParamKind::Scalar(dotcompute::ir::ScalarType::U32) => {
                    args.push(KernelArg::scalar(case.scalar_u32));
                }
                ParamKind::Scalar(_) => args.push(KernelArg::scalar(case.scalar_f32)),
                ParamKind::Buffer { .. } => {
                    if let Some(b) = next.next() {
                        args.push(b.arg(p.is_writable_buffer()));
                    }
                }
            }
        }
        env.acc.launch(def, Grid::d1(case.items), &mut args)?;
    }
    env.acc.synchronize()?;
    buffers.iter().map(Buffer::download).collect()
}

/// Runs `case` on `env` and on the interpreter and compares.
pub fn check(env: &Env, case: &RandomKernel) -> Verdict {
    let want = interpret(case);
    let got = launch(env, case);
    match (want, got) {
        (Ok(want), Ok(got)) => {
            for (i, (w, g)) in want.iter().zip(&got).enumerate() {
                let elem = w.elem();
                let (w, g) = (w.bytes(), g.bytes());
                if let Some(e) = crate::differential::first_difference(elem, &g, &w) {
                    let size = elem.size_bytes();
                    let value = |b: &[u8]| Value::read_from(elem, &b[e * size..(e + 1) * size]);
                    return Verdict::Disagree(format!(
                        "{}[{e}]: interpreter {:?}, {} {:?}",
                        case.kernel.params[i].name,
                        value(&w),
                        env.acc.info().name,
                        value(&g)
                    ));
                }
            }
            Verdict::Agree
        }
        (Err(_), Err(Error::KernelFault { .. })) => Verdict::BothFaulted,
        (Err(fault), Ok(_)) => Verdict::Disagree(format!(
            "the interpreter faulted ({fault}), {} did not",
            env.acc.info().name
        )),
        (_, Err(e)) => Verdict::Disagree(format!("{} failed: {e}", env.acc.info().name)),
    }
}

/// Smaller kernels that still disagree: removes statements and replaces compound statements
/// by their bodies, one at a time, keeping each change that validates and still disagrees.
pub fn reduce(env: &Env, mut case: RandomKernel) -> RandomKernel {
    loop {
        let mut improved = false;
        let mut i = 0;
        while i < count_statements(&case.kernel.body) {
            for replace_by_body in [false, true] {
                let mut candidate = case.clone();
                if !edit(&mut candidate.kernel.body, &mut { i }, replace_by_body) {
                    continue;
                }
                if dotcompute::ir::validate(&candidate.kernel).is_err() {
                    continue;
                }
                if matches!(check(env, &candidate), Verdict::Disagree(_)) {
                    case = candidate;
                    improved = true;
                    break;
                }
            }
            i += 1;
        }
        if !improved {
            return case;
        }
    }
}

/// Removes statement number `*n` (in preorder), or replaces it by its body (a loop's, or an
/// `if`'s taken branch), in `block`. `false` when there is no such statement or edit.
fn edit(block: &mut Vec<Stmt>, n: &mut usize, replace_by_body: bool) -> bool {
    let mut j = 0;
    while j < block.len() {
        if *n == 0 {
            if !replace_by_body {
                block.remove(j);
                return true;
            }
            let body = match &mut block[j] {
                Stmt::If { then_body, .. } => std::mem::take(then_body),
                Stmt::For { body, .. } | Stmt::While { body, .. } | Stmt::Loop { body } => {
                    std::mem::take(body)
                }
                _ => return false,
            };
            block.splice(j..=j, body);
            return true;
        }
        *n -= 1;
        let done = match &mut block[j] {
            Stmt::If {
                then_body,
                else_body,
                ..
            } => edit(then_body, n, replace_by_body) || edit(else_body, n, replace_by_body),
            Stmt::For { body, .. } | Stmt::While { body, .. } | Stmt::Loop { body } => {
                edit(body, n, replace_by_body)
            }
            _ => false,
        };
        if done {
            return true;
        }
        j += 1;
    }
    false
}

/// The seeds to run: `DOTCOMPUTE_RANDOM_SEEDS` (`start..end`) when it is set, else `default`
/// (the fixed batch CI runs). `scripts/fuzz.sh` sets it to fresh ranges.
pub fn seeds(default: Range<u64>) -> Range<u64> {
    std::env::var("DOTCOMPUTE_RANDOM_SEEDS")
        .ok()
        .and_then(|v| {
            let (a, b) = v.split_once("..")?;
            Some(a.trim().parse().ok()?..b.trim().parse().ok()?)
        })
        .unwrap_or(default)
}
