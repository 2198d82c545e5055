//! `ln`, `log2` and `log10` (f32 and f64): x = 2^k (1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)),
//! then log(1 + f) from s = f / (2 + f) and the polynomials of FreeBSD msun's `e_logf.c` /
//! `e_log.c` / `k_log.h`. For `log2` and `log10` the high part of f is split off by masking
//! its low bits, so that its products with the split constants are exact (msun's
//! `e_log2.c` / `e_log10.c`). Maximum error below 1 ulp.
//!
//! Written in the kernel language without branches on the main path (see the `exp` module):
//! subnormal inputs are scaled by a select, both of msun's final formulas are computed and one
//! is chosen, and the special cases are chosen at the end. `ln_1p` shares their kernel.

use crate::exact::{two_sum_err_f32, two_sum_err_f64};

/// log(1 + f) - f + f*f/2 for 1 + f in [sqrt(2)/2, sqrt(2)): the part beyond the first two
/// terms, msun's `k_log1pf`.
pub fn log1p_tail_f32(f: f32) -> f32 {
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (0.40000972 + w * 0.24279079);
    let t2 = z * (0.6666666 + w * 0.28498787);
    let hfsq = 0.5 * f * f;
    s * (hfsq + (t2 + t1))
}

/// The bits of positive `x`, subnormals scaled by 2^25 (a positive normal's bits unchanged).
fn normal_bits_f32(x: f32) -> i32 {
    let scaled = if x < f32::MIN_POSITIVE {
        x * 33554432.0
    } else {
        x
    };
    scaled.to_bits() as i32
}

/// The exponent k of x = 2^k (1 + f), 1 + f in [sqrt(2)/2, sqrt(2)) (as msun splits it at
/// `split`: 0x4afb20 for `ln`, 0x4afb0d for `log2` and `log10`).
fn log_k_f32(x: f32, split: i32) -> i32 {
    let ix = normal_bits_f32(x);
    let subnormal = if x < f32::MIN_POSITIVE { -25 } else { 0 };
    let i = ((ix & 0x007f_ffff) + split) & 0x0080_0000;
    subnormal + ((ix >> 23) - 127) + (i >> 23)
}

/// The f of [`log_k_f32`].
fn log_f_f32(x: f32, split: i32) -> f32 {
    let m = normal_bits_f32(x) & 0x007f_ffff;
    let i = (m + split) & 0x0080_0000;
    f32::from_bits((m | (i ^ 0x3f80_0000)) as u32) - 1.0
}

/// The special cases of the logarithms (`f32`), or `y`: log(0) = -inf, log(negative) = NaN,
/// log(inf) = inf, NaN stays NaN.
fn log_special_f32(x: f32, y: f32) -> f32 {
    let y = if x < 0.0 { f32::NAN } else { y };
    let y = if x == 0.0 { f32::NEG_INFINITY } else { y };
    if x.is_nan() || x == f32::INFINITY {
        x + x
    } else {
        y
    }
}

/// The natural logarithm of `f32` `x`.
pub fn ln_f32(x: f32) -> f32 {
    let k = log_k_f32(x, 0x004a_fb20);
    let f = log_f_f32(x, 0x004a_fb20);
    let m = normal_bits_f32(x) & 0x007f_ffff;
    let dk = k as f32;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (0.40000972 + w * 0.24279079);
    let t2 = z * (0.6666666 + w * 0.28498787);
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    // msun's two formulas, chosen by where the mantissa lies.
    let near = dk * 0.6931381 - ((hfsq - (s * (hfsq + r) + dk * 9.058001e-6)) - f);
    let far = dk * 0.6931381 - ((s * (f - r) - dk * 9.058001e-6) - f);
    let y = if ((m - 0x0030_a3d0) | (0x0035_c288 - m)) > 0 {
        near
    } else {
        far
    };
    log_special_f32(x, y)
}

/// The base-2 logarithm of `f32` `x`.
pub fn log2_f32(x: f32) -> f32 {
    let y = log_k_f32(x, 0x004a_fb0d) as f32;
    let f = log_f_f32(x, 0x004a_fb0d);
    let hfsq = 0.5 * f * f;
    let r = log1p_tail_f32(f);
    let hi = f32::from_bits((f - hfsq).to_bits() & 0xffff_f000);
    let lo = (f - hi) - hfsq + r;
    let v = (lo + hi) * -0.00017605285 + lo * 1.4428711 + hi * 1.4428711 + y;
    let v = if x == 1.0 { 0.0 } else { v };
    log_special_f32(x, v)
}

