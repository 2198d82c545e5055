//! `query!` chains on the accelerator under test: fused sums with the bits of
//! `algorithms::sum`, order-preserving collects, counts, captures, a later stage guarded by a
//! filter, empty inputs, and a fault located at its operator and first element.

use crate::compare::{self, Outcome};
use crate::random::Rng;
use crate::{CaseError, Env};
use dotcompute::{KernelDefinition, UnifiedBuffer, algorithms, query, query_kernels};

type CaseResult = Result<Outcome, CaseError>;

fn mismatch(m: compare::Mismatch) -> CaseError {
    CaseError::Mismatch(m)
}

/// The kernels of the case's chains (for the NVRTC and naga tests).
pub fn kernels() -> Vec<&'static KernelDefinition> {
    let mut all = query_kernels!(acc.query(&x).map(|v: f32| v * k).filter(|v| v > lo).sum());
    all.extend(query_kernels!(
        acc.query(&x)
            .filter(|v: u32| v % 7 != 0)
            .map(|v| 7000 / (v % 7))
            .collect()
    ));
    all.extend(query_kernels!(
        acc.query(&x).map(|v: u32| v as f64 * 0.5).collect()
    ));
    all.extend(query_kernels!(
        acc.query(&x).map(|v: u32| 7000 / (v % 7)).collect()
    ));
    all.extend(query_kernels!(acc.query(&x).filter(|v: i64| v < 0).count()));
    all.extend(query_kernels!(acc.query(&x).map(|v: u32| v as u64).sum()));
    all.extend(query_kernels!(acc.query(&x).map(|v: f32| v * k).max()));
    all.extend(query_kernels!(acc.query(&x).filter(|v: i64| v < 0).min()));
    all.extend(query_kernels!(acc.query(&x).all(|v: u32| v < 1000)));
    all.extend(query_kernels!(
        acc.query(&x)
            .zip(&d)
            .filter(|v: f32, i: u32| i % 3 != 0 && v > 0.0)
            .map(|v, i| v * i as f32)
            .sum()
    ));
    all.extend(query_kernels!(
        acc.query(0..n).filter(|i| i % 3 == 0).map(|i| i * i).sum()
    ));
    all.extend(query_kernels!(
        acc.query(&x)
            .enumerate()
            .filter(|i, v: f32| i % 7 == 0 && v > 0.0)
            .map(|i, v| v)
            .collect()
    ));
    all.extend(query_kernels!(acc.query(&x).all(|v: f32| {
        let doubled = v * 2.0;
        doubled < 1.0e30
    })));
    all.extend(query_kernels!(
        acc.query(&x).filter(|v: f32| v > lo).average()
    ));
    all.extend(query_kernels!(
        acc.query(&x)
            .map(|v: f32| v * k)
            .reduce(|| 0.0f32, |a, b| a.abs().max(b.abs()))
    ));
    all.extend(query_kernels!(
        acc.query(&x)
            .filter(|v: u32| v % 2 == 1)
            .position(|v| v > 990)
    ));
    all.extend(query_kernels!(
        acc.query(&x)
            .skip(s)
            .take(t)
            .map(|v: f32| v * k)
            .min_by_key(|v| (v - lo).abs())
    ));
    all.extend(query_kernels!(acc.query(&x).max_by_key(|v: u32| v % 10)));
    all.extend(query_kernels!(acc.query(&x).filter(|v: f32| v > lo).sort()));
    all.extend(query_kernels!(acc.query(&x).sort_by_key(|v: u32| v & 255)));
    all.extend(query_kernels!(
        acc.query(&x).group_by_key(|v: u32| v % 97).count()
    ));
    all.extend(query_kernels!(acc.query(&x).distinct::<f32>()));
    all.extend(query_kernels!(
        acc.query(&x).group_by_key(|v: f32| v.floor()).sum()
    ));
    all.extend(query_kernels!(
        acc.query(&x)
            .map(|v: f32| v * k)
            .group_by_key(|v| (v * 4.0).floor())
            .max()
    ));
    all.extend(query_kernels!(acc.query(&x).map(|v: f32| v * k).scan()));
    all.extend(query_kernels!(
        acc.query(&x).scan(|| 0u32, |a: u32, b| a.max(b).max(floor))
    ));
    all.extend(query_kernels!(
        acc.query(&x)
            .filter(|v: u32| v % 2 == 1)
            .exclusive_scan(|| 0u32, |a, b| a.max(b))
    ));
    all.extend(query_kernels!(acc.query(&x).join(
        &y,
        |v: u32| v % 97,
        |w: f32| w.abs() as u32 % 97
    )));
    all.extend(query_kernels!(acc.query(&x).join(
        &y,
        |v: f32| v * k,
        |w: f32| w
    )));
    all.extend(query_kernels!(
        acc.query(&x)
            .scan(|| 0u32, |a: u32, b| if b % 2 == 1 { b } else { a })
    ));
    all.extend(query_kernels!(
        acc.query(&x).zip(&d).filter(|v: f32, i: u32| v > 0.0).join(
            &y,
            |v, i| i % 97,
            |w: f32| w.abs() as u32 % 97
        )
    ));
    all.extend(query_kernels!(
        acc.query(&x)
            .filter(|v: u32| v % 3 == 0)
            .skip(5)
            .take(1000)
            .map(|v| v as u64 * 3)
            .sum()
    ));
    all
}

