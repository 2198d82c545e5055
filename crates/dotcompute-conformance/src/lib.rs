//! The DotCompute conformance suite.
//!
//! One set of kernels ([`kernels`]), each run on an accelerator and compared with a scalar Rust
//! reference ([`cases`]). Every backend instantiates the same tests with
//! [`conformance_tests!`]; the `dotcompute selftest` command runs the same cases on every
//! accelerator of a machine.
//!
//! ```no_run
//! // in a backend's tests/conformance.rs:
//! dotcompute_conformance::conformance_tests!(|| dotcompute_conformance::Env::cpu(None));
//! ```

pub mod algorithms;
pub mod cases;
mod compare;
pub mod cooperative;
pub mod differential;
pub mod fault_rules;
pub mod faulting;
pub mod interpreter;
pub mod kernels;
mod needs;
pub mod queries;
mod random;
pub mod random_differential;
pub mod random_kernels;
pub mod reference;
pub mod stress;
pub mod subgroups;

pub use cases::MATH;
pub use cases::{CASES, Case};
pub use compare::{Mismatch, Outcome, Tolerance};
pub use needs::Needs;

use dotcompute::{Accelerator, BackendKind, ComputeService, CpuOptions, SimdLevel};

/// A service and the accelerator the cases run on.
pub struct Env {
    /// The service that made the accelerator and makes the buffers.
    pub dc: ComputeService,
    /// Where the kernels run.
    pub acc: Accelerator,
}

impl Env {
    /// The CPU backend, with `simd` forced to a level (`None`: the best this CPU has).
    /// `None` when this CPU lacks the level.
    pub fn cpu(simd: Option<SimdLevel>) -> Option<Env> {
        Env::cpu_with(CpuOptions {
            simd,
            ..CpuOptions::default()
        })
    }

    /// The IR interpreter ([`interpreter`]): the reference the backends are compared with.
    pub fn interpreter() -> Option<Env> {
        let dc = ComputeService::builder()
            .without_cpu()
            .without_wgpu()
            .without_cuda()
            .without_opencl()
            .plugin(Box::new(interpreter::InterpreterPlugin))
            .build()
            .ok()?;
        let acc = dc
            .accelerator(BackendKind::Plugin(interpreter::NAME))
            .ok()?;
        Some(Env { dc, acc })
    }

    /// The CPU backend with these options, every launch checked against the IR interpreter
    /// ([`differential`]); `None` when their SIMD level is not supported here.
    pub fn cpu_checked(options: CpuOptions) -> Option<Env> {
        if options.simd.is_some_and(|l| !l.is_supported()) {
            return None;
        }
        let dc = ComputeService::builder()
            .without_cpu()
            .without_wgpu()
            .without_cuda()
            .without_opencl()
            .plugin(Box::new(differential::DifferentialPlugin::new(Box::new(
                dotcompute::CpuPlugin::new(options),
            ))))
            .build()
            .ok()?;
        let acc = dc.accelerator(BackendKind::Cpu).ok()?;
        Some(Env { dc, acc })
    }

    /// The CPU backend with these options; `None` when their SIMD level is not supported
    /// here.
    pub fn cpu_with(options: CpuOptions) -> Option<Env> {
        if options.simd.is_some_and(|l| !l.is_supported()) {
            return None;
        }
        let dc = ComputeService::builder().cpu(options).build().ok()?;
        let acc = dc.accelerator(BackendKind::Cpu).ok()?;
        Some(Env { dc, acc })
    }
}

/// A service with only `plugin`'s backend, and its first accelerator of that backend that
/// `usable` accepts: what a device backend's tests run on. `None` when this machine has none,
/// unless the environment variable `require` is `1` (set by `scripts/test.sh` where it
/// installed the runtime): then the missing device fails the test instead of letting it pass
/// without running, with the backend's report.
#[allow(clippy::panic)] // test harness: a missing required device fails the test
pub fn backend_service(
    plugin: impl Fn() -> Box<dyn dotcompute::backend::BackendPlugin>,
    usable: impl Fn(&Accelerator) -> bool,
    require: &str,
) -> Option<(ComputeService, Accelerator)> {
    let backend = plugin().backend();
    // The other built-in backends stay out: their devices would share the machine.
    let dc = ComputeService::builder()
        .without_cpu()
        .without_wgpu()
        .without_cuda()
        .without_opencl()
        .plugin(plugin())
        .build()
        .ok()?;
    let found = dc
        .accelerators()
        .into_iter()
        .find(|a| a.id().backend == backend && usable(a));
    match found {
        Some(acc) => Some((dc, acc)),
        None if std::env::var(require).as_deref() == Ok("1") => panic!(
            "{require}=1 but no usable {backend} device was found: {:?}",
            dc.backend_reports()
        ),
        None => {
            eprintln!("SKIPPED: no usable {backend} device on this machine");
            None
        }
    }
}

/// Why a case failed.
#[derive(Debug)]
pub enum CaseError {
    /// The launch (or a buffer operation) returned an error.
    Launch(dotcompute::Error),
    /// A result differed from the reference beyond the tolerance.
    Mismatch(Mismatch),
}

impl std::fmt::Display for CaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaseError::Launch(e) => write!(f, "launch failed: {e}"),
            CaseError::Mismatch(m) => write!(f, "{m}"),
        }
    }
}

impl From<dotcompute::Error> for CaseError {
    fn from(e: dotcompute::Error) -> Self {
        CaseError::Launch(e)
    }
}

