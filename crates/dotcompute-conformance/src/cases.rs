//! The cases: each launches a kernel of [`crate::kernels`] on an accelerator and compares the
//! result with a scalar Rust reference written with release-build semantics (wrapping
//! integer arithmetic, masked shifts, saturating casts).

use crate::compare::{self, Outcome, Tolerance};
use crate::cooperative;
use crate::kernels;
use crate::random::Rng;
use crate::reference;
use crate::subgroups;
use crate::{CaseError, Env, Needs};
use dotcompute::Grid;

type CaseResult = Result<Outcome, CaseError>;

/// One conformance case.
pub struct Case {
    /// Its name (also the name of the stamped test).
    pub name: &'static str,
    /// What it checks.
    pub description: &'static str,
    /// The float tolerance its comparisons use, on every backend.
    pub tolerance: Tolerance,
    /// What it needs of an accelerator (see [`Needs`]).
    pub needs: Needs,
    /// Runs it.
    pub run: fn(&Env) -> CaseResult,
}

/// Tolerance for expressions of several transcendental functions against Rust's `std`: every
/// backend computes them with DotCompute's math library (within an ulp of the exact result,
/// as `std`'s are), so a few ulp, or a tiny absolute error next to zero. (Kernels marked
/// `fast_math` use the devices' own functions, whose bounds are far wider: no case has one.)
pub const MATH: Tolerance = Tolerance {
    ulp: 4,
    abs: 1e-6,
    own_bound: false,
};

/// Every case.
pub const CASES: &[Case] = &[
    Case {
        name: "vector_add",
        description: "out[i] = a[i] + b[i], f32, 1M+3 elements",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: vector_add,
    },
    Case {
        name: "saxpy",
        description: "y = a*x + y, f32",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: saxpy,
    },
    Case {
        name: "mandelbrot",
        description: "2-D grid, while/break, helper, u32 output",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: mandelbrot,
    },
    Case {
        name: "nbody",
        description: "for over all bodies, sqrt, mul_add, helper",
        tolerance: MATH,
        needs: Needs::NONE,
        run: nbody,
    },
    Case {
        name: "matmul_f64",
        description: "naive f64 matrix multiply with strides as scalars",
        tolerance: Tolerance::EXACT,
        needs: Needs::F64,
        run: matmul_f64,
    },
    Case {
        name: "histogram",
        description: "atomic_add on u32 bins",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: histogram,
    },
    Case {
        name: "int_ops_i32",
        description: "i32 wrapping arithmetic, shifts, bit ops, division, casts",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: int_ops_i32,
    },
    Case {
        name: "int_ops_u32",
        description: "u32 wrapping arithmetic, shifts, bit counts, rotates",
        tolerance: Tolerance::EXACT,
        needs: Needs::F64,
        run: int_ops_u32,
    },
    Case {
        name: "int_ops_i64",
        description: "i64 wrapping arithmetic, shifts, division, casts",
        tolerance: Tolerance::EXACT,
        needs: Needs::F64,
        run: int_ops_i64,
    },
    Case {
        name: "int_ops_u64",
        description: "u64 wrapping arithmetic, shifts, division, min/max",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: int_ops_u64,
    },
    Case {
        name: "saturating_casts",
        description: "float to int casts saturate, NaN to 0",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: saturating_casts,
    },
    Case {
        name: "float_math",
        description: "the float math methods against std",
        tolerance: MATH,
        needs: Needs::NONE,
        run: float_math,
    },
    Case {
        name: "rounding_f32",
        description: "f32 floor, ceil, round, trunc give std's bits at every magnitude",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: rounding_f32,
    },
    Case {
        name: "rounding_f64",
        description: "f64 floor, ceil, round, trunc give std's bits at every magnitude",
        tolerance: Tolerance::EXACT,
        needs: Needs::F64,
        run: rounding_f64,
    },
    Case {
        name: "math_library",
        description: "every function of the math library (f32, f64), sin_cos included, gives the library's bits exactly",
        tolerance: Tolerance::EXACT,
        needs: Needs::F64,
        run: math_library,
    },
    Case {
        name: "black_scholes",
        description: "Black-Scholes (f32, f64): helpers, ln, exp, sqrt; the same bits as the library on the host",
        tolerance: Tolerance::EXACT,
        needs: Needs::F64,
        run: black_scholes,
    },
    Case {
        name: "roots_and_quotients",
        description: "sqrt, / and recip on f32 and f64 of every exponent: the correctly rounded bits",
        tolerance: Tolerance::EXACT,
        needs: Needs::F64,
        run: roots_and_quotients,
    },
    Case {
        name: "float_remainder",
        description: "% on f32 and f64 of every exponent pair, subnormals and rounded-up quotients: std's bits",
        tolerance: Tolerance::EXACT,
        needs: Needs::F64,
        run: float_remainder,
    },
    Case {
        name: "random_findings",
        description: "what random differential testing found: float != with NaN, u32 as i64, operations on constants",
        tolerance: Tolerance::EXACT,
        needs: Needs::F64,
        run: random_findings,
    },
    Case {
        name: "exact_float_steps",
        description: "(x + c) - c, 1 - (1 - x), two-sum's error term, x - x and x * 0 of f32, bit for bit: what a compiler treating floats as reals folds",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: exact_float_steps,
    },
    Case {
        name: "float_bits",
        description: "to_bits, from_bits, copysign on f32 and f64, signed zeros, NaN, subnormals",
        tolerance: Tolerance::EXACT,
        needs: Needs::F64,
        run: float_bits,
    },
    Case {
        name: "control_flow",
        description: "while, loop, break, continue, return, step_by, ..=",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: control_flow,
    },
    Case {
        name: "values_and_shadowing",
        description: "if as a value, shadowing, compound assignment",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: values_and_shadowing,
    },
    Case {
        name: "wide_atomics",
        description: "compare-exchange on u64/i64, f64 add, f32/f64 exchange, 64-bit atomics on shared arrays",
        tolerance: Tolerance::EXACT,
        needs: Needs {
            atomics64: true,
            float_atomics: true,
            ..Needs::F64.and(Needs::cooperative(16))
        },
        run: wide_atomics,
    },
    Case {
        name: "atomics",
        description: "every atomic on 32/64-bit integers and f32 add",
        tolerance: Tolerance::EXACT,
        needs: Needs {
            atomics64: true,
            float_atomics: true,
            ..Needs::NONE
        },
        run: atomics,
    },
    Case {
        name: "grid_of_one",
        description: "a grid of one work item",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: grid_of_one,
    },
    Case {
        name: "odd_sized_grid",
        description: "a grid of a prime size, no multiple of any chunk",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: odd_sized_grid,
    },
    Case {
        name: "empty_buffer",
        description: "an empty buffer as an argument",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: empty_buffer,
    },
    Case {
        name: "grid_2d",
        description: "a 2-D grid of odd sizes",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: grid_2d,
    },
    Case {
        name: "grid_3d",
        description: "a 3-D grid",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: grid_3d,
    },
    Case {
        name: "subgroup_reduce",
        description: "subgroup_add/min/max of f32 (mixed magnitudes) and i64, in the language's butterfly order; items beyond the grid count as identities",
        tolerance: Tolerance::EXACT,
        needs: Needs::subgroups(0),
        run: subgroups::reduce,
    },
    Case {
        name: "subgroup_scan",
        description: "subgroup_inclusive_add / exclusive_add of u32 (wrapping) and f32, in the language's Hillis-Steele order",
        tolerance: Tolerance::EXACT,
        needs: Needs::subgroups(0),
        run: subgroups::scan,
    },
    Case {
        name: "subgroup_exchange",
        description: "subgroup_broadcast, shuffle (reversal) and shuffle_xor of f64 and i32",
        tolerance: Tolerance::EXACT,
        needs: Needs::F64.and(Needs::subgroups(0)),
        run: subgroups::exchange,
    },
    Case {
        name: "subgroup_vote",
        description: "subgroup_any / subgroup_all",
        tolerance: Tolerance::EXACT,
        needs: Needs::subgroups(0),
        run: subgroups::vote,
    },
    Case {
        name: "subgroup_ids",
        description: "subgroup_size() and subgroup_lane() in 2-D groups: lanes follow the linear local id",
        tolerance: Tolerance::EXACT,
        needs: Needs::subgroups(0),
        run: subgroups::ids,
    },
    Case {
        name: "subgroup_block_sum",
        description: "a two-level block sum: subgroup sums kept by lane 0 in a shared array, a barrier, their sum per group",
        tolerance: Tolerance::EXACT,
        needs: Needs::subgroups(256),
        run: subgroups::block_sum,
    },
    Case {
        name: "subgroup_in_loop",
        description: "subgroup sums in a uniform loop, each round's operand computed in it",
        tolerance: Tolerance::EXACT,
        needs: Needs::subgroups(0),
        run: subgroups::in_loop,
    },
    Case {
        name: "partial_subgroups_refused",
        description: "a subgroup kernel launched with groups that are no multiple of the subgroup size: Error::InvalidGrid",
        tolerance: Tolerance::EXACT,
        needs: Needs::subgroups(0),
        run: subgroups::partial_subgroups_refused,
    },
    Case {
        name: "deterministic_reductions",
        description: "algorithms::sum/product/min/max/argmin/argmax of f32, f64 and integers of mixed magnitudes, 0 to 300,001 elements (one and two passes): the bits of the documented order",
        tolerance: Tolerance::EXACT,
        needs: Needs::F64.and(Needs::cooperative(4096)),
        run: crate::algorithms::reductions,
    },
    Case {
        name: "deterministic_scans",
        description: "algorithms::inclusive_scan / exclusive_scan of f32 (mixed magnitudes), f64, u32 and i64, 0 to 70,001 elements: the bits of the documented order",
        tolerance: Tolerance::EXACT,
        needs: Needs::F64.and(Needs::cooperative(2048)),
        run: crate::algorithms::scans,
    },
    Case {
        name: "histograms",
        description: "algorithms::histogram of f32 (NaNs, edges, infinities), i32 over a negative range and u64 over nearly all of u64, into 1, 7 and 4096 bins",
        tolerance: Tolerance::EXACT,
        needs: Needs::cooperative(16384),
        run: crate::algorithms::histograms,
    },
    Case {
        name: "transposes",
        description: "algorithms::transpose of f64 and u32 matrices of shapes that are not multiples of the 16 x 16 tile",
        tolerance: Tolerance::EXACT,
        needs: Needs::F64.and(Needs::cooperative(2176)),
        run: crate::algorithms::transposes,
    },
    Case {
        name: "custom_algorithms",
        description: "define_reduction! (a non-commutative combiner of packed affine maps, the largest magnitude, an f64 sum that must give algorithms::sum's bits) and define_compaction! (odd integers; positive floats among NaNs and zeros; all and none kept), 0 to 300,001 elements: the bits of the documented order",
        tolerance: Tolerance::EXACT,
        needs: Needs::F64.and(Needs::cooperative(2048)),
        run: crate::algorithms::custom_algorithms,
    },
    Case {
        name: "queries",
        description: "query! chains, 0 to 70,001 elements: map.filter.sum of f32 with captures (the bits of algorithms::sum over the mapped values), filter.map.collect of u32 (the filter guards a division by zero), map.collect u32 to f64, map.sum u32 to u64, filter.count and filter.min of i64, map.max of f32 (the bits of algorithms::max), all and any, zip of f32 and u32 filtered as pairs then summed (the bits of algorithms::sum), an index range filtered and summed, enumerate with a filter on the position",
        tolerance: Tolerance::EXACT,
        needs: Needs::F64.and(Needs::cooperative(16384)),
        run: crate::queries::queries,
    },
    Case {
        name: "fft",
        description: "algorithms::Fft of f32 and f64, lengths 1, 2, 8, 1024 and 3, 5, 100, 1009 (Bluestein on GPUs), batches of 1 and 3, forward and inverse: within 10 (log2 m + 2) u sum|x| of an f64 DFT; length 0 and wrong sizes refused",
        tolerance: Tolerance::OWN_BOUND,
        needs: Needs::F64,
        run: crate::algorithms::ffts,
    },
    Case {
        name: "gemm",
        description: "algorithms::Gemm of f32 and f64, shapes that are no multiples of the 64 x 64 block (k = 0 and 1 too), every transpose, alpha/beta 1/0 (the old C all NaN), 0.5/-2, 0/1.5: within the standard error bound of an f64 reference",
        tolerance: Tolerance::OWN_BOUND,
        needs: Needs::F64.and(Needs::cooperative(16384)),
        run: crate::algorithms::gemms,
    },
    Case {
        name: "radix_sort",
        description: "algorithms::sort of u32 keys (random, and few distinct values), i32, u64, i64, f32 and f64 (total_cmp order, every bit pattern); sort_pairs (stable: few distinct keys, u32 and f64 keys with u32 and f32 values) and argsort; 0 to 100,003 keys",
        tolerance: Tolerance::EXACT,
        needs: Needs::F64.and(Needs::cooperative(1088)),
        run: crate::algorithms::sorts,
    },
    Case {
        name: "block_sum",
        description: "a shared-memory tree sum per group, barriers in a uniform loop, a grid that is no multiple of the group",
        tolerance: Tolerance::EXACT,
        needs: Needs::cooperative(1024),
        run: block_sum,
    },
    Case {
        name: "group_scan",
        description: "a work-group inclusive scan, a value kept per item across barriers",
        tolerance: Tolerance::EXACT,
        needs: Needs::cooperative(512),
        run: group_scan,
    },
    Case {
        name: "transpose_tiled",
        description: "a transpose through a 16 x 17 shared tile, on 2-D groups",
        tolerance: Tolerance::EXACT,
        needs: Needs::cooperative(1088),
        run: transpose_tiled,
    },
    Case {
        name: "store_fault_ends_the_item",
        description: "a store out of bounds ends its work item: a loop only the fault leaves stops there",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: store_fault_ends_the_item,
    },
    Case {
        name: "shared_out_of_bounds",
        description: "a shared array read out of bounds faults, naming the array and index",
        tolerance: Tolerance::EXACT,
        needs: Needs::cooperative(256),
        run: shared_out_of_bounds,
    },
    Case {
        name: "tail_after_barrier",
        description: "items return after the last barrier",
        tolerance: Tolerance::EXACT,
        needs: Needs::cooperative(256),
        run: tail_after_barrier,
    },
    Case {
        name: "return_in_group_branch",
        description: "an item that returns inside a statement holding a barrier skips what follows it",
        tolerance: Tolerance::EXACT,
        needs: Needs::cooperative(256),
        run: return_in_group_branch,
    },
    Case {
        name: "histogram_shared",
        description: "a histogram with per-group shared bins (shared atomics) merged by global atomics",
        tolerance: Tolerance::EXACT,
        needs: Needs::cooperative(1024),
        run: histogram_shared,
    },
    Case {
        name: "matmul_tiled",
        description: "an f32 matrix product through 16 x 16 shared tiles, on a size no multiple of 16, against the naive kernel",
        tolerance: Tolerance::EXACT,
        needs: Needs::cooperative(2048),
        run: matmul_tiled,
    },
    Case {
        name: "register_tile",
        description: "a matrix product with a private-array register tile per item",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: register_tile,
    },
    Case {
        name: "matmul_tiled_register",
        description: "a matrix product through shared tiles with a private register tile per item, on a size no multiple of the tiles",
        tolerance: Tolerance::EXACT,
        needs: Needs::cooperative(5120),
        run: matmul_tiled_register,
    },
    Case {
        name: "private_across_barrier",
        description: "a private array kept by each item across a barrier",
        tolerance: Tolerance::EXACT,
        needs: Needs::cooperative(256),
        run: private_across_barrier,
    },
    Case {
        name: "private_out_of_bounds",
        description: "a private array read out of bounds faults, naming the array and index",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: private_out_of_bounds,
    },
    Case {
        name: "return_then_uniform_loop",
        description: "a uniform loop after item 0 of each group returned",
        tolerance: Tolerance::EXACT,
        needs: Needs::cooperative(256),
        run: return_then_uniform_loop,
    },
    Case {
        name: "uniform_return_in_loop",
        description: "a loop left by a return under a uniform condition",
        tolerance: Tolerance::EXACT,
        needs: Needs::cooperative(256),
        run: uniform_return_in_loop,
    },
    Case {
        name: "dead_items_do_not_fault",
        description: "items that returned (or lie beyond the grid) report no fault from uniform code",
        tolerance: Tolerance::EXACT,
        needs: Needs::cooperative(256),
        run: dead_items_do_not_fault,
    },
    Case {
        name: "group_census",
        description: "3-D groups, partial at the grid's edges: group and local ids, num_groups, a shared array",
        tolerance: Tolerance::EXACT,
        needs: Needs::cooperative(512),
        run: group_census,
    },
    Case {
        name: "shared_starts_zeroed",
        description: "shared arrays (plain u32, atomic i32, plain u64) are zero in each of 512 groups, though every group fills them",
        tolerance: Tolerance::EXACT,
        needs: Needs::cooperative(4_800),
        run: shared_starts_zeroed,
    },
    Case {
        name: "group_ids",
        description: "group and local ids with an explicit group size",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: group_ids,
    },
    Case {
        name: "grid_beyond_u32",
        description: "a 1-D grid of 2^32 + 7 work items (64-bit ids)",
        tolerance: Tolerance::EXACT,
        needs: Needs {
            large_grids: true,
            ..Needs::NONE
        },
        run: grid_beyond_u32,
    },
    Case {
        name: "poly8",
        description: "degree-8 polynomial per element",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: poly8,
    },
    Case {
        name: "triad",
        description: "STREAM triad a = b + s*c",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: triad,
    },
    Case {
        name: "poly32",
        description: "degree-32 polynomial per element (loop of constant trip count)",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: poly32,
    },
    Case {
        name: "partial_sums",
        description: "sum reduction, first pass, uneven last chunk",
        tolerance: Tolerance::EXACT,
        needs: Needs::NONE,
        run: partial_sums,
    },
];

