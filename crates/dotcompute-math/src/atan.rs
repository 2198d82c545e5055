//! `atan` and `atan2`. `atan` (f32): FreeBSD msun's `s_atanf.c` method. |x| is mapped into [-7/16, 7/16] by one
//! of four identities atan(x) = atan(c) + atan((x - c) / (1 + c x)) (c = 1/2, 1, 3/2, or
//! infinity), then an odd polynomial; atan(c) is added as two parts. Written without
//! branches on the main path: the interval's constants and the reduction's numerator and
//! denominator are selected, then one division (see the `exp` module). `atan` (f64): the
//! same with msun's `s_atan.c` polynomial.
//!
//! `atan2(y, x)`: msun's `e_atan2f.c` case analysis around atan(|y / x|), but the quotient's
//! rounding error is computed exactly (Dekker's product on operands scaled near 1) and
//! passed to `atan` as a tail, so that the division costs no accuracy.

use crate::exact::{two_prod_err_f32, two_prod_err_f64, two_sum_err_f32, two_sum_err_f64};

/// The arctangent of `f32` `x`.
pub fn atan_f32(x: f32) -> f32 {
    let ix = x.to_bits() & 0x7fff_ffff;
    let y = atan_plus_f32(x, 0.0, 0.0, 0.0, 1.0);
    // |x| < 2^-12: x itself; |x| >= 2^26: +-pi/2.
    let y = if ix < 0x3980_0000 { x } else { y };
    let far = f32::from_bits(0x3fc9_0fda) + 7.5497894e-8;
    let y = if ix >= 0x4c80_0000 {
        if x < 0.0 { -far } else { far }
    } else {
        y
    };
    if x.is_nan() { x + x } else { y }
}

/// offset + sign atan(x + tail), rounded once: `tail` is far below an ulp of x (atan(x + tail)
/// = atan(x) + tail / (1 + x^2)), `offset` is `offset_hi + offset_lo` and `sign` is 1 or -1.
/// `atan2` passes the quotient's rounding error and pi, so neither costs accuracy. No special
/// values: the callers choose those.
fn atan_plus_f32(x: f32, tail: f32, offset_hi: f32, offset_lo: f32, sign: f32) -> f32 {
    let ix = x.to_bits() & 0x7fff_ffff;
    let ax = x.abs();
    // The interval: 0 below 11/16, 1 below 1.1875, 2 below 2.4375, 3 above.
    let id = if ix < 0x3f30_0000 {
        0
    } else if ix < 0x3f98_0000 {
        1
    } else if ix < 0x401c_0000 {
        2
    } else {
        3
    };
    let num = if id == 0 {
        2.0 * ax - 1.0
    } else if id == 1 {
        ax - 1.0
    } else if id == 2 {
        ax - 1.5
    } else {
        -1.0
    };
    let den = if id == 0 {
        2.0 + ax
    } else if id == 1 {
        ax + 1.0
    } else if id == 2 {
        1.0 + 1.5 * ax
    } else {
        ax
    };
    // Below 7/16 no reduction: x itself.
    let near = ix < 0x3ee0_0000;
    let r = if near { x } else { num / den };
    let z = r * r;
    let w = z * z;
    let s1 = z * (0.33333328 + w * (0.14253636 + w * 0.061687607));
    let s2 = w * (-0.19999158 + w * -0.106480174);
    // atan(c) as hi + lo; hi is one ulp below the float nearest to it for c = 1 and c = inf,
    // hence the bits.
    let hi = if id == 0 {
        0.4636476
    } else if id == 1 {
        f32::from_bits(0x3f49_0fda)
    } else if id == 2 {
        0.9827937
    } else {
        f32::from_bits(0x3fc9_0fda)
    };
    let lo = if id == 0 {
        5.0121582e-9
    } else if id == 1 {
        3.7748947e-8
    } else if id == 2 {
        3.4473217e-8
    } else {
        7.5497894e-8
    };
    let t = tail / (1.0 + x * x);
    // The reduced path works on |x|: atan(|x|) = hi - rest.
    let negative = x < 0.0;
    let t_abs = if negative { -t } else { t };
    let rest = (r * (s1 + s2) - (lo + t_abs)) - r;
    let sign_abs = if negative { -sign } else { sign };
    let lead = if near { sign * x } else { sign_abs * hi };
    let rest = if near {
        -(sign * (x * (s1 + s2) - t))
    } else {
        -(sign_abs * rest)
    };
    let sum = offset_hi + lead;
    sum + ((offset_lo + rest) + two_sum_err_f32(offset_hi, lead))
}

