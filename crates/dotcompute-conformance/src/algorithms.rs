//! The algorithms library on each backend: results compared bit for bit with host references
//! that follow the library's documented order of operations.

use crate::compare::{self, Outcome};
use crate::random::Rng;
use crate::{CaseError, Env};
use dotcompute::algorithms::{self, reduce::CHUNK};

type CaseResult = Result<Outcome, CaseError>;

/// The library's reduction order on the host: chunks of `CHUNK`, lane `l` of 256 combining
/// elements `l, l + 256, ..` in order from the identity, a halving tree over the lanes, and
/// the chunk values reduced again until one is left.
pub fn ordered_reduce<T: Copy>(x: &[T], identity: T, f: impl Fn(T, T) -> T) -> T {
    if x.is_empty() {
        return identity;
    }
    let mut values = x.to_vec();
    loop {
        values = values
            .chunks(CHUNK)
            .map(|chunk| {
                let mut lanes: Vec<T> = (0..256)
                    .map(|l| {
                        chunk
                            .iter()
                            .skip(l)
                            .step_by(256)
                            .fold(identity, |acc, &v| f(acc, v))
                    })
                    .collect();
                let mut s = 128;
                while s > 0 {
                    for l in 0..s {
                        lanes[l] = f(lanes[l], lanes[l + s]);
                    }
                    s /= 2;
                }
                lanes[0]
            })
            .collect();
        if values.len() == 1 {
            return values[0];
        }
    }
}

/// Floats of mixed magnitudes (1e-8 to 1e8) and signs, some zeros of either sign: sums of
/// these differ in the last bits with any other order.
pub fn mixed_f32(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| match i % 97 {
            0 => -0.0,
            1 => 0.0,
            _ => {
                let scale = 10f32.powi((rng.next_u64() % 17) as i32 - 8);
                rng.f32_in(-1.0, 1.0) * scale
            }
        })
        .collect()
}

fn mixed_f64(rng: &mut Rng, n: usize) -> Vec<f64> {
    mixed_f32(rng, n)
        .into_iter()
        .map(|v| f64::from(v) * (1.0 + 1e-9 * rng.f64_in(-1.0, 1.0)))
        .collect()
}

fn mismatch(m: compare::Mismatch) -> CaseError {
    CaseError::Mismatch(m)
}

fn same_bits(output: &'static str, got: u64, want: u64) -> CaseResult {
    compare::exact(output, &[got], &[want]).map_err(mismatch)
}

/// `sum`, `product`, `min`, `max`, `argmin`, `argmax` of f32, f64 and integers, at sizes of
/// one and two passes, and of nothing.
pub fn reductions(env: &Env) -> CaseResult {
    let mut rng = Rng::new(101);
    let mut total = Outcome {
        compared: 0,
        max_ulp: 0,
    };
    for n in [0usize, 1, 255, 4096, 4097, 300_001] {
        let x = mixed_f32(&mut rng, n);
        let d = mixed_f64(&mut rng, n);
        let k: Vec<i64> = (0..n).map(|_| rng.next_u64() as i64).collect();
        let u: Vec<u32> = (0..n).map(|_| rng.next_u64() as u32).collect();
        // Products of values near 1, so that they stay finite and show the order.
        let p: Vec<f32> = (0..n).map(|_| 1.0 + rng.f32_in(-1e-3, 1e-3)).collect();
        let (dx, dd) = (env.dc.buffer_from_slice(&x)?, env.dc.buffer_from_slice(&d)?);
        let (dk, du) = (env.dc.buffer_from_slice(&k)?, env.dc.buffer_from_slice(&u)?);
        let dp = env.dc.buffer_from_slice(&p)?;
        let acc = &env.acc;
        let checks = [
            (
                "sum f32",
                u64::from(algorithms::sum(acc, &dx)?.to_bits()),
                u64::from(ordered_reduce(&x, -0.0f32, |a, b| a + b).to_bits()),
            ),
            (
                "sum f64",
                algorithms::sum(acc, &dd)?.to_bits(),
                ordered_reduce(&d, -0.0f64, |a, b| a + b).to_bits(),
            ),
            (
                "min f32",
                u64::from(algorithms::min(acc, &dx)?.to_bits()),
                u64::from(ordered_reduce(&x, f32::INFINITY, f32::min).to_bits()),
            ),
            (
                "max f64",
                algorithms::max(acc, &dd)?.to_bits(),
                ordered_reduce(&d, f64::NEG_INFINITY, f64::max).to_bits(),
            ),
            (
                "product f32",
                u64::from(algorithms::product(acc, &dp)?.to_bits()),
                u64::from(ordered_reduce(&p, 1.0f32, |a, b| a * b).to_bits()),
            ),
            (
                "sum i64",
                algorithms::sum(acc, &dk)? as u64,
                k.iter().fold(0i64, |a, &b| a.wrapping_add(b)) as u64,
            ),
            (
                "min i64",
                algorithms::min(acc, &dk)? as u64,
                k.iter().copied().min().unwrap_or(i64::MAX) as u64,
            ),
            (
                "product u32",
                u64::from(algorithms::product(acc, &du)?),
                u64::from(u.iter().fold(1u32, |a, &b| a.wrapping_mul(b))),
            ),
            (
                "max u32",
                u64::from(algorithms::max(acc, &du)?),
                u64::from(u.iter().copied().max().unwrap_or(0)),
            ),
        ];
        // Indices: ties (values repeat) go to the first; NaNs lose; -0.0 equals 0.0.
        let mut t: Vec<f32> = x.iter().map(|v| (v * 4.0).round()).collect();
        for (i, v) in t.iter_mut().enumerate() {
            if i % 7 == 3 {
                *v = f32::NAN;
            }
        }
        let dt = env.dc.buffer_from_slice(&t)?;
        let first_best = |better: &dyn Fn(f32, f32) -> bool| -> u64 {
            let mut best: Option<usize> = None;
            for (i, &v) in t.iter().enumerate() {
                best = match best {
                    None => Some(i),
                    Some(b) if t[b].is_nan() && !v.is_nan() => Some(i),
                    Some(b) if !v.is_nan() && better(v, t[b]) => Some(i),
                    keep => keep,
                };
            }
            best.map_or(u64::MAX, |b| b as u64)
        };
        let index = |r: Option<usize>| r.map_or(u64::MAX, |i| i as u64);
        let k_first = |better: &dyn Fn(i64, i64) -> bool| -> u64 {
            let mut best: Option<usize> = None;
            for (i, &v) in k.iter().enumerate() {
                if best.is_none_or(|b| better(v, k[b])) {
                    best = Some(i);
                }
            }
            best.map_or(u64::MAX, |b| b as u64)
        };
        let checks = checks.into_iter().chain([
            (
                "argmin f32",
                index(algorithms::argmin(acc, &dt)?),
                first_best(&|v, b| v < b),
            ),
            (
                "argmax f32",
                index(algorithms::argmax(acc, &dt)?),
                first_best(&|v, b| v > b),
            ),
            (
                "argmin i64",
                index(algorithms::argmin(acc, &dk)?),
                k_first(&|v, b| v < b),
            ),
            (
                "argmax i64",
                index(algorithms::argmax(acc, &dk)?),
                k_first(&|v, b| v > b),
            ),
        ]);
        for (what, got, want) in checks {
            total = total.merge(same_bits(what, got, want).map_err(|e| match e {
                CaseError::Mismatch(mut m) => {
                    m.got = format!("{} (n = {n}, {what}: bits {got:#x})", m.got);
                    CaseError::Mismatch(m)
                }
                other => other,
            })?);
        }
    }
    Ok(total)
}

