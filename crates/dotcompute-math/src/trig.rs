//! `sin`, `cos` and `tan` (f32): x = q pi/2 + r with |r| <= pi/4, r carried as a sum rh + rl of two
//! floats, then polynomials with the coefficients of FreeBSD msun's `k_sinf.c` / `k_cosf.c`
//! (evaluated in f32 with the correction rl), the quadrant choosing which and with which sign;
//! `tan` is their quotient, with both carried as sums of two floats.
//!
//! The reduction: for |x| < 4096, pi/2 in five parts, the first four of at most 12
//! significant bits so that their products with q (< 2^12) are exact, summed with exact
//! two-sums (72 bits of pi/2 in all); beyond, Payne and Hanek's method in integers: 96 bits
//! of 2/pi from the right place, times x's 24-bit mantissa, give q mod 4 and 62 bits of the
//! fraction. Written without branches on the main path (see the `exp` module): both
//! reductions are computed and one is chosen, which keeps loops vectorisable. The error-free
//! sums and products need exact IEEE arithmetic, which every backend gives (on Vulkan the
//! wgpu backend marks every float operation exact).

use crate::exact::{two_prod_err_f32, two_sum_err_f32};

/// Word `i` (most significant first) of the binary expansion of 2/pi.
fn two_over_pi_word(i: u32) -> u32 {
    let w = 0xa2f9_836e;
    let w = if i == 1 { 0x4e44_1529 } else { w };
    let w = if i == 2 { 0xfc27_57d1 } else { w };
    let w = if i == 3 { 0xf534_ddc0 } else { w };
    let w = if i == 4 { 0xdb62_9599 } else { w };
    let w = if i == 5 { 0x3c43_9041 } else { w };
    let w = if i == 6 { 0xfe51_63ab } else { w };
    if i == 7 { 0xdebb_c561 } else { w }
}

/// 32 bits of 2/pi from fraction bit `b` (bit 0 is the first after the binary point).
fn two_over_pi_bits(b: u32) -> u32 {
    let i = b >> 5;
    let pair = ((two_over_pi_word(i) as u64) << 32) | (two_over_pi_word(i + 1) as u64);
    (pair >> (32 - (b & 31))) as u32
}

/// (x * 2/pi) mod 4 for finite x >= 4096, as a 64-bit fixed-point number: 2 integer bits,
/// 62 fraction bits (Payne and Hanek).
fn payne_hanek_f32(x: f32) -> u64 {
    let bits = x.to_bits();
    // x = m * 2^e, m a 24-bit integer, e in [-11, 105].
    let m = ((bits & 0x007f_ffff) | 0x0080_0000) as u64;
    let e = ((bits >> 23) as i32) - 150;
    // 2/pi from fraction bit `first`: the bits before it give multiples of 4.
    let first = if e > 2 { e - 2 } else { 0 };
    let w0 = two_over_pi_bits(first as u32) as u64;
    let w1 = two_over_pi_bits(first as u32 + 32) as u64;
    let w2 = two_over_pi_bits(first as u32 + 64) as u64;
    // m * (w0 w1 w2): 120 bits, as hi * 2^64 + lo.
    let a = m * w2;
    let b = m * w1;
    let lo = a.wrapping_add(b << 32);
    let carry = if lo < a { 1 } else { 0 };
    let hi = m * w0 + (b >> 32) + carry;
    // The product's binary point is at bit first + 96 - e; keep 2 bits above, 62 below.
    let d = (first + 34 - e) as u64;
    (hi << (64 - d)) | (lo >> d)
}

/// sin(rh + rl) for |rh + rl| <= pi/4 (plus a little).
fn sin_kernel_f32(rh: f32, rl: f32) -> f32 {
    let s = rh * rh;
    let p = rh * s * (-0.16666667 + s * (0.008333329 + s * (-0.00019839335 + s * 2.7183114e-6)));
    // sin(rh + rl) = sin(rh) + rl cos(rh) + O(rl^2).
    rh + (p + rl * (1.0 - 0.5 * s))
}

