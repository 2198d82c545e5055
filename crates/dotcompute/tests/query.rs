//! `query!` on the CPU: fused chains against the same computation spelled with the
//! algorithms library and plain Rust, captures, faults and empty inputs. (The conformance
//! case `queries` runs the same chains on every backend.)
#![allow(clippy::unwrap_used)] // tests fail by panicking

use dotcompute::prelude::*;
use dotcompute::{algorithms, query};

fn mixed(n: usize) -> Vec<f32> {
    (0..n as u64)
        .map(|i| {
            let h = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
            let mantissa = (h % 2001) as f32 / 1000.0 - 1.0;
            mantissa * 10f32.powi((h % 13) as i32 - 6)
        })
        .collect()
}

#[kernel_fn]
fn cube(x: f32) -> f32 {
    x * x * x
}

/// A fused `map.filter.sum` has the bits of `algorithms::sum` over the mapped values with
/// removed elements as the identity (`-0.0`): the order the documentation promises.
#[test]
fn a_fused_sum_has_the_library_sums_bits() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let x = mixed(3 * 4096 * 4096 / 2 + 17);
    let dx = dc.buffer_from_slice(&x).unwrap();
    let k = 3.0f32;
    let got = query!(
        acc.query(&dx)
            .map(|v: f32| v * k)
            .filter(|v| v > 0.001)
            .sum()
    )
    .unwrap();
    let mapped: Vec<f32> = x
        .iter()
        .map(|v| v * k)
        .map(|v| if v > 0.001 { v } else { -0.0 })
        .collect();
    let want = algorithms::sum(&acc, &dc.buffer_from_slice(&mapped).unwrap()).unwrap();
    assert_eq!(got.to_bits(), want.to_bits());
    let plain: f64 = mapped.iter().map(|&v| f64::from(v)).sum();
    assert!((f64::from(got) - plain).abs() < 1e-3 * plain.abs().max(1.0));
}

/// `filter.collect` keeps the input's order; maps before and after a filter; counts; a
/// later map does not run on removed elements (here it would divide by zero).
#[test]
fn collect_keeps_order_and_filters_guard_later_stages() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let ids: Vec<u32> = (0..100_003u32)
        .map(|i| i.wrapping_mul(2_654_435_761) % 1000)
        .collect();
    let d = dc.buffer_from_slice(&ids).unwrap();
    let kept: UnifiedBuffer<u32> = query!(
        acc.query(&d)
            .filter(|v: u32| v % 7 != 0)
            .map(|v| 7000 / (v % 7))
            .collect()
    )
    .unwrap();
    let want: Vec<u32> = ids
        .iter()
        .filter(|v| *v % 7 != 0)
        .map(|v| 7000 / (v % 7))
        .collect();
    assert_eq!(kept.to_vec().unwrap(), want);
    let evens = query!(acc.query(&d).filter(|v: u32| v % 2 == 0).count()).unwrap();
    assert_eq!(evens, ids.iter().filter(|v| *v % 2 == 0).count());
    let wide: UnifiedBuffer<f64> =
        query!(acc.query(&d).map(|v: u32| v as f64 * 0.5).collect()).unwrap();
    let want: Vec<f64> = ids.iter().map(|&v| f64::from(v) * 0.5).collect();
    assert_eq!(wide.to_vec().unwrap(), want);
    let total = query!(acc.query(&d).map(|v: u32| v as u64).sum()).unwrap();
    assert_eq!(total, ids.iter().map(|&v| u64::from(v)).sum::<u64>());
}

/// Helpers by name (with the closure's result type), captures used in several stages,
/// empty inputs and chains without operators.
#[test]
fn helpers_captures_and_empty_inputs() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let x = dc.buffer_from_slice(&[1.0f32, -2.0, 3.0, 0.5]).unwrap();
    let (lo, scale) = (0.0f32, 2.0f32);
    let cubes: UnifiedBuffer<f32> = query!(
        acc.query(&x)
            .filter(|v: f32| v > lo)
            .map(|v| -> f32 { cube(v) })
            .map(|v| v * scale)
            .filter(|v| v > lo + 1.0)
            .collect()
    )
    .unwrap();
    assert_eq!(cubes.to_vec().unwrap(), [2.0, 54.0]);
    let empty = dc.buffer_zeroed::<f32>(0).unwrap();
    let nothing = query!(acc.query(&empty).map(|v: f32| v + 1.0).sum()).unwrap();
    assert_eq!(nothing.to_bits(), (-0.0f32).to_bits());
    assert_eq!(
        query!(acc.query(&empty).filter(|v: f32| v > 0.0).count()).unwrap(),
        0
    );
    let none: UnifiedBuffer<f32> =
        query!(acc.query(&empty).filter(|v: f32| v > 0.0).collect()).unwrap();
    assert_eq!(none.len(), 0);
    assert_eq!(query!(acc.query(&x).sum()).unwrap(), 2.5);
    assert_eq!(query!(acc.query(&x).count()).unwrap(), 4);
    assert_eq!(
        query!(acc.query(&x).collect()).unwrap().to_vec().unwrap(),
        [1.0, -2.0, 3.0, 0.5]
    );
}

/// The operator and element of a located fault, and its kernel fault.
/// (The error's text when it is not one.)
fn located(
    err: &dotcompute::Error,
) -> Result<(String, u64, u32, Option<dotcompute::KernelFault>), String> {
    match err {
        dotcompute::Error::QueryFault {
            operator,
            element,
            stage,
            ..
        } => Ok((operator.clone(), *element, *stage, err.fault().cloned())),
        other => Err(format!("not a located fault: {other}")),
    }
}