/// The library's scan order on the host (see `dotcompute::algorithms::scan`).
pub fn ordered_scan<T: Copy>(
    x: &[T],
    exclusive: bool,
    identity: T,
    f: &dyn Fn(T, T) -> T,
) -> Vec<T> {
    if x.is_empty() {
        return Vec::new();
    }
    let chunks: Vec<&[T]> = x.chunks(CHUNK).collect();
    // Per chunk: the lane totals and their Hillis-Steele scan.
    let lane_scans: Vec<Vec<T>> = chunks
        .iter()
        .map(|chunk| {
            let mut lanes: Vec<T> = (0..256)
                .map(|l| {
                    chunk
                        .iter()
                        .skip(16 * l)
                        .take(16)
                        .fold(identity, |acc, &v| f(acc, v))
                })
                .collect();
            let mut d = 1;
            while d < 256 {
                lanes = (0..256)
                    .map(|l| {
                        if l >= d {
                            f(lanes[l - d], lanes[l])
                        } else {
                            lanes[l]
                        }
                    })
                    .collect();
                d *= 2;
            }
            lanes
        })
        .collect();
    let carries = if chunks.len() == 1 {
        vec![identity]
    } else {
        let totals: Vec<T> = lane_scans.iter().map(|lanes| lanes[255]).collect();
        ordered_scan(&totals, true, identity, f)
    };
    let mut out = Vec::with_capacity(x.len());
    for (c, chunk) in chunks.iter().enumerate() {
        for (l, segment) in chunk.chunks(16).enumerate() {
            let prefix = if l > 0 {
                lane_scans[c][l - 1]
            } else {
                identity
            };
            let mut running = f(carries[c], prefix);
            for &v in segment {
                let next = f(running, v);
                out.push(if exclusive { running } else { next });
                running = next;
            }
        }
    }
    out
}