/// The base-10 logarithm of `f32` `x`.
pub fn log10_f32(x: f32) -> f32 {
    let y = log_k_f32(x, 0x004a_fb0d) as f32;
    let f = log_f_f32(x, 0x004a_fb0d);
    let hfsq = 0.5 * f * f;
    let r = log1p_tail_f32(f);
    let hi = f32::from_bits((f - hfsq).to_bits() & 0xffff_f000);
    let lo = (f - hi) - hfsq + r;
    let v = y * 7.903415e-7
        + (lo + hi) * -3.168997e-5
        + lo * 0.43432617
        + hi * 0.43432617
        + y * 0.3010292;
    let v = if x == 1.0 { 0.0 } else { v };
    log_special_f32(x, v)
}

/// log(1 + f) - f + f*f/2 for 1 + f in [sqrt(2)/2, sqrt(2)): msun's `k_log1p`.
pub fn log1p_tail_f64(f: f64) -> f64 {
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (0.3999999999940942 + w * (0.22222198432149784 + w * 0.15313837699209373));
    let t2 = z
        * (0.6666666666666735
            + w * (0.2857142874366239 + w * (0.1818357216161805 + w * 0.14798198605116586)));
    let hfsq = 0.5 * f * f;
    s * (hfsq + (t2 + t1))
}

/// The bits of positive `x`, subnormals scaled by 2^54.
fn normal_bits_f64(x: f64) -> u64 {
    let scaled = if x < f64::MIN_POSITIVE {
        x * 1.8014398509481984e16
    } else {
        x
    };
    scaled.to_bits()
}

/// The exponent k of x = 2^k (1 + f), 1 + f in [sqrt(2)/2, sqrt(2)).
fn log_k_f64(x: f64) -> i32 {
    let hx = (normal_bits_f64(x) >> 32) as i32;
    let subnormal = if x < f64::MIN_POSITIVE { -54 } else { 0 };
    let i = ((hx & 0x000f_ffff) + 0x0009_5f64) & 0x0010_0000;
    subnormal + ((hx >> 20) - 1023) + (i >> 20)
}

/// The f of [`log_k_f64`]: the high word replaced, the low one kept.
fn log_f_f64(x: f64) -> f64 {
    let bits = normal_bits_f64(x);
    let m = ((bits >> 32) as i32) & 0x000f_ffff;
    let i = (m + 0x0009_5f64) & 0x0010_0000;
    f64::from_bits((((m | (i ^ 0x3ff0_0000)) as u32 as u64) << 32) | (bits & 0xffff_ffff)) - 1.0
}

/// The special cases of the logarithms (`f64`), or `y`.
fn log_special_f64(x: f64, y: f64) -> f64 {
    let y = if x < 0.0 { f64::NAN } else { y };
    let y = if x == 0.0 { f64::NEG_INFINITY } else { y };
    if x.is_nan() || x == f64::INFINITY {
        x + x
    } else {
        y
    }
}

/// The natural logarithm of `f64` `x`.
pub fn ln_f64(x: f64) -> f64 {
    let k = log_k_f64(x);
    let f = log_f_f64(x);
    let m = ((normal_bits_f64(x) >> 32) as i32) & 0x000f_ffff;
    let dk = k as f64;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (0.3999999999940942 + w * (0.22222198432149784 + w * 0.15313837699209373));
    let t2 = z
        * (0.6666666666666735
            + w * (0.2857142874366239 + w * (0.1818357216161805 + w * 0.14798198605116586)));
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    let near =
        dk * 0.6931471803691238 - ((hfsq - (s * (hfsq + r) + dk * 1.9082149292705877e-10)) - f);
    let far = dk * 0.6931471803691238 - ((s * (f - r) - dk * 1.9082149292705877e-10) - f);
    let y = if ((m - 0x0006_147a) | (0x0006_b851 - m)) > 0 {
        near
    } else {
        far
    };
    log_special_f64(x, y)
}