/// The arctangent of `f64` `x` (msun's `s_atan.c` method, as [`atan_f32`]).
pub fn atan_f64(x: f64) -> f64 {
    let ix = (x.to_bits() >> 32) & 0x7fff_ffff;
    let y = atan_plus_f64(x, 0.0, 0.0, 0.0, 1.0);
    // |x| < 2^-27: x itself; |x| >= 2^66: +-pi/2.
    let y = if ix < 0x3e40_0000 { x } else { y };
    let far = std::f64::consts::FRAC_PI_2 + 6.123233995736766e-17;
    let y = if ix >= 0x4410_0000 {
        if x < 0.0 { -far } else { far }
    } else {
        y
    };
    if x.is_nan() { x + x } else { y }
}

/// offset + sign atan(x + tail), rounded once: `tail` is far below an ulp of x (atan(x + tail)
/// = atan(x) + tail / (1 + x^2)), `offset` is `offset_hi + offset_lo` and `sign` is 1 or -1.
/// `atan2` passes the quotient's rounding error and pi, so neither costs accuracy. No special
/// values: the callers choose those.
fn atan_plus_f64(x: f64, tail: f64, offset_hi: f64, offset_lo: f64, sign: f64) -> f64 {
    let ix = (x.to_bits() >> 32) & 0x7fff_ffff;
    let ax = x.abs();
    let id = if ix < 0x3fe6_0000 {
        0
    } else if ix < 0x3ff3_0000 {
        1
    } else if ix < 0x4003_8000 {
        2
    } else {
        3
    };
    let num = if id == 0 {
        2.0 * ax - 1.0
    } else if id == 1 {
        ax - 1.0
    } else if id == 2 {
        ax - 1.5
    } else {
        -1.0
    };
    let den = if id == 0 {
        2.0 + ax
    } else if id == 1 {
        ax + 1.0
    } else if id == 2 {
        1.0 + 1.5 * ax
    } else {
        ax
    };
    let near = ix < 0x3fdc_0000;
    let r = if near { x } else { num / den };
    let z = r * r;
    let w = z * z;
    let s1 = z
        * (0.3333333333333293
            + w * (0.14285714272503466
                + w * (0.09090887133436507
                    + w * (0.06661073137387531
                        + w * (0.049768779946159324 + w * 0.016285820115365782)))));
    let s2 = w
        * (-0.19999999999876483
            + w * (-0.11111110405462356
                + w * (-0.0769187620504483
                    + w * (-0.058335701337905735 + w * -0.036531572744216916))));
    let hi = if id == 0 {
        0.4636476090008061
    } else if id == 1 {
        std::f64::consts::FRAC_PI_4
    } else if id == 2 {
        0.982793723247329
    } else {
        std::f64::consts::FRAC_PI_2
    };
    let lo = if id == 0 {
        2.2698777452961687e-17
    } else if id == 1 {
        3.061616997868383e-17
    } else if id == 2 {
        1.3903311031230998e-17
    } else {
        6.123233995736766e-17
    };
    let t = tail / (1.0 + x * x);
    // The reduced path works on |x|: atan(|x|) = hi - rest.
    let negative = x < 0.0;
    let t_abs = if negative { -t } else { t };
    let rest = (r * (s1 + s2) - (lo + t_abs)) - r;
    let sign_abs = if negative { -sign } else { sign };
    let lead = if near { sign * x } else { sign_abs * hi };
    let rest = if near {
        -(sign * (x * (s1 + s2) - t))
    } else {
        -(sign_abs * rest)
    };
    let sum = offset_hi + lead;
    sum + ((offset_lo + rest) + two_sum_err_f64(offset_hi, lead))
}