/// `inclusive_scan` and `exclusive_scan` of f32 (mixed magnitudes), f64 and integers, at
/// sizes of one and two levels of carries, and of nothing.
pub fn scans(env: &Env) -> CaseResult {
    let mut rng = Rng::new(103);
    let mut total = Outcome {
        compared: 0,
        max_ulp: 0,
    };
    // 2,500,003: more than one block of the CPU's one-sweep scan (2M elements).
    for n in [0usize, 1, 17, 4096, 4097, 70_001, 2_500_003] {
        let x = mixed_f32(&mut rng, n);
        let d = mixed_f64(&mut rng, n);
        let u: Vec<u32> = (0..n).map(|_| rng.next_u64() as u32).collect();
        let k: Vec<i64> = (0..n).map(|_| rng.next_u64() as i64).collect();
        let (dx, dd) = (env.dc.buffer_from_slice(&x)?, env.dc.buffer_from_slice(&d)?);
        let (du, dk) = (env.dc.buffer_from_slice(&u)?, env.dc.buffer_from_slice(&k)?);
        let acc = &env.acc;
        for exclusive in [false, true] {
            let scan_f32 = |x: &dotcompute::UnifiedBuffer<f32>| -> Result<Vec<f32>, CaseError> {
                let mut y = env.dc.buffer_zeroed::<f32>(n)?;
                if exclusive {
                    algorithms::exclusive_scan(acc, x, &mut y)?;
                } else {
                    algorithms::inclusive_scan(acc, x, &mut y)?;
                }
                Ok(y.to_vec()?)
            };
            let got: Vec<u32> = scan_f32(&dx)?.iter().map(|v| v.to_bits()).collect();
            let want: Vec<u32> = ordered_scan(&x, exclusive, -0.0f32, &|a, b| a + b)
                .iter()
                .map(|v| v.to_bits())
                .collect();
            total = total.merge(compare::exact("scan f32 (bits)", &got, &want).map_err(mismatch)?);
            let mut yd = env.dc.buffer_zeroed::<f64>(n)?;
            let mut yu = env.dc.buffer_zeroed::<u32>(n)?;
            let mut yk = env.dc.buffer_zeroed::<i64>(n)?;
            if exclusive {
                algorithms::exclusive_scan(acc, &dd, &mut yd)?;
                algorithms::exclusive_scan(acc, &du, &mut yu)?;
                algorithms::exclusive_scan(acc, &dk, &mut yk)?;
            } else {
                algorithms::inclusive_scan(acc, &dd, &mut yd)?;
                algorithms::inclusive_scan(acc, &du, &mut yu)?;
                algorithms::inclusive_scan(acc, &dk, &mut yk)?;
            }
            let got: Vec<u64> = yd.to_vec()?.iter().map(|v| v.to_bits()).collect();
            let want: Vec<u64> = ordered_scan(&d, exclusive, -0.0f64, &|a, b| a + b)
                .iter()
                .map(|v| v.to_bits())
                .collect();
            total = total.merge(compare::exact("scan f64 (bits)", &got, &want).map_err(mismatch)?);
            let want = ordered_scan(&u, exclusive, 0u32, &|a, b| a.wrapping_add(b));
            total =
                total.merge(compare::exact("scan u32", &yu.to_vec()?, &want).map_err(mismatch)?);
            let want = ordered_scan(&k, exclusive, 0i64, &|a, b| a.wrapping_add(b));
            total =
                total.merge(compare::exact("scan i64", &yk.to_vec()?, &want).map_err(mismatch)?);
        }
    }
    Ok(total)
}

/// `histogram` of f32 (with NaNs and values at and beyond the edges), i32 over a negative
/// range and u64 over nearly all of u64, into 1, 7 and 4096 bins.
pub fn histograms(env: &Env) -> CaseResult {
    let mut rng = Rng::new(107);
    let acc = &env.acc;
    let n = 200_003;
    let mut x: Vec<f32> = (0..n).map(|_| rng.f32_in(-1.5, 11.5)).collect();
    x[..6].copy_from_slice(&[f32::NAN, 0.0, 10.0, -0.0, 9.999999, f32::INFINITY]);
    let k: Vec<i32> = (0..n).map(|_| rng.next_u64() as i32 % 1000 - 500).collect();
    let u: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
    let (dx, dk, du) = (
        env.dc.buffer_from_slice(&x)?,
        env.dc.buffer_from_slice(&k)?,
        env.dc.buffer_from_slice(&u)?,
    );
    let mut total = Outcome {
        compared: 0,
        max_ulp: 0,
    };
    for bins in [1usize, 7, 4096] {
        let scale = bins as f32 / 10.0;
        let mut want = vec![0u32; bins];
        for &v in &x {
            if (0.0..10.0).contains(&v) {
                want[(((v - 0.0) * scale) as usize).min(bins - 1)] += 1;
            }
        }
        let got = algorithms::histogram(acc, &dx, bins, 0.0f32, 10.0)?.to_vec()?;
        total = total.merge(compare::exact("histogram f32", &got, &want).map_err(mismatch)?);
        let width = 600u64.div_ceil(bins as u64);
        let mut want = vec![0u32; bins];
        for &v in &k {
            if (-400..200).contains(&v) {
                let d = (v as u64).wrapping_sub(-400i32 as u64);
                want[((d / width) as usize).min(bins - 1)] += 1;
            }
        }
        let got = algorithms::histogram(acc, &dk, bins, -400i32, 200)?.to_vec()?;
        total = total.merge(compare::exact("histogram i32", &got, &want).map_err(mismatch)?);
        let (lo, hi) = (5u64, u64::MAX - 3);
        let width = (hi - lo).div_ceil(bins as u64);
        let mut want = vec![0u32; bins];
        for &v in &u {
            if v >= lo && v < hi {
                want[(((v - lo) / width) as usize).min(bins - 1)] += 1;
            }
        }
        let got = algorithms::histogram(acc, &du, bins, lo, hi)?.to_vec()?;
        total = total.merge(compare::exact("histogram u64", &got, &want).map_err(mismatch)?);
    }
    Ok(total)
}