/// The chains above at 0 to 70,001 elements, against the same computations on the host (or,
/// for the float sum, `algorithms::sum` of the mapped values: the same bits).
pub fn queries(env: &Env) -> CaseResult {
    let mut rng = Rng::new(149);
    let mut total = Outcome::default();
    let acc = &env.acc;
    for n in [0usize, 1, 4097, 70_001] {
        let x = crate::algorithms::mixed_f32(&mut rng, n);
        let dx = env.dc.buffer_from_slice(&x)?;
        let (k, lo) = (3.0f32, 0.001f32);
        let got = query!(acc.query(&dx).map(|v: f32| v * k).filter(|v| v > lo).sum())?;
        let mapped: Vec<f32> = x
            .iter()
            .map(|v| v * k)
            .map(|v| if v > lo { v } else { -0.0 })
            .collect();
        let want = algorithms::sum(acc, &env.dc.buffer_from_slice(&mapped)?)?;
        total = total.merge(
            compare::exact("map.filter.sum (bits)", &[got.to_bits()], &[want.to_bits()])
                .map_err(mismatch)?,
        );

        let ids: Vec<u32> = (0..n).map(|_| rng.next_u64() as u32 % 1000).collect();
        let d = env.dc.buffer_from_slice(&ids)?;
        let kept: UnifiedBuffer<u32> = query!(
            acc.query(&d)
                .filter(|v: u32| v % 7 != 0)
                .map(|v| 7000 / (v % 7))
                .collect()
        )?;
        let want: Vec<u32> = ids
            .iter()
            .filter(|v| *v % 7 != 0)
            .map(|v| 7000 / (v % 7))
            .collect();
        total = total
            .merge(compare::exact("filter.map.collect", &kept.to_vec()?, &want).map_err(mismatch)?);
        // Without the filter the map divides by zero: the fault names the operator and the
        // first element at which it faults, on every accelerator.
        let faulted = query!(acc.query(&d).map(|v: u32| 7000 / (v % 7)).collect());
        let got = match faulted {
            Ok(_) => None,
            Err(dotcompute::Error::QueryFault {
                operator, element, ..
            }) => Some((operator, element)),
            Err(other) => return Err(other.into()),
        };
        let want = ids
            .iter()
            .position(|v| v % 7 == 0)
            .map(|i| ("map(|v: u32| 7000 / (v % 7))".to_string(), i as u64));
        total = total.merge(compare::exact("located fault", &[got], &[want]).map_err(mismatch)?);
        // The locate passes' faults are the query's: synchronize() never returns them.
        let mut locate_faults = 0;
        for _ in 0..64 {
            match acc.synchronize() {
                Ok(()) => break,
                Err(e) => locate_faults += usize::from(e.to_string().contains("query_locate")),
            }
        }
        total = total.merge(
            compare::exact(
                "query_locate faults at synchronize()",
                &[locate_faults],
                &[0],
            )
            .map_err(mismatch)?,
        );
        let wide: UnifiedBuffer<f64> =
            query!(acc.query(&d).map(|v: u32| v as f64 * 0.5).collect())?;
        let want: Vec<u64> = ids
            .iter()
            .map(|&v| (f64::from(v) * 0.5).to_bits())
            .collect();
        let got: Vec<u64> = wide.to_vec()?.iter().map(|v| v.to_bits()).collect();
        total = total.merge(compare::exact("map.collect", &got, &want).map_err(mismatch)?);
        let total_u64 = query!(acc.query(&d).map(|v: u32| v as u64).sum())?;
        let want = ids.iter().map(|&v| u64::from(v)).sum::<u64>();
        total =
            total.merge(compare::exact("map.sum u64", &[total_u64], &[want]).map_err(mismatch)?);

        let dot = query!(
            acc.query(&dx)
                .zip(&d)
                .filter(|v: f32, i: u32| i % 3 != 0 && v > 0.0)
                .map(|v, i| v * i as f32)
                .sum()
        )?;
        let terms: Vec<f32> = x
            .iter()
            .zip(&ids)
            .map(|(v, i)| {
                if i % 3 != 0 && *v > 0.0 {
                    v * *i as f32
                } else {
                    -0.0
                }
            })
            .collect();
        let want = algorithms::sum(acc, &env.dc.buffer_from_slice(&terms)?)?;
        total = total.merge(
            compare::exact(
                "zip.filter.map.sum (bits)",
                &[dot.to_bits()],
                &[want.to_bits()],
            )
            .map_err(mismatch)?,
        );
        let squares = query!(acc.query(0..n).filter(|i| i % 3 == 0).map(|i| i * i).sum())?;
        let want = (0..n as u64)
            .filter(|i| i % 3 == 0)
            .map(|i| i * i)
            .fold(0u64, u64::wrapping_add);
        total = total
            .merge(compare::exact("range.filter.map.sum", &[squares], &[want]).map_err(mismatch)?);
        let sevenths: UnifiedBuffer<f32> = query!(
            acc.query(&dx)
                .enumerate()
                .filter(|i, v: f32| i % 7 == 0 && v > 0.0)
                .map(|i, v| v)
                .collect()
        )?;
        let want: Vec<u32> = x
            .iter()
            .enumerate()
            .filter(|(i, v)| i % 7 == 0 && **v > 0.0)
            .map(|(_, v)| v.to_bits())
            .collect();
        let got: Vec<u32> = sevenths.to_vec()?.iter().map(|v| v.to_bits()).collect();
        total =
            total.merge(compare::exact("enumerate.filter.collect", &got, &want).map_err(mismatch)?);
        let highest = query!(acc.query(&dx).map(|v: f32| v * k).max())?;
        let scaled: Vec<f32> = x.iter().map(|v| v * k).collect();
        let want = if n == 0 {
            None
        } else {
            Some(algorithms::max(acc, &env.dc.buffer_from_slice(&scaled)?)?)
        };
        total = total.merge(
            compare::exact(
                "map.max (bits)",
                &[highest.map(f32::to_bits)],
                &[want.map(f32::to_bits)],
            )
            .map_err(mismatch)?,
        );
        let all_small = query!(acc.query(&d).all(|v: u32| v < 1000))?;
        let any_big = query!(acc.query(&d).any(|v: u32| v >= 999))?;
        total = total.merge(
            compare::exact(
                "all/any",
                &[all_small, any_big],
                &[true, ids.iter().any(|v| *v >= 999)],
            )
            .map_err(mismatch)?,
        );

        let signed: Vec<i64> = (0..n).map(|_| rng.next_u64() as i64).collect();
        let ds = env.dc.buffer_from_slice(&signed)?;
        let lowest = query!(acc.query(&ds).filter(|v: i64| v < 0).min())?;
        let want = signed.iter().copied().filter(|v| *v < 0).min();
        total = total.merge(compare::exact("filter.min", &[lowest], &[want]).map_err(mismatch)?);
        let negatives = query!(acc.query(&ds).filter(|v: i64| v < 0).count())?;
        let want = signed.iter().filter(|v| **v < 0).count();
        total = total.merge(
            compare::exact("filter.count", &[negatives as u64], &[want as u64])
                .map_err(mismatch)?,
        );
        total = total.merge(later_terminals(env, &x, &ids, &dx, &d)?);
    }
    Ok(total)
}

