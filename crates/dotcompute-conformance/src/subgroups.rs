//! Subgroup operations: kernels, the cases that run them, and host references that follow
//! the combination orders the kernel language defines (so float results compare exactly).
//!
//! Every case launches groups of 64 items (a multiple of every subgroup size the backends
//! use: 4 to 64 on the CPU, 8 on lavapipe, 32 on NVIDIA) over a grid that is no multiple of
//! the group, so that the last group's items beyond the grid contribute identities; the
//! references take the subgroup size from the accelerator's capabilities.

use crate::compare::{self, Outcome, Tolerance};
use crate::random::Rng;
use crate::{CaseError, Env};
use dotcompute::prelude::*;
use dotcompute::{Grid, KernelDefinition};

type CaseResult = Result<Outcome, CaseError>;

/// Items per group in every subgroup case.
const GROUP: usize = 64;
/// Items in every subgroup case's grid: 15 whole groups and one of 40.
const ITEMS: usize = 1000;

/// Every subgroup kernel (for the emitters' validation tests).
pub fn all() -> Vec<&'static KernelDefinition> {
    vec![
        subgroup_reduce::definition(),
        subgroup_scan::definition(),
        subgroup_exchange::definition(),
        subgroup_vote::definition(),
        subgroup_ids::definition(),
        subgroup_block_sum::definition(),
        subgroup_in_loop::definition(),
    ]
}

/// Sums, minima and maxima over each subgroup, of `f32` and `i64` values.
#[kernel]
pub fn subgroup_reduce(
    x: &[f32],
    k: &[i64],
    sums: &mut [f32],
    mins: &mut [f32],
    maxs: &mut [f32],
    ksums: &mut [i64],
    kmins: &mut [i64],
) {
    let i = global_id_x();
    let v = x[i];
    let s = subgroup_add(v);
    let lo = subgroup_min(v);
    let hi = subgroup_max(v);
    let ks = subgroup_add(k[i]);
    let kl = subgroup_min(k[i]);
    sums[i] = s;
    mins[i] = lo;
    maxs[i] = hi;
    ksums[i] = ks;
    kmins[i] = kl;
}

/// Inclusive and exclusive sums within each subgroup, of `u32` and `f32` values.
#[kernel]
pub fn subgroup_scan(x: &[u32], f: &[f32], incl: &mut [u32], excl: &mut [u32], fincl: &mut [f32]) {
    let i = global_id_x();
    let a = subgroup_inclusive_add(x[i]);
    let b = subgroup_exclusive_add(x[i]);
    let c = subgroup_inclusive_add(f[i]);
    incl[i] = a;
    excl[i] = b;
    fincl[i] = c;
}

/// Broadcast from lane 0, a shuffle that reverses the subgroup, and an exchange with the
/// neighbour (xor 1), of `f64` values (64 bits: two 32-bit shuffles on wgpu) and of `i32`.
#[kernel]
pub fn subgroup_exchange(
    x: &[f64],
    k: &[i32],
    first: &mut [f64],
    reversed: &mut [f64],
    neighbour: &mut [f64],
    kreversed: &mut [i32],
) {
    let i = global_id_x();
    let v = x[i];
    let last = subgroup_size() - 1;
    let b = subgroup_broadcast(v, 0);
    let r = subgroup_shuffle(v, last - subgroup_lane());
    let n = subgroup_shuffle_xor(v, 1);
    let kr = subgroup_shuffle(k[i], last - subgroup_lane());
    first[i] = b;
    reversed[i] = r;
    neighbour[i] = n;
    kreversed[i] = kr;
}

/// Whether any, or every, item of the subgroup holds a multiple of 7.
#[kernel]
pub fn subgroup_vote(x: &[u32], any: &mut [u32], all: &mut [u32]) {
    let i = global_id_x();
    let seven = x[i] % 7 == 0;
    let a = subgroup_any(seven);
    let e = subgroup_all(seven);
    any[i] = if a { 1 } else { 0 };
    all[i] = if e { 1 } else { 0 };
}

/// Each item's subgroup size and lane, and the linear local id of lane 0 of its subgroup
/// (read by a broadcast, so that the device's own lanes must be runs of consecutive linear
/// local ids, as the language defines them, also in 2-D groups).
#[kernel]
pub fn subgroup_ids(out: &mut [u64], first: &mut [u64]) {
    let i = global_id_x() + global_size_x() * global_id_y();
    let local = local_id_x() + group_size_x() * local_id_y();
    let f = subgroup_broadcast(local, 0);
    out[i] = (subgroup_size() * 1000 + subgroup_lane()) as u64;
    first[i] = f as u64;
}