/// The four-quadrant arctangent of `f32` `y / x`, in [-pi, pi] (C99's `atan2f`).
pub fn atan2_f32(y: f32, x: f32) -> f32 {
    let ix = x.to_bits() & 0x7fff_ffff;
    let iy = y.to_bits() & 0x7fff_ffff;
    let ax = x.abs();
    let ay = y.abs();
    // Both scaled by the power of two that brings the larger near [1, 2): the quotient's
    // rounding error y/x - q = (y - q x) / x is then computed without overflow.
    let e = (ix.max(iy) >> 23) as i32;
    let scale = f32::from_bits(((254 - e).clamp(1, 254) as u32) << 23);
    let sx = ax * scale;
    let sy = ay * scale;
    let q = ay / ax;
    let residual = (sy - q * sx) - two_prod_err_f32(q, sx);
    let pi_hi = f32::from_bits(0x4049_0fdb);
    let pi_lo = -8.742278e-8;
    // x < 0: pi - atan(|y / x|), pi added before the last rounding.
    let k = (iy as i32 - ix as i32) >> 23;
    let x_below = x < 0.0;
    let offset_hi = if x_below { pi_hi } else { 0.0 };
    let offset_lo = if x_below { pi_lo } else { 0.0 };
    let sign = if x_below { -1.0 } else { 1.0 };
    // Far below 2^-26 the scaled y may be subnormal, and the tail does not matter.
    let tail = if k < -26 { 0.0 } else { residual / sx };
    let v = atan_plus_f32(q, tail, offset_hi, offset_lo, sign);
    // |y / x| > 2^26: pi/2; below 2^-26 with x < 0: pi.
    let v = if k > 26 { 0.5 * pi_hi + 0.5 * pi_lo } else { v };
    let v = if k < -26 && x < 0.0 { pi_hi + pi_lo } else { v };
    let negative = y.to_bits() >> 31 == 1;
    let v = if negative { -v } else { v };
    // Zeros and infinities (C99 Annex F): y = 0 gives +-0 or +-pi by x's sign bit; x = 0 or
    // y infinite gives +-pi/2; x infinite gives +-0 or +-pi, or +-pi/4, +-3pi/4 with y.
    let x_negative = x.to_bits() >> 31 == 1;
    let pi = if x_negative { pi_hi + pi_lo } else { 0.0 };
    let v = if ix == 0x7f80_0000 {
        if iy == 0x7f80_0000 {
            if x_negative {
                3.0 * f32::from_bits(0x3f49_0fdb)
            } else {
                f32::from_bits(0x3f49_0fdb)
            }
        } else {
            pi
        }
    } else if iy == 0x7f80_0000 || ix == 0 {
        0.5 * pi_hi + 0.5 * pi_lo
    } else {
        v
    };
    let v = if (ix == 0x7f80_0000 || iy == 0x7f80_0000 || ix == 0) && negative {
        -v
    } else {
        v
    };
    let v = if iy == 0 {
        if x_negative { pi } else { 0.0 }
    } else {
        v
    };
    let v = if iy == 0 && negative { -v } else { v };
    if x.is_nan() || y.is_nan() { x + y } else { v }
}

/// The four-quadrant arctangent of `f64` `y / x` (as [`atan2_f32`]).
pub fn atan2_f64(y: f64, x: f64) -> f64 {
    let ix = (x.to_bits() >> 32) as u32 & 0x7fff_ffff;
    let iy = (y.to_bits() >> 32) as u32 & 0x7fff_ffff;
    let ax = x.abs();
    let ay = y.abs();
    let e = (ix.max(iy) >> 20) as i64;
    let scale = f64::from_bits(((2046 - e).clamp(1, 2046) as u64) << 52);
    let sx = ax * scale;
    let sy = ay * scale;
    let q = ay / ax;
    let residual = (sy - q * sx) - two_prod_err_f64(q, sx);
    let pi_hi = std::f64::consts::PI;
    let pi_lo = 1.2246467991473532e-16;
    // x < 0: pi - atan(|y / x|), pi added before the last rounding.
    let k = (iy as i32 - ix as i32) >> 20;
    let x_below = x < 0.0;
    let offset_hi = if x_below { pi_hi } else { 0.0 };
    let offset_lo = if x_below { pi_lo } else { 0.0 };
    let sign = if x_below { -1.0 } else { 1.0 };
    // Far below 2^-60 the scaled y may be subnormal, and the tail does not matter.
    let tail = if k < -60 { 0.0 } else { residual / sx };
    let v = atan_plus_f64(q, tail, offset_hi, offset_lo, sign);
    // |y / x| > 2^60: pi/2; below 2^-60 with x < 0: pi.
    let v = if k > 60 { 0.5 * pi_hi + 0.5 * pi_lo } else { v };
    let v = if k < -60 && x < 0.0 { pi_hi + pi_lo } else { v };
    let negative = y.to_bits() >> 63 == 1;
    let v = if negative { -v } else { v };
    let x_negative = x.to_bits() >> 63 == 1;
    let x_inf = x.is_infinite();
    let y_inf = y.is_infinite();
    let pi = if x_negative { pi_hi + pi_lo } else { 0.0 };
    let v = if x_inf {
        if y_inf {
            if x_negative {
                3.0 * std::f64::consts::FRAC_PI_4
            } else {
                std::f64::consts::FRAC_PI_4
            }
        } else {
            pi
        }
    } else if y_inf || x == 0.0 {
        0.5 * pi_hi + 0.5 * pi_lo
    } else {
        v
    };
    let v = if (x_inf || y_inf || x == 0.0) && negative {
        -v
    } else {
        v
    };
    let v = if y == 0.0 {
        if x_negative { pi } else { 0.0 }
    } else {
        v
    };
    let v = if y == 0.0 && negative { -v } else { v };
    if x.is_nan() || y.is_nan() { x + y } else { v }
}