/// cos(rh + rl) for |rh + rl| <= pi/4 (plus a little).
fn cos_kernel_f32(rh: f32, rl: f32) -> f32 {
    let w = rh * rh;
    let hz = 0.5 * w;
    let t = 1.0 - hz;
    let poly = w * w * (0.041666623 + w * (-0.0013886763 + w * 2.4390449e-5));
    // cos(rh + rl) = cos(rh) - rl sin(rh) + O(rl^2).
    t + (((1.0 - t) - hz) + (poly - rh * rl * (1.0 - w * 0.16666667)))
}

/// tan(rh + rl), or -1 / tan(rh + rl) when `cotangent`, for |rh + rl| <= pi/4 (plus a
/// little): sin and cos as unevaluated sums of two floats (cos's with the rounding error of
/// rh^2 too), then their quotient with its residual computed exactly (Dekker's product), so
/// that only the last rounding and the kernels' own small errors remain.
fn tan_kernel_f32(rh: f32, rl: f32, cotangent: bool) -> f32 {
    let s = rh * rh;
    let p = rh * s * (-0.16666667 + s * (0.008333329 + s * (-0.00019839335 + s * 2.7183114e-6)));
    // Each as hi + lo with |lo| below half an ulp of hi: the quotient's correction below
    // divides by hi alone.
    let sin_tail = p + rl * (1.0 - 0.5 * s);
    let sin_hi = rh + sin_tail;
    let sin_lo = two_sum_err_f32(rh, sin_tail);
    let hz = 0.5 * s;
    let t = 1.0 - hz;
    let poly = s * s * (0.041666623 + s * (-0.0013886763 + s * 2.4390449e-5));
    let cos_tail = (((1.0 - t) - hz) - 0.5 * two_prod_err_f32(rh, rh))
        + (poly - rh * rl * (1.0 - s * 0.16666667));
    let cos_hi = t + cos_tail;
    let cos_lo = two_sum_err_f32(t, cos_tail);
    // numerator / denominator: sin / cos, or cos / sin (negated).
    let num_hi = if cotangent { cos_hi } else { sin_hi };
    let num_lo = if cotangent { cos_lo } else { sin_lo };
    let den_hi = if cotangent { sin_hi } else { cos_hi };
    let den_lo = if cotangent { sin_lo } else { cos_lo };
    let q = num_hi / den_hi;
    let residual = (num_hi - q * den_hi) - two_prod_err_f32(q, den_hi);
    let v = q + (residual + num_lo - q * den_lo) / den_hi;
    if cotangent { -v } else { v }
}