/// One sum per group: each subgroup's sum (lane 0 keeps it in a shared array), then item 0
/// adds the subgroups' sums in order: the usual two-level block reduction.
#[kernel]
pub fn subgroup_block_sum(x: &[f32], sums: &mut [f32]) {
    let mut partial = shared_array::<f32, 64>();
    let lid = local_id_x();
    let s = subgroup_add(x[global_id_x()]);
    if subgroup_lane() == 0 {
        partial[lid / subgroup_size()] = s;
    }
    barrier();
    if lid == 0 {
        let mut total = 0.0;
        for k in 0..group_size_x() / subgroup_size() {
            total += partial[k];
        }
        sums[group_id_x()] = total;
    }
}

/// Subgroup sums in a uniform loop, each round's operand computed in it.
#[kernel]
pub fn subgroup_in_loop(x: &[u32], out: &mut [u32]) {
    let i = global_id_x();
    let mut acc = 0u32;
    for r in 0..3u32 {
        let v = x[i] + r;
        let s = subgroup_add(v);
        acc = acc * 7 + s;
    }
    out[i] = acc;
}

/// The subgroup size kernels run with here, as a kernel reads it (a driver may pick less
/// than `Capabilities::subgroup_size`, the largest it may pick), or an error when the
/// accelerator has no subgroups.
fn size(env: &Env) -> Result<usize, CaseError> {
    let largest = env.acc.info().capabilities.subgroup_size as usize;
    if largest == 0 {
        return Err(CaseError::Launch(dotcompute::Error::Unsupported {
            kernel: "subgroup cases".into(),
            need: "subgroup operations".into(),
            accelerator: env.acc.info().name.clone(),
        }));
    }
    let mut out = env.dc.buffer_zeroed::<u64>(GROUP)?;
    let mut first = env.dc.buffer_zeroed::<u64>(GROUP)?;
    subgroup_ids::launch(
        &env.acc,
        Grid::d1(GROUP as u64).with_group_size([GROUP as u32, 1, 1]),
        &mut out,
        &mut first,
    )?;
    let size = (out.to_vec()?[0] / 1000) as usize;
    if size == 0 || size > largest || !size.is_power_of_two() {
        return Err(CaseError::Mismatch(compare::Mismatch {
            output: "subgroup_size()",
            index: 0,
            got: size.to_string(),
            want: format!("a power of two up to {largest}"),
            ulp: None,
        }));
    }
    Ok(size)
}

fn grid() -> Grid {
    Grid::d1(ITEMS as u64).with_group_size([GROUP as u32, 1, 1])
}

/// The host's result of a subgroup operation for every item of the grid: `values` padded
/// with `identity` to whole groups, then each subgroup of `size` lanes through `lanes`.
fn per_subgroup<T: Copy>(
    values: &[T],
    identity: T,
    size: usize,
    lanes: impl Fn(&[T]) -> Vec<T>,
) -> Vec<T> {
    let mut padded = values.to_vec();
    padded.resize(ITEMS.div_ceil(GROUP) * GROUP, identity);
    let mut out: Vec<T> = padded.chunks(size).flat_map(lanes).collect();
    out.truncate(values.len());
    out
}

/// The butterfly of `SubgroupOp::Add` / `Min` / `Max`: lane l combines its value with lane
/// l ^ d's, for d = 1, 2, 4, ...
fn butterfly<T: Copy>(lanes: &[T], f: impl Fn(T, T) -> T) -> Vec<T> {
    let mut v = lanes.to_vec();
    let mut d = 1;
    while d < v.len() {
        v = (0..v.len()).map(|l| f(v[l], v[l ^ d])).collect();
        d *= 2;
    }
    v
}

/// The Hillis-Steele scan of `SubgroupOp::InclusiveAdd`: lanes l >= d take
/// `v[l - d] + v[l]`, for d = 1, 2, 4, ...
fn hillis_steele<T: Copy>(lanes: &[T], f: impl Fn(T, T) -> T) -> Vec<T> {
    let mut v = lanes.to_vec();
    let mut d = 1;
    while d < v.len() {
        v = (0..v.len())
            .map(|l| if l >= d { f(v[l - d], v[l]) } else { v[l] })
            .collect();
        d *= 2;
    }
    v
}