/// `transpose` of f64 and u32 matrices of shapes that are not multiples of the tile.
pub fn transposes(env: &Env) -> CaseResult {
    let mut rng = Rng::new(109);
    let mut total = Outcome {
        compared: 0,
        max_ulp: 0,
    };
    for (rows, cols) in [(1usize, 1usize), (17, 33), (300, 7), (64, 64), (5, 1000)] {
        let a: Vec<f64> = (0..rows * cols)
            .map(|_| f64::from_bits(rng.next_u64() >> 2))
            .collect();
        let u: Vec<u32> = (0..rows * cols).map(|_| rng.next_u64() as u32).collect();
        let want_a: Vec<u64> = (0..rows * cols)
            .map(|i| a[(i % rows) * cols + i / rows].to_bits())
            .collect();
        let want_u: Vec<u32> = (0..rows * cols)
            .map(|i| u[(i % rows) * cols + i / rows])
            .collect();
        let da = env.dc.buffer_from_slice(&a)?;
        let du = env.dc.buffer_from_slice(&u)?;
        let mut ta = env.dc.buffer_zeroed::<f64>(rows * cols)?;
        let mut tu = env.dc.buffer_zeroed::<u32>(rows * cols)?;
        algorithms::transpose(&env.acc, &da, rows, cols, &mut ta)?;
        algorithms::transpose(&env.acc, &du, rows, cols, &mut tu)?;
        let got_a: Vec<u64> = ta.to_vec()?.iter().map(|v| v.to_bits()).collect();
        total = total.merge(compare::exact("transpose f64", &got_a, &want_a).map_err(mismatch)?);
        total =
            total.merge(compare::exact("transpose u32", &tu.to_vec()?, &want_u).map_err(mismatch)?);
    }
    Ok(total)
}

/// `sort_u32` of random keys, of keys with few distinct values, and of nothing; `sort_f32`
/// (every bit pattern, special values) and `sort_i32`.
pub fn sorts(env: &Env) -> CaseResult {
    let mut rng = Rng::new(113);
    let mut total = Outcome {
        compared: 0,
        max_ulp: 0,
    };
    for n in [0usize, 1, 5000, 100_003] {
        for few in [false, true] {
            let keys: Vec<u32> = (0..n)
                .map(|_| {
                    let r = rng.next_u64() as u32;
                    if few { r % 7 * 0x0101_0101 } else { r }
                })
                .collect();
            let mut want = keys.clone();
            want.sort_unstable();
            let mut dk = env.dc.buffer_from_slice(&keys)?;
            algorithms::sort_u32(&env.acc, &mut dk)?;
            total =
                total.merge(compare::exact("sorted keys", &dk.to_vec()?, &want).map_err(mismatch)?);
        }
        // Floats in total_cmp order (compared by bits: signed zeros and NaNs), and i32.
        let mut f: Vec<f32> = (0..n)
            .map(|_| f32::from_bits(rng.next_u64() as u32))
            .collect();
        let specials = [
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            -f32::NAN,
            1.0,
            -1.0,
        ];
        for (v, s) in f.iter_mut().zip(specials) {
            *v = s;
        }
        let mut want = f.clone();
        want.sort_by(f32::total_cmp);
        let mut df = env.dc.buffer_from_slice(&f)?;
        algorithms::sort_f32(&env.acc, &mut df)?;
        let bits = |v: &[f32]| -> Vec<u32> { v.iter().map(|x| x.to_bits()).collect() };
        total = total.merge(
            compare::exact("sorted f32 (bits)", &bits(&df.to_vec()?), &bits(&want))
                .map_err(mismatch)?,
        );
        let s: Vec<i32> = (0..n).map(|_| rng.next_u64() as i32).collect();
        let mut want = s.clone();
        want.sort_unstable();
        let mut ds = env.dc.buffer_from_slice(&s)?;
        algorithms::sort_i32(&env.acc, &mut ds)?;
        total = total.merge(compare::exact("sorted i32", &ds.to_vec()?, &want).map_err(mismatch)?);
        total = total.merge(sorts_64(env, &mut rng, n)?);
        total = total.merge(pairs_and_argsort(env, &mut rng, n)?);
    }
    Ok(total)
}

/// `sort` of u64, i64 and f64 (every bit pattern, special values) keys.
fn sorts_64(env: &Env, rng: &mut Rng, n: usize) -> CaseResult {
    let mut total = Outcome::default();
    let u: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
    let mut want = u.clone();
    want.sort_unstable();
    let mut du = env.dc.buffer_from_slice(&u)?;
    algorithms::sort(&env.acc, &mut du)?;
    total = total.merge(compare::exact("sorted u64", &du.to_vec()?, &want).map_err(mismatch)?);
    let i: Vec<i64> = (0..n).map(|_| rng.next_u64() as i64).collect();
    let mut want = i.clone();
    want.sort_unstable();
    let mut di = env.dc.buffer_from_slice(&i)?;
    algorithms::sort(&env.acc, &mut di)?;
    total = total.merge(compare::exact("sorted i64", &di.to_vec()?, &want).map_err(mismatch)?);
    let mut f: Vec<f64> = (0..n).map(|_| f64::from_bits(rng.next_u64())).collect();
    let specials = [
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        f64::MIN_POSITIVE / 2.0,
        -1.0,
    ];
    for (v, s) in f.iter_mut().zip(specials) {
        *v = s;
    }
    let mut want = f.clone();
    want.sort_by(f64::total_cmp);
    let mut df = env.dc.buffer_from_slice(&f)?;
    algorithms::sort(&env.acc, &mut df)?;
    let bits = |v: &[f64]| -> Vec<u64> { v.iter().map(|x| x.to_bits()).collect() };
    total = total.merge(
        compare::exact("sorted f64 (bits)", &bits(&df.to_vec()?), &bits(&want))
            .map_err(mismatch)?,
    );
    Ok(total)
}

