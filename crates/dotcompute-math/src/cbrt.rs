//! `cbrt`: x = m 2^(3k) with m in [1, 8) (subnormals scaled by 2^24 first), so that
//! cbrt(x) = cbrt(m) 2^k exactly. cbrt(m) starts from msun's bit trick (the exponent field
//! divided by three, about 5 good bits), two Halley steps t (t^3 + 2m) / (2t^3 + m) take it
//! past the format's precision, and a last Newton step t + (m - t^3) / (3t^2), with m - t^3
//! computed exactly (Dekker's products), leaves only the final rounding: the result is
//! within half an ulp plus far less than an ulp's thousandth. No wider type is needed.

use crate::exact::{two_prod_err_f32, two_prod_err_f64};

/// The cube root of `f32` `x`.
pub fn cbrt_f32(x: f32) -> f32 {
    let ax = x.abs();
    let subnormal = ax < f32::MIN_POSITIVE;
    let scaled = if subnormal { ax * 16777216.0 } else { ax };
    let bits = scaled.to_bits();
    // The unbiased exponent (subnormals: 24 less) and k = floor(e / 3).
    let shift = if subnormal { 24 } else { 0 };
    let e = (bits >> 23) as i32 - 127 - shift;
    let k = (e + 153) / 3 - 51;
    let m = f32::from_bits((bits & 0x007f_ffff) | (((127 + e - 3 * k) as u32) << 23));
    let t = f32::from_bits(m.to_bits() / 3 + 709_958_130);
    let t3 = t * t * t;
    let t = t * (t3 + 2.0 * m) / (2.0 * t3 + m);
    let t3 = t * t * t;
    let t = t * (t3 + 2.0 * m) / (2.0 * t3 + m);
    // m - t^3 exactly: t^2 = a + ea, a t = b + eb, so t^3 = b + eb + ea t (ea t's rounding
    // is far below what matters).
    let a = t * t;
    let ea = two_prod_err_f32(t, t);
    let b = a * t;
    let eb = two_prod_err_f32(a, t);
    let residual = ((m - b) - eb) - ea * t;
    let root = t + residual / (3.0 * a);
    let v = root * f32::from_bits(((127 + k) as u32) << 23);
    let v = if x < 0.0 { -v } else { v };
    // Zeros (with their sign), infinities and NaN are their own cube roots.
    if x == 0.0 || !x.is_finite() { x + x } else { v }
}

/// The cube root of `f64` `x` (as [`cbrt_f32`]).
pub fn cbrt_f64(x: f64) -> f64 {
    let ax = x.abs();
    let subnormal = ax < f64::MIN_POSITIVE;
    let scaled = if subnormal {
        ax * 18014398509481984.0
    } else {
        ax
    };
    let bits = scaled.to_bits();
    let shift = if subnormal { 54 } else { 0 };
    let e = (bits >> 52) as i64 - 1023 - shift;
    let k = (e + 1128) / 3 - 376;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | (((1023 + e - 3 * k) as u64) << 52));
    let high = (m.to_bits() >> 32) as u32;
    let t = f64::from_bits(((high / 3 + 715_094_163) as u64) << 32);
    let t3 = t * t * t;
    let t = t * (t3 + 2.0 * m) / (2.0 * t3 + m);
    let t3 = t * t * t;
    let t = t * (t3 + 2.0 * m) / (2.0 * t3 + m);
    let a = t * t;
    let ea = two_prod_err_f64(t, t);
    let b = a * t;
    let eb = two_prod_err_f64(a, t);
    let residual = ((m - b) - eb) - ea * t;
    let root = t + residual / (3.0 * a);
    let v = root * f64::from_bits(((1023 + k) as u64) << 52);
    let v = if x < 0.0 { -v } else { v };
    if x == 0.0 || !x.is_finite() { x + x } else { v }
}