/// A division by zero inside a closure is an error naming the operator as written, the
/// element, and the query's kernel.
#[test]
fn a_fault_in_a_closure_names_the_operator_and_the_element() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let d = dc.buffer_from_slice(&[4u32, 2, 0, 1]).unwrap();
    let err = query!(acc.query(&d).map(|v: u32| 8 / v).sum()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("query_sum"), "{text}");
    assert!(text.contains("division or remainder by zero"), "{text}");
    assert!(
        text.starts_with("query operator `map(|v: u32| 8 / v)` faulted at element 2: "),
        "{text}"
    );
    assert_eq!(
        located(&err).unwrap(),
        (
            "map(|v: u32| 8 / v)".into(),
            2,
            1,
            Some(dotcompute::KernelFault::DivisionByZero)
        )
    );
}

/// The located element is the first that faults, in source positions (after `skip`, past
/// a filter, through zipped buffers), and the operator is the closure that faulted.
#[test]
fn a_located_fault_is_the_first_faulting_element_of_its_operator() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let mut values: Vec<i32> = (1..=100_000).collect();
    values[70_000] = 0;
    values[90_000] = 0;
    let d = dc.buffer_from_slice(&values).unwrap();
    // The filter runs first; the map divides by what the filter kept.
    let err = query!(
        acc.query(&d)
            .skip(3)
            .filter(|v: i32| v % 2 == 1 || v == 0)
            .map(|v| 1000 / v)
            .collect()
    )
    .unwrap_err();
    assert_eq!(located(&err).unwrap().0, "map(|v| 1000 / v)");
    assert_eq!(located(&err).unwrap().1, 70_000);
    // The filter itself faults on the zero (the remainder by `v`), before the map runs.
    let err = query!(
        acc.query(&d)
            .filter(|v: i32| 7 % v == 1)
            .map(|v| 1000 / v)
            .count()
    )
    .unwrap_err();
    assert_eq!(located(&err).unwrap().0, "filter(|v: i32| 7 % v == 1)");
    assert_eq!(located(&err).unwrap().1, 70_000);
    // Zipped buffers and a terminal's key: the key faults where `y` is zero.
    let ys: Vec<i32> = (0..100_000).map(|i| if i == 123 { 0 } else { 3 }).collect();
    let ys = dc.buffer_from_slice(&ys).unwrap();
    let err = query!(
        acc.query(&d)
            .zip(&ys)
            .map(|x: i32, y: i32| x / y.max(1) + y)
            .sort_by_key(|v| 10 / (v - 124))
    )
    .unwrap_err();
    // Element 123 maps to 124 / 1 + 0 (elements 362 to 364 to 124 too).
    assert_eq!(
        located(&err).unwrap(),
        (
            "sort_by_key(|v| 10 / (v - 124))".into(),
            123,
            1,
            Some(dotcompute::KernelFault::DivisionByZero)
        )
    );
    // `any` runs its predicate on every element: it is located like a filter.
    let err = query!(acc.query(&d).any(|v: i32| 10 / v > 100)).unwrap_err();
    assert_eq!(located(&err).unwrap().0, "any(|v: i32| 10 / v > 100)");
    assert_eq!(located(&err).unwrap().1, 70_000);
}

/// After a `take` that follows a filter, the second stage's elements are the kept values.
#[test]
fn a_fault_after_a_filters_window_counts_the_kept_values() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let d = dc
        .buffer_from_slice(&[5i32, -1, 4, -2, 0, 3, -3, 2])
        .unwrap();
    let err = query!(
        acc.query(&d)
            .filter(|v: i32| v >= 0)
            .take(4)
            .map(|v| 60 / v)
            .sum()
    )
    .unwrap_err();
    let (operator, element, stage, _) = located(&err).unwrap();
    assert_eq!(
        (operator.as_str(), element, stage),
        ("map(|v| 60 / v)", 2, 2)
    );
    assert!(
        err.to_string()
            .contains("at element 2 of stage 2 (among the values kept before its `take`/`skip`)"),
        "{err}"
    );
}

/// A combiner's fault belongs to no element: the launch's error comes as it is.
#[test]
fn a_fault_in_a_combiner_is_not_located() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let d = dc.buffer_from_slice(&[4u32, 2, 0, 1]).unwrap();
    let err = query!(acc.query(&d).reduce(|| 1u32, |a: u32, b| a / b)).unwrap_err();
    assert!(
        matches!(err, dotcompute::Error::KernelFault { .. }),
        "{err}"
    );
}

/// A capture's type comes from the whole chain (here from the second closure), and a
/// captured `usize` passes as the chain's `u64`.
#[test]
fn captures_are_typed_by_the_whole_chain() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let ids: Vec<u32> = (0..1000).collect();
    let d = dc.buffer_from_slice(&ids).unwrap();
    let k = 5u32;
    let shifted: UnifiedBuffer<u32> = query!(
        acc.query(&d)
            .filter(|v: u32| k > 3 && v % 2 == 1)
            .map(|v| v + k)
            .collect()
    )
    .unwrap();
    let want: Vec<u32> = ids.iter().filter(|v| *v % 2 == 1).map(|v| v + k).collect();
    assert_eq!(shifted.to_vec().unwrap(), want);
    let wide: Vec<u64> = (0..1000).collect();
    let dw = dc.buffer_from_slice(&wide).unwrap();
    let limit: usize = 10;
    assert_eq!(
        query!(acc.query(&dw).filter(|v: u64| v < limit).count()).unwrap(),
        10
    );
    let mut_param: UnifiedBuffer<u64> = query!(
        acc.query(&dw)
            .map(|mut v: u64| {
                v += 1;
                v * 2
            })
            .collect()
    )
    .unwrap();
    assert_eq!(mut_param.to_vec().unwrap()[..3], [2, 4, 6]);
}