/// `sort_pairs` (keys with few distinct values, so stability shows: values are the original
/// positions, or floats derived from them) and `argsort`, against the host's stable sort.
fn pairs_and_argsort(env: &Env, rng: &mut Rng, n: usize) -> CaseResult {
    let mut total = Outcome::default();
    let keys: Vec<u32> = (0..n)
        .map(|_| (rng.next_u64() % 13) as u32 * 1_000_003)
        .collect();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by_key(|&i| keys[i as usize]);
    let want_keys: Vec<u32> = order.iter().map(|&i| keys[i as usize]).collect();
    let mut dk = env.dc.buffer_from_slice(&keys)?;
    let mut dv = env
        .dc
        .buffer_from_slice(&(0..n as u32).collect::<Vec<u32>>())?;
    algorithms::sort_pairs(&env.acc, &mut dk, &mut dv)?;
    total = total.merge(compare::exact("pair keys", &dk.to_vec()?, &want_keys).map_err(mismatch)?);
    total = total.merge(compare::exact("pair values", &dv.to_vec()?, &order).map_err(mismatch)?);
    let argsorted = algorithms::argsort(&env.acc, &env.dc.buffer_from_slice(&keys)?)?;
    total =
        total.merge(compare::exact("argsort u32", &argsorted.to_vec()?, &order).map_err(mismatch)?);

    // f64 keys with repeats (-0.0 and 0.0 are distinct keys in total_cmp order), f32 values.
    let fkeys: Vec<f64> = (0..n)
        .map(|_| match rng.next_u64() % 5 {
            0 => -0.0,
            1 => 0.0,
            2 => f64::NAN,
            3 => -2.5,
            _ => 1e300,
        })
        .collect();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by(|&a, &b| fkeys[a as usize].total_cmp(&fkeys[b as usize]));
    let values: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let want_values: Vec<u32> = order
        .iter()
        .map(|&i| values[i as usize].to_bits())
        .collect();
    let mut dk = env.dc.buffer_from_slice(&fkeys)?;
    let mut dv = env.dc.buffer_from_slice(&values)?;
    algorithms::sort_pairs(&env.acc, &mut dk, &mut dv)?;
    let got: Vec<u32> = dv.to_vec()?.iter().map(|v| v.to_bits()).collect();
    total = total
        .merge(compare::exact("f64 -> f32 pair values", &got, &want_values).map_err(mismatch)?);
    let argsorted = algorithms::argsort(&env.acc, &env.dc.buffer_from_slice(&fkeys)?)?;
    total =
        total.merge(compare::exact("argsort f64", &argsorted.to_vec()?, &order).map_err(mismatch)?);
    Ok(total)
}

/// One GEMM of the `gemms` case: `c = alpha op(a) op(b) + beta c0` in `T`, against a
/// reference in `f64` with the standard error bound: each element within
/// `2 (k + 2) u (|alpha| sum_p |a_ip b_pj| + |beta c0_ij|)`, `u` the unit roundoff of `T`
/// (the factor 2 covers the `f64` reference's own rounding for `T = f64`).
#[allow(clippy::too_many_arguments)]
fn check_gemm<T>(
    env: &Env,
    output: &'static str,
    shape: [usize; 3],
    transposes: [bool; 2],
    alpha: T,
    beta: T,
    rng: &mut Rng,
    unit_roundoff: f64,
) -> CaseResult
where
    T: algorithms::GemmElement + Into<f64> + Copy + std::fmt::Debug,
    T: FromF64,
{
    let [m, n, k] = shape;
    let a: Vec<T> = (0..m * k)
        .map(|_| T::from_f64(rng.f64_in(-1.0, 1.0)))
        .collect();
    let b: Vec<T> = (0..k * n)
        .map(|_| T::from_f64(rng.f64_in(-1.0, 1.0)))
        .collect();
    // With beta == 0 the old C must not be read: NaNs there would show.
    let zero_beta = Into::<f64>::into(beta) == 0.0;
    let c0: Vec<T> = (0..m * n)
        .map(|_| {
            T::from_f64(if zero_beta {
                f64::NAN
            } else {
                rng.f64_in(-1.0, 1.0)
            })
        })
        .collect();
    let at = |i: usize, p: usize| -> f64 {
        if transposes[0] {
            a[p * m + i]
        } else {
            a[i * k + p]
        }
        .into()
    };
    let bt = |p: usize, j: usize| -> f64 {
        if transposes[1] {
            b[j * k + p]
        } else {
            b[p * n + j]
        }
        .into()
    };
    let (alpha64, beta64): (f64, f64) = (alpha.into(), beta.into());
    let da = env.dc.buffer_from_slice(&a)?;
    let db = env.dc.buffer_from_slice(&b)?;
    let mut dc = env.dc.buffer_from_slice(&c0)?;
    let mut spec = algorithms::Gemm::new(m, n, k).alpha(alpha).beta(beta);
    if transposes[0] {
        spec = spec.transpose_a();
    }
    if transposes[1] {
        spec = spec.transpose_b();
    }
    spec.run(&env.acc, &da, &db, &mut dc)?;
    let got = dc.to_vec()?;
    let mut max_ulp = 0;
    for i in 0..m {
        for j in 0..n {
            let (mut dot, mut magnitude) = (0.0f64, 0.0f64);
            for p in 0..k {
                dot += at(i, p) * bt(p, j);
                magnitude += (at(i, p) * bt(p, j)).abs();
            }
            let old: f64 = c0[i * n + j].into();
            // BLAS: with alpha 0 or k 0 the product term is absent (not alpha * 0).
            let no_product = alpha64 == 0.0 || k == 0;
            let product = if no_product { 0.0 } else { alpha64 * dot };
            let product_magnitude = if no_product {
                0.0
            } else {
                alpha64.abs() * magnitude
            };
            let (want, old_term) = if zero_beta {
                (product, 0.0)
            } else {
                (product + beta64 * old, (beta64 * old).abs())
            };
            let bound = 2.0 * (k as f64 + 2.0) * unit_roundoff * (product_magnitude + old_term);
            let value: f64 = got[i * n + j].into();
            let ulp = T::ulps(got[i * n + j], want);
            if (value - want).abs() > bound || value.is_nan() {
                return Err(mismatch(compare::Mismatch {
                    output,
                    index: i * n + j,
                    got: format!("{value:e}"),
                    want: format!(
                        "{want:e} (bound {bound:e}; m {m} n {n} k {k}, transposes {transposes:?})"
                    ),
                    ulp: None,
                }));
            }
            max_ulp = max_ulp.max(ulp);
        }
    }
    Ok(Outcome {
        compared: m * n,
        max_ulp,
    })
}

