//! 64-bit integers as pairs of 32-bit words, as for adapters without them (GL): the first
//! wgpu adapter (lavapipe in CI) opened with [`WgpuPlugin::emulating_int64`]. Every operation
//! on pairs is compared with the host's, bit for bit, and launches the mode cannot run are
//! refused. (`wgsl_validation.rs` checks that every conformance kernel's module has no 64-bit
//! type left; the whole conformance suite in this mode takes 12 minutes in a debug build,
//! too long for CI: see issue #13's notes.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute::prelude::*;
use dotcompute::{BackendKind, Error};
use dotcompute_conformance::{Env, backend_service};
use dotcompute_wgpu::WgpuPlugin;

fn emulated_env() -> Option<Env> {
    let (dc, acc) = backend_service(
        || Box::new(WgpuPlugin::default().emulating_int64()),
        |acc| acc.info().capabilities.int64_emulated,
        "DOTCOMPUTE_REQUIRE_WGPU",
    )?;
    Some(Env { dc, acc })
}

#[kernel]
fn fill_ids(out: &mut [u32]) {
    let i = global_id();
    if i < out.len() {
        out[i] = i as u32;
    }
}

/// Ids are words: a launch of 2^32 work items or more is refused before it runs, naming the
/// reason; one just below runs.
#[test]
fn launches_of_2_pow_32_items_are_refused() {
    let Some(env) = emulated_env() else {
        return;
    };
    assert_eq!(env.acc.id().backend, BackendKind::Wgpu);
    let mut out = env.dc.buffer_zeroed::<u32>(8).unwrap();
    let err = fill_ids::launch(&env.acc, 1u64 << 32, &mut out).unwrap_err();
    assert!(matches!(err, Error::InvalidGrid { .. }), "{err}");
    assert!(err.to_string().contains("no 64-bit integers"), "{err}");
    fill_ids::launch(&env.acc, 1000, &mut out).unwrap();
    assert_eq!(out.to_vec().unwrap(), (0..8).collect::<Vec<u32>>());
}

/// The service reports the mode.
#[test]
fn the_mode_is_reported() {
    let Some(env) = emulated_env() else {
        return;
    };
    let caps = &env.acc.info().capabilities;
    assert!(caps.int64 && caps.int64_emulated && !caps.f64 && !caps.atomics64);
    assert!(
        env.acc
            .info()
            .versions
            .iter()
            .any(|(k, v)| k == "64-bit integers" && v.starts_with("pairs of 32-bit words")),
        "{:?}",
        env.acc.info().versions
    );
}

#[kernel]
fn pair_ops_u64(a: &[u64], b: &[u64], out: &mut [u64]) {
    let i = global_id();
    let x = a[i];
    let y = b[i];
    let s = (y % 64) as u32;
    out[16 * i] = x.wrapping_add(y);
    out[16 * i + 1] = x.wrapping_sub(y);
    out[16 * i + 2] = x.wrapping_mul(y);
    out[16 * i + 3] = x / (y | 1);
    out[16 * i + 4] = x % (y | 1);
    out[16 * i + 5] = x << s;
    out[16 * i + 6] = x >> s;
    out[16 * i + 7] = (x < y) as u64 + 2 * (x <= y) as u64 + 4 * (x == y) as u64;
    out[16 * i + 8] = x.min(y);
    out[16 * i + 9] = x.max(y);
    out[16 * i + 10] = x.rotate_left(s);
    out[16 * i + 11] = (x.count_ones() + 100 * x.leading_zeros()) as u64;
    out[16 * i + 12] = x.trailing_zeros() as u64;
    out[16 * i + 13] = (x as f32).to_bits() as u64;
    out[16 * i + 14] = ((x as i64) as f32).to_bits() as u64;
    out[16 * i + 15] =
        (f32::from_bits(x as u32) as u64) ^ ((f32::from_bits(y as u32) as i64) as u64);
}

fn host_pair_ops(x: u64, y: u64) -> [u64; 16] {
    let s = (y % 64) as u32;
    [
        x.wrapping_add(y),
        x.wrapping_sub(y),
        x.wrapping_mul(y),
        x / (y | 1),
        x % (y | 1),
        x << s,
        x >> s,
        (x < y) as u64 + 2 * (x <= y) as u64 + 4 * (x == y) as u64,
        x.min(y),
        x.max(y),
        x.rotate_left(s),
        (x.count_ones() + 100 * x.leading_zeros()) as u64,
        x.trailing_zeros() as u64,
        (x as f32).to_bits() as u64,
        ((x as i64) as f32).to_bits() as u64,
        (f32::from_bits(x as u32) as u64) ^ ((f32::from_bits(y as u32) as i64) as u64),
    ]
}