/// `min`/`max` follow `algorithms::min`/`max` (NaNs ignored), `None` when nothing reaches
/// the end; `any`/`all` with a predicate (`all` of nothing is true).
#[test]
fn min_max_any_all() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let mut x = mixed(100_003);
    x[77] = f32::NAN;
    let dx = dc.buffer_from_slice(&x).unwrap();
    let lowest = query!(acc.query(&dx).map(|v: f32| v * 2.0).min()).unwrap();
    let doubled: Vec<f32> = x.iter().map(|v| v * 2.0).collect();
    let want = algorithms::min(&acc, &dc.buffer_from_slice(&doubled).unwrap()).unwrap();
    assert_eq!(lowest.map(f32::to_bits), Some(want.to_bits()));
    let highest = query!(acc.query(&dx).filter(|v: f32| v < 0.0).max())
        .unwrap()
        .unwrap();
    let want = x
        .iter()
        .copied()
        .filter(|v| *v < 0.0)
        .fold(f32::NEG_INFINITY, f32::max);
    assert_eq!(highest, want);
    assert_eq!(
        query!(acc.query(&dx).filter(|v: f32| v > 1e30).min()).unwrap(),
        None
    );
    assert_eq!(
        query!(acc.query(&dx).max()).unwrap(),
        algorithms::max(&acc, &dx).ok()
    );
    let ids = dc.buffer_from_slice(&[3u32, 9, 4]).unwrap();
    assert_eq!(query!(acc.query(&ids).min()).unwrap(), Some(3));
    assert!(query!(acc.query(&ids).any(|v: u32| v > 8)).unwrap());
    assert!(!query!(acc.query(&ids).any(|v: u32| v > 9)).unwrap());
    assert!(query!(acc.query(&ids).all(|v: u32| v >= 3)).unwrap());
    assert!(!query!(acc.query(&ids).map(|v: u32| v * 2).all(|v| v > 6)).unwrap());
    let empty = dc.buffer_zeroed::<u32>(0).unwrap();
    assert!(query!(acc.query(&empty).all(|v: u32| v > 100)).unwrap());
    assert_eq!(query!(acc.query(&empty).max()).unwrap(), None);
}

/// `zip` of two and three buffers: pairs filtered as pairs, mapped to one value; unequal
/// lengths are an error naming both.
#[test]
fn zipped_buffers() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let a: Vec<f32> = mixed(50_001);
    let b: Vec<f32> = mixed(50_001).iter().map(|v| v * 0.5 + 0.25).collect();
    let w: Vec<u32> = (0..50_001u32).map(|i| i % 3).collect();
    let (da, db, dw) = (
        dc.buffer_from_slice(&a).unwrap(),
        dc.buffer_from_slice(&b).unwrap(),
        dc.buffer_from_slice(&w).unwrap(),
    );
    let larger: UnifiedBuffer<f32> = query!(
        acc.query(&da)
            .zip(&db)
            .filter(|x: f32, y: f32| x > y)
            .map(|x, y| x - y)
            .collect()
    )
    .unwrap();
    let want: Vec<f32> = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x > y)
        .map(|(x, y)| x - y)
        .collect();
    assert_eq!(larger.to_vec().unwrap(), want);
    let weighted: UnifiedBuffer<f32> = query!(
        acc.query(&da)
            .zip(&db)
            .zip(&dw)
            .map(|x: f32, y: f32, k: u32| x * y * k as f32)
            .collect()
    )
    .unwrap();
    let want: Vec<f32> = a
        .iter()
        .zip(&b)
        .zip(&w)
        .map(|((x, y), k)| x * y * *k as f32)
        .collect();
    assert_eq!(weighted.to_vec().unwrap(), want);
    let pairs = query!(
        acc.query(&da)
            .zip(&dw)
            .filter(|x: f32, k: u32| k == 0 && x > 0.0)
            .count()
    )
    .unwrap();
    assert_eq!(
        pairs,
        a.iter()
            .zip(&w)
            .filter(|(x, k)| **k == 0 && **x > 0.0)
            .count()
    );
    let short = dc.buffer_from_slice(&a[..10]).unwrap();
    let err = query!(acc.query(&da).zip(&short).map(|x: f32, y: f32| x + y).sum()).unwrap_err();
    assert!(err.to_string().contains("50001 and 10"), "{err}");
}

/// Index ranges and `enumerate`: positions are `u64`, first; they combine with `zip`.
#[test]
fn ranges_and_positions() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let n: usize = 100_003;
    let squares = query!(acc.query(0..n).map(|i| i * i).sum()).unwrap();
    assert_eq!(
        squares,
        (0..n as u64).map(|i| i * i).fold(0u64, u64::wrapping_add)
    );
    let from = 7u32;
    let few: UnifiedBuffer<u64> =
        query!(acc.query(from..20u32).filter(|i| i % 5 == 0).collect()).unwrap();
    assert_eq!(few.to_vec().unwrap(), [10, 15]);
    let (high, low) = (5u64, 2u64);
    assert_eq!(
        query!(acc.query(high..low).map(|i| i + 1).count()).unwrap(),
        0
    );
    let x = mixed(n);
    let y: Vec<f32> = x.iter().map(|v| v * 3.0).collect();
    let (dx, dy) = (
        dc.buffer_from_slice(&x).unwrap(),
        dc.buffer_from_slice(&y).unwrap(),
    );
    let picked: UnifiedBuffer<f32> = query!(
        acc.query(&dx)
            .zip(&dy)
            .enumerate()
            .filter(|i, a: f32, b: f32| i % 1000 == 0 && b > a)
            .map(|i, a, b| b - a + i as f32)
            .collect()
    )
    .unwrap();
    let want: Vec<f32> = x
        .iter()
        .zip(&y)
        .enumerate()
        .filter(|(i, (a, b))| i % 1000 == 0 && b > a)
        .map(|(i, (a, b))| b - a + i as f32)
        .collect();
    assert_eq!(picked.to_vec().unwrap(), want);
}

