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

use crate::exact::{two_prod_err_f32, two_prod_err_f64, two_sum_err_f32, two_sum_err_f64};

/// Word `i + offset` (most significant first) of the binary expansion of 2/pi, for i in
/// 0..4: `f32` reductions need words 0 to 6, and choosing among four costs three selects
/// per word (a chain over all seven would cost six).
fn two_over_pi_word(i: u32, offset: u32) -> u32 {
    let w = if offset == 0 { 0xa2f9_836e } else { 0 };
    let w = if offset == 1 { 0x4e44_1529 } else { w };
    let w = if offset == 2 { 0xfc27_57d1 } else { w };
    let w = if offset == 3 { 0xf534_ddc0 } else { w };
    let w1 = if offset == 0 { 0x4e44_1529 } else { 0 };
    let w1 = if offset == 1 { 0xfc27_57d1 } else { w1 };
    let w1 = if offset == 2 { 0xf534_ddc0 } else { w1 };
    let w1 = if offset == 3 { 0xdb62_9599 } else { w1 };
    let w2 = if offset == 0 { 0xfc27_57d1 } else { 0 };
    let w2 = if offset == 1 { 0xf534_ddc0 } else { w2 };
    let w2 = if offset == 2 { 0xdb62_9599 } else { w2 };
    let w2 = if offset == 3 { 0x3c43_9041 } else { w2 };
    let w3 = if offset == 0 { 0xf534_ddc0 } else { 0 };
    let w3 = if offset == 1 { 0xdb62_9599 } else { w3 };
    let w3 = if offset == 2 { 0x3c43_9041 } else { w3 };
    let w3 = if offset == 3 { 0xfe51_63ab } else { w3 };
    if i == 0 {
        w
    } else if i == 1 {
        w1
    } else if i == 2 {
        w2
    } else {
        w3
    }
}