/// `average`, `reduce`, `position`, `min_by_key`/`max_by_key` with `take`/`skip`, `sort`
/// and `sort_by_key`, against the host (or the library, for float sums: the same bits).
fn later_terminals(
    env: &Env,
    x: &[f32],
    ids: &[u32],
    dx: &UnifiedBuffer<f32>,
    d: &UnifiedBuffer<u32>,
) -> CaseResult {
    let acc = &env.acc;
    let mut total = Outcome::default();
    let (k, lo) = (3.0f32, 0.001f32);
    let mean = query!(acc.query(dx).filter(|v: f32| v > lo).average())?;
    let kept: Vec<f32> = x.iter().map(|&v| if v > lo { v } else { -0.0 }).collect();
    let count = x.iter().filter(|v| **v > lo).count();
    let want = if count == 0 {
        None
    } else {
        Some(algorithms::sum(acc, &env.dc.buffer_from_slice(&kept)?)? / count as f32)
    };
    total = total.merge(
        compare::exact(
            "filter.average (bits)",
            &[mean.map(f32::to_bits)],
            &[want.map(f32::to_bits)],
        )
        .map_err(mismatch)?,
    );
    let largest = query!(
        acc.query(dx)
            .map(|v: f32| v * k)
            .reduce(|| 0.0f32, |a, b| a.abs().max(b.abs()))
    )?;
    let want = x.iter().fold(0.0f32, |a, b| a.abs().max((b * k).abs()));
    total = total.merge(
        compare::exact("map.reduce (bits)", &[largest.to_bits()], &[want.to_bits()])
            .map_err(mismatch)?,
    );
    let at = query!(
        acc.query(d)
            .filter(|v: u32| v % 2 == 1)
            .position(|v| v > 990)
    )?;
    let want = ids.iter().filter(|v| *v % 2 == 1).position(|v| *v > 990);
    total = total.merge(compare::exact("filter.position", &[at], &[want]).map_err(mismatch)?);
    let (s, t) = (3usize, x.len() / 2);
    let nearest = query!(
        acc.query(dx)
            .skip(s)
            .take(t)
            .map(|v: f32| v * k)
            .min_by_key(|v| (v - lo).abs())
    )?;
    let want = x
        .iter()
        .skip(s)
        .take(t)
        .map(|v| v * k)
        .min_by(|a, b| (a - lo).abs().total_cmp(&(b - lo).abs()));
    total = total.merge(
        compare::exact(
            "skip.take.map.min_by_key (bits)",
            &[nearest.map(f32::to_bits)],
            &[want.map(f32::to_bits)],
        )
        .map_err(mismatch)?,
    );
    let last_nine = query!(acc.query(d).max_by_key(|v: u32| v % 10))?;
    let want = ids.iter().copied().max_by_key(|v| v % 10);
    total = total.merge(compare::exact("max_by_key", &[last_nine], &[want]).map_err(mismatch)?);
    let sorted = query!(acc.query(dx).filter(|v: f32| v > lo).sort())?;
    let mut want: Vec<f32> = x.iter().copied().filter(|v| *v > lo).collect();
    want.sort_by(f32::total_cmp);
    let got: Vec<u32> = sorted.to_vec()?.iter().map(|v| v.to_bits()).collect();
    let want: Vec<u32> = want.iter().map(|v| v.to_bits()).collect();
    total = total.merge(compare::exact("filter.sort", &got, &want).map_err(mismatch)?);
    let by_byte = query!(acc.query(d).sort_by_key(|v: u32| v & 255))?;
    let mut want = ids.to_vec();
    want.sort_by_key(|v| v & 255);
    total =
        total.merge(compare::exact("sort_by_key", &by_byte.to_vec()?, &want).map_err(mismatch)?);
    total = total.merge(groups(env, x, ids, dx, d)?);
    total = total.merge(scans(env, x, ids, dx, d)?);
    total = total.merge(joins(env, x, ids, dx, d)?);
    Ok(total)
}