/// The base-2 logarithm of `f64` `x`.
pub fn log2_f64(x: f64) -> f64 {
    let y = log_k_f64(x) as f64;
    let f = log_f_f64(x);
    let hfsq = 0.5 * f * f;
    let r = log1p_tail_f64(f);
    // hi: f - hfsq with its low 32 bits cleared.
    let hi = f64::from_bits((f - hfsq).to_bits() & 0xffff_ffff_0000_0000);
    let lo = (f - hi) - hfsq + r;
    let val_hi = hi * 1.4426950407214463;
    let val_lo = (lo + hi) * 1.6751713164886512e-10 + lo * 1.4426950407214463;
    let w = y + val_hi;
    let v = (val_lo + ((y - w) + val_hi)) + w;
    let v = if x == 1.0 { 0.0 } else { v };
    log_special_f64(x, v)
}

/// The base-10 logarithm of `f64` `x`.
pub fn log10_f64(x: f64) -> f64 {
    let y = log_k_f64(x) as f64;
    let f = log_f_f64(x);
    let hfsq = 0.5 * f * f;
    let r = log1p_tail_f64(f);
    let hi = f64::from_bits((f - hfsq).to_bits() & 0xffff_ffff_0000_0000);
    let lo = (f - hi) - hfsq + r;
    let val_hi = hi * 0.4342944818781689;
    let y2 = y * 0.30102999566361177;
    let val_lo =
        y * 3.694239077158931e-13 + (lo + hi) * 2.5082946711645275e-11 + lo * 0.4342944818781689;
    let w = y2 + val_hi;
    let v = (val_lo + ((y2 - w) + val_hi)) + w;
    let v = if x == 1.0 { 0.0 } else { v };
    log_special_f64(x, v)
}

/// ln(1 + x) for `f32` x (msun's `s_log1pf.c` method): for 1 + x in [sqrt(2)/2, sqrt(2)),
/// log(1 + f) with f = x itself; beyond, u = 1 + x = 2^k (1 + f) as for `ln`, with the
/// rounding error c of 1 + x (exact, by a two-sum) added back as c / u before the last
/// rounding.
pub fn ln_1p_f32(x: f32) -> f32 {
    let near = x >= -0.29289323 && x < 0.41421357;
    let u = 1.0 + x;
    let c = two_sum_err_f32(1.0, x);
    let f_u = log_f_f32(u, 0x004a_fb20);
    let f = if near { x } else { f_u };
    let k = log_k_f32(u, 0x004a_fb20);
    let dk = if near { 0.0 } else { k as f32 };
    let correction = if near { 0.0 } else { c / u };
    let hfsq = 0.5 * f * f;
    let tail = log1p_tail_f32(f);
    let y = dk * 0.6931381 - ((hfsq - (tail + (dk * 9.058001e-6 + correction))) - f);
    // |x| < 2^-24: x itself (the sign of zero and subnormals included).
    let y = if x.abs() < 5.9604645e-8 { x } else { y };
    let y = if x < -1.0 { f32::NAN } else { y };
    let y = if x == -1.0 { f32::NEG_INFINITY } else { y };
    if x.is_nan() || x == f32::INFINITY {
        x + x
    } else {
        y
    }
}

/// ln(1 + x) for `f64` x (as [`ln_1p_f32`], msun's `s_log1p.c`).
pub fn ln_1p_f64(x: f64) -> f64 {
    let near = x >= -0.2928932188134524 && x < 0.41421356237309503;
    let u = 1.0 + x;
    let c = two_sum_err_f64(1.0, x);
    let f_u = log_f_f64(u);
    let f = if near { x } else { f_u };
    let k = log_k_f64(u);
    let dk = if near { 0.0 } else { k as f64 };
    let correction = if near { 0.0 } else { c / u };
    let hfsq = 0.5 * f * f;
    let tail = log1p_tail_f64(f);
    let y = dk * 0.6931471803691238
        - ((hfsq - (tail + (dk * 1.9082149292705877e-10 + correction))) - f);
    // |x| < 2^-54: x itself.
    let y = if x.abs() < 5.551115123125783e-17 {
        x
    } else {
        y
    };
    let y = if x < -1.0 { f64::NAN } else { y };
    let y = if x == -1.0 { f64::NEG_INFINITY } else { y };
    if x.is_nan() || x == f64::INFINITY {
        x + x
    } else {
        y
    }
}