/// `all` with a block body (negated where it is called, so `return` keeps its meaning);
/// plain integer ranges; a range alone; a negative range bound is an error.
#[test]
fn all_with_blocks_and_plain_ranges() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let ids = dc.buffer_from_slice(&[3u32, 9, 4]).unwrap();
    assert!(
        query!(acc.query(&ids).all(|v: u32| {
            if v == 9 {
                return true;
            }
            let doubled = v * 2;
            doubled < 10
        }))
        .unwrap()
    );
    assert!(!query!(acc.query(&ids).all(|v: u32| { v < 9 })).unwrap());
    assert_eq!(query!(acc.query(0..10).sum()).unwrap(), 45);
    assert_eq!(query!(acc.query(3..7).max()).unwrap(), Some(6));
    assert_eq!(
        query!(acc.query(0..4).collect()).unwrap().to_vec().unwrap(),
        [0, 1, 2, 3]
    );
    let below = -3i64;
    let err = query!(acc.query(below..4).count()).unwrap_err();
    assert!(err.to_string().contains("not negative"), "{err}");
}

/// `average` is the library's sum over the count (`None` for nothing); `reduce` with a
/// combiner closure and identity, with captures, over more than one pass of chunks.
#[test]
fn average_and_reduce() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let x = mixed(3 * 4096 * 4096 / 2 + 5);
    let dx = dc.buffer_from_slice(&x).unwrap();
    let mean = query!(acc.query(&dx).map(|v: f32| v as f64).average())
        .unwrap()
        .unwrap();
    let wide: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let want =
        algorithms::sum(&acc, &dc.buffer_from_slice(&wide).unwrap()).unwrap() / x.len() as f64;
    assert_eq!(mean.to_bits(), want.to_bits());
    let positive_mean = query!(acc.query(&dx).filter(|v: f32| v > 0.0).average())
        .unwrap()
        .unwrap();
    let kept: Vec<f32> = x.iter().map(|&v| if v > 0.0 { v } else { -0.0 }).collect();
    let count = x.iter().filter(|v| **v > 0.0).count();
    let want = algorithms::sum(&acc, &dc.buffer_from_slice(&kept).unwrap()).unwrap() / count as f32;
    assert_eq!(positive_mean.to_bits(), want.to_bits());
    assert_eq!(
        query!(acc.query(&dx).filter(|v: f32| v > 1e30).average()).unwrap(),
        None
    );
    assert_eq!(
        query!(acc.query(&dx).take(2).average()).unwrap(),
        Some((x[0] + x[1]) / 2.0)
    );

    // The largest magnitude, by a combiner: the same as the plain fold (max is associative).
    let largest = query!(
        acc.query(&dx)
            .reduce(|| 0.0f32, |a: f32, b| a.abs().max(b.abs()))
    )
    .unwrap();
    let want = x.iter().fold(0.0f32, |a, b| a.abs().max(b.abs()));
    assert_eq!(largest, want);
    // Wrapping integer products with a captured modulus and a filter before.
    let ids: Vec<u64> = (1..=100_000u64).collect();
    let d = dc.buffer_from_slice(&ids).unwrap();
    let m = 1_000_003u64;
    let product = query!(
        acc.query(&d)
            .filter(|v: u64| v % 3 == 0)
            .reduce(|| 1u64, |a, b| (a * b) % m)
    )
    .unwrap();
    let want = ids
        .iter()
        .filter(|v| *v % 3 == 0)
        .fold(1u64, |a, b| (a * b) % m);
    assert_eq!(product, want);
    let empty = dc.buffer_zeroed::<f32>(0).unwrap();
    assert_eq!(
        query!(acc.query(&empty).reduce(|| 7.0f32, |a: f32, b| a + b)).unwrap(),
        7.0
    );
}

/// `position` counts the values (after filters) before the first match, as Rust's
/// `Iterator::position`; `min_by_key` gives the first least, `max_by_key` the last greatest.
#[test]
fn position_and_extremes_by_key() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let ids: Vec<u32> = (0..200_003u32)
        .map(|i| i.wrapping_mul(2_654_435_761) % 100_000)
        .collect();
    let d = dc.buffer_from_slice(&ids).unwrap();
    let at = query!(acc.query(&d).position(|v: u32| v > 99_990)).unwrap();
    assert_eq!(at, ids.iter().position(|v| *v > 99_990));
    let among_odd = query!(
        acc.query(&d)
            .filter(|v: u32| v % 2 == 1)
            .position(|v| v > 99_990)
    )
    .unwrap();
    assert_eq!(
        among_odd,
        ids.iter().filter(|v| *v % 2 == 1).position(|v| *v > 99_990)
    );
    assert_eq!(
        query!(acc.query(&d).position(|v: u32| v > 100_000)).unwrap(),
        None
    );

    // Keys with ties: the first least, the last greatest.
    let by_digit = query!(acc.query(&d).min_by_key(|v: u32| v % 10)).unwrap();
    assert_eq!(by_digit, ids.iter().copied().min_by_key(|v| v % 10));
    let by_digit = query!(acc.query(&d).max_by_key(|v: u32| v % 10)).unwrap();
    assert_eq!(by_digit, ids.iter().copied().max_by_key(|v| v % 10));
    let offset = 3.5f32;
    let nearest = query!(
        acc.query(&d)
            .filter(|v: u32| v % 7 == 0)
            .map(|v| v as f32 * 0.5)
            .min_by_key(|v| (v - offset).abs())
    )
    .unwrap();
    let want = ids
        .iter()
        .filter(|v| *v % 7 == 0)
        .map(|&v| v as f32 * 0.5)
        .min_by(|a, b| (a - offset).abs().total_cmp(&(b - offset).abs()));
    assert_eq!(nearest, want);
    assert_eq!(
        query!(acc.query(&d).filter(|v: u32| v > 100_000).max_by_key(|v| v)).unwrap(),
        None
    );
}