#[kernel]
fn pair_ops_i64(a: &[i64], b: &[i64], out: &mut [i64]) {
    let i = global_id();
    let x = a[i];
    let y = b[i];
    let d = if y == 0 || (y == -1 && x == i64::MIN) {
        7
    } else {
        y
    };
    let s = (y & 63) as u32;
    out[8 * i] = x / d;
    out[8 * i + 1] = x % d;
    out[8 * i + 2] = x >> s;
    out[8 * i + 3] = (x < y) as i64 + 2 * (x <= y) as i64;
    out[8 * i + 4] = x.min(y);
    out[8 * i + 5] = (x / 2).abs();
    out[8 * i + 6] = -x;
    out[8 * i + 7] = (x as i32) as i64 + ((y as u32) as i64);
}

fn host_pair_ops_i64(x: i64, y: i64) -> [i64; 8] {
    let d = if y == 0 || (y == -1 && x == i64::MIN) {
        7
    } else {
        y
    };
    let s = (y & 63) as u32;
    [
        x / d,
        x % d,
        x >> s,
        (x < y) as i64 + 2 * (x <= y) as i64,
        x.min(y),
        (x / 2).abs(),
        x.wrapping_neg(),
        (x as i32) as i64 + ((y as u32) as i64),
    ]
}

/// Edge values and random bits (a fixed xorshift), in pairs of every combination.
fn operands() -> (Vec<u64>, Vec<u64>) {
    let edges = [
        0u64,
        1,
        2,
        3,
        31,
        32,
        33,
        63,
        64,
        0xffff_ffff,
        0x1_0000_0000,
        0x1_0000_0001,
        0x7fff_ffff_ffff_ffff,
        0x8000_0000_0000_0000,
        0x8000_0000_0000_0001,
        u64::MAX - 1,
        u64::MAX,
        0x0000_0001_8000_0000,
        0xffff_ffff_0000_0000,
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut random = Vec::new();
    for k in 0..400 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        // Random widths too: small values exercise the 32-bit fast paths.
        random.push(state >> (k % 64));
    }
    let values: Vec<u64> = edges.iter().copied().chain(random).collect();
    let mut a = Vec::new();
    let mut b = Vec::new();
    for (k, &x) in values.iter().enumerate() {
        for &y in values.iter().skip(k % 7).step_by(7) {
            a.push(x);
            b.push(y);
        }
    }
    // Divisors near the dividend over a power of two: quotients whose first estimate needs
    // its corrections.
    for &x in values.iter().filter(|&&x| x > 1 << 40) {
        for k in [1u32, 7, 31, 32, 33, 40] {
            for y in [
                (x >> k).max(1),
                (x >> k) + 1,
                (x >> k).saturating_sub(1).max(1),
            ] {
                a.push(x);
                b.push(y);
            }
        }
    }
    (a, b)
}

/// The first 20 results in `got` (`K` per pair of operands) that differ from `host`'s.
fn mismatches<T: Copy + PartialEq + std::fmt::LowerHex, const K: usize>(
    label: &str,
    a: &[T],
    b: &[T],
    got: &[T],
    host: fn(T, T) -> [T; K],
) -> Vec<String> {
    let mut wrong = Vec::new();
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        for (k, &want) in host(x, y).iter().enumerate() {
            let g = got[K * i + k];
            if g != want && wrong.len() < 20 {
                wrong.push(format!(
                    "{label} op {k} of ({x:#x}, {y:#x}): {g:#x}, want {want:#x}"
                ));
            }
        }
    }
    wrong
}

/// Every operation on pairs against the host's, bit for bit.
#[test]
fn pair_arithmetic_matches_the_host() {
    let Some(env) = emulated_env() else {
        return;
    };
    let (a, b) = operands();
    let n = a.len();
    let (da, db) = (
        env.dc.buffer_from_slice(&a).unwrap(),
        env.dc.buffer_from_slice(&b).unwrap(),
    );
    let mut out = env.dc.buffer_zeroed::<u64>(16 * n).unwrap();
    pair_ops_u64::launch(&env.acc, n as u64, &da, &db, &mut out).unwrap();
    let mut wrong = mismatches("u64", &a, &b, &out.to_vec().unwrap(), host_pair_ops);
    let (ia, ib): (Vec<i64>, Vec<i64>) = a
        .iter()
        .zip(&b)
        .map(|(&x, &y)| (x as i64, y as i64))
        .unzip();
    let (da, db) = (
        env.dc.buffer_from_slice(&ia).unwrap(),
        env.dc.buffer_from_slice(&ib).unwrap(),
    );
    let mut out = env.dc.buffer_zeroed::<i64>(8 * n).unwrap();
    pair_ops_i64::launch(&env.acc, n as u64, &da, &db, &mut out).unwrap();
    wrong.extend(mismatches(
        "i64",
        &ia,
        &ib,
        &out.to_vec().unwrap(),
        host_pair_ops_i64,
    ));
    assert!(wrong.is_empty(), "{} pairs:\n{}", n, wrong.join("\n"));
}