/// Conversion of the reference's random values into the element type.
trait FromF64: Sized {
    fn from_f64(v: f64) -> Self;
    /// ULPs (of `Self`) between `got` and `want` rounded to `Self`.
    fn ulps(got: Self, want: f64) -> u64;
}

impl FromF64 for f32 {
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
    fn ulps(got: f32, want: f64) -> u64 {
        compare::ulp_distance_f32(got, want as f32)
    }
}

impl FromF64 for f64 {
    fn from_f64(v: f64) -> f64 {
        v
    }
    fn ulps(got: f64, want: f64) -> u64 {
        compare::ulp_distance_f64(got, want)
    }
}

/// `Gemm` of f32 and f64 over shapes that are not multiples of the 64 x 64 block (and `k`
/// of 0 and 1), every transpose combination with `alpha`/`beta` 1/0 (the old `C` all NaN:
/// it must not be read), 0.5/-2 and 0/1.5 on two shapes, and an infinite `alpha` with k = 0.
pub fn gemms(env: &Env) -> CaseResult {
    let mut rng = Rng::new(127);
    let mut total = Outcome::default();
    let shapes = [
        [1, 1, 1],
        [67, 45, 33],
        [64, 64, 64],
        [130, 3, 200],
        [5, 70, 0],
    ];
    let transposes = [[false, false], [true, false], [false, true], [true, true]];
    // Every shape and transpose with alpha 1, beta 0; the other scalings on two shapes.
    let mut runs = Vec::new();
    for shape in shapes {
        for t in transposes {
            runs.push((shape, t, 1.0, 0.0));
        }
    }
    for shape in [[67, 45, 33], [5, 70, 0]] {
        for (alpha, beta) in [(0.5, -2.0), (0.0, 1.5)] {
            runs.push((shape, [true, false], alpha, beta));
        }
    }
    // k = 0 with an infinite alpha: C = beta C, not NaN.
    runs.push(([5, 70, 0], [false, false], f64::INFINITY, 1.5));
    for (shape, t, alpha, beta) in runs {
        let one = check_gemm::<f32>(
            env,
            "gemm f32",
            shape,
            t,
            alpha as f32,
            beta as f32,
            &mut rng,
            f64::from(f32::EPSILON) / 2.0,
        )?;
        let two = check_gemm::<f64>(
            env,
            "gemm f64",
            shape,
            t,
            alpha,
            beta,
            &mut rng,
            f64::EPSILON / 2.0,
        )?;
        total = total.merge(one).merge(two);
    }
    Ok(total)
}

/// Composition of affine maps `x -> a x + b` modulo 2^32, packed as `a << 32 | b`: `first`
/// then `second`. Associative with identity `1 << 32`, and not commutative, so any change of
/// the order of combination shows.
#[dotcompute::kernel_fn]
pub fn compose_affine(first: u64, second: u64) -> u64 {
    let a1 = (first >> 32) as u32;
    let b1 = first as u32;
    let a2 = (second >> 32) as u32;
    let b2 = second as u32;
    let a = a2.wrapping_mul(a1);
    let b = a2.wrapping_mul(b1).wrapping_add(b2);
    ((a as u64) << 32) | b as u64
}

/// The larger magnitude.
#[dotcompute::kernel_fn]
pub fn max_magnitude(a: f32, b: f32) -> f32 {
    a.abs().max(b.abs())
}

/// `a + b` for `f64`: a custom reduction must follow the library's order (the bits of
/// `algorithms::sum`).
#[dotcompute::kernel_fn]
pub fn add_f64(a: f64, b: f64) -> f64 {
    a + b
}

