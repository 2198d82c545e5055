//! `hypot` (f32 and f64): sqrt(x^2 + y^2) without undue overflow or underflow, faithful. The
//! larger magnitude is scaled to [1, 2) by a power of two, the sum of squares is carried as
//! a sum of two floats (exact squares by Dekker's product), and the square root gets one
//! correction step from that sum; the result is scaled back.

use crate::exact::{two_prod_err_f32, two_prod_err_f64, two_sum_err_f32, two_sum_err_f64};

/// sqrt(x^2 + y^2) for `f32`.
pub fn hypot_f32(x: f32, y: f32) -> f32 {
    let ax = x.abs();
    let ay = y.abs();
    let a = ax.max(ay);
    let b = ax.min(ay);
    // 2^(127 - e) for a's biased exponent e (1 for subnormals); 2^-127 is itself subnormal.
    let e = ((a.to_bits() >> 23) as i32).clamp(1, 254);
    let k = 127 - e;
    let scale = if k >= -126 {
        f32::from_bits(((127 + k) as u32) << 23)
    } else {
        f32::from_bits(0x0040_0000)
    };
    let unscale = f32::from_bits(((127 - k) as u32) << 23);
    let sa = a * scale;
    let sb = b * scale;
    // sa^2 + sb^2 as sh + sl.
    let p = sa * sa;
    let q = sb * sb;
    let sh = p + q;
    let sl = two_sum_err_f32(p, q) + two_prod_err_f32(sa, sa) + two_prod_err_f32(sb, sb);
    let r = sh.sqrt();
    let rr = r * r;
    // One Newton step on the exact residual sh + sl - r^2 (sh - rr is exact: they are close).
    let corrected = r + (((sh - rr) - two_prod_err_f32(r, r)) + sl) / (2.0 * r);
    let v = corrected * unscale;
    let v = if b == 0.0 { a } else { v };
    // An infinity wins over a NaN (C99 F.10.4.3).
    let v = if x.is_nan() || y.is_nan() {
        f32::NAN
    } else {
        v
    };
    if ax == f32::INFINITY || ay == f32::INFINITY {
        f32::INFINITY
    } else {
        v
    }
}

/// sqrt(x^2 + y^2) for `f64`.
pub fn hypot_f64(x: f64, y: f64) -> f64 {
    let ax = x.abs();
    let ay = y.abs();
    let a = ax.max(ay);
    let b = ax.min(ay);
    let e = ((a.to_bits() >> 52) as i64).clamp(1, 2046);
    let k = 1023 - e;
    let scale = if k >= -1022 {
        f64::from_bits(((1023 + k) as u64) << 52)
    } else {
        f64::from_bits(0x0008_0000_0000_0000)
    };
    let unscale = f64::from_bits(((1023 - k) as u64) << 52);
    let sa = a * scale;
    let sb = b * scale;
    let p = sa * sa;
    let q = sb * sb;
    let sh = p + q;
    let sl = two_sum_err_f64(p, q) + two_prod_err_f64(sa, sa) + two_prod_err_f64(sb, sb);
    let r = sh.sqrt();
    let rr = r * r;
    let corrected = r + (((sh - rr) - two_prod_err_f64(r, r)) + sl) / (2.0 * r);
    let v = corrected * unscale;
    let v = if b == 0.0 { a } else { v };
    let v = if x.is_nan() || y.is_nan() {
        f64::NAN
    } else {
        v
    };
    if ax == f64::INFINITY || ay == f64::INFINITY {
        f64::INFINITY
    } else {
        v
    }
}