/// `take`/`skip` cut a window of the elements (counts past the end leave what there is),
/// before filters, with positions that stay the source's.
#[test]
fn take_and_skip() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let x = mixed(100_003);
    let dx = dc.buffer_from_slice(&x).unwrap();
    let total = query!(
        acc.query(&dx)
            .skip(10)
            .take(50_000)
            .map(|v: f32| v * 2.0)
            .sum()
    )
    .unwrap();
    let window: Vec<f32> = x[10..50_010].iter().map(|v| v * 2.0).collect();
    let want = algorithms::sum(&acc, &dc.buffer_from_slice(&window).unwrap()).unwrap();
    assert_eq!(total.to_bits(), want.to_bits());
    let kept: UnifiedBuffer<f32> = query!(
        acc.query(&dx)
            .enumerate()
            .skip(99_000)
            .filter(|i, v: f32| i % 3 == 0 && v > 0.0)
            .map(|i, v| v + i as f32)
            .collect()
    )
    .unwrap();
    let want: Vec<f32> = x
        .iter()
        .enumerate()
        .skip(99_000)
        .filter(|(i, v)| i % 3 == 0 && **v > 0.0)
        .map(|(i, v)| v + i as f32)
        .collect();
    assert_eq!(kept.to_vec().unwrap(), want);
    assert_eq!(query!(acc.query(&dx).skip(200_000).count()).unwrap(), 0);
    assert_eq!(
        query!(acc.query(&dx).skip(3).take(2).collect())
            .unwrap()
            .to_vec()
            .unwrap(),
        x[3..5]
    );
    assert_eq!(
        query!(acc.query(10..20).skip(5).take(3).sum()).unwrap(),
        15 + 16 + 17
    );
    // After a filter, `take`/`skip` count the values it kept (a stage boundary: the kept
    // values are collected, then the rest of the chain runs over them), as Rust's do.
    let k = 2.0f32;
    let first: UnifiedBuffer<f32> = query!(
        acc.query(&dx)
            .filter(|v: f32| v > 0.5)
            .take(10)
            .map(|v| v * k)
            .collect()
    )
    .unwrap();
    let want: Vec<f32> = x
        .iter()
        .filter(|v| **v > 0.5)
        .take(10)
        .map(|v| v * k)
        .collect();
    assert_eq!(first.to_vec().unwrap(), want);
    let total = query!(
        acc.query(&dx)
            .skip(7)
            .map(|v: f32| v * k)
            .filter(|v| v < 0.0)
            .skip(100)
            .filter(|v| v > -1.0)
            .take(1000)
            .map(|v| v as f64)
            .sum()
    )
    .unwrap();
    let values: Vec<f64> = x
        .iter()
        .skip(7)
        .map(|v| v * k)
        .filter(|v| *v < 0.0)
        .skip(100)
        .filter(|v| *v > -1.0)
        .take(1000)
        .map(f64::from)
        .collect();
    let want = algorithms::sum(&acc, &dc.buffer_from_slice(&values).unwrap()).unwrap();
    assert_eq!(total.to_bits(), want.to_bits());
    let at = query!(
        acc.query(&dx)
            .filter(|v: f32| v > 0.0)
            .skip(5)
            .position(|v| v > 0.9)
    )
    .unwrap();
    let want = x
        .iter()
        .filter(|v| **v > 0.0)
        .skip(5)
        .position(|v| *v > 0.9);
    assert_eq!(at, want);
    assert!(
        query!(acc.query(&dx).filter(|v: f32| v > 1e30).take(3).collect())
            .unwrap()
            .is_empty()
    );
}

/// `sort` and `sort_by_key` (stable) of the collected values.
#[test]
fn sorts() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let x = mixed(100_003);
    let dx = dc.buffer_from_slice(&x).unwrap();
    let sorted = query!(acc.query(&dx).filter(|v: f32| v > -0.5).sort()).unwrap();
    let mut want: Vec<f32> = x.iter().copied().filter(|v| *v > -0.5).collect();
    want.sort_by(f32::total_cmp);
    assert_eq!(sorted.to_vec().unwrap(), want);
    let ids: Vec<u32> = (0..100_003u32)
        .map(|i| i.wrapping_mul(2_654_435_761))
        .collect();
    let d = dc.buffer_from_slice(&ids).unwrap();
    let by_low_byte = query!(acc.query(&d).sort_by_key(|v: u32| v & 255)).unwrap();
    let mut want = ids.clone();
    want.sort_by_key(|v| v & 255);
    assert_eq!(by_low_byte.to_vec().unwrap(), want);
    let plain = query!(acc.query(&d).take(1000).sort()).unwrap();
    let mut want = ids[..1000].to_vec();
    want.sort_unstable();
    assert_eq!(plain.to_vec().unwrap(), want);
}

/// Launches per kernel name since `before` (the service's kernel statistics).
fn launches_since(
    dc: &ComputeService,
    before: &std::collections::BTreeMap<String, u64>,
) -> std::collections::BTreeMap<String, u64> {
    let mut now = std::collections::BTreeMap::new();
    for s in dc.statistics() {
        *now.entry(s.kernel.clone()).or_insert(0) += s.launches.launches;
    }
    now.into_iter()
        .map(|(k, v)| {
            let was = before.get(&k).copied().unwrap_or(0);
            (k, v - was)
        })
        .filter(|(_, v)| *v > 0)
        .collect()
}