/// Odd integers.
#[dotcompute::kernel_fn]
pub fn is_odd(v: u32) -> bool {
    v % 2 == 1
}

/// Positive floats (not NaN).
#[dotcompute::kernel_fn]
pub fn is_positive(v: f64) -> bool {
    v > 0.0
}

dotcompute::define_reduction! {
    /// Affine maps composed in order.
    pub mod affine: u64 = compose_affine, identity 1u64 << 32
}

dotcompute::define_reduction! {
    /// The largest magnitude.
    pub mod magnitude: f32 = max_magnitude, identity 0.0
}

dotcompute::define_reduction! {
    /// A sum by a helper.
    pub mod helper_sum: f64 = add_f64, identity -0.0
}

dotcompute::define_compaction! {
    /// The odd integers.
    pub mod odds: u32 = is_odd
}

dotcompute::define_compaction! {
    /// The positive floats.
    pub mod positives: f64 = is_positive
}

/// The kernels of the custom reductions and compactions above.
pub fn custom_kernels() -> Vec<&'static dotcompute::KernelDefinition> {
    let mut all = affine::kernels();
    all.extend(magnitude::kernels());
    all.extend(helper_sum::kernels());
    all.extend(odds::kernels());
    all.extend(positives::kernels());
    all
}

/// `define_reduction!` (a non-commutative combiner of packed affine maps, the largest
/// magnitude, an `f64` sum whose bits must equal `algorithms::sum`'s) and
/// `define_compaction!` (odd integers; positive floats among NaNs and zeros), 0 to 300,001
/// elements.
pub fn custom_algorithms(env: &Env) -> CaseResult {
    let mut rng = Rng::new(131);
    let mut total = Outcome::default();
    for n in [0usize, 1, 4096, 70_001, 300_001] {
        let maps: Vec<u64> = (0..n).map(|_| rng.next_u64() | (1 << 32)).collect();
        let floats: Vec<f32> = mixed_f32(&mut rng, n);
        let wide = mixed_f64(&mut rng, n);
        let dm = env.dc.buffer_from_slice(&maps)?;
        let df = env.dc.buffer_from_slice(&floats)?;
        let dw = env.dc.buffer_from_slice(&wide)?;
        total = total.merge(same_bits(
            "affine reduce",
            affine::reduce(&env.acc, &dm)?,
            ordered_reduce(&maps, 1 << 32, compose_affine),
        )?);
        let mut y = env.dc.buffer_zeroed::<u64>(n)?;
        for exclusive in [false, true] {
            if exclusive {
                affine::exclusive_scan(&env.acc, &dm, &mut y)?;
            } else {
                affine::inclusive_scan(&env.acc, &dm, &mut y)?;
            }
            let want = ordered_scan(&maps, exclusive, 1 << 32, &compose_affine);
            total =
                total.merge(compare::exact("affine scan", &y.to_vec()?, &want).map_err(mismatch)?);
        }
        total = total.merge(same_bits(
            "magnitude reduce",
            u64::from(magnitude::reduce(&env.acc, &df)?.to_bits()),
            u64::from(ordered_reduce(&floats, 0.0, max_magnitude).to_bits()),
        )?);
        total = total.merge(same_bits(
            "helper sum = algorithms::sum",
            helper_sum::reduce(&env.acc, &dw)?.to_bits(),
            algorithms::sum(&env.acc, &dw)?.to_bits(),
        )?);
        let mut s = env.dc.buffer_zeroed::<f64>(n)?;
        helper_sum::inclusive_scan(&env.acc, &dw, &mut s)?;
        let want: Vec<u64> = ordered_scan(&wide, false, -0.0, &add_f64)
            .iter()
            .map(|v| v.to_bits())
            .collect();
        let got: Vec<u64> = s.to_vec()?.iter().map(|v| v.to_bits()).collect();
        total = total.merge(compare::exact("helper sum scan", &got, &want).map_err(mismatch)?);

        let ints: Vec<u32> = (0..n).map(|_| rng.next_u64() as u32).collect();
        let want: Vec<u32> = ints.iter().copied().filter(|&v| is_odd(v)).collect();
        let got = odds::compact(&env.acc, &env.dc.buffer_from_slice(&ints)?)?.to_vec()?;
        total = total.merge(compare::exact("odds", &got, &want).map_err(mismatch)?);
        let specials: Vec<f64> = (0..n)
            .map(|i| match i % 7 {
                0 => f64::NAN,
                1 => 0.0,
                2 => -0.0,
                _ => wide[i],
            })
            .collect();
        let want: Vec<u64> = specials
            .iter()
            .copied()
            .filter(|&v| is_positive(v))
            .map(f64::to_bits)
            .collect();
        let got: Vec<u64> = positives::compact(&env.acc, &env.dc.buffer_from_slice(&specials)?)?
            .to_vec()?
            .iter()
            .map(|v| v.to_bits())
            .collect();
        total = total.merge(compare::exact("positives", &got, &want).map_err(mismatch)?);
    }
    // Every element kept, and none.
    let all: Vec<u32> = (0..10_000).map(|i| 2 * i + 1).collect();
    let got = odds::compact(&env.acc, &env.dc.buffer_from_slice(&all)?)?.to_vec()?;
    total = total.merge(compare::exact("odds (all)", &got, &all).map_err(mismatch)?);
    let none: Vec<u32> = (0..10_000).map(|i| 2 * i).collect();
    let got = odds::compact(&env.acc, &env.dc.buffer_from_slice(&none)?)?.to_vec()?;
    total = total.merge(compare::exact("odds (none)", &got, &[]).map_err(mismatch)?);
    Ok(total)
}