fn mismatch(m: compare::Mismatch) -> CaseError {
    CaseError::Mismatch(m)
}

/// `subgroup_add`, `subgroup_min`, `subgroup_max` of mixed magnitudes (so that the order
/// shows in the bits) and of integers.
pub fn reduce(env: &Env) -> CaseResult {
    let s = size(env)?;
    let mut rng = Rng::new(71);
    let x: Vec<f32> = (0..ITEMS)
        .map(|i| rng.f32_in(-1.0, 1.0) * [1.0, 1e4, 1e-4, 1e8][i % 4])
        .collect();
    let k: Vec<i64> = (0..ITEMS).map(|_| rng.next_u64() as i64 >> 3).collect();
    let dx = env.dc.buffer_from_slice(&x)?;
    let dk = env.dc.buffer_from_slice(&k)?;
    let mut sums = env.dc.buffer_zeroed::<f32>(ITEMS)?;
    let mut mins = env.dc.buffer_zeroed::<f32>(ITEMS)?;
    let mut maxs = env.dc.buffer_zeroed::<f32>(ITEMS)?;
    let mut ksums = env.dc.buffer_zeroed::<i64>(ITEMS)?;
    let mut kmins = env.dc.buffer_zeroed::<i64>(ITEMS)?;
    subgroup_reduce::launch(
        &env.acc,
        grid(),
        &dx,
        &dk,
        &mut sums,
        &mut mins,
        &mut maxs,
        &mut ksums,
        &mut kmins,
    )?;
    let sum = per_subgroup(&x, -0.0, s, |l| butterfly(l, |a, b| a + b));
    let min = per_subgroup(&x, f32::INFINITY, s, |l| butterfly(l, f32::min));
    let max = per_subgroup(&x, f32::NEG_INFINITY, s, |l| butterfly(l, f32::max));
    let ksum = per_subgroup(&k, 0, s, |l| butterfly(l, i64::wrapping_add));
    let kmin = per_subgroup(&k, i64::MAX, s, |l| butterfly(l, i64::min));
    let exact = Tolerance::EXACT;
    let a = compare::floats_f32("sums", &sums.to_vec()?, &sum, exact).map_err(mismatch)?;
    let b = compare::floats_f32("mins", &mins.to_vec()?, &min, exact).map_err(mismatch)?;
    let c = compare::floats_f32("maxs", &maxs.to_vec()?, &max, exact).map_err(mismatch)?;
    let d = compare::exact("ksums", &ksums.to_vec()?, &ksum).map_err(mismatch)?;
    let e = compare::exact("kmins", &kmins.to_vec()?, &kmin).map_err(mismatch)?;
    Ok(a.merge(b).merge(c).merge(d).merge(e))
}

/// `subgroup_inclusive_add` and `subgroup_exclusive_add` of wrapping integers and floats.
pub fn scan(env: &Env) -> CaseResult {
    let s = size(env)?;
    let mut rng = Rng::new(73);
    let x: Vec<u32> = (0..ITEMS).map(|_| rng.next_u64() as u32).collect();
    let f: Vec<f32> = (0..ITEMS)
        .map(|i| rng.f32_in(-1.0, 1.0) * [1.0, 3e5, 1e-3][i % 3])
        .collect();
    let dx = env.dc.buffer_from_slice(&x)?;
    let df = env.dc.buffer_from_slice(&f)?;
    let mut incl = env.dc.buffer_zeroed::<u32>(ITEMS)?;
    let mut excl = env.dc.buffer_zeroed::<u32>(ITEMS)?;
    let mut fincl = env.dc.buffer_zeroed::<f32>(ITEMS)?;
    subgroup_scan::launch(&env.acc, grid(), &dx, &df, &mut incl, &mut excl, &mut fincl)?;
    let want_incl = per_subgroup(&x, 0, s, |l| hillis_steele(l, u32::wrapping_add));
    let want_excl = per_subgroup(&x, 0, s, |l| {
        let incl = hillis_steele(l, u32::wrapping_add);
        std::iter::once(0)
            .chain(incl[..l.len() - 1].iter().copied())
            .collect()
    });
    let want_f = per_subgroup(&f, -0.0, s, |l| hillis_steele(l, |a, b| a + b));
    let a = compare::exact("incl", &incl.to_vec()?, &want_incl).map_err(mismatch)?;
    let b = compare::exact("excl", &excl.to_vec()?, &want_excl).map_err(mismatch)?;
    let c = compare::floats_f32("fincl", &fincl.to_vec()?, &want_f, Tolerance::EXACT)
        .map_err(mismatch)?;
    Ok(a.merge(b).merge(c))
}