/// (x * 2/pi) mod 4 for finite x >= 4096, as a 64-bit fixed-point number: 2 integer bits,
/// 62 fraction bits (Payne and Hanek).
fn payne_hanek_f32(x: f32) -> u64 {
    let bits = x.to_bits();
    // x = m * 2^e, m a 24-bit integer, e in [-11, 105].
    let m = ((bits & 0x007f_ffff) | 0x0080_0000) as u64;
    let e = ((bits >> 23) as i32) - 150;
    // 2/pi from fraction bit `first` (at most 102): the bits before it give multiples of 4.
    let first = if e > 2 { (e - 2) as u32 } else { 0 };
    let i = first >> 5;
    let shift = 32 - (first & 31);
    let k0 = two_over_pi_word(i, 0) as u64;
    let k1 = two_over_pi_word(i, 1) as u64;
    let k2 = two_over_pi_word(i, 2) as u64;
    let k3 = two_over_pi_word(i, 3) as u64;
    let w0 = (((k0 << 32) | k1) >> shift) & 0xffff_ffff;
    let w1 = (((k1 << 32) | k2) >> shift) & 0xffff_ffff;
    let w2 = (((k2 << 32) | k3) >> shift) & 0xffff_ffff;
    // m * (w0 w1 w2): 120 bits, as hi * 2^64 + lo.
    let a = m * w2;
    let b = m * w1;
    let lo = a.wrapping_add(b << 32);
    let carry = if lo < a { 1 } else { 0 };
    let hi = m * w0 + (b >> 32) + carry;
    // The product's binary point is at bit first + 96 - e; keep 2 bits above, 62 below.
    let d = (first as i32 + 34 - e) as u64;
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

/// sin(x + offset pi/2) of `f32` x for `function` 0 (sine, offset 0) or 1 (cosine,
/// offset 1), tan(x) for 2; special values included. With `full` false the large reduction
/// is never chosen (the result is then right only for |x| < 4096, NaN and infinities): the
/// CPU backend speculates with that form, where the constant lets the compiler drop the
/// large reduction, and reruns a block of items with `full` true when any argument was
/// large (see the `rust` emitter's `speculative` calls).
pub fn trig_f32(x: f32, function: u32, full: bool) -> f32 {
    // Medium reduction (|x| < 4096; larger x is clamped, and takes the other result).
    let xm = x.clamp(-4096.0, 4096.0);
    let z = xm * 0.63661975 + 1.2582912e7;
    let qf = z - 1.2582912e7;
    let q_medium = z.to_bits().wrapping_sub(0x4b40_0000);
    // Exact: qf * 1.5703125 is exact and close to xm (Sterbenz).
    let r0 = xm - qf * 1.5703125;
    let t1 = -(qf * 0.0004837513);
    let h1 = r0 + t1;
    let t2 = -(qf * 7.5495336e-8);
    let h2 = h1 + t2;
    let t3 = -(qf * 2.563283e-12);
    let h3 = h2 + t3;
    // h1 = r0 + t1 is exact for |x| < 4096 (every such f32 checked): t1's bits end at
    // 2^-22 or above, r0's at 2^-24 or above once qf != 0 (|x| > 1/2), and |h1| < 1, so the
    // sum fits 24 bits. Only the later sums round.
    let l3 = two_sum_err_f32(h1, t2) + two_sum_err_f32(h2, t3) - qf * 6.123234e-17;
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

    let large = full && x.abs() >= 4096.0;
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
    let v = if function == 2 { t } else { v };
    // |x| < 2^-12: sin and tan round to x (this also keeps the sign of zero), cos to 1.
    let tiny = if function == 1 { 1.0 } else { x };
    let v = if (x.to_bits() & 0x7fff_ffff) < 0x3980_0000 {
        tiny
    } else {
        v
    };
    // NaN stays NaN; the functions of an infinity are NaN.
    if x.is_nan() {
        x + x
    } else if x.is_infinite() {
        f32::NAN
    } else {
        v
    }
}

/// The sine of `f32` `x`.
pub fn sin_f32(x: f32) -> f32 {
    trig_f32(x, 0, true)
}

/// The cosine of `f32` `x`.
pub fn cos_f32(x: f32) -> f32 {
    trig_f32(x, 1, true)
}

/// The tangent of `f32` `x`.
pub fn tan_f32(x: f32) -> f32 {
    trig_f32(x, 2, true)
}

/// Word `i` of 2/pi's binary expansion for `f64` reduction (1,216 bits: enough for the
/// largest `f64`); 0 outside. (The `f32` functions use [`two_over_pi_word`]: seven words, so
/// shorter selects.)
fn two_over_pi_word_long(i: i32) -> u32 {
    let w = 0;
    let w = if i == 0 { 0xa2f9_836e } else { w };
    let w = if i == 1 { 0x4e44_1529 } else { w };
    let w = if i == 2 { 0xfc27_57d1 } else { w };
    let w = if i == 3 { 0xf534_ddc0 } else { w };
    let w = if i == 4 { 0xdb62_9599 } else { w };
    let w = if i == 5 { 0x3c43_9041 } else { w };
    let w = if i == 6 { 0xfe51_63ab } else { w };
    let w = if i == 7 { 0xdebb_c561 } else { w };
    let w = if i == 8 { 0xb724_6e3a } else { w };
    let w = if i == 9 { 0x424d_d2e0 } else { w };
    let w = if i == 10 { 0x0649_2eea } else { w };
    let w = if i == 11 { 0x09d1_921c } else { w };
    let w = if i == 12 { 0xfe1d_eb1c } else { w };
    let w = if i == 13 { 0xb129_a73e } else { w };
    let w = if i == 14 { 0xe882_35f5 } else { w };
    let w = if i == 15 { 0x2ebb_4484 } else { w };
    let w = if i == 16 { 0xe99c_7026 } else { w };
    let w = if i == 17 { 0xb45f_7e41 } else { w };
    let w = if i == 18 { 0x3991_d639 } else { w };
    let w = if i == 19 { 0x8353_39f4 } else { w };
    let w = if i == 20 { 0x9c84_5f8b } else { w };
    let w = if i == 21 { 0xbdf9_283b } else { w };
    let w = if i == 22 { 0x1ff8_97ff } else { w };
    let w = if i == 23 { 0xde05_980f } else { w };
    let w = if i == 24 { 0xef2f_118b } else { w };
    let w = if i == 25 { 0x5a0a_6d1f } else { w };
    let w = if i == 26 { 0x6d36_7ecf } else { w };
    let w = if i == 27 { 0x27cb_09b7 } else { w };
    let w = if i == 28 { 0x4f46_3f66 } else { w };
    let w = if i == 29 { 0x9e5f_ea2d } else { w };
    let w = if i == 30 { 0x7527_bac7 } else { w };
    let w = if i == 31 { 0xebe5_f17b } else { w };
    let w = if i == 32 { 0x3d07_39f7 } else { w };
    let w = if i == 33 { 0x8a52_92ea } else { w };
    let w = if i == 34 { 0x6bfb_5fb1 } else { w };
    let w = if i == 35 { 0x1f8d_5d08 } else { w };
    let w = if i == 36 { 0x5603_3046 } else { w };
    if i == 37 { 0xfc7b_6bab } else { w }
}

/// 32 bits of 2/pi from fraction bit `b`, which may be negative (2/pi's bits before the binary
/// point are zeros).
fn two_over_pi_bits_long(b: i32) -> u64 {
    let i = b >> 5;
    let pair = ((two_over_pi_word_long(i) as u64) << 32) | (two_over_pi_word_long(i + 1) as u64);
    (pair >> (32 - (b & 31)) as u64) & 0xffff_ffff
}

/// The low 32 bits of `p`.
fn low32(p: u64) -> u64 {
    p & 0xffff_ffff
}

/// sin(rh + rl) for |rh + rl| <= pi/4 (plus a little), msun's `k_sin.c` as an unevaluated
/// sum rh + tail: this returns the tail.
fn sin_tail_f64(rh: f64, rl: f64) -> f64 {
    let z = rh * rh;
    let w = z * z;
    let r = 0.00833333333332249
        + z * (-0.0001984126982985795 + z * 2.7557313707070068e-6)
        + z * w * (-2.5050760253406863e-8 + z * 1.58969099521155e-10);
    let v = z * rh;
    -((z * (0.5 * rl - v * r) - rl) - v * -0.16666666666666632)
}

/// cos(rh + rl) for |rh + rl| <= pi/4 (plus a little), msun's `k_cos.c` as an unevaluated
/// sum (1 - rh^2 / 2) + tail (with the rounding error of rh^2 in the tail too): this
/// returns the tail.
fn cos_tail_f64(rh: f64, rl: f64) -> f64 {
    let z = rh * rh;
    let w = z * z;
    let r = z * (0.0416666666666666 + z * (-0.001388888888887411 + z * 2.480158728947673e-5))
        + w * w
            * (-2.7557314351390663e-7 + z * (2.087572321298175e-9 + z * -1.1359647557788195e-11));
    let hz = 0.5 * z;
    let head = 1.0 - hz;
    (((1.0 - head) - hz) - 0.5 * two_prod_err_f64(rh, rh)) + (z * r - rh * rl)
}

/// sin(x) (`function` 0), cos(x) (1) or tan(x) (2) of `f64` x, special values included.
///
/// The reduction x = q pi/2 + r: for |x| < 2^20, msun's three rounds of pi/2 in 33-bit
/// parts (each product with q exact); beyond, Payne and Hanek's method with 192 bits of 2/pi
/// (inline: the language has no tuples to return q and r in). Both are computed and one is
/// chosen, as for `f32` (and `full` false never chooses the large one, as for `f32`: right
/// for |x| < 2^20, NaN and infinities).
pub fn trig_f64(x: f64, function: u32, full: bool) -> f64 {
    // Medium reduction.
    let xm = x.clamp(-1048576.0, 1048576.0);
    let magic = xm * std::f64::consts::FRAC_2_PI + 6.755399441055744e15;
    let fq = magic - 6.755399441055744e15;
    let q_medium = magic.to_bits() as u32;
    // pi/2 = P1 + P2 + P3 + P3t, the first three of 33 bits: r1 and the products are exact,
    // the subtractions' errors are kept.
    let r1 = xm - fq * 1.5707963267341256;
    let p2 = fq * 6.077100506303966e-11;
    let r2 = r1 - p2;
    let e2 = two_sum_err_f64(r1, -p2);
    let p3 = fq * 2.0222662487111665e-21;
    let r3 = r2 - p3;
    let e3 = two_sum_err_f64(r2, -p3);
    let tail = (e2 + e3) - fq * 8.4784276603689e-32;
    let rh_medium = r3 + tail;
    let rl_medium = two_sum_err_f64(r3, tail);

    // Large reduction on |x| (clamped below, for the lanes that take the medium result).
    let ax = x.abs().max(1048576.0);
    let bits = ax.to_bits();
    let m = (bits & 0x000f_ffff_ffff_ffff) | 0x0010_0000_0000_0000;
    // x = m 2^e with a 53-bit m; 192 bits of 2/pi from fraction bit e - 2 (the bits before
    // contribute multiples of 4 quarter turns), so that the product m W has its binary point
    // at bit 190 whatever e is; the product in 32-bit limbs l0..l5 (the limbs above hold
    // multiples of 4).
    let e = (bits >> 52) as i32 - 1075;
    let first = e - 2;
    let w0 = two_over_pi_bits_long(first);
    let w1 = two_over_pi_bits_long(first + 32);
    let w2 = two_over_pi_bits_long(first + 64);
    let w3 = two_over_pi_bits_long(first + 96);
    let w4 = two_over_pi_bits_long(first + 128);
    let w5 = two_over_pi_bits_long(first + 160);
    let ml = m & 0xffff_ffff;
    let mh = m >> 32;
    // A_k = ml w_k lands at limb 5 - k, B_k = mh w_k at limb 6 - k (B_0 only above l5).
    let a5 = ml * w5;
    let a4 = ml * w4;
    let a3 = ml * w3;
    let a2 = ml * w2;
    let a1 = ml * w1;
    let a0 = ml * w0;
    let b5 = mh * w5;
    let b4 = mh * w4;
    let b3 = mh * w3;
    let b2 = mh * w2;
    let b1 = mh * w1;
    let c = low32(a5);
    let c = (c >> 32) + (a5 >> 32) + low32(a4) + low32(b5);
    let c = (c >> 32) + (a4 >> 32) + (b5 >> 32) + low32(a3) + low32(b4);
    let l2 = low32(c);
    let c = (c >> 32) + (a3 >> 32) + (b4 >> 32) + low32(a2) + low32(b3);
    let l3 = low32(c);
    let c = (c >> 32) + (a2 >> 32) + (b3 >> 32) + low32(a1) + low32(b2);
    let l4 = low32(c);
    let c = (c >> 32) + (a1 >> 32) + (b2 >> 32) + low32(a0) + low32(b1);
    let l5 = low32(c);
    // Bits 128..192: 2 integer bits and 62 fraction bits; bits 64..128: 64 more.
    let hi = (l5 << 32) | l4;
    let lo = (l3 << 32) | l2;
    // Rounded to the nearest quadrant: the fraction in [-1/2, 1/2) quarter turns.
    let t = hi.wrapping_add(1 << 61);
    let q = t >> 62;
    let frac = ((t & 0x3fff_ffff_ffff_ffff) as i64) - (1 << 61);
    // frac + lo 2^-64 (units of 2^-62 quarter turns) as a sum of two doubles: every piece
    // converts exactly.
    let a = ((frac >> 32) as f64) * 4.294967296e9;
    let b = (frac & 0xffff_ffff) as f64;
    let c_hi = (lo >> 32) as f64 * 2.3283064365386963e-10;
    let c_lo = (lo & 0xffff_ffff) as f64 * 5.421010862427522e-20;
    let s = a + b;
    let s_lo = two_sum_err_f64(a, b) + (c_hi + c_lo);
    let fh = (s + s_lo) * 2.168404344971009e-19;
    let fl = two_sum_err_f64(s, s_lo) * 2.168404344971009e-19;
    // Times pi/2 (hi + lo): r = rh + rl.
    let pio2_hi = std::f64::consts::FRAC_PI_2;
    let pio2_lo = 6.123233995736766e-17;
    let ph = fh * pio2_hi;
    let pl = two_prod_err_f64(fh, pio2_hi) + (fh * pio2_lo + fl * pio2_hi);
    let rh = ph + pl;
    let rl = two_sum_err_f64(ph, pl);
    let q_abs = q as u32;
    let negative = x < 0.0;
    let q_large = if negative {
        0u32.wrapping_sub(q_abs)
    } else {
        q_abs
    };
    let rh_large = if negative { -rh } else { rh };
    let rl_large = if negative { -rl } else { rl };

    let large = full && x.abs() >= 1048576.0;
    let q = if large { q_large } else { q_medium };
    let rh = if large { rh_large } else { rh_medium };
    let rl = if large { rl_large } else { rl_medium };

    let sin_tail = sin_tail_f64(rh, rl);
    let cos_tail = cos_tail_f64(rh, rl);
    let cos_head = 1.0 - 0.5 * (rh * rh);
    let s = rh + sin_tail;
    let c = cos_head + cos_tail;
    let offset = if function == 1 { 1 } else { 0 };
    let quadrant = q.wrapping_add(offset) & 3;
    let v = if quadrant & 1 == 0 { s } else { c };
    let v = if quadrant & 2 == 0 { v } else { -v };
    // tan: sin / cos (or -cos / sin in odd quadrants), both as sums of two doubles.
    let sin_lo = two_sum_err_f64(rh, sin_tail);
    let cos_lo = two_sum_err_f64(cos_head, cos_tail);
    let cotangent = q & 1 == 1;
    let num_hi = if cotangent { c } else { s };
    let num_lo = if cotangent { cos_lo } else { sin_lo };
    let den_hi = if cotangent { s } else { c };
    let den_lo = if cotangent { sin_lo } else { cos_lo };
    let quotient = num_hi / den_hi;
    let residual = (num_hi - quotient * den_hi) - two_prod_err_f64(quotient, den_hi);
    let t = quotient + (residual + num_lo - quotient * den_lo) / den_hi;
    let t = if cotangent { -t } else { t };
    let v = if function == 2 { t } else { v };
    // |x| < 2^-26: sin and tan round to x (this also keeps the sign of zero). (No shortcut
    // for cos: it rounds to 1 only below 2^-26.5, and the kernel's 1 - x^2 / 2 gives that.)
    let v = if function != 1 && x.abs() < 1.4901161193847656e-8 {
        x
    } else {
        v
    };
    if x.is_nan() {
        x + x
    } else if x.is_infinite() {
        f64::NAN
    } else {
        v
    }
}

/// The sine of `f64` `x`.
pub fn sin_f64(x: f64) -> f64 {
    trig_f64(x, 0, true)
}

/// The cosine of `f64` `x`.
pub fn cos_f64(x: f64) -> f64 {
    trig_f64(x, 1, true)
}

/// The tangent of `f64` `x`.
pub fn tan_f64(x: f64) -> f64 {
    trig_f64(x, 2, true)
}