/// The kernels a query launches show in the kernel statistics: a chain of maps and filters
/// is one kernel per pass, whatever its length (plus the library's finishing passes: on the
/// CPU, sums and scans of the chunk values run as host code, minima as kernels).
#[test]
fn fusion_shows_in_the_kernel_statistics() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let x = mixed(64 * 4096 + 3);
    let dx = dc.buffer_from_slice(&x).unwrap();
    let expect = |pairs: &[(&str, u64)]| -> std::collections::BTreeMap<String, u64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    };
    let before = launches_since(&dc, &Default::default());
    let _ = query!(
        acc.query(&dx)
            .map(|v: f32| v * 2.0)
            .map(|v| v + 1.0)
            .filter(|v| v > 0.0)
            .map(|v| v * v)
            .map(|v| v - 0.5)
            .sum()
    )
    .unwrap();
    assert_eq!(launches_since(&dc, &before), expect(&[("query_sum", 1)]));
    let before = launches_since(&dc, &Default::default());
    let _ = query!(
        acc.query(&dx)
            .filter(|v: f32| v > 0.0)
            .map(|v| v * 3.0)
            .collect()
    )
    .unwrap();
    assert_eq!(
        launches_since(&dc, &before),
        expect(&[("query_collect_count", 1), ("query_collect_write", 1)])
    );
    let before = launches_since(&dc, &Default::default());
    let _ = query!(acc.query(&dx).map(|v: f32| v * 2.0).map(|v| v + 1.0).scan()).unwrap();
    assert_eq!(
        launches_since(&dc, &before),
        // On the CPU running sums are the chain's values, then the library's host scan.
        expect(&[("query_map", 1)])
    );
    let before = launches_since(&dc, &Default::default());
    let _ = query!(acc.query(&dx).skip(5).min_by_key(|v: f32| v.abs())).unwrap();
    assert_eq!(
        launches_since(&dc, &before),
        expect(&[
            ("min_f32", 1), // the least of the chunks' least keys
            ("min_u64", 1), // the least of the chunks' first indices
            ("query_extreme_key", 1),
            ("query_find_key", 1),
            ("query_value_at", 1)
        ])
    );
}

/// `group_by_key(k)` then `count`, `sum`, `min` or `max`: one entry per distinct key,
/// ascending, each group's values folded in their input order.
#[test]
fn groups() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let ids: Vec<u32> = (0..100_003u32)
        .map(|i| i.wrapping_mul(2_654_435_761))
        .collect();
    let d = dc.buffer_from_slice(&ids).unwrap();
    let mut want: std::collections::BTreeMap<u32, (u64, u64, u32, u32)> = Default::default();
    for &v in ids.iter().filter(|v| *v % 3 != 0) {
        let e = want.entry(v % 97).or_insert((0, 0, u32::MAX, 0));
        e.0 += 1;
        e.1 = e.1.wrapping_add(u64::from(v));
        e.2 = e.2.min(v);
        e.3 = e.3.max(v);
    }
    let keys: Vec<u32> = want.keys().copied().collect();
    let counts = query!(
        acc.query(&d)
            .filter(|v: u32| v % 3 != 0)
            .group_by_key(|v| v % 97)
            .count()
    )
    .unwrap();
    assert_eq!(counts.keys.to_vec().unwrap(), keys);
    let c: Vec<u64> = want.values().map(|e| e.0).collect();
    assert_eq!(counts.values.to_vec().unwrap(), c);
    let sums = query!(
        acc.query(&d)
            .filter(|v: u32| v % 3 != 0)
            .map(|v| v as u64)
            .group_by_key(|v| (v % 97) as u32)
            .sum()
    )
    .unwrap();
    let s: Vec<u64> = want.values().map(|e| e.1).collect();
    assert_eq!(sums.keys.to_vec().unwrap(), keys);
    assert_eq!(sums.values.to_vec().unwrap(), s);
    let lows = query!(
        acc.query(&d)
            .filter(|v: u32| v % 3 != 0)
            .group_by_key(|v| v % 97)
            .min()
    )
    .unwrap();
    let l: Vec<u32> = want.values().map(|e| e.2).collect();
    assert_eq!(lows.values.to_vec().unwrap(), l);
    let highs = query!(
        acc.query(&d)
            .filter(|v: u32| v % 3 != 0)
            .group_by_key(|v| v % 97)
            .max()
    )
    .unwrap();
    let h: Vec<u32> = want.values().map(|e| e.3).collect();
    assert_eq!(highs.values.to_vec().unwrap(), h);

    // Float keys by their bits (0.0 and -0.0 apart), float sums in input order.
    let x = [1.5f32, -0.0, 2.0, 0.0, 1.5, -0.0, 0.25];
    let dx = dc.buffer_from_slice(&x).unwrap();
    let by_value = query!(acc.query(&dx).group_by_key(|v: f32| v).sum()).unwrap();
    let got_keys: Vec<u32> = by_value
        .keys
        .to_vec()
        .unwrap()
        .iter()
        .map(|k| k.to_bits())
        .collect();
    let want_keys: Vec<u32> = [-0.0f32, 0.0, 0.25, 1.5, 2.0]
        .iter()
        .map(|k| k.to_bits())
        .collect();
    assert_eq!(got_keys, want_keys);
    assert_eq!(
        by_value.values.to_vec().unwrap(),
        [-0.0, 0.0, 0.25, 3.0, 2.0]
    );
    // Counts of keys over a wide range (sorted) and of negative keys (a histogram).
    for (modulus, offset) in [(100_000i64, 0i64), (1000, -500)] {
        let wide = query!(
            acc.query(&d)
                .group_by_key(|v: u32| (v as i64) % modulus + offset)
                .count()
        )
        .unwrap();
        let mut want = std::collections::BTreeMap::<i64, u64>::new();
        for &v in &ids {
            *want.entry(i64::from(v) % modulus + offset).or_insert(0) += 1;
        }
        assert_eq!(
            wide.keys.to_vec().unwrap(),
            want.keys().copied().collect::<Vec<_>>()
        );
        assert_eq!(
            wide.values.to_vec().unwrap(),
            want.values().copied().collect::<Vec<_>>()
        );
    }
    // distinct: the values once each, ascending (floats by their bits).
    let once = query!(acc.query(&d).map(|v: u32| v % 1000).distinct()).unwrap();
    let want: std::collections::BTreeSet<u32> = ids.iter().map(|v| v % 1000).collect();
    assert_eq!(
        once.to_vec().unwrap(),
        want.iter().copied().collect::<Vec<_>>()
    );
    let wide = query!(acc.query(&d).distinct::<u32>()).unwrap();
    let want: std::collections::BTreeSet<u32> = ids.iter().copied().collect();
    assert_eq!(
        wide.to_vec().unwrap(),
        want.iter().copied().collect::<Vec<_>>()
    );
    let floats = query!(acc.query(&dx).distinct::<f32>()).unwrap();
    let got: Vec<u32> = floats
        .to_vec()
        .unwrap()
        .iter()
        .map(|k| k.to_bits())
        .collect();
    assert_eq!(got, want_keys);
    let empty = dc.buffer_zeroed::<f32>(0).unwrap();
    let none = query!(acc.query(&empty).group_by_key(|v: f32| v as u32).count()).unwrap();
    assert_eq!((none.keys.len(), none.values.len()), (0, 0));
}