/// `join` of integer keys (many to many) and of float keys (equal by bits), against a
/// nested loop on the host.
fn joins(
    env: &Env,
    x: &[f32],
    ids: &[u32],
    dx: &UnifiedBuffer<f32>,
    d: &UnifiedBuffer<u32>,
) -> CaseResult {
    let acc = &env.acc;
    let mut total = Outcome::default();
    let nested = |left: &[u32], right: &[u32]| -> (Vec<u64>, Vec<u64>) {
        let mut pairs = (Vec::new(), Vec::new());
        for (i, l) in left.iter().enumerate() {
            for (j, r) in right.iter().enumerate() {
                if l == r {
                    pairs.0.push(i as u64);
                    pairs.1.push(j as u64);
                }
            }
        }
        pairs
    };
    // A few hundred right elements keep the host's nested loop short.
    let right: Vec<f32> = x.iter().copied().take(300).collect();
    let dr = env.dc.buffer_from_slice(&right)?;
    let pairs = query!(
        acc.query(d)
            .join(&dr, |v: u32| v % 97, |w: f32| w.abs() as u32 % 97)
    )?;
    let left_keys: Vec<u32> = ids.iter().map(|v| v % 97).collect();
    let right_keys: Vec<u32> = right.iter().map(|w| w.abs() as u32 % 97).collect();
    let (want_left, want_right) = nested(&left_keys, &right_keys);
    total = total
        .merge(compare::exact("join left", &pairs.left.to_vec()?, &want_left).map_err(mismatch)?);
    total = total.merge(
        compare::exact("join right", &pairs.right.to_vec()?, &want_right).map_err(mismatch)?,
    );
    let k = 3.0f32;
    let pairs = query!(acc.query(dx).join(&dr, |v: f32| v * k, |w: f32| w))?;
    let left_keys: Vec<u32> = x.iter().map(|v| (v * k).to_bits()).collect();
    let right_keys: Vec<u32> = right.iter().map(|w| w.to_bits()).collect();
    let (want_left, want_right) = nested(&left_keys, &right_keys);
    total = total.merge(
        compare::exact("join of floats left", &pairs.left.to_vec()?, &want_left)
            .map_err(mismatch)?,
    );
    total = total.merge(
        compare::exact("join of floats right", &pairs.right.to_vec()?, &want_right)
            .map_err(mismatch)?,
    );
    // After a zip and a filter: the positions are the sources'.
    let pairs = query!(acc.query(dx).zip(d).filter(|v: f32, i: u32| v > 0.0).join(
        &dr,
        |v, i| i % 97,
        |w: f32| w.abs() as u32 % 97
    ))?;
    let mut want = (Vec::new(), Vec::new());
    for (i, (v, id)) in x.iter().zip(ids).enumerate() {
        for (j, w) in right.iter().enumerate() {
            if *v > 0.0 && id % 97 == w.abs() as u32 % 97 {
                want.0.push(i as u64);
                want.1.push(j as u64);
            }
        }
    }
    total = total.merge(
        compare::exact("zip.filter.join left", &pairs.left.to_vec()?, &want.0).map_err(mismatch)?,
    );
    total = total.merge(
        compare::exact("zip.filter.join right", &pairs.right.to_vec()?, &want.1)
            .map_err(mismatch)?,
    );
    Ok(total)
}