fn mismatch(m: compare::Mismatch) -> CaseError {
    CaseError::Mismatch(m)
}

fn vector_add(env: &Env) -> CaseResult {
    let n = 1_000_003;
    let mut rng = Rng::new(1);
    let a = rng.f32s(n, -1e3, 1e3);
    let b = rng.f32s(n, -1e3, 1e3);
    let (da, db) = (env.dc.buffer_from_slice(&a)?, env.dc.buffer_from_slice(&b)?);
    let mut out = env.dc.buffer_zeroed::<f32>(n)?;
    kernels::vector_add::launch(&env.acc, n, &da, &db, &mut out)?;
    let want: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
    compare::floats_f32("out", &out.to_vec()?, &want, Tolerance::EXACT).map_err(mismatch)
}

fn saxpy(env: &Env) -> CaseResult {
    let n = 65_537;
    let mut rng = Rng::new(2);
    let x = rng.f32s(n, -10.0, 10.0);
    let y = rng.f32s(n, -10.0, 10.0);
    let dx = env.dc.buffer_from_slice(&x)?;
    let mut dy = env.dc.buffer_from_slice(&y)?;
    kernels::saxpy::launch(&env.acc, n, 2.5, &dx, &mut dy)?;
    let want: Vec<f32> = x.iter().zip(&y).map(|(x, y)| 2.5 * x + y).collect();
    compare::floats_f32("y", &dy.to_vec()?, &want, Tolerance::EXACT).map_err(mismatch)
}