/// `scan()` / `exclusive_scan()`: the running sums of the chain's values with the bits of
/// `algorithms::inclusive_scan` over those values (fused without a filter, the kept values'
/// scan with one); `scan(|| identity, combine)` with a custom combiner and captures; empty
/// inputs and windows.
#[test]
fn scans() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    // Several chunks, so that the chunk totals are scanned too (and their chunks').
    let x = mixed(3 * 4096 * 4096 / 2 + 17);
    let dx = dc.buffer_from_slice(&x).unwrap();
    let library = |values: &[f32], exclusive: bool| -> Vec<f32> {
        let v = dc.buffer_from_slice(values).unwrap();
        let mut out = dc.buffer_zeroed::<f32>(values.len()).unwrap();
        if exclusive {
            algorithms::exclusive_scan(&acc, &v, &mut out).unwrap();
        } else {
            algorithms::inclusive_scan(&acc, &v, &mut out).unwrap();
        }
        out.to_vec().unwrap()
    };
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    let k = 2.0f32;
    let mapped: Vec<f32> = x.iter().map(|v| v * k).collect();
    let got = query!(acc.query(&dx).map(|v: f32| v * k).scan()).unwrap();
    assert_eq!(bits(&got.to_vec().unwrap()), bits(&library(&mapped, false)));
    let got = query!(acc.query(&dx).map(|v: f32| v * k).exclusive_scan()).unwrap();
    assert_eq!(bits(&got.to_vec().unwrap()), bits(&library(&mapped, true)));
    let kept: Vec<f32> = x.iter().copied().filter(|v| *v > 0.0).collect();
    let got = query!(acc.query(&dx).filter(|v: f32| v > 0.0).scan()).unwrap();
    assert_eq!(bits(&got.to_vec().unwrap()), bits(&library(&kept, false)));
    // A plain buffer, and a window of it.
    let got = query!(acc.query(&dx).exclusive_scan()).unwrap();
    assert_eq!(bits(&got.to_vec().unwrap()), bits(&library(&x, true)));
    let got = query!(acc.query(&dx).skip(3).take(10_000).scan()).unwrap();
    assert_eq!(
        bits(&got.to_vec().unwrap()),
        bits(&library(&x[3..10_003], false))
    );
    // Running maxima of integers (a custom combiner with a capture), without and with a
    // filter; the identity for positions where nothing came before.
    let ids: Vec<u32> = (0..100_003u32)
        .map(|i| i.wrapping_mul(2_654_435_761) % 100_000)
        .collect();
    let d = dc.buffer_from_slice(&ids).unwrap();
    let floor = 7u32;
    let got = query!(acc.query(&d).scan(|| 0u32, |a: u32, b| a.max(b).max(floor))).unwrap();
    let want: Vec<u32> = ids
        .iter()
        .scan(0u32, |m, &v| {
            *m = (*m).max(v).max(floor);
            Some(*m)
        })
        .collect();
    assert_eq!(got.to_vec().unwrap(), want);
    let got = query!(
        acc.query(&d)
            .filter(|v: u32| v % 3 == 0)
            .map(|v| v / 3)
            .exclusive_scan(|| 0u32, |a, b| a.max(b))
    )
    .unwrap();
    let thirds: Vec<u32> = ids.iter().filter(|v| *v % 3 == 0).map(|v| v / 3).collect();
    let want: Vec<u32> = thirds
        .iter()
        .scan(0u32, |m, &v| {
            let before = *m;
            *m = (*m).max(v);
            Some(before)
        })
        .collect();
    assert_eq!(got.to_vec().unwrap(), want);
    // A combiner that is not commutative (the last non-zero value), over enough chunks
    // that the chunk totals' scan has chunks of its own: each value is the last non-zero
    // element at or before it.
    let sparse: Vec<u32> = (0..4097 * 4096u32 + 5)
        .map(|i| {
            if i.wrapping_mul(2_654_435_761) % 5 == 0 {
                i
            } else {
                0
            }
        })
        .collect();
    let ds = dc.buffer_from_slice(&sparse).unwrap();
    let got = query!(
        acc.query(&ds)
            .scan(|| 0u32, |a: u32, b| if b != 0 { b } else { a })
    )
    .unwrap();
    let want: Vec<u32> = sparse
        .iter()
        .scan(0u32, |last, &v| {
            if v != 0 {
                *last = v;
            }
            Some(*last)
        })
        .collect();
    assert!(got.to_vec().unwrap() == want);
    // Integer sums wrap, as `sum` does.
    let got = query!(acc.query(0..5u64).map(|i| u64::MAX / 2 + i).scan()).unwrap();
    let want: Vec<u64> = (0..5u64)
        .scan(0u64, |s, i| {
            *s = s.wrapping_add(u64::MAX / 2 + i);
            Some(*s)
        })
        .collect();
    assert_eq!(got.to_vec().unwrap(), want);
    let empty = dc.buffer_zeroed::<f32>(0).unwrap();
    assert!(
        query!(acc.query(&empty).map(|v: f32| v + 1.0).scan())
            .unwrap()
            .is_empty()
    );
    assert!(
        query!(
            acc.query(&dx)
                .filter(|v: f32| v > 1e30)
                .scan(|| 0.0f32, |a, b| a + b)
        )
        .unwrap()
        .is_empty()
    );
}