/// `scan` of a fused chain (the bits of `algorithms::inclusive_scan` of its values) and
/// custom combiners with and without a filter, against the host.
fn scans(
    env: &Env,
    x: &[f32],
    ids: &[u32],
    dx: &UnifiedBuffer<f32>,
    d: &UnifiedBuffer<u32>,
) -> CaseResult {
    let acc = &env.acc;
    let mut total = Outcome::default();
    let k = 3.0f32;
    let running = query!(acc.query(dx).map(|v: f32| v * k).scan())?;
    let mapped: Vec<f32> = x.iter().map(|v| v * k).collect();
    let mut want = env.dc.buffer_zeroed::<f32>(x.len())?;
    algorithms::inclusive_scan(acc, &env.dc.buffer_from_slice(&mapped)?, &mut want)?;
    let got: Vec<u32> = running.to_vec()?.iter().map(|v| v.to_bits()).collect();
    let want: Vec<u32> = want.to_vec()?.iter().map(|v| v.to_bits()).collect();
    total = total.merge(compare::exact("map.scan (bits)", &got, &want).map_err(mismatch)?);
    let floor = 500u32;
    let highs = query!(acc.query(d).scan(|| 0u32, |a: u32, b| a.max(b).max(floor)))?;
    let want: Vec<u32> = ids
        .iter()
        .scan(0u32, |m, &v| {
            *m = (*m).max(v).max(floor);
            Some(*m)
        })
        .collect();
    total = total.merge(compare::exact("scan(max)", &highs.to_vec()?, &want).map_err(mismatch)?);
    let before = query!(
        acc.query(d)
            .filter(|v: u32| v % 2 == 1)
            .exclusive_scan(|| 0u32, |a, b| a.max(b))
    )?;
    let want: Vec<u32> = ids
        .iter()
        .filter(|v| *v % 2 == 1)
        .scan(0u32, |m, &v| {
            let was = *m;
            *m = (*m).max(v);
            Some(was)
        })
        .collect();
    total = total.merge(
        compare::exact("filter.exclusive_scan(max)", &before.to_vec()?, &want).map_err(mismatch)?,
    );
    // Not commutative: the last odd value so far.
    let last_odd = query!(
        acc.query(d)
            .scan(|| 0u32, |a: u32, b| if b % 2 == 1 { b } else { a })
    )?;
    let want: Vec<u32> = ids
        .iter()
        .scan(0u32, |last, &v| {
            if v % 2 == 1 {
                *last = v;
            }
            Some(*last)
        })
        .collect();
    total = total
        .merge(compare::exact("scan(last odd)", &last_odd.to_vec()?, &want).map_err(mismatch)?);
    // `take`/`skip` after a filter: a second stage over the kept values.
    let window = query!(
        acc.query(d)
            .filter(|v: u32| v % 3 == 0)
            .skip(5)
            .take(1000)
            .map(|v| v as u64 * 3)
            .sum()
    )?;
    let want: u64 = ids
        .iter()
        .filter(|v| *v % 3 == 0)
        .skip(5)
        .take(1000)
        .map(|v| u64::from(*v) * 3)
        .sum();
    total = total
        .merge(compare::exact("filter.skip.take.map.sum", &[window], &[want]).map_err(mismatch)?);
    Ok(total)
}

