//! `exp_m1` (e^x - 1, accurate near 0; f32 and f64): FreeBSD msun's `s_expm1f.c` /
//! `s_expm1.c` method (x = k ln2 + r, a rational approximation on |r| <= ln(2)/2 with the
//! reduction's rounding error c carried along, then one of several recombinations chosen by
//! k), written without branches on the main path: every recombination is computed and the
//! one for k chosen (see the `exp` module).

use crate::exp::{scale_f32, scale_f64};

/// e^x - 1 for `f32`.
pub fn exp_m1_f32(x: f32) -> f32 {
    // Below -27 ln2 the result rounds to -1; above 88.72284 it overflows (chosen below).
    let xc = x.clamp(-19.0, 89.0);
    let z = std::f32::consts::LOG2_E * xc + 12582912.0;
    let kf = z - 12582912.0;
    let k = (z.to_bits() as i32) - 0x4b40_0000;
    let hi = xc - kf * 0.6931381;
    let lo = kf * 9.058001e-6;
    let r = hi - lo;
    // The reduction's rounding error (0 when k = 0).
    let c = (hi - r) - lo;
    let hfx = 0.5 * r;
    let hxs = r * hfx;
    let r1 = 1.0 + hxs * (-0.033333212 + hxs * 0.001580717);
    let t = 3.0 - r1 * hfx;
    let e0 = hxs * ((r1 - t) / (6.0 - r * t));
    let when_k0 = r - (r * e0 - hxs);
    let e = (r * (e0 - c) - c) - hxs;
    let when_km1 = 0.5 * (r - e) - 0.5;
    let when_k1 = if r < -0.25 {
        -2.0 * (e - (r + 0.5))
    } else {
        1.0 + 2.0 * (r - e)
    };
    let when_far = scale_f32(1.0 - (e - r), k) - 1.0;
    // 2 <= k < 23: 1 - 2^-k minus the error, scaled; 23 <= k <= 56: with 2^-k added last.
    let shift = k.clamp(0, 31) as u32;
    let one_minus = f32::from_bits(0x3f80_0000 - (0x0100_0000 >> shift));
    let when_small_k = scale_f32(one_minus - (e - r), k);
    let tiny_power = f32::from_bits(((0x7f - k.clamp(0, 127)) as u32) << 23);
    let when_mid_k = scale_f32((r - (e + tiny_power)) + 1.0, k);
    let y = if k < 23 { when_small_k } else { when_mid_k };
    let y = if k <= -2 || k > 56 { when_far } else { y };
    let y = if k == 1 { when_k1 } else { y };
    let y = if k == -1 { when_km1 } else { y };
    let y = if k == 0 { when_k0 } else { y };
    // |x| < 2^-25: x itself.
    let y = if (x.to_bits() & 0x7fff_ffff) < 0x3300_0000 {
        x
    } else {
        y
    };
    let y = if x > f32::from_bits(0x42b1_7217) {
        f32::INFINITY
    } else {
        y
    };
    let y = if x < -18.714973 { -1.0 } else { y };
    if x.is_nan() { x + x } else { y }
}

/// e^x - 1 for `f64`.
pub fn exp_m1_f64(x: f64) -> f64 {
    let xc = x.clamp(-39.0, 710.0);
    let z = std::f64::consts::LOG2_E * xc + 6755399441055744.0;
    let kf = z - 6755399441055744.0;
    let k = (z.to_bits() as i64) - 0x4338_0000_0000_0000;
    let hi = xc - kf * 0.6931471803691238;
    let lo = kf * 1.9082149292705877e-10;
    let r = hi - lo;
    let c = (hi - r) - lo;
    let hfx = 0.5 * r;
    let hxs = r * hfx;
    let r1 = 1.0
        + hxs
            * (-0.03333333333333313
                + hxs
                    * (0.0015873015872548146
                        + hxs
                            * (-7.93650757867488e-5
                                + hxs * (4.008217827329362e-6 + hxs * -2.0109921818362437e-7))));
    let t = 3.0 - r1 * hfx;
    let e0 = hxs * ((r1 - t) / (6.0 - r * t));
    let when_k0 = r - (r * e0 - hxs);
    let e = (r * (e0 - c) - c) - hxs;
    let when_km1 = 0.5 * (r - e) - 0.5;
    let when_k1 = if r < -0.25 {
        -2.0 * (e - (r + 0.5))
    } else {
        1.0 + 2.0 * (r - e)
    };
    let when_far = scale_f64(1.0 - (e - r), k) - 1.0;
    // 2 <= k < 20: 1 - 2^-k from the high word; 20 <= k <= 56: 2^-k added last.
    let shift = k.clamp(0, 63) as u64;
    let one_minus = f64::from_bits((0x3ff0_0000 - (0x0020_0000 >> shift.min(31))) << 32);
    let when_small_k = scale_f64(one_minus - (e - r), k);
    let tiny_power = f64::from_bits(((0x3ff - k.clamp(0, 1023)) as u64) << 52);
    let when_mid_k = scale_f64((r - (e + tiny_power)) + 1.0, k);
    let y = if k < 20 { when_small_k } else { when_mid_k };
    let y = if k <= -2 || k > 56 { when_far } else { y };
    let y = if k == 1 { when_k1 } else { y };
    let y = if k == -1 { when_km1 } else { y };
    let y = if k == 0 { when_k0 } else { y };
    // |x| < 2^-54: x itself.
    let y = if (x.to_bits() >> 32) & 0x7fff_ffff < 0x3c90_0000 {
        x
    } else {
        y
    };
    let y = if x > 709.782712893384 {
        f64::INFINITY
    } else {
        y
    };
    let y = if x < -38.81622314453125 { -1.0 } else { y };
    if x.is_nan() { x + x } else { y }
}