/// A join's pairs as `(left, right)` tuples.
fn pair_list(pairs: &query::Joined) -> Vec<(u64, u64)> {
    let left = pairs.left.to_vec().unwrap();
    left.into_iter()
        .zip(pairs.right.to_vec().unwrap())
        .collect()
}

/// `join`: the pairs of positions with equal keys, by left position then right, against a
/// nested loop; keys by closures with captures; float keys equal by bits (so `-0.0` and
/// `0.0` differ, and a NaN meets the NaN of the same bits); no pairs; empty sides.
#[test]
fn joins() {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    let orders: Vec<u32> = (0..20_011u32)
        .map(|i| i.wrapping_mul(2_654_435_761) % 3000)
        .collect();
    let customers: Vec<u64> = (0..5_003u64).map(|i| (i * 7919) % 2500 * 2).collect();
    let (d_orders, d_customers) = (
        dc.buffer_from_slice(&orders).unwrap(),
        dc.buffer_from_slice(&customers).unwrap(),
    );
    let shift = 1u64;
    let pairs = query!(acc.query(&d_orders).join(
        &d_customers,
        |o: u32| o as u64 + shift,
        |c: u64| c + 1
    ))
    .unwrap();
    let mut want = Vec::new();
    for (i, o) in orders.iter().enumerate() {
        for (j, c) in customers.iter().enumerate() {
            if u64::from(*o) + shift == c + 1 {
                want.push((i as u64, j as u64));
            }
        }
    }
    assert!(!want.is_empty());
    let got = pair_list(&pairs);
    assert_eq!(got.len(), pairs.len());
    assert_eq!(got, want);
    // After operators: zipped columns filtered, then joined on one of them; a window, a
    // filter and a map. The positions are the sources'.
    let amounts: Vec<f32> = (0..orders.len()).map(|i| (i % 7) as f32 * 0.25).collect();
    let d_amounts = dc.buffer_from_slice(&amounts).unwrap();
    let pairs = query!(
        acc.query(&d_amounts)
            .zip(&d_orders)
            .filter(|a: f32, o: u32| a > 0.5)
            .join(&d_customers, |a, o| o as u64 * 2, |c: u64| c)
    )
    .unwrap();
    let mut want = Vec::new();
    for (i, (a, o)) in amounts.iter().zip(&orders).enumerate() {
        for (j, c) in customers.iter().enumerate() {
            if *a > 0.5 && u64::from(*o) * 2 == *c {
                want.push((i as u64, j as u64));
            }
        }
    }
    assert!(!want.is_empty());
    let got = pair_list(&pairs);
    assert_eq!(got, want);
    let pairs = query!(
        acc.query(&d_orders)
            .skip(100)
            .filter(|o: u32| o % 2 == 0)
            .map(|o| o as u64 + 1)
            .join(&d_customers, |o| o, |c: u64| c + 1)
    )
    .unwrap();
    let mut want = Vec::new();
    for (i, o) in orders.iter().enumerate().skip(100) {
        for (j, c) in customers.iter().enumerate() {
            if o % 2 == 0 && u64::from(*o) + 1 == c + 1 {
                want.push((i as u64, j as u64));
            }
        }
    }
    let got = pair_list(&pairs);
    assert_eq!(got, want);
    // Float keys compare by their bits.
    let left = [0.0f32, -0.0, f32::NAN, 1.5, -3.0, 1.5];
    let right = [1.5f32, -0.0, f32::NAN, 7.0, 0.0, -3.0, 1.5];
    let (dl, dr) = (
        dc.buffer_from_slice(&left).unwrap(),
        dc.buffer_from_slice(&right).unwrap(),
    );
    let pairs = query!(acc.query(&dl).join(&dr, |l: f32| l, |r: f32| r)).unwrap();
    let got = pair_list(&pairs);
    assert_eq!(
        got,
        [
            (0, 4),
            (1, 1),
            (2, 2),
            (3, 0),
            (3, 6),
            (4, 5),
            (5, 0),
            (5, 6)
        ]
    );
    // Signed keys order across zero; nothing matches; an empty side.
    let pairs = query!(
        acc.query(&dl)
            .join(&dr, |l: f32| l as i32 - 2, |r: f32| -(r as i32) - 2)
    )
    .unwrap();
    assert_eq!(pairs.left.to_vec().unwrap(), [0, 0, 0, 1, 1, 1, 2, 2, 2]);
    assert_eq!(pairs.right.to_vec().unwrap(), [1, 2, 4, 1, 2, 4, 1, 2, 4]);
    let none = query!(acc.query(&dl).join(
        &dr,
        |l: f32| l.abs() as u32 + 1000,
        |r: f32| r.abs() as u32
    ))
    .unwrap();
    assert!(none.is_empty());
    let empty = dc.buffer_zeroed::<f32>(0).unwrap();
    assert!(
        query!(acc.query(&empty).join(&dr, |l: f32| l, |r: f32| r))
            .unwrap()
            .is_empty()
    );
    assert!(
        query!(acc.query(&dl).join(&empty, |l: f32| l, |r: f32| r))
            .unwrap()
            .is_empty()
    );
}