/// `Fft` of f32 and f64 data, powers of two and other lengths (primes among them), batches of
/// 1 and 3, forward and inverse, against a DFT in `f64` (angles from `j k mod n`, exact):
/// every component within `10 (log2 m + 2) u sum |x|`, `m` the largest power-of-two length
/// any backend's method uses (Bluestein's `2 n - 1` rounded up) and `u` the unit roundoff.
pub fn ffts(env: &Env) -> CaseResult {
    let mut rng = Rng::new(137);
    let mut total = Outcome::default();
    for len in [1usize, 2, 8, 1024, 3, 5, 100, 1009] {
        for batch in [1usize, 3] {
            for inverse in [false, true] {
                let x: Vec<f64> = (0..2 * len * batch)
                    .map(|_| rng.f64_in(-1.0, 1.0))
                    .collect();
                let narrow: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                let wide_of_narrow: Vec<f64> = narrow.iter().map(|&v| f64::from(v)).collect();
                let mut d32 = env.dc.buffer_from_slice(&narrow)?;
                let mut d64 = env.dc.buffer_from_slice(&x)?;
                let mut plan32 = algorithms::Fft::<f32>::new(len).batch(batch);
                let mut plan64 = algorithms::Fft::<f64>::new(len).batch(batch);
                if inverse {
                    plan32 = plan32.inverse();
                    plan64 = plan64.inverse();
                }
                plan32.run(&env.acc, &mut d32)?;
                plan64.run(&env.acc, &mut d64)?;
                let got32: Vec<f64> = d32.to_vec()?.iter().map(|&v| f64::from(v)).collect();
                let f32_roundoff = f64::from(f32::EPSILON) / 2.0;
                total = total.merge(check_dft(
                    "fft f32",
                    &got32,
                    &wide_of_narrow,
                    len,
                    inverse,
                    f32_roundoff,
                )?);
                total = total.merge(check_dft(
                    "fft f64",
                    &d64.to_vec()?,
                    &x,
                    len,
                    inverse,
                    f64::EPSILON / 2.0,
                )?);
            }
        }
    }
    // Length 0 is refused; a buffer of the wrong size too, untouched.
    let mut d = env.dc.buffer_from_slice(&[1.0f32, 2.0, 3.0])?;
    for plan in [
        algorithms::Fft::<f32>::new(0),
        algorithms::Fft::<f32>::new(2),
    ] {
        if plan.run(&env.acc, &mut d).is_ok() {
            return Err(mismatch(compare::Mismatch {
                output: "fft refusals",
                index: 0,
                got: format!("{plan:?} accepted 3 floats"),
                want: "Error::InvalidArgument".into(),
                ulp: None,
            }));
        }
    }
    total = total.merge(
        compare::exact("fft refusal leaves data", &d.to_vec()?, &[1.0f32, 2.0, 3.0])
            .map_err(mismatch)?,
    );
    Ok(total)
}

/// Each transform of `got` against the DFT of `x` (interleaved, batches of `len`).
fn check_dft(
    output: &'static str,
    got: &[f64],
    x: &[f64],
    len: usize,
    inverse: bool,
    roundoff: f64,
) -> CaseResult {
    let sign = if inverse { 1.0 } else { -1.0 };
    let m = if len.is_power_of_two() {
        len
    } else {
        (2 * len - 1).next_power_of_two()
    };
    let (cos, sin): (Vec<f64>, Vec<f64>) = (0..len)
        .map(|t| {
            let angle = 2.0 * std::f64::consts::PI * t as f64 / len as f64;
            (angle.cos(), sign * angle.sin())
        })
        .unzip();
    for (b, (xs, gs)) in x.chunks(2 * len).zip(got.chunks(2 * len)).enumerate() {
        let magnitude: f64 = xs.iter().map(|v| v.abs()).sum();
        let bound = 10.0 * ((m as f64).log2() + 2.0) * roundoff * magnitude.max(f64::MIN_POSITIVE);
        for k in 0..len {
            let (mut re, mut im) = (0.0, 0.0);
            for j in 0..len {
                let t = j * k % len;
                let (xr, xi) = (xs[2 * j], xs[2 * j + 1]);
                re += xr * cos[t] - xi * sin[t];
                im += xr * sin[t] + xi * cos[t];
            }
            for (part, want, value) in [(0, re, gs[2 * k]), (1, im, gs[2 * k + 1])] {
                if (value - want).abs() > bound || value.is_nan() {
                    return Err(mismatch(compare::Mismatch {
                        output,
                        index: b * 2 * len + 2 * k + part,
                        got: format!("{value:e}"),
                        want: format!(
                            "{want:e} (bound {bound:e}; length {len}, inverse {inverse})"
                        ),
                        ulp: None,
                    }));
                }
            }
        }
    }
    // No ULP figure: components near zero make it meaningless (the bound is absolute).
    Ok(Outcome {
        compared: got.len(),
        max_ulp: 0,
    })
}