/// `group_by_key` with counts and float maxima, against a `BTreeMap` on the host.
fn groups(
    env: &Env,
    x: &[f32],
    ids: &[u32],
    dx: &UnifiedBuffer<f32>,
    d: &UnifiedBuffer<u32>,
) -> CaseResult {
    let acc = &env.acc;
    let mut total = Outcome::default();
    let counts = query!(acc.query(d).group_by_key(|v: u32| v % 97).count())?;
    let mut want = std::collections::BTreeMap::<u32, u64>::new();
    for v in ids {
        *want.entry(v % 97).or_insert(0) += 1;
    }
    let want_keys: Vec<u32> = want.keys().copied().collect();
    let want_counts: Vec<u64> = want.values().copied().collect();
    total = total.merge(
        compare::exact(
            "group_by_key.count keys",
            &counts.keys.to_vec()?,
            &want_keys,
        )
        .map_err(mismatch)?,
    );
    total = total.merge(
        compare::exact("group_by_key.count", &counts.values.to_vec()?, &want_counts)
            .map_err(mismatch)?,
    );
    let k = 3.0f32;
    let highs = query!(
        acc.query(dx)
            .map(|v: f32| v * k)
            .group_by_key(|v| (v * 4.0).floor())
            .max()
    )?;
    // Keys by their bits, in total_cmp order; maxima as `max` folds them.
    let mut want = std::collections::BTreeMap::<i64, (u32, f32)>::new();
    for v in x.iter().map(|v| v * k) {
        let key = (v * 4.0).floor();
        let bits = key.to_bits() as i32;
        let order = i64::from(if bits < 0 {
            !(bits & 0x7fff_ffff)
        } else {
            bits
        });
        let e = want
            .entry(order)
            .or_insert((key.to_bits(), f32::NEG_INFINITY));
        e.1 = e.1.max(v);
    }
    let got_keys: Vec<u32> = highs.keys.to_vec()?.iter().map(|k| k.to_bits()).collect();
    let want_keys: Vec<u32> = want.values().map(|e| e.0).collect();
    total = total.merge(
        compare::exact("map.group_by_key.max keys", &got_keys, &want_keys).map_err(mismatch)?,
    );
    let got: Vec<u32> = highs.values.to_vec()?.iter().map(|v| v.to_bits()).collect();
    let want: Vec<u32> = want.values().map(|e| e.1.to_bits()).collect();
    total = total.merge(compare::exact("map.group_by_key.max", &got, &want).map_err(mismatch)?);
    let once = query!(acc.query(dx).distinct::<f32>())?;
    let mut want: Vec<f32> = x.to_vec();
    want.sort_by(f32::total_cmp);
    want.dedup_by(|a, b| a.to_bits() == b.to_bits());
    let got: Vec<u32> = once.to_vec()?.iter().map(|v| v.to_bits()).collect();
    let want: Vec<u32> = want.iter().map(|v| v.to_bits()).collect();
    total = total.merge(compare::exact("distinct", &got, &want).map_err(mismatch)?);
    Ok(total)
}