fn mandelbrot(env: &Env) -> CaseResult {
    let (w, h, max_iter) = (257usize, 131usize, 200u32);
    let (x0, y0, step) = (-2.2f32, -1.3f32, 2.6f32 / h as f32);
    let mut out = env.dc.buffer_zeroed::<u32>(w * h)?;
    kernels::mandelbrot::launch(&env.acc, (w, h), x0, y0, step, max_iter, &mut out)?;
    let mut want = vec![0u32; w * h];
    for py in 0..h {
        for px in 0..w {
            let cx = x0 + px as f32 * step;
            let cy = y0 + py as f32 * step;
            want[py * w + px] = kernels::escape_time(cx, cy, max_iter);
        }
    }
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn nbody(env: &Env) -> CaseResult {
    let n = 777;
    let mut rng = Rng::new(3);
    let pos = rng.f32s(3 * n, -100.0, 100.0);
    let mass = rng.f32s(n, 0.1, 10.0);
    let soft = 0.01f32;
    let (dp, dm) = (
        env.dc.buffer_from_slice(&pos)?,
        env.dc.buffer_from_slice(&mass)?,
    );
    let mut acc = env.dc.buffer_zeroed::<f32>(3 * n)?;
    kernels::nbody_accel::launch(&env.acc, n, &dp, &dm, soft, &mut acc)?;
    let mut want = vec![0f32; 3 * n];
    for i in 0..n {
        let (mut ax, mut ay, mut az) = (0f32, 0f32, 0f32);
        for j in 0..n {
            let dx = pos[3 * j] - pos[3 * i];
            let dy = pos[3 * j + 1] - pos[3 * i + 1];
            let dz = pos[3 * j + 2] - pos[3 * i + 2];
            let d2 = dx.mul_add(dx, dy.mul_add(dy, dz * dz));
            let s = mass[j] * kernels::inv_dist_cubed(d2, soft);
            ax = dx.mul_add(s, ax);
            ay = dy.mul_add(s, ay);
            az = dz.mul_add(s, az);
        }
        want[3 * i..3 * i + 3].copy_from_slice(&[ax, ay, az]);
    }
    compare::floats_f32("acc", &acc.to_vec()?, &want, MATH).map_err(mismatch)
}

fn matmul_f64(env: &Env) -> CaseResult {
    let (m, k, n) = (37usize, 23usize, 41usize);
    let (lda, ldb, ldc) = (k + 3, n + 1, n + 5);
    let mut rng = Rng::new(4);
    let a: Vec<f64> = (0..m * lda).map(|_| rng.f64_in(-1.0, 1.0)).collect();
    let b: Vec<f64> = (0..k * ldb).map(|_| rng.f64_in(-1.0, 1.0)).collect();
    let (da, db) = (env.dc.buffer_from_slice(&a)?, env.dc.buffer_from_slice(&b)?);
    let mut dc = env.dc.buffer_zeroed::<f64>(m * ldc)?;
    kernels::matmul_f64::launch(
        &env.acc,
        (n, m),
        &da,
        &db,
        &mut dc,
        k as u32,
        lda as u32,
        ldb as u32,
        ldc as u32,
    )?;
    let mut want = vec![0f64; m * ldc];
    for row in 0..m {
        for col in 0..n {
            let mut sum = 0.0;
            for p in 0..k {
                sum += a[row * lda + p] * b[p * ldb + col];
            }
            want[row * ldc + col] = sum;
        }
    }
    compare::floats_f64("c", &dc.to_vec()?, &want, Tolerance::EXACT).map_err(mismatch)
}

fn histogram(env: &Env) -> CaseResult {
    let n = 300_007;
    let mut rng = Rng::new(5);
    let values: Vec<u32> = (0..n).map(|_| (rng.next_u64() % 10_000) as u32).collect();
    let dv = env.dc.buffer_from_slice(&values)?;
    let mut bins = env.dc.buffer_zeroed::<u32>(97)?;
    kernels::histogram::launch(&env.acc, n, &dv, &mut bins)?;
    let mut want = vec![0u32; 97];
    for v in &values {
        want[*v as usize % 97] += 1;
    }
    compare::exact("bins", &bins.to_vec()?, &want).map_err(mismatch)
}

fn edge_i32(rng: &mut Rng, n: usize) -> Vec<i32> {
    let special = [
        0,
        1,
        -1,
        2,
        31,
        32,
        33,
        63,
        64,
        i32::MAX,
        i32::MIN,
        i32::MIN + 1,
        1000,
        -1000,
    ];
    (0..n)
        .map(|i| special.get(i).copied().unwrap_or(rng.next_u64() as i32))
        .collect()
}

fn int_ops_i32(env: &Env) -> CaseResult {
    let n = 4099;
    let mut rng = Rng::new(6);
    let a = edge_i32(&mut rng, n);
    let mut b = edge_i32(&mut rng, n);
    b.rotate_left(3);
    let (da, db) = (env.dc.buffer_from_slice(&a)?, env.dc.buffer_from_slice(&b)?);
    let mut out = env.dc.buffer_zeroed::<i32>(12 * n)?;
    kernels::int_ops_i32::launch(&env.acc, n, &da, &db, &mut out)?;
    let mut want = Vec::with_capacity(12 * n);
    for (&x, &y) in a.iter().zip(&b) {
        let d = if y == 0 { 7 } else { y };
        want.extend_from_slice(&[
            x.wrapping_add(y),
            x.wrapping_sub(y),
            x.wrapping_mul(y),
            x.wrapping_shl(y as u32),
            x.wrapping_shr((y & 63) as u32),
            (x & y) ^ (x | !y),
            if x == i32::MIN && d == -1 { 0 } else { x / d },
            if x == i32::MIN && d == -1 { 0 } else { x % d },
            x.wrapping_neg(),
            x.wrapping_abs().min(y.max(-5)),
            ((x as u32).count_ones() as i32).wrapping_add((y as u32).rotate_left(3) as i32),
            ((x as f32 * 1.5) as i32).wrapping_add(((y as i64) >> 40) as i32),
        ]);
    }
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn int_ops_u32(env: &Env) -> CaseResult {
    let n = 4099;
    let mut rng = Rng::new(7);
    let special = [
        0u32,
        1,
        2,
        31,
        32,
        33,
        u32::MAX,
        u32::MAX - 1,
        1 << 31,
        1000,
    ];
    let a: Vec<u32> = (0..n)
        .map(|i| special.get(i).copied().unwrap_or(rng.next_u64() as u32))
        .collect();
    let b: Vec<u32> = (0..n)
        .map(|i| {
            special
                .get(n - 1 - i)
                .copied()
                .unwrap_or(rng.next_u64() as u32)
        })
        .collect();
    let (da, db) = (env.dc.buffer_from_slice(&a)?, env.dc.buffer_from_slice(&b)?);
    let mut out = env.dc.buffer_zeroed::<u32>(10 * n)?;
    kernels::int_ops_u32::launch(&env.acc, n, &da, &db, &mut out)?;
    let mut want = Vec::with_capacity(10 * n);
    for (&x, &y) in a.iter().zip(&b) {
        let d = y | 1;
        want.extend_from_slice(&[
            x.wrapping_add(y),
            x.wrapping_sub(y),
            x.wrapping_mul(y),
            x.wrapping_shl(y),
            x.wrapping_shr(y),
            x & !y | (x ^ y) >> 3,
            (x / d).wrapping_add(x % d),
            x.leading_zeros()
                .wrapping_add(x.trailing_zeros().wrapping_mul(100)),
            x.rotate_right(y) ^ x.clamp(10, 1000),
            (x as i32 as i64 as u32).wrapping_add((x as f64 * 0.25) as u32),
        ]);
    }
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn int_ops_i64(env: &Env) -> CaseResult {
    let n = 2053;
    let mut rng = Rng::new(8);
    let special = [
        0i64,
        1,
        -1,
        63,
        64,
        65,
        i64::MAX,
        i64::MIN,
        i64::MIN + 1,
        -(1 << 40),
    ];
    let a: Vec<i64> = (0..n)
        .map(|i| special.get(i).copied().unwrap_or(rng.next_u64() as i64))
        .collect();
    let b: Vec<i64> = (0..n)
        .map(|i| {
            special
                .get((i + 2) % 11)
                .copied()
                .unwrap_or(rng.next_u64() as i64 >> (i % 60))
        })
        .collect();
    let (da, db) = (env.dc.buffer_from_slice(&a)?, env.dc.buffer_from_slice(&b)?);
    let mut out = env.dc.buffer_zeroed::<i64>(8 * n)?;
    kernels::int_ops_i64::launch(&env.acc, n, &da, &db, &mut out)?;
    let mut want = Vec::with_capacity(8 * n);
    for (&x, &y) in a.iter().zip(&b) {
        let d = if y == 0 { 3 } else { y };
        want.extend_from_slice(&[
            x.wrapping_add(y),
            x.wrapping_sub(y.wrapping_mul(3)),
            x.wrapping_mul(y),
            x.wrapping_shl(y as u32),
            x >> 17,
            if x == i64::MIN && d == -1 {
                1
            } else {
                (x / d).wrapping_sub(x % d)
            },
            ((x as i32) as i64).wrapping_add(((x as u64) >> 60) as i64),
            (x as f64) as i64 ^ (y as f32) as i64,
        ]);
    }
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn int_ops_u64(env: &Env) -> CaseResult {
    let n = 2053;
    let mut rng = Rng::new(9);
    let special = [0u64, 1, 63, 64, 65, u64::MAX, 1 << 63];
    let a: Vec<u64> = (0..n)
        .map(|i| special.get(i).copied().unwrap_or(rng.next_u64()))
        .collect();
    let b: Vec<u64> = (0..n)
        .map(|i| special.get(n - 1 - i).copied().unwrap_or(rng.next_u64()))
        .collect();
    let (da, db) = (env.dc.buffer_from_slice(&a)?, env.dc.buffer_from_slice(&b)?);
    let mut out = env.dc.buffer_zeroed::<u64>(6 * n)?;
    kernels::int_ops_u64::launch(&env.acc, n, &da, &db, &mut out)?;
    let mut want = Vec::with_capacity(6 * n);
    for (&x, &y) in a.iter().zip(&b) {
        want.extend_from_slice(&[
            x.wrapping_add(y.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            x.wrapping_sub(y),
            (x ^ (x >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd),
            x.wrapping_shl((y % 80) as u32),
            (x / (y | 1)).wrapping_add(x % (y | 1)),
            (x.count_ones() as u64)
                .wrapping_add(x.max(y))
                .wrapping_sub(x.min(y))
                .wrapping_add((x as u32) as u64),
        ]);
    }
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn saturating_casts(env: &Env) -> CaseResult {
    let mut x = vec![
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        0.0,
        -0.0,
        0.5,
        -0.5,
        1.5,
        -1.5,
        2.5e9,
        -2.5e9,
        4.5e9,
        1e19,
        -1e19,
        1e30,
        -1e30,
        f32::MAX,
        f32::MIN,
    ];
    let mut rng = Rng::new(10);
    x.extend(rng.f32s(1000, -5e9, 5e9));
    let n = x.len();
    let dx = env.dc.buffer_from_slice(&x)?;
    let mut oi = env.dc.buffer_zeroed::<i32>(n)?;
    let mut ou = env.dc.buffer_zeroed::<u32>(n)?;
    let mut ol = env.dc.buffer_zeroed::<i64>(n)?;
    kernels::saturating_casts::launch(&env.acc, n, &dx, &mut oi, &mut ou, &mut ol)?;
    let wi: Vec<i32> = x.iter().map(|&v| v as i32).collect();
    let wu: Vec<u32> = x.iter().map(|&v| v as u32).collect();
    let wl: Vec<i64> = x.iter().map(|&v| v as i64).collect();
    let a = compare::exact("out_i32", &oi.to_vec()?, &wi).map_err(mismatch)?;
    let b = compare::exact("out_u32", &ou.to_vec()?, &wu).map_err(mismatch)?;
    let c = compare::exact("out_i64", &ol.to_vec()?, &wl).map_err(mismatch)?;
    Ok(a.merge(b).merge(c))
}

fn float_math(env: &Env) -> CaseResult {
    let mut rng = Rng::new(11);
    let mut x = vec![
        0.0f32,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -2.5,
        3.5,
        100.0,
        f32::NAN,
        1e-3,
    ];
    let mut y = vec![
        1.0f32,
        -1.0,
        0.0,
        2.0,
        -0.5,
        2.5,
        f32::INFINITY,
        -3.0,
        1.0,
        f32::NAN,
    ];
    x.extend(rng.f32s(2000, -30.0, 30.0));
    y.extend(rng.f32s(2000, -30.0, 30.0));
    let n = x.len();
    let (dx, dy) = (env.dc.buffer_from_slice(&x)?, env.dc.buffer_from_slice(&y)?);
    let mut out = env.dc.buffer_zeroed::<f32>(16 * n)?;
    kernels::float_math::launch(&env.acc, n, &dx, &dy, &mut out)?;
    let mut want = Vec::with_capacity(16 * n);
    for (&a, &b) in x.iter().zip(&y) {
        want.extend_from_slice(&[
            a.abs().sqrt() + a.exp2().min(1e30),
            a.min(50.0).exp(),
            a.abs().ln() + (a.abs() + 1.0).log2() + (a.abs() + 1.0).log10(),
            a.sin() + a.cos() * 2.0,
            a.tan().clamp(-100.0, 100.0) + a.tanh(),
            (a / 1000.0).asin() + (b / 1000.0).acos() + a.atan(),
            a.atan2(b) + a.hypot(b),
            a.abs().powf(0.37) + a.powi(3),
            a.floor() + b.ceil() * 3.0,
            a.round() + (b * 0.5).trunc() * 7.0,
            a.mul_add(b, 1.0),
            a.min(b) - a.max(b),
            a.clamp(-1.0, 1.0) + std::f32::consts::PI,
            (a * 0.1).sinh() + (b * 0.1).cosh() + a.cbrt(),
            if a.is_nan() || b.is_infinite() {
                -1.0
            } else {
                a.recip()
            },
            if (a - b).is_finite() { a % b } else { 0.0 },
        ]);
    }
    compare::floats_f32("out", &out.to_vec()?, &want, MATH).map_err(mismatch)
}

/// Inputs for the math functions: special values, subnormals, each function's limits, and
/// random values of every magnitude.
fn math_inputs_f32(rng: &mut Rng) -> Vec<f32> {
    let mut x = vec![
        0.0f32,
        -0.0,
        1.0,
        -1.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::from_bits(1),
        1e-40,
        f32::MIN_POSITIVE,
        88.72283,
        88.72284,
        std::f32::consts::PI,
        std::f32::consts::FRAC_PI_2,
        4095.9998,
        4096.0,
        1e10,
        9.946866e19,
        -87.33654,
        -103.97208,
        -104.0,
        127.99999,
        128.0,
        -149.5,
        -150.0,
        0.999_999_9,
        1.000_000_1,
        f32::MAX,
    ];
    x.extend(rng.f32s(2000, -110.0, 110.0));
    x.extend(rng.f32s(500, -1.2, 1.2));
    x.extend((0..2000).map(|_| f32::from_bits(rng.next_u64() as u32)));
    x
}

/// Rounding inputs: halves and integers near each power of two where an implementation
/// through integer conversion breaks (2^23, 2^31, 2^32, 2^52, 2^63, 2^64), signed zeros,
/// subnormals, infinities, NaN, and random values of every magnitude.
fn rounding_inputs(rng: &mut Rng, mantissa_bits: i32, max_exponent: i32) -> Vec<f64> {
    let mut x = vec![
        0.0,
        0.5,
        1.5,
        2.5,
        0.49999999999999994,
        1e-310,
        f64::INFINITY,
        f64::NAN,
    ];
    for e in [22, 23, 24, 30, 31, 32, 33, 51, 52, 53, 62, 63, 64, 65] {
        let p = 2f64.powi(e);
        x.extend([p, p - 1.0, p + 1.0, p - 0.5, p + 0.5, p - 1.5, p + 2.5]);
    }
    for e in -8..=max_exponent.min(mantissa_bits + 12) {
        let p = 2f64.powi(e);
        x.extend((0..24).map(|_| rng.f64_in(-1.0, 1.0) * p));
    }
    x.extend((0..1000).map(|_| f64::from_bits(rng.next_u64())));
    let negated: Vec<f64> = x.iter().map(|v| -v).collect();
    x.extend(negated);
    x
}

/// Compares a rounding kernel's four outputs per input, naming the input of a mismatch.
fn check_rounding<T: Copy + std::fmt::LowerExp>(
    result: Result<compare::Outcome, compare::Mismatch>,
    x: &[T],
) -> CaseResult {
    result.map_err(|mut m| {
        let function = ["floor", "ceil", "round", "trunc"][m.index % 4];
        m.got = format!("{} ({function} of {:e})", m.got, x[m.index / 4]);
        mismatch(m)
    })
}

fn rounding_f32(env: &Env) -> CaseResult {
    let mut rng = Rng::new(29);
    let mut x: Vec<f32> = rounding_inputs(&mut rng, 24, 127)
        .into_iter()
        .map(|v| v as f32)
        .collect();
    x.extend([
        1e-40,
        f32::MIN_POSITIVE,
        f32::MAX,
        0.49999997,
        8388607.5,
        4194303.5,
    ]);
    x.extend((0..1000).map(|_| f32::from_bits(rng.next_u64() as u32)));
    let dx = env.dc.buffer_from_slice(&x)?;
    let mut out = env.dc.buffer_zeroed::<f32>(4 * x.len())?;
    kernels::rounding_f32::launch(&env.acc, x.len(), &dx, &mut out)?;
    let want: Vec<f32> = x
        .iter()
        .flat_map(|v| [v.floor(), v.ceil(), v.round(), v.trunc()])
        .collect();
    let got = out.to_vec()?;
    check_rounding(
        compare::floats_f32("out (f32)", &got, &want, Tolerance::EXACT),
        &x,
    )
}

fn rounding_f64(env: &Env) -> CaseResult {
    let mut rng = Rng::new(31);
    let mut x = rounding_inputs(&mut rng, 53, 1023);
    x.extend([
        f64::MIN_POSITIVE,
        f64::MAX,
        4503599627370495.5,
        2251799813685247.5,
    ]);
    let dx = env.dc.buffer_from_slice(&x)?;
    let mut out = env.dc.buffer_zeroed::<f64>(4 * x.len())?;
    kernels::rounding_f64::launch(&env.acc, x.len(), &dx, &mut out)?;
    let want: Vec<f64> = x
        .iter()
        .flat_map(|v| [v.floor(), v.ceil(), v.round(), v.trunc()])
        .collect();
    let got = out.to_vec()?;
    check_rounding(
        compare::floats_f64("out (f64)", &got, &want, Tolerance::EXACT),
        &x,
    )
}

fn math_library(env: &Env) -> CaseResult {
    use dotcompute_math::{asin, atan, cbrt, exp, expm1, hyperbolic, hypot, log, pow, powi, trig};
    let mut rng = Rng::new(23);
    let x = math_inputs_f32(&mut rng);
    let n: Vec<i32> = (0..x.len())
        .map(|_| (rng.next_u64() % 41) as i32 - 20)
        .collect();
    let (dx, dn) = (env.dc.buffer_from_slice(&x)?, env.dc.buffer_from_slice(&n)?);
    let mut out = env.dc.buffer_zeroed::<f32>(24 * x.len())?;
    kernels::math_library_f32::launch(&env.acc, x.len(), &dx, &dn, &mut out)?;
    let mut want = Vec::with_capacity(24 * x.len());
    for (i, (&a, &k)) in x.iter().zip(&n).enumerate() {
        want.extend_from_slice(&[
            exp::exp_f32(a),
            exp::exp2_f32(a),
            log::ln_f32(a),
            log::log2_f32(a),
            log::log10_f32(a),
            powi::powi_f32(a, k),
            trig::sin_f32(a),
            trig::cos_f32(a),
            hypot::hypot_f32(a, x[(i * 7 + 3) % x.len()]),
            expm1::exp_m1_f32(a),
            atan::atan_f32(a),
            hyperbolic::sinh_f32(a),
            hyperbolic::cosh_f32(a),
            hyperbolic::tanh_f32(a),
            atan::atan2_f32(a, x[(i * 5 + 1) % x.len()]),
            asin::asin_f32(a),
            asin::acos_f32(a),
            cbrt::cbrt_f32(a),
            asin::asin_f32(a * 1e-3) + asin::acos_f32(a * 1e-3),
            trig::tan_f32(a),
            pow::powf_f32(a, x[(i * 3 + 2) % x.len()]),
            log::ln_1p_f32(a),
            trig::sin_f32(a),
            trig::cos_f32(a),
        ]);
    }
    compare::floats_f32("out (f32)", &out.to_vec()?, &want, Tolerance::EXACT).map_err(mismatch)?;

    let mut y: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    y.extend([
        709.78,
        709.79,
        -745.13,
        -745.14,
        1023.999,
        -1074.5,
        1e-310,
        f64::MAX,
    ]);
    y.extend((0..2000).map(|_| f64::from_bits(rng.next_u64())));
    y.extend((0..2000).map(|_| rng.f64_in(-760.0, 760.0)));
    let n: Vec<i32> = (0..y.len())
        .map(|_| (rng.next_u64() % 41) as i32 - 20)
        .collect();
    let (dy, dn) = (env.dc.buffer_from_slice(&y)?, env.dc.buffer_from_slice(&n)?);
    let mut out = env.dc.buffer_zeroed::<f64>(24 * y.len())?;
    kernels::math_library_f64::launch(&env.acc, y.len(), &dy, &dn, &mut out)?;
    let mut want = Vec::with_capacity(24 * y.len());
    for (i, (&a, &k)) in y.iter().zip(&n).enumerate() {
        want.extend_from_slice(&[
            exp::exp_f64(a),
            exp::exp2_f64(a),
            log::ln_f64(a),
            log::log2_f64(a),
            log::log10_f64(a),
            powi::powi_f64(a, k),
            hypot::hypot_f64(a, y[(i * 7 + 3) % y.len()]),
            expm1::exp_m1_f64(a),
            atan::atan_f64(a),
            hyperbolic::sinh_f64(a),
            hyperbolic::cosh_f64(a),
            hyperbolic::tanh_f64(a),
            atan::atan2_f64(a, y[(i * 5 + 1) % y.len()]),
            asin::asin_f64(a),
            asin::acos_f64(a),
            cbrt::cbrt_f64(a),
            asin::asin_f64(a * 1e-3) + asin::acos_f64(a * 1e-3),
            pow::powf_f64(a, y[(i * 3 + 2) % y.len()]),
            trig::sin_f64(a),
            trig::cos_f64(a),
            trig::tan_f64(a),
            log::ln_1p_f64(a),
            trig::sin_f64(a * 3.0),
            trig::cos_f64(a * 3.0),
        ]);
    }
    compare::floats_f64("out (f64)", &out.to_vec()?, &want, Tolerance::EXACT).map_err(mismatch)
}

/// Options for Black-Scholes: spot and strike in [10, 100), maturity in [0.1, 2) years.
pub fn options_f32(n: usize, seed: u64) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(seed);
    (
        rng.f32s(n, 10.0, 100.0),
        rng.f32s(n, 10.0, 100.0),
        rng.f32s(n, 0.1, 2.0),
    )
}

fn black_scholes(env: &Env) -> CaseResult {
    use dotcompute_math::{exp, log};
    let (s, k, t) = options_f32(3001, 29);
    let (rate, vol) = (0.02f32, 0.3f32);
    let (ds, dk, dt) = (
        env.dc.buffer_from_slice(&s)?,
        env.dc.buffer_from_slice(&k)?,
        env.dc.buffer_from_slice(&t)?,
    );
    let mut call = env.dc.buffer_zeroed::<f32>(s.len())?;
    let mut put = env.dc.buffer_zeroed::<f32>(s.len())?;
    kernels::black_scholes_f32::launch(
        &env.acc,
        s.len(),
        &ds,
        &dk,
        &dt,
        rate,
        vol,
        &mut call,
        &mut put,
    )?;
    let (want_call, want_put): (Vec<f32>, Vec<f32>) = (0..s.len())
        .map(|i| {
            reference::black_scholes_f32((s[i], k[i], t[i]), rate, vol, exp::exp_f32, log::ln_f32)
        })
        .unzip();
    compare::floats_f32("call (f32)", &call.to_vec()?, &want_call, Tolerance::EXACT)
        .map_err(mismatch)?;
    compare::floats_f32("put (f32)", &put.to_vec()?, &want_put, Tolerance::EXACT)
        .map_err(mismatch)?;

    let wide = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
    let (s, k, t) = (wide(&s), wide(&k), wide(&t));
    let (ds, dk, dt) = (
        env.dc.buffer_from_slice(&s)?,
        env.dc.buffer_from_slice(&k)?,
        env.dc.buffer_from_slice(&t)?,
    );
    let mut call = env.dc.buffer_zeroed::<f64>(s.len())?;
    let mut put = env.dc.buffer_zeroed::<f64>(s.len())?;
    kernels::black_scholes_f64::launch(
        &env.acc,
        s.len(),
        &ds,
        &dk,
        &dt,
        0.02,
        0.3,
        &mut call,
        &mut put,
    )?;
    let (want_call, want_put): (Vec<f64>, Vec<f64>) = (0..s.len())
        .map(|i| {
            reference::black_scholes_f64((s[i], k[i], t[i]), 0.02, 0.3, exp::exp_f64, log::ln_f64)
        })
        .unzip();
    compare::floats_f64("call (f64)", &call.to_vec()?, &want_call, Tolerance::EXACT)
        .map_err(mismatch)?;
    compare::floats_f64("put (f64)", &put.to_vec()?, &want_put, Tolerance::EXACT).map_err(mismatch)
}

fn roots_and_quotients(env: &Env) -> CaseResult {
    let mut rng = Rng::new(29);
    let specials32 = [
        0.0f32,
        -0.0,
        1.0,
        4.0,
        2.0,
        -2.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::from_bits(1),
        f32::MIN_POSITIVE,
        f32::MAX,
    ];
    let specials64 = [
        0.0f64,
        -0.0,
        1.0,
        4.0,
        2.0,
        -2.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::from_bits(1),
        f64::MIN_POSITIVE,
        f64::MAX,
    ];
    // Every pair of specials, then random bit patterns (every exponent, subnormals included)
    // and positive values of moderate size, whose roots and quotients stay normal.
    let mut x: Vec<f32> = specials32
        .iter()
        .flat_map(|&a| specials32.map(|_| a))
        .collect();
    let mut y: Vec<f32> = specials32.iter().flat_map(|_| specials32).collect();
    let mut d: Vec<f64> = specials64
        .iter()
        .flat_map(|&a| specials64.map(|_| a))
        .collect();
    let mut e: Vec<f64> = specials64.iter().flat_map(|_| specials64).collect();
    for _ in 0..3000 {
        x.push(f32::from_bits(rng.next_u64() as u32));
        y.push(f32::from_bits(rng.next_u64() as u32));
        d.push(f64::from_bits(rng.next_u64()));
        e.push(f64::from_bits(rng.next_u64()));
    }
    for _ in 0..3000 {
        x.push(rng.f32_in(0.0, 1e4));
        y.push(rng.f32_in(0.5, 2.0));
        d.push(rng.f64_in(0.0, 1e4));
        e.push(rng.f64_in(0.5, 2.0));
    }
    let n = x.len();
    let (dx, dy, dd, de) = (
        env.dc.buffer_from_slice(&x)?,
        env.dc.buffer_from_slice(&y)?,
        env.dc.buffer_from_slice(&d)?,
        env.dc.buffer_from_slice(&e)?,
    );
    let mut out = env.dc.buffer_zeroed::<f32>(3 * n)?;
    let mut out64 = env.dc.buffer_zeroed::<f64>(3 * n)?;
    kernels::roots_and_quotients::launch(&env.acc, n, &dx, &dy, &dd, &de, &mut out, &mut out64)?;
    let want: Vec<f32> = (0..n)
        .flat_map(|i| [x[i].sqrt(), x[i] / y[i], y[i].recip()])
        .collect();
    let want64: Vec<f64> = (0..n)
        .flat_map(|i| [d[i].sqrt(), d[i] / e[i], e[i].recip()])
        .collect();
    compare::floats_f32("out", &out.to_vec()?, &want, Tolerance::EXACT).map_err(mismatch)?;
    compare::floats_f64("out64", &out64.to_vec()?, &want64, Tolerance::EXACT).map_err(mismatch)
}

/// Remainder pairs for `float_remainder`: specials against specials, quotients that round up to
/// an integer or are huge, then random magnitudes of every exponent (both signs, subnormals
/// included) with `y` drawn at most `spread` binary orders below `x`.
fn remainder_pairs(
    rng: &mut Rng,
    specials: &[f64],
    max_exp: i32,
    min_exp: i32,
    spread: i32,
) -> (Vec<f64>, Vec<f64>) {
    let mut x: Vec<f64> = specials
        .iter()
        .flat_map(|&a| specials.iter().map(move |_| a))
        .collect();
    let mut y: Vec<f64> = specials
        .iter()
        .flat_map(|_| specials.iter().copied())
        .collect();
    let pairs = [
        (1e30, 1e-30),
        (0.29999998, 0.1),
        (0.3, 0.1),
        (7.0, 0.7),
        (1.0, 0.1),
        (-5.0, 5.0),
        (5.0, -2.5),
        (-1e-40, 3e-41),
        (1e-38, 1e-45),
        (3.4e38, 1e-45),
    ];
    for (a, b) in pairs {
        x.push(a);
        y.push(b);
    }
    let sign = |rng: &mut Rng| if rng.next_u64() & 1 == 0 { 1.0 } else { -1.0 };
    for _ in 0..4000 {
        let ex = min_exp + (rng.next_u64() % (max_exp - min_exp) as u64) as i32;
        let ey = (ex - (rng.next_u64() % spread as u64) as i32).max(min_exp);
        x.push(sign(rng) * rng.f64_in(1.0, 2.0) * 2f64.powi(ex));
        y.push(sign(rng) * rng.f64_in(1.0, 2.0) * 2f64.powi(ey));
    }
    // Quotients just below, at and above an integer: x = k y (1 + t) for tiny t.
    for _ in 0..2000 {
        let b = rng.f64_in(0.01, 100.0);
        let k = (rng.next_u64() % 1000 + 1) as f64;
        let t = [-1e-7, -1e-16, 0.0, 1e-16, 1e-7][(rng.next_u64() % 5) as usize];
        x.push(k * b * (1.0 + t));
        y.push(b);
    }
    (x, y)
}

fn float_remainder(env: &Env) -> CaseResult {
    let mut rng = Rng::new(37);
    let specials = [
        0.0,
        -0.0,
        1.0,
        -1.5,
        3.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1e-40,
        1e-310,
        f64::from(f32::MAX),
        f64::MAX,
    ];
    let (x64, y64) = remainder_pairs(&mut rng, &specials, 127, -149, 300);
    // Narrowed to f32, where out-of-range values become infinities or zeros (more specials).
    let x: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
    let y: Vec<f32> = y64.iter().map(|&v| v as f32).collect();
    let (d, e) = remainder_pairs(&mut rng, &specials, 1023, -1074, 2100);
    let n = x.len().min(d.len());
    let (dx, dy, dd, de) = (
        env.dc.buffer_from_slice(&x[..n])?,
        env.dc.buffer_from_slice(&y[..n])?,
        env.dc.buffer_from_slice(&d[..n])?,
        env.dc.buffer_from_slice(&e[..n])?,
    );
    let mut out = env.dc.buffer_zeroed::<f32>(n)?;
    let mut out64 = env.dc.buffer_zeroed::<f64>(n)?;
    kernels::float_remainder::launch(&env.acc, n, &dx, &dy, &dd, &de, &mut out, &mut out64)?;
    let want: Vec<f32> = (0..n).map(|i| x[i] % y[i]).collect();
    let want64: Vec<f64> = (0..n).map(|i| d[i] % e[i]).collect();
    let name = |m: compare::Mismatch, a: String, b: String| {
        let mut m = m;
        m.got = format!("{} ({a} % {b})", m.got);
        mismatch(m)
    };
    compare::floats_f32("out", &out.to_vec()?, &want, Tolerance::EXACT).map_err(|m| {
        let i = m.index;
        name(m, format!("{:e}", x[i]), format!("{:e}", y[i]))
    })?;
    compare::floats_f64("out64", &out64.to_vec()?, &want64, Tolerance::EXACT).map_err(|m| {
        let i = m.index;
        name(m, format!("{:e}", d[i]), format!("{:e}", e[i]))
    })
}

fn random_findings(env: &Env) -> CaseResult {
    let mut rng = Rng::new(41);
    let mut f = vec![f32::NAN, 1.5, 0.0, -0.0, f32::NEG_INFINITY, -f32::NAN];
    let mut d = vec![f64::NAN, 1.5, 0.0, -f64::NAN, f64::INFINITY, 1e-310];
    let mut u = vec![0u32, 1, u32::MAX, 1622455963, 1622455964, 0x8000_0000];
    for _ in 0..250 {
        f.push(rng.f32_in(-10.0, 10.0));
        d.push(rng.f64_in(-10.0, 10.0));
        u.push(rng.next_u64() as u32);
    }
    let n = f.len();
    let (df, dd, du) = (
        env.dc.buffer_from_slice(&f)?,
        env.dc.buffer_from_slice(&d)?,
        env.dc.buffer_from_slice(&u)?,
    );
    let mut bits = env.dc.buffer_zeroed::<u32>(4 * n)?;
    let mut wide = env.dc.buffer_zeroed::<i64>(2 * n)?;
    let mut floats = env.dc.buffer_zeroed::<f32>(2 * n)?;
    let mut doubles = env.dc.buffer_zeroed::<f64>(2 * n)?;
    kernels::random_findings::launch(
        &env.acc,
        n,
        &df,
        &dd,
        &du,
        &mut bits,
        &mut wide,
        &mut floats,
        &mut doubles,
    )?;
    let mut want_bits = Vec::new();
    let mut want_wide = Vec::new();
    let mut want_floats = Vec::new();
    let mut want_doubles = Vec::new();
    for i in 0..n {
        let (a, b) = (f[i], d[i]);
        #[allow(clippy::eq_op)] // `b != b` is the point: true for NaN
        want_bits.extend([
            u32::from(a != 1.5),
            u32::from(b != b),
            (543105372u32 << 13) ^ u[i],
            ((-89i64) as u32).wrapping_add(u[i]),
        ]);
        want_wide.extend([i64::from(u[i]), i64::from(u[i].wrapping_sub(1622455964))]);
        want_floats.extend([18446744073709551566u64 as f32 + a, f32::INFINITY - a]);
        want_doubles.extend([0.5 * b, f64::INFINITY + 2.5 + b]);
    }
    let x = compare::exact("bits", &bits.to_vec()?, &want_bits).map_err(mismatch)?;
    let y = compare::exact("wide", &wide.to_vec()?, &want_wide).map_err(mismatch)?;
    compare::floats_f32("floats", &floats.to_vec()?, &want_floats, Tolerance::EXACT)
        .map_err(mismatch)?;
    compare::floats_f64(
        "doubles",
        &doubles.to_vec()?,
        &want_doubles,
        Tolerance::EXACT,
    )
    .map_err(mismatch)?;
    Ok(x.merge(y))
}

// The steps are the point: `v - v` is NaN for infinities, `(v + 0.0) * -1.0` is -0.0 at -0.0.
#[allow(clippy::eq_op, clippy::neg_multiply)]
fn exact_float_steps(env: &Env) -> CaseResult {
    let mut rng = Rng::new(19);
    let mut x = vec![
        0.1f32,
        -0.0,
        0.0,
        0.5,
        -1.5,
        1e-8,
        3.0e7,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::MAX,
    ];
    x.extend(rng.f32s(1000, -100.0, 100.0));
    let dx = env.dc.buffer_from_slice(&x)?;
    let mut out = env.dc.buffer_zeroed::<f32>(8 * x.len())?;
    kernels::exact_float_steps::launch(&env.acc, x.len() as u64, &dx, &mut out)?;
    let want: Vec<f32> = x
        .iter()
        .flat_map(|&v| {
            let s = v + 1.0;
            let b = s - v;
            [
                (v * std::f32::consts::LOG2_E + 12582912.0) - 12582912.0,
                (v + 1.0) - 1.0,
                1.0 - (1.0 - v),
                (v * 3.0) * (1.0 / 3.0),
                (v - (s - b)) + (1.0 - b),
                v - v,
                v * 0.0,
                (v + 0.0) * -1.0,
            ]
        })
        .collect();
    // Bits, every NaN as one.
    let bits = |v: Vec<f32>| -> Vec<u32> {
        v.iter()
            .map(|f| if f.is_nan() { 0x7fc0_0000 } else { f.to_bits() })
            .collect()
    };
    compare::exact("out", &bits(out.to_vec()?), &bits(want)).map_err(mismatch)
}

fn float_bits(env: &Env) -> CaseResult {
    let mut rng = Rng::new(17);
    let mut x = vec![
        0.0f32,
        -0.0,
        1.0,
        -2.5,
        f32::INFINITY,
        f32::NAN,
        1e-40,
        -3.4e38,
    ];
    let mut y = vec![
        -1.0f32,
        0.0,
        -0.0,
        f32::NEG_INFINITY,
        2.0,
        -7.0,
        5.0,
        f32::NAN,
    ];
    let mut d = vec![
        0.0f64,
        -0.0,
        1.0,
        -2.5,
        f64::INFINITY,
        f64::NAN,
        1e-310,
        -1e300,
    ];
    x.extend(rng.f32s(500, -1e6, 1e6));
    y.extend(rng.f32s(500, -1e6, 1e6));
    d.extend((0..500).map(|_| rng.f64_in(-1e12, 1e12)));
    let n = x.len();
    let (dx, dy, dd) = (
        env.dc.buffer_from_slice(&x)?,
        env.dc.buffer_from_slice(&y)?,
        env.dc.buffer_from_slice(&d)?,
    );
    let mut bits = env.dc.buffer_zeroed::<u32>(n)?;
    let mut f = env.dc.buffer_zeroed::<f32>(n)?;
    let mut bits64 = env.dc.buffer_zeroed::<u64>(n)?;
    let mut g = env.dc.buffer_zeroed::<f64>(n)?;
    kernels::float_bits::launch(
        &env.acc,
        n,
        &dx,
        &dy,
        &dd,
        &mut bits,
        &mut f,
        &mut bits64,
        &mut g,
    )?;
    let want_bits: Vec<u32> = (0..n)
        .map(|i| x[i].to_bits() ^ (y[i].to_bits() >> 3))
        .collect();
    let want_f: Vec<f32> = (0..n)
        .map(|i| x[i].copysign(f32::from_bits(y[i].to_bits() ^ 0x8000_0000)))
        .collect();
    let want_bits64: Vec<u64> = d.iter().map(|v| v.to_bits().rotate_left(7)).collect();
    let want_g: Vec<f64> = d
        .iter()
        .map(|&v| f64::from_bits(v.to_bits() & 0x7fff_ffff_ffff_ffff).copysign(v - 1.0) + 1.0)
        .collect();
    compare::exact("bits", &bits.to_vec()?, &want_bits).map_err(mismatch)?;
    compare::exact("bits64", &bits64.to_vec()?, &want_bits64).map_err(mismatch)?;
    compare::floats_f32("f", &f.to_vec()?, &want_f, Tolerance::EXACT).map_err(mismatch)?;
    compare::floats_f64("g", &g.to_vec()?, &want_g, Tolerance::EXACT).map_err(mismatch)
}

fn control_flow(env: &Env) -> CaseResult {
    let n: Vec<u32> = (0..300).collect();
    let dn = env.dc.buffer_from_slice(&n)?;
    let mut out = env.dc.buffer_zeroed::<u64>(n.len())?;
    kernels::control_flow::launch(&env.acc, n.len(), &dn, &mut out)?;
    let want: Vec<u64> = n
        .iter()
        .map(|&limit| {
            if limit == 13 {
                return 13013;
            }
            let mut acc = 0u64;
            for k in (0..=limit).step_by(3) {
                if k % 2 == 0 {
                    continue;
                }
                acc = acc.wrapping_add(k as u64);
            }
            for m in 0..4u32 {
                acc = acc.wrapping_add(u64::from(m + limit));
            }
            let mut j = 0;
            loop {
                j += 1;
                if j > limit {
                    break;
                }
                acc = acc.wrapping_mul(3).wrapping_add(j as u64);
            }
            let mut w = limit;
            while w > 1 {
                w = if w % 2 == 0 { w / 2 } else { 3 * w + 1 };
                acc = acc.wrapping_add(1);
            }
            acc
        })
        .collect();
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn values_and_shadowing(env: &Env) -> CaseResult {
    let x: Vec<i32> = (-500..500).chain([i32::MIN, i32::MAX]).collect();
    let dx = env.dc.buffer_from_slice(&x)?;
    let init: Vec<i32> = (0..x.len() as i32).collect();
    let mut out = env.dc.buffer_from_slice(&init)?;
    kernels::values_and_shadowing::launch(&env.acc, x.len(), &dx, &mut out)?;
    let want: Vec<i32> = x
        .iter()
        .zip(&init)
        .map(|(&v, &o)| {
            let v = if v < 0 {
                v.wrapping_neg()
            } else if v == 0 {
                100
            } else {
                v.wrapping_mul(2).wrapping_add(1)
            };
            o.wrapping_add(v).wrapping_mul(3).wrapping_sub(1)
        })
        .collect();
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn wide_atomics(env: &Env) -> CaseResult {
    let n: u64 = 1024;
    let mut wu = env.dc.buffer_zeroed::<u64>(2)?;
    let mut wi = env.dc.buffer_zeroed::<i64>(2)?;
    let mut sum = env.dc.buffer_zeroed::<f64>(1)?;
    let mut swap32 = env.dc.buffer_zeroed::<f32>(1)?;
    let mut swap64 = env.dc.buffer_zeroed::<f64>(1)?;
    kernels::wide_atomics::launch(
        &env.acc,
        n,
        &mut wu,
        &mut wi,
        &mut sum,
        &mut swap32,
        &mut swap64,
    )?;
    let (wu, wi) = (wu.to_vec()?, wi.to_vec()?);
    // One winner each, whoever it was.
    let won = |ok: bool| u64::from(ok);
    let mut out = compare::exact(
        "compare-exchange winners (u64, i64)",
        &[
            wu[1],
            wi[1] as u64,
            won((1..=n).contains(&wu[0])),
            won((-(n as i64)..0).contains(&wi[0])),
        ],
        &[1, 1, 1, 1],
    )
    .map_err(mismatch)?;
    out = out.merge(
        compare::exact(
            "f64 add",
            &[sum.to_vec()?[0].to_bits()],
            &[(n as f64 * 0.25).to_bits()],
        )
        .map_err(mismatch)?,
    );
    out = out.merge(
        compare::exact(
            "f32 and f64 exchange",
            &[
                f64::from(swap32.to_vec()?[0]).to_bits(),
                swap64.to_vec()?[0].to_bits(),
            ],
            &[2.5f64.to_bits(), (-1.5f64).to_bits()],
        )
        .map_err(mismatch)?,
    );
    let mut sums = env.dc.buffer_zeroed::<u64>(1)?;
    let mut mins = env.dc.buffer_zeroed::<i64>(1)?;
    cooperative::shared_wide_atomics::launch(
        &env.acc,
        Grid::d1(n).with_group_size([256, 1, 1]),
        &mut sums,
        &mut mins,
    )?;
    out = out.merge(
        compare::exact(
            "shared u64 add, i64 min",
            &[sums.to_vec()?[0] as i128, i128::from(mins.to_vec()?[0])],
            &[i128::from(n * (n - 1) / 2), -(i128::from(n) - 1)],
        )
        .map_err(mismatch)?,
    );
    Ok(out)
}

fn atomics(env: &Env) -> CaseResult {
    let n = 100_003;
    let mut rng = Rng::new(12);
    let values: Vec<u32> = (0..n).map(|_| (rng.next_u64() % 1000) as u32).collect();
    let dv = env.dc.buffer_from_slice(&values)?;
    let mut u = env
        .dc
        .buffer_from_slice(&[0u32, 0, u32::MAX, 0, 0, u32::MAX])?;
    let mut i = env.dc.buffer_from_slice(&[0i32, i32::MIN, i32::MAX])?;
    let mut ul = env.dc.buffer_from_slice(&[0u64, 0])?;
    let mut il = env.dc.buffer_from_slice(&[0i64, 0])?;
    let mut f = env.dc.buffer_zeroed::<f32>(1)?;
    let mut winner = env.dc.buffer_zeroed::<u32>(3)?;
    kernels::atomics::launch(
        &env.acc,
        n,
        &dv,
        &mut u,
        &mut i,
        &mut ul,
        &mut il,
        &mut f,
        &mut winner,
    )?;
    let sum: u64 = values.iter().map(|&v| u64::from(v)).sum();
    let bits = values.iter().fold(0u32, |acc, v| acc | 1 << (v % 32));
    let want_u = [
        sum as u32,
        *values.iter().max().unwrap_or(&0),
        *values.iter().min().unwrap_or(&0),
        bits,
        values.iter().fold(0, |acc, v| acc ^ v),
        !bits,
    ];
    let want_i = [
        (sum as u32 as i32).wrapping_neg(),
        *values.iter().max().unwrap_or(&0) as i32 - 500,
        *values.iter().min().unwrap_or(&0) as i32 - 500,
    ];
    let want_ul = [
        sum.wrapping_mul(1_000_000_007),
        u64::from(*values.iter().max().unwrap_or(&0)) * 3,
    ];
    let want_il = [
        -(sum as i64),
        -i64::from(*values.iter().max().unwrap_or(&0)),
    ];
    let mut out = compare::exact("acc_u32", &u.to_vec()?, &want_u).map_err(mismatch)?;
    out = out.merge(compare::exact("acc_i32", &i.to_vec()?, &want_i).map_err(mismatch)?);
    out = out.merge(compare::exact("acc_u64", &ul.to_vec()?, &want_ul).map_err(mismatch)?);
    out = out.merge(compare::exact("acc_i64", &il.to_vec()?, &want_il).map_err(mismatch)?);
    // 0.5 * n is exact in f32 for n < 2^24, whatever the order of the additions.
    out = out.merge(
        compare::floats_f32("sum_f32", &f.to_vec()?, &[0.5 * n as f32], Tolerance::EXACT)
            .map_err(mismatch)?,
    );
    let w = winner.to_vec()?;
    // Exactly one work item wins the compare-exchange; which one is up to the scheduler.
    if !(w[0] >= 1 && w[0] <= n as u32 && w[1] == 1 && w[2] == 7) {
        return Err(mismatch(compare::Mismatch {
            output: "winner",
            index: 0,
            got: format!("{w:?}"),
            want: format!("[1..={n}, 1, 7]"),
            ulp: None,
        }));
    }
    Ok(out.merge(Outcome {
        compared: 3,
        max_ulp: 0,
    }))
}

fn iota_case(env: &Env, n: usize) -> CaseResult {
    let mut out = env.dc.buffer_zeroed::<u64>(n)?;
    kernels::iota::launch(&env.acc, n, &mut out)?;
    let want: Vec<u64> = (0..n as u64).collect();
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn grid_of_one(env: &Env) -> CaseResult {
    iota_case(env, 1)
}

fn odd_sized_grid(env: &Env) -> CaseResult {
    iota_case(env, 1_048_583)
}

fn empty_buffer(env: &Env) -> CaseResult {
    let empty = env.dc.buffer_zeroed::<f32>(0)?;
    let mut out = env.dc.buffer_from_slice(&[0u64, 77])?;
    kernels::lengths::launch(&env.acc, 1usize, &empty, &mut out)?;
    compare::exact("out", &out.to_vec()?, &[1000, 77]).map_err(mismatch)
}

fn grid_2d(env: &Env) -> CaseResult {
    let (w, h, max_iter) = (3usize, 1000usize, 50u32);
    let mut out = env.dc.buffer_zeroed::<u32>(w * h)?;
    kernels::mandelbrot::launch(&env.acc, (w, h), -2.0, -1.5, 0.003, max_iter, &mut out)?;
    let want: Vec<u32> = (0..w * h)
        .map(|l| {
            let (px, py) = (l % w, l / w);
            kernels::escape_time(-2.0 + px as f32 * 0.003, -1.5 + py as f32 * 0.003, max_iter)
        })
        .collect();
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn grid_3d(env: &Env) -> CaseResult {
    let (w, h, d) = (17usize, 9usize, 5usize);
    let mut out = env.dc.buffer_zeroed::<u64>(w * h * d)?;
    kernels::encode_3d::launch(&env.acc, (w, h, d), &mut out)?;
    let mut want = Vec::with_capacity(w * h * d);
    for z in 0..d {
        for y in 0..h {
            for x in 0..w {
                want.push((x + 1000 * y + 1_000_000 * z) as u64);
            }
        }
    }
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn group_ids(env: &Env) -> CaseResult {
    let (w, h) = (20usize, 6usize);
    let (gx, gy) = (8u32, 4u32);
    let mut out = env.dc.buffer_zeroed::<u64>(w * h)?;
    kernels::group_ids::launch(
        &env.acc,
        Grid::d2(w as u64, h as u64).with_group_size([gx, gy, 1]),
        &mut out,
    )?;
    let (gx, gy) = (gx as usize, gy as usize);
    let mut want = Vec::with_capacity(w * h);
    for j in 0..h {
        for i in 0..w {
            want.push(
                ((i / gx) * 1_000_000 + (i % gx) * 1000 + (j / gy) * 10 + j % gy + gx * 100_000_000)
                    as u64,
            );
        }
    }
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

/// On an accelerator that does not run cooperative kernels, the launch must be refused with
/// `Error::Unsupported` naming the need: that is the case's whole check there.
fn refused_without_cooperation(env: &Env) -> Option<CaseResult> {
    if env.acc.info().capabilities.cooperative {
        return None;
    }
    let result = (|| {
        let x = env.dc.buffer_zeroed::<f32>(256)?;
        let mut sums = env.dc.buffer_zeroed::<f32>(1)?;
        cooperative::block_sum::launch(
            &env.acc,
            Grid::d1(256).with_group_size([256, 1, 1]),
            &x,
            &mut sums,
        )
    })();
    Some(match result {
        Err(dotcompute::Error::Unsupported { need, .. }) if need.contains("cooperative") => {
            Ok(Outcome {
                compared: 0,
                max_ulp: 0,
            })
        }
        Err(e) => Err(CaseError::Launch(e)),
        Ok(()) => Err(CaseError::Mismatch(compare::Mismatch {
            output: "launch",
            index: 0,
            got: "a launch that ran".into(),
            want: "Error::Unsupported (the accelerator says it does not run cooperative kernels)"
                .into(),
            ulp: None,
        })),
    })
}

fn block_sum(env: &Env) -> CaseResult {
    if let Some(r) = refused_without_cooperation(env) {
        return r;
    }
    let (n, group) = (1000usize, 256usize);
    let x = Rng::new(41).f32s(n, -1.0, 1.0);
    let dx = env.dc.buffer_from_slice(&x)?;
    let groups = n.div_ceil(group);
    let mut sums = env.dc.buffer_zeroed::<f32>(groups)?;
    cooperative::block_sum::launch(
        &env.acc,
        Grid::d1(n as u64).with_group_size([group as u32, 1, 1]),
        &dx,
        &mut sums,
    )?;
    // The same tree, in the same order: items beyond the grid hold zeros.
    let want: Vec<f32> = (0..groups)
        .map(|g| {
            let mut tile: Vec<f32> = (0..group)
                .map(|l| x.get(g * group + l).copied().unwrap_or(0.0))
                .collect();
            let mut stride = group / 2;
            while stride > 0 {
                for l in 0..stride {
                    tile[l] += tile[l + stride];
                }
                stride /= 2;
            }
            tile[0]
        })
        .collect();
    compare::floats_f32("sums", &sums.to_vec()?, &want, Tolerance::EXACT).map_err(mismatch)
}

fn group_scan(env: &Env) -> CaseResult {
    if let Some(r) = refused_without_cooperation(env) {
        return r;
    }
    let (n, group) = (300usize, 128usize);
    let x: Vec<u32> = Rng::new(43)
        .f32s(n, 0.0, 4.0e9)
        .into_iter()
        .map(|v| v as u32)
        .collect();
    let dx = env.dc.buffer_from_slice(&x)?;
    let mut out = env.dc.buffer_zeroed::<u32>(n)?;
    cooperative::group_scan::launch(
        &env.acc,
        Grid::d1(n as u64).with_group_size([group as u32, 1, 1]),
        &dx,
        &mut out,
    )?;
    let mut want = Vec::with_capacity(n);
    for (i, v) in x.iter().enumerate() {
        let prev = if i % group == 0 { 0 } else { want[i - 1] };
        want.push(u32::wrapping_add(prev, *v));
    }
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn transpose_tiled(env: &Env) -> CaseResult {
    if let Some(r) = refused_without_cooperation(env) {
        return r;
    }
    let (w, h) = (37usize, 21usize);
    let a = Rng::new(47).f32s(w * h, -100.0, 100.0);
    let da = env.dc.buffer_from_slice(&a)?;
    let mut t = env.dc.buffer_zeroed::<f32>(w * h)?;
    let grid = Grid::d2(w.next_multiple_of(16) as u64, h.next_multiple_of(16) as u64)
        .with_group_size([16, 16, 1]);
    cooperative::transpose_tiled::launch(&env.acc, grid, w as u64, h as u64, &da, &mut t)?;
    let mut want = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            want[x * h + y] = a[y * w + x];
        }
    }
    compare::floats_f32("t", &t.to_vec()?, &want, Tolerance::EXACT).map_err(mismatch)
}

fn shared_out_of_bounds(env: &Env) -> CaseResult {
    if let Some(r) = refused_without_cooperation(env) {
        return r;
    }
    let mut out = env.dc.buffer_zeroed::<u32>(128)?;
    let result = cooperative::shared_out_of_bounds::launch(
        &env.acc,
        Grid::d1(128).with_group_size([64, 1, 1]),
        5,
        &mut out,
    )
    .and_then(|()| env.acc.synchronize());
    expect_fault(
        result,
        "index 64 is out of bounds for shared array `slots` of length 64",
    )
}

fn store_fault_ends_the_item(env: &Env) -> CaseResult {
    let mut out = env.dc.buffer_zeroed::<u32>(8)?;
    let result = crate::faulting::store_until_fault::launch(&env.acc, 4, &mut out)
        .and_then(|()| env.acc.synchronize());
    expect_fault(
        result,
        "index 8 is out of bounds for buffer `out` of length 8",
    )
}

/// A launch (and the synchronize after it) must fail with a fault whose description
/// contains `want`.
fn expect_fault(result: Result<(), dotcompute::Error>, want: &str) -> CaseResult {
    match result {
        Err(dotcompute::Error::KernelFault { message, .. }) if message.contains(want) => {
            Ok(Outcome {
                compared: 1,
                max_ulp: 0,
            })
        }
        Err(e) => Err(CaseError::Launch(e)),
        Ok(()) => Err(CaseError::Mismatch(compare::Mismatch {
            output: "fault",
            index: 0,
            got: "no fault".into(),
            want: want.into(),
            ulp: None,
        })),
    }
}

fn tail_after_barrier(env: &Env) -> CaseResult {
    if let Some(r) = refused_without_cooperation(env) {
        return r;
    }
    let (n, group) = (100usize, 64usize);
    let mut out = env.dc.buffer_zeroed::<u32>(n)?;
    cooperative::tail_after_barrier::launch(
        &env.acc,
        Grid::d1(n as u64).with_group_size([group as u32, 1, 1]),
        &mut out,
    )?;
    // Even local ids count the group's items in the grid; odd ones returned.
    let want: Vec<u32> = (0..n)
        .map(|i| {
            let in_group = group.min(n - i / group * group) as u32;
            if (i % group) % 2 == 0 { in_group } else { 0 }
        })
        .collect();
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn return_in_group_branch(env: &Env) -> CaseResult {
    if let Some(r) = refused_without_cooperation(env) {
        return r;
    }
    let (n, group) = (100usize, 64usize);
    let mut out = env.dc.buffer_zeroed::<u32>(n)?;
    cooperative::return_in_group_branch::launch(
        &env.acc,
        Grid::d1(n as u64).with_group_size([group as u32, 1, 1]),
        &mut out,
    )?;
    // Odd local ids returned; even ones read their neighbour's 1 (0 beyond the grid), plus 10.
    let want: Vec<u32> = (0..n)
        .map(|i| match (i % group % 2, i + 1 < n) {
            (1, _) => 0,
            (_, true) => 11,
            (_, false) => 10,
        })
        .collect();
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn histogram_shared(env: &Env) -> CaseResult {
    if let Some(r) = refused_without_cooperation(env) {
        return r;
    }
    let (n, per_item, nbins) = (100_003usize, 37usize, 200usize);
    let values: Vec<u32> = (0..n as u32)
        .map(|i| i.wrapping_mul(0x9E37_79B9) >> 7)
        .collect();
    let dv = env.dc.buffer_from_slice(&values)?;
    let mut bins = env.dc.buffer_zeroed::<u32>(nbins)?;
    // Whole groups: every item of a group takes part in adding the group's bins.
    let items = n.div_ceil(per_item).next_multiple_of(64) as u64;
    cooperative::histogram_shared::launch(
        &env.acc,
        Grid::d1(items).with_group_size([64, 1, 1]),
        per_item as u64,
        &dv,
        &mut bins,
    )?;
    let mut want = vec![0u32; nbins];
    for v in &values {
        want[*v as usize % nbins] += 1;
    }
    compare::exact("bins", &bins.to_vec()?, &want).map_err(mismatch)
}

/// `a * b` for `n x n` `f32` matrices, each element summed in the order of `k` over `depth`
/// steps, the steps past `n` adding `0 * 0` (as a tiled kernel's zero padding does).
fn matmul_reference(a: &[f32], b: &[f32], n: usize, depth: usize) -> Vec<f32> {
    let mut c = vec![0.0f32; n * n];
    for row in 0..n {
        for col in 0..n {
            let mut sum = 0.0f32;
            for k in 0..depth {
                let (x, y) = if k < n {
                    (a[row * n + k], b[k * n + col])
                } else {
                    (0.0, 0.0)
                };
                sum += x * y;
            }
            c[row * n + col] = sum;
        }
    }
    c
}

fn matmul_tiled(env: &Env) -> CaseResult {
    if let Some(r) = refused_without_cooperation(env) {
        return r;
    }
    let n = 37usize;
    let a = Rng::new(53).f32s(n * n, -1.0, 1.0);
    let b = Rng::new(59).f32s(n * n, -1.0, 1.0);
    let (da, db) = (env.dc.buffer_from_slice(&a)?, env.dc.buffer_from_slice(&b)?);
    let mut c = env.dc.buffer_zeroed::<f32>(n * n)?;
    let tiles = n.next_multiple_of(16) as u64;
    cooperative::matmul_tiled_f32::launch(
        &env.acc,
        Grid::d2(tiles, tiles).with_group_size([16, 16, 1]),
        n as u64,
        &da,
        &db,
        &mut c,
    )?;
    // The tiles' zeros past the end take part in the sums, in the order of k.
    let want = matmul_reference(&a, &b, n, n.next_multiple_of(16));
    compare::floats_f32("c", &c.to_vec()?, &want, Tolerance::EXACT).map_err(mismatch)
}

fn register_tile(env: &Env) -> CaseResult {
    let n = 36usize;
    let a = Rng::new(61).f32s(n * n, -1.0, 1.0);
    let b = Rng::new(67).f32s(n * n, -1.0, 1.0);
    let (da, db) = (env.dc.buffer_from_slice(&a)?, env.dc.buffer_from_slice(&b)?);
    let mut c = env.dc.buffer_zeroed::<f32>(n * n)?;
    cooperative::matmul_register_tile::launch(&env.acc, (n / 4, n), n as u64, &da, &db, &mut c)?;
    let want = matmul_reference(&a, &b, n, n);
    compare::floats_f32("c", &c.to_vec()?, &want, Tolerance::EXACT).map_err(mismatch)
}

fn matmul_tiled_register(env: &Env) -> CaseResult {
    if let Some(r) = refused_without_cooperation(env) {
        return r;
    }
    let n = 37usize;
    let a = Rng::new(71).f32s(n * n, -1.0, 1.0);
    let b = Rng::new(73).f32s(n * n, -1.0, 1.0);
    let (da, db) = (env.dc.buffer_from_slice(&a)?, env.dc.buffer_from_slice(&b)?);
    let mut c = env.dc.buffer_zeroed::<f32>(n * n)?;
    let grid = Grid::d2(
        n.div_ceil(4).next_multiple_of(16) as u64,
        n.next_multiple_of(16) as u64,
    )
    .with_group_size([16, 16, 1]);
    cooperative::matmul_tiled_register_f32::launch(&env.acc, grid, n as u64, &da, &db, &mut c)?;
    let want = matmul_reference(&a, &b, n, n.next_multiple_of(16));
    compare::floats_f32("c", &c.to_vec()?, &want, Tolerance::EXACT).map_err(mismatch)
}

fn private_across_barrier(env: &Env) -> CaseResult {
    if let Some(r) = refused_without_cooperation(env) {
        return r;
    }
    let (n, group) = (128usize, 64usize);
    let mut out = env.dc.buffer_zeroed::<u32>(n)?;
    cooperative::private_across_barrier::launch(
        &env.acc,
        Grid::d1(n as u64).with_group_size([group as u32, 1, 1]),
        &mut out,
    )?;
    let want: Vec<u32> = (0..n)
        .map(|i| {
            let lid = i % group;
            let next = (lid + 1) % group;
            (lid * 10 + lid * 10 + 1 + next * 10 + 2) as u32
        })
        .collect();
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn private_out_of_bounds(env: &Env) -> CaseResult {
    let mut out = env.dc.buffer_zeroed::<u32>(100)?;
    let result = cooperative::private_out_of_bounds::launch(&env.acc, 100, 37, &mut out)
        .and_then(|()| env.acc.synchronize());
    expect_fault(
        result,
        "index 4 is out of bounds for array `acc` of length 4",
    )
}

fn return_then_uniform_loop(env: &Env) -> CaseResult {
    if let Some(r) = refused_without_cooperation(env) {
        return r;
    }
    let n = 128usize;
    let mut out = env.dc.buffer_zeroed::<u32>(n)?;
    cooperative::return_then_uniform_loop::launch(
        &env.acc,
        Grid::d1(n as u64).with_group_size([64, 1, 1]),
        100,
        &mut out,
    )?;
    let want: Vec<u32> = (0..n).map(|i| if i % 64 == 0 { 0 } else { 100 }).collect();
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn uniform_return_in_loop(env: &Env) -> CaseResult {
    if let Some(r) = refused_without_cooperation(env) {
        return r;
    }
    let (n, group, steps) = (128usize, 64usize, 100u32);
    let x: Vec<u32> = (0..n as u32).collect();
    let dx = env.dc.buffer_from_slice(&x)?;
    let mut out = env.dc.buffer_zeroed::<u32>(n)?;
    cooperative::uniform_return_in_loop::launch(
        &env.acc,
        Grid::d1(n as u64).with_group_size([group as u32, 1, 1]),
        steps,
        &dx,
        &mut out,
    )?;
    let want: Vec<u32> = (0..n)
        .map(|i| {
            let base = i / group * group;
            (0..steps as usize).map(|s| x[base + s % 64]).sum()
        })
        .collect();
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn dead_items_do_not_fault(env: &Env) -> CaseResult {
    if let Some(r) = refused_without_cooperation(env) {
        return r;
    }
    // 100 items in groups of 64: the second group also has 28 items beyond the grid.
    let mut out = env.dc.buffer_zeroed::<u32>(100)?;
    cooperative::dead_items_do_not_fault::launch(
        &env.acc,
        Grid::d1(100).with_group_size([64, 1, 1]),
        0,
        &mut out,
    )?;
    env.acc.synchronize()?;
    compare::exact("out", &out.to_vec()?, &[0u32; 100]).map_err(mismatch)
}

fn group_census(env: &Env) -> CaseResult {
    if let Some(r) = refused_without_cooperation(env) {
        return r;
    }
    // 4 x 4 x 2 groups over a 10 x 6 x 3 grid: the edge groups are partial.
    let dims = [10usize, 6, 3];
    let group = [4usize, 4, 2];
    let mut out = env.dc.buffer_zeroed::<u64>(dims.iter().product())?;
    let grid = Grid::d3(dims[0] as u64, dims[1] as u64, dims[2] as u64).with_group_size([
        group[0] as u32,
        group[1] as u32,
        group[2] as u32,
    ]);
    cooperative::group_census::launch(&env.acc, grid, &mut out)?;
    let ng = [
        dims[0].div_ceil(group[0]),
        dims[1].div_ceil(group[1]),
        dims[2].div_ceil(group[2]),
    ];
    let mut want = vec![0u64; dims.iter().product()];
    for z in 0..dims[2] {
        for y in 0..dims[1] {
            for x in 0..dims[0] {
                let g = [x / group[0], y / group[1], z / group[2]];
                // Only items in the grid wrote their local id; the other slots stay 0.
                let mut total = 0;
                for lz in 0..group[2] {
                    for ly in 0..group[1] {
                        for lx in 0..group[0] {
                            let inside = g[0] * group[0] + lx < dims[0]
                                && g[1] * group[1] + ly < dims[1]
                                && g[2] * group[2] + lz < dims[2];
                            if inside {
                                total += lx + group[0] * (ly + group[1] * lz);
                            }
                        }
                    }
                }
                let linear_group = g[0] + ng[0] * (g[1] + ng[1] * g[2]);
                want[x + dims[0] * (y + dims[1] * z)] = (total * 1_000_000 + linear_group) as u64;
            }
        }
    }
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn shared_starts_zeroed(env: &Env) -> CaseResult {
    if let Some(r) = refused_without_cooperation(env) {
        return r;
    }
    let n = 512 * 64;
    let mut nonzero = env.dc.buffer_zeroed::<u32>(n)?;
    let grid = Grid::d1(n as u64).with_group_size([64, 1, 1]);
    cooperative::shared_starts_zeroed::launch(&env.acc, grid, &mut nonzero)?;
    compare::exact("nonzero", &nonzero.to_vec()?, &vec![0u32; n]).map_err(mismatch)
}

fn grid_beyond_u32(env: &Env) -> CaseResult {
    let offset = 1u64 << 32;
    let n = offset + 7;
    let mut out = env.dc.buffer_zeroed::<u64>(7)?;
    kernels::tail_ids::launch(&env.acc, n, offset, &mut out)?;
    let want: Vec<u64> = (offset..n).collect();
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}

fn poly8(env: &Env) -> CaseResult {
    let n = 100_003;
    let x = Rng::new(13).f32s(n, -1.0, 1.0);
    let dx = env.dc.buffer_from_slice(&x)?;
    let mut out = env.dc.buffer_zeroed::<f32>(n)?;
    kernels::poly8::launch(&env.acc, n, &dx, &mut out)?;
    let want: Vec<f32> = x.iter().map(|&v| crate::reference::poly8(v)).collect();
    compare::floats_f32("out", &out.to_vec()?, &want, Tolerance::EXACT).map_err(mismatch)
}

fn triad(env: &Env) -> CaseResult {
    let n = 100_003;
    let mut rng = Rng::new(14);
    let (b, c) = (rng.f32s(n, -1.0, 1.0), rng.f32s(n, -1.0, 1.0));
    let (db, dc) = (env.dc.buffer_from_slice(&b)?, env.dc.buffer_from_slice(&c)?);
    let mut a = env.dc.buffer_zeroed::<f32>(n)?;
    kernels::triad::launch(&env.acc, n, &mut a, &db, &dc, 3.0)?;
    let want: Vec<f32> = b.iter().zip(&c).map(|(b, c)| b + 3.0 * c).collect();
    compare::floats_f32("a", &a.to_vec()?, &want, Tolerance::EXACT).map_err(mismatch)
}

fn partial_sums(env: &Env) -> CaseResult {
    let (n, chunk) = (100_003usize, 1000usize);
    let x = Rng::new(15).f32s(n, -1.0, 1.0);
    let dx = env.dc.buffer_from_slice(&x)?;
    let groups = n.div_ceil(chunk);
    let mut out = env.dc.buffer_zeroed::<f32>(groups)?;
    kernels::partial_sums::launch(&env.acc, groups, chunk, &dx, &mut out)?;
    let want: Vec<f32> = x.chunks(chunk).map(crate::reference::sum4).collect();
    compare::floats_f32("out", &out.to_vec()?, &want, Tolerance::EXACT).map_err(mismatch)
}

fn poly32(env: &Env) -> CaseResult {
    let n = 100_003;
    let x = Rng::new(16).f32s(n, -1.0, 1.0);
    let dx = env.dc.buffer_from_slice(&x)?;
    let mut out = env.dc.buffer_zeroed::<f32>(n)?;
    kernels::poly32::launch(&env.acc, n, &dx, &mut out)?;
    let want: Vec<f32> = x.iter().map(|&v| crate::reference::poly32(v)).collect();
    compare::floats_f32("out", &out.to_vec()?, &want, Tolerance::EXACT).map_err(mismatch)
}