/// `subgroup_broadcast`, `subgroup_shuffle` and `subgroup_shuffle_xor` (absent items hold 0).
pub fn exchange(env: &Env) -> CaseResult {
    let s = size(env)?;
    let mut rng = Rng::new(79);
    let x: Vec<f64> = (0..ITEMS).map(|_| f64::from_bits(rng.next_u64())).collect();
    let k: Vec<i32> = (0..ITEMS).map(|_| rng.next_u64() as i32).collect();
    let dx = env.dc.buffer_from_slice(&x)?;
    let dk = env.dc.buffer_from_slice(&k)?;
    let mut first = env.dc.buffer_zeroed::<f64>(ITEMS)?;
    let mut reversed = env.dc.buffer_zeroed::<f64>(ITEMS)?;
    let mut neighbour = env.dc.buffer_zeroed::<f64>(ITEMS)?;
    let mut kreversed = env.dc.buffer_zeroed::<i32>(ITEMS)?;
    subgroup_exchange::launch(
        &env.acc,
        grid(),
        &dx,
        &dk,
        &mut first,
        &mut reversed,
        &mut neighbour,
        &mut kreversed,
    )?;
    let want_first = per_subgroup(&x, 0.0, s, |l| vec![l[0]; l.len()]);
    let want_rev = per_subgroup(&x, 0.0, s, |l| l.iter().rev().copied().collect());
    let want_nb = per_subgroup(&x, 0.0, s, |l| {
        (0..l.len()).map(|i| l[i ^ (1 % s)]).collect()
    });
    let want_krev = per_subgroup(&k, 0, s, |l| l.iter().rev().copied().collect());
    // Compared by their bits: random bit patterns include NaNs.
    let bits = |v: &[f64]| -> Vec<u64> { v.iter().map(|f| f.to_bits()).collect() };
    let a =
        compare::exact("first", &bits(&first.to_vec()?), &bits(&want_first)).map_err(mismatch)?;
    let b = compare::exact("reversed", &bits(&reversed.to_vec()?), &bits(&want_rev))
        .map_err(mismatch)?;
    let c = compare::exact("neighbour", &bits(&neighbour.to_vec()?), &bits(&want_nb))
        .map_err(mismatch)?;
    let d = compare::exact("kreversed", &kreversed.to_vec()?, &want_krev).map_err(mismatch)?;
    Ok(a.merge(b).merge(c).merge(d))
}

/// `subgroup_any` and `subgroup_all` (absent items count as false for any, true for all).
pub fn vote(env: &Env) -> CaseResult {
    let s = size(env)?;
    let mut rng = Rng::new(83);
    // Mostly multiples of 7 in some subgroups, rarely in others.
    let x: Vec<u32> = (0..ITEMS)
        .map(|i| {
            let r = rng.next_u64() as u32 % 1000;
            if (i / 8) % 3 == 0 {
                r * 7
            } else {
                r * 7 + u32::from(!r.is_multiple_of(9))
            }
        })
        .collect();
    let dx = env.dc.buffer_from_slice(&x)?;
    let mut any = env.dc.buffer_zeroed::<u32>(ITEMS)?;
    let mut all = env.dc.buffer_zeroed::<u32>(ITEMS)?;
    subgroup_vote::launch(&env.acc, grid(), &dx, &mut any, &mut all)?;
    let seven: Vec<bool> = x.iter().map(|v| v % 7 == 0).collect();
    let want_any: Vec<u32> =
        per_subgroup(&seven, false, s, |l| vec![l.iter().any(|&b| b); l.len()])
            .into_iter()
            .map(u32::from)
            .collect();
    let want_all: Vec<u32> = per_subgroup(&seven, true, s, |l| vec![l.iter().all(|&b| b); l.len()])
        .into_iter()
        .map(u32::from)
        .collect();
    let a = compare::exact("any", &any.to_vec()?, &want_any).map_err(mismatch)?;
    let b = compare::exact("all", &all.to_vec()?, &want_all).map_err(mismatch)?;
    Ok(a.merge(b))
}