/// For finite `f32` x: sin(x + offset pi/2) for `function` 0 (sine, offset 0) or 1 (cosine,
/// offset 1), tan(x) for 2.
fn trig_f32(x: f32, function: u32) -> f32 {
    // Medium reduction (|x| < 4096; larger x is clamped, and takes the other result).
    let xm = x.clamp(-4096.0, 4096.0);
    let z = xm * 0.63661975 + 12582912.0;
    let qf = z - 12582912.0;
    let q_medium = z.to_bits().wrapping_sub(0x4b40_0000);
    // Exact: qf * 1.5703125 is exact and close to xm (Sterbenz).
    let r0 = xm - qf * 1.5703125;
    let t1 = -(qf * 0.0004837513);
    let h1 = r0 + t1;
    let t2 = -(qf * 7.5495336e-8);
    let h2 = h1 + t2;
    let t3 = -(qf * 2.563283e-12);
    let h3 = h2 + t3;
    let l3 = two_sum_err_f32(r0, t1) + two_sum_err_f32(h1, t2) + two_sum_err_f32(h2, t3)
        - qf * 6.123234e-17;
    let rh_medium = h3 + l3;
    let rl_medium = l3 - (rh_medium - h3);

    // Large reduction: Payne-Hanek on |x|, rounded to the nearest quadrant.
    let ax = x.abs().max(4096.0);
    let t = payne_hanek_f32(ax).wrapping_add(1 << 61);
    let q_abs = (t >> 62) as u32;
    // The remaining fraction of a quarter turn, in [-1/2, 1/2), times 2^62.
    let frac = ((t & 0x3fff_ffff_ffff_ffff) as i64) - (1 << 61);
    let u = if frac < 0 {
        (-frac) as u64
    } else {
        frac as u64
    };
    // u < 2^61 in three pieces that convert exactly, as a sum fh + fl of quarter turns.
    let a = ((u >> 40) as u32) as f32 * 2.3841858e-7;
    let b = (((u >> 20) & 0x000f_ffff) as u32) as f32 * 2.2737368e-13;
    let c = ((u & 0x000f_ffff) as u32) as f32 * 2.1684043e-19;
    let fh = a + b;
    let fl = two_sum_err_f32(a, b) + c;
    // Times pi/2 = 1.5707964 - 4.371139e-8: fh * 1.5707964 with its rounding error.
    let ph = fh * 1.5707964;
    let err = two_prod_err_f32(fh, 1.5707964);
    let pl_sum = err + (fh * -4.371139e-8 + fl * 1.5707964);
    // Normalised: |pl| at most half an ulp of ph.
    let ph_sum = ph + pl_sum;
    let pl = pl_sum - (ph_sum - ph);
    let ph = ph_sum;
    let sign = if frac < 0 { -1.0 } else { 1.0 };
    // x = -|x| = (-q) pi/2 - r for negative x.
    let negative = x < 0.0;
    let q_large = if negative {
        0u32.wrapping_sub(q_abs)
    } else {
        q_abs
    };
    let sign = if negative { -sign } else { sign };

    let large = x.abs() >= 4096.0;
    let q = if large { q_large } else { q_medium };
    let rh = if large { sign * ph } else { rh_medium };
    let rl = if large { sign * pl } else { rl_medium };
    let offset = if function == 1 { 1 } else { 0 };
    let quadrant = q.wrapping_add(offset) & 3;
    let s = sin_kernel_f32(rh, rl);
    let c = cos_kernel_f32(rh, rl);
    let v = if quadrant & 1 == 0 { s } else { c };
    let v = if quadrant & 2 == 0 { v } else { -v };
    // tan has period pi: odd quadrants give -cot(r).
    let t = tan_kernel_f32(rh, rl, q & 1 == 1);
    if function == 2 { t } else { v }
}

/// The sine of `f32` `x`.
pub fn sin_f32(x: f32) -> f32 {
    let v = trig_f32(x, 0);
    // |x| < 2^-12: sin(x) rounds to x (this also keeps the sign of zero).
    let v = if (x.to_bits() & 0x7fff_ffff) < 0x3980_0000 {
        x
    } else {
        v
    };
    // NaN stays NaN; sin(inf) and cos(inf) are NaN.
    if x.is_nan() {
        x + x
    } else if x.is_infinite() {
        f32::NAN
    } else {
        v
    }
}

/// The cosine of `f32` `x`.
pub fn cos_f32(x: f32) -> f32 {
    let v = trig_f32(x, 1);
    let v = if (x.to_bits() & 0x7fff_ffff) < 0x3980_0000 {
        1.0
    } else {
        v
    };
    // NaN stays NaN; sin(inf) and cos(inf) are NaN.
    if x.is_nan() {
        x + x
    } else if x.is_infinite() {
        f32::NAN
    } else {
        v
    }
}

/// The tangent of `f32` `x`.
pub fn tan_f32(x: f32) -> f32 {
    let v = trig_f32(x, 2);
    // |x| < 2^-12: tan(x) rounds to x (this also keeps the sign of zero).
    let v = if (x.to_bits() & 0x7fff_ffff) < 0x3980_0000 {
        x
    } else {
        v
    };
    // NaN stays NaN; tan(inf) is NaN.
    if x.is_nan() {
        x + x
    } else if x.is_infinite() {
        f32::NAN
    } else {
        v
    }
}