/// Runs the case called `name` on the environment `setup` makes; panics with the details on a
/// failure (this is what the stamped tests call). A `setup` returning `None` skips the case,
/// saying so on stderr.
#[allow(clippy::panic)] // test harness: a failed case fails the calling #[test] by panicking
pub fn run_test(name: &str, setup: impl FnOnce() -> Option<Env>) {
    let Some(case) = CASES.iter().find(|c| c.name == name) else {
        panic!("no conformance case named `{name}`");
    };
    let Some(env) = setup() else {
        eprintln!(
            "SKIPPED conformance case `{name}`: no accelerator for this suite on this machine"
        );
        return;
    };
    // The switch holds for the CPU backend and software GPUs (lavapipe), which have
    // everything; a real GPU may lack f64 or 64-bit atomics, and an OpenCL device subgroups
    // (PoCL's capabilities are checked by the OpenCL tests), and their cases skip; so do a
    // software GPU's cases when it runs as one without 64-bit integers (which has no f64 or
    // 64-bit atomics).
    let software = (env.acc.id().backend == BackendKind::Cpu
        || env.acc.info().kind == dotcompute::AcceleratorKind::VirtualGpu)
        && !env.acc.info().capabilities.int64_emulated;
    if let Some(lacks) = case.needs.unmet(&env.acc.info().capabilities) {
        assert!(
            !software || std::env::var("DOTCOMPUTE_REQUIRE_ALL_CASES").as_deref() != Ok("1"),
            "conformance case `{name}` needs {lacks}, which {} lacks (DOTCOMPUTE_REQUIRE_ALL_CASES=1)",
            env.acc.info()
        );
        eprintln!(
            "SKIPPED conformance case `{name}` on {}: it needs {lacks}",
            env.acc.info().name
        );
        return;
    }
    match (case.run)(&env) {
        Ok(outcome) => {
            // The declaration covers what the case launched.
            let (launched, unlisted) = Needs::launched(&env.dc, &env.acc);
            if unlisted > 0 {
                panic!(
                    "conformance case `{name}` launched {unlisted} kernel(s) missing from `kernels::all()`, whose needs are unknown"
                );
            }
            if let Some(missing) = case.needs.missing(&launched) {
                panic!(
                    "conformance case `{name}` launched kernels needing {missing}, which its `needs` do not declare"
                );
            }
            eprintln!(
                "{name} on {}: {} values, max error {} ulp (tolerance {})",
                env.acc.info().name,
                outcome.compared,
                outcome.max_ulp,
                case.tolerance
            )
        }
        Err(e) => panic!(
            "conformance case `{name}` failed on {}: {e}",
            env.acc.info()
        ),
    }
}

/// Stamps out one `#[test]` per conformance case, running on the environment that `$setup`
/// (a closure returning `Option<Env>`) makes, plus a test that the list covers every case.
#[macro_export]
macro_rules! conformance_tests {
    ($setup:expr) => {
        $crate::conformance_tests!(@cases $setup; []);
    };
    // For a backend that runs one work item after another (the IR interpreter): the case
    // with 2^32 + 7 work items is stamped `#[ignore = $why]` (run it with `--ignored`).
    ($setup:expr, huge_grid_ignored: $why:literal) => {
        $crate::conformance_tests!(@cases $setup; [$why]);
    };
    (@cases $setup:expr; [$($why:literal)?]) => {
        $crate::conformance_tests!(@stamp $setup; [$($why)?];
            vector_add, saxpy, mandelbrot, nbody, matmul_f64, histogram,
            int_ops_i32, int_ops_u32, int_ops_i64, int_ops_u64, saturating_casts,
            float_math, rounding_f32, rounding_f64, math_library, black_scholes, float_bits,
            exact_float_steps, roots_and_quotients,
            float_remainder, random_findings,
            control_flow, values_and_shadowing, atomics, wide_atomics,
            grid_of_one, odd_sized_grid, empty_buffer, grid_2d, grid_3d, group_ids,
            poly8, poly32, triad, partial_sums,
            store_fault_ends_the_item,
            block_sum, group_scan, transpose_tiled, shared_out_of_bounds, tail_after_barrier,
            return_in_group_branch, histogram_shared, matmul_tiled, register_tile,
            matmul_tiled_register, private_across_barrier, private_out_of_bounds,
            return_then_uniform_loop, uniform_return_in_loop, dead_items_do_not_fault,
            group_census, shared_starts_zeroed,
            subgroup_reduce, subgroup_scan, subgroup_exchange, subgroup_vote,
            subgroup_ids, subgroup_block_sum, subgroup_in_loop, partial_subgroups_refused,
            deterministic_reductions, deterministic_scans, histograms, transposes,
            custom_algorithms, fft, gemm, radix_sort, queries);
    };
    (@stamp $setup:expr; [$($why:literal)?]; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::run_test(stringify!($case), $setup);
            }
        )*

        #[test]
        $(#[ignore = $why])?
        fn grid_beyond_u32() {
            $crate::run_test("grid_beyond_u32", $setup);
        }

        #[test]
        fn suite_covers_every_case() {
            let mut stamped = vec![$(stringify!($case)),*, "grid_beyond_u32"];
            let mut all: Vec<&str> = $crate::CASES.iter().map(|c| c.name).collect();
            stamped.sort_unstable();
            all.sort_unstable();
            assert_eq!(stamped, all, "conformance_tests! must stamp every case in CASES");
        }
    };
}