/// `subgroup_size()` and `subgroup_lane()` in 16 x 4 groups over a 40 x 10 grid.
pub fn ids(env: &Env) -> CaseResult {
    let s = size(env)?;
    let (w, h) = (40usize, 10usize);
    let mut out = env.dc.buffer_zeroed::<u64>(w * h)?;
    let mut first = env.dc.buffer_zeroed::<u64>(w * h)?;
    subgroup_ids::launch(
        &env.acc,
        Grid::d2(w as u64, h as u64).with_group_size([16, 4, 1]),
        &mut out,
        &mut first,
    )?;
    let local = |i: usize| (i % w) % 16 + 16 * ((i / w) % 4);
    let want: Vec<u64> = (0..w * h)
        .map(|i| (s * 1000 + local(i) % s) as u64)
        .collect();
    // Every subgroup that holds an item of the grid has its lane 0 in the grid too (lane 0 is
    // at local x = 0, or x = 8 for subgroups of 8, whose items all lie beyond x = 40).
    let want_first: Vec<u64> = (0..w * h)
        .map(|i| (local(i) - local(i) % s) as u64)
        .collect();
    let a = compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)?;
    let b = compare::exact("first", &first.to_vec()?, &want_first).map_err(mismatch)?;
    Ok(a.merge(b))
}

/// A group whose size is no multiple of the subgroup size is refused before anything runs.
pub fn partial_subgroups_refused(env: &Env) -> CaseResult {
    let s = size(env)?;
    if s == 1 {
        return Ok(Outcome {
            compared: 0,
            max_ulp: 0,
        });
    }
    let mut out = env.dc.buffer_zeroed::<u64>(s + 1)?;
    let mut first = env.dc.buffer_zeroed::<u64>(s + 1)?;
    let result = subgroup_ids::launch(
        &env.acc,
        Grid::d1(s as u64 + 1).with_group_size([s as u32 + 1, 1, 1]),
        &mut out,
        &mut first,
    );
    match result {
        Err(dotcompute::Error::InvalidGrid { reason, .. }) if reason.contains("subgroup") => {
            Ok(Outcome {
                compared: 1,
                max_ulp: 0,
            })
        }
        Err(e) => Err(CaseError::Launch(e)),
        Ok(()) => Err(CaseError::Mismatch(compare::Mismatch {
            output: "launch",
            index: 0,
            got: "a launch that ran".into(),
            want: "Error::InvalidGrid naming the subgroup size".into(),
            ulp: None,
        })),
    }
}

/// Two-level block sums: subgroup sums, then their sum per group, in order.
pub fn block_sum(env: &Env) -> CaseResult {
    let s = size(env)?;
    let x = Rng::new(89).f32s(ITEMS, -1.0, 1.0);
    let dx = env.dc.buffer_from_slice(&x)?;
    let groups = ITEMS.div_ceil(GROUP);
    let mut sums = env.dc.buffer_zeroed::<f32>(groups)?;
    subgroup_block_sum::launch(&env.acc, grid(), &dx, &mut sums)?;
    let per_lane = per_subgroup(&x, -0.0, s, |l| butterfly(l, |a, b| a + b));
    let want: Vec<f32> = (0..groups)
        .map(|g| {
            (0..GROUP / s)
                .map(|k| per_lane.get(g * GROUP + k * s).copied().unwrap_or(0.0))
                .fold(0.0, |t, v| t + v)
        })
        .collect();
    compare::floats_f32("sums", &sums.to_vec()?, &want, Tolerance::EXACT).map_err(mismatch)
}

/// Subgroup operations in a loop whose body the CPU runs once per group.
pub fn in_loop(env: &Env) -> CaseResult {
    let s = size(env)?;
    let mut rng = Rng::new(97);
    let x: Vec<u32> = (0..ITEMS).map(|_| rng.next_u64() as u32 % 1000).collect();
    let dx = env.dc.buffer_from_slice(&x)?;
    let mut out = env.dc.buffer_zeroed::<u32>(ITEMS)?;
    subgroup_in_loop::launch(&env.acc, grid(), &dx, &mut out)?;
    let mut want = vec![0u32; ITEMS];
    for r in 0..3u32 {
        // Absent items contribute 0, not r.
        let v: Vec<u32> = x.iter().map(|&a| a + r).collect();
        let sums = per_subgroup(&v, 0, s, |l| butterfly(l, u32::wrapping_add));
        for (w, s) in want.iter_mut().zip(sums) {
            *w = w.wrapping_mul(7).wrapping_add(s);
        }
    }
    compare::exact("out", &out.to_vec()?, &want).map_err(mismatch)
}
