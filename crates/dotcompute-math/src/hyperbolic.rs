//! `sinh`, `cosh` and `tanh` (f32 and f64). FreeBSD msun's formulas (`e_sinhf.c`, `e_coshf.c`,
//! `s_tanhf.c`) reach 1.2 to 1.6 ulp here (measured), because an `exp` or `exp_m1` result
//! already off by up to 0.9 ulp goes into a further sum or quotient. So: e^|x| is computed as
//! the sum of two floats (the `exp` kernel's 1 + q with q carried exactly), and (e^x +- e^-x) / 2
//! from it in the same precision; near zero, Taylor series whose tail is small against x.
//! Written without branches on the main path (see the `exp` module).

use crate::exact::{two_prod_err_f32, two_prod_err_f64, two_sum_err_f32, two_sum_err_f64};
use crate::exp::{exp_scaled_f32, exp_scaled_f64};
use crate::expm1::{exp_m1_f32, exp_m1_f64};

/// e^a for a in [0.34, 9] as a sum of two floats: the high part (`low` false) or the low one
/// (a kernel has one result; the two calls share their work once inlined).
fn exp_pair_f32(a: f32, low: bool) -> f32 {
    let z = std::f32::consts::LOG2_E * a + 12582912.0;
    let t = z - 12582912.0;
    let k = (z.to_bits() as i32) - 0x4b40_0000;
    let hi = a - t * 0.69314575;
    let lo = t * 1.4286068e-6;
    let r = hi - lo;
    let tt = r * r;
    let c = r - tt * (0.16666625 + tt * -0.0027667333);
    // e^r = 1 + (hi - lo) + r c / (2 - c), summed without losing low bits.
    let q = (r * c) / (2.0 - c) - lo;
    let ah = 1.0 + hi;
    let rest = two_sum_err_f32(1.0, hi) + q;
    let eh = ah + rest;
    let el = rest - (eh - ah);
    // Times 2^k, exactly (k in [0, 13]).
    let p = f32::from_bits(((0x7f + k) as u32) << 23);
    if low { el * p } else { eh * p }
}

/// 1 / (eh + el) as a sum of two floats (high or low part): one Newton step on the exact
/// residual.
fn reciprocal_pair_f32(eh: f32, el: f32, low: bool) -> f32 {
    let ih = 1.0 / eh;
    let d = ((1.0 - eh * ih) - two_prod_err_f32(eh, ih)) - el * ih;
    if low { ih * d } else { ih }
}

/// (e^a + s e^-a) / 2 for a in [0.34, 9] and s = 1 or -1.
fn exp_pair_combination_f32(a: f32, s: f32) -> f32 {
    let eh = exp_pair_f32(a, false);
    let el = exp_pair_f32(a, true);
    let ih = reciprocal_pair_f32(eh, el, false);
    let il = reciprocal_pair_f32(eh, el, true);
    let sh = eh + s * ih;
    let sl = two_sum_err_f32(eh, s * ih) + (el + s * il);
    0.5 * (sh + sl)
}

/// The hyperbolic sine of `f32` `x`.
pub fn sinh_f32(x: f32) -> f32 {
    let ax = x.abs();
    // |x| < 1: the odd Taylor series to x^11 (the next term is below 2^-32 relative).
    let s = x * x;
    let series = x + x
        * s
        * (0.16666667
            + s * (0.008333334 + s * (0.0001984127 + s * (2.7557319e-6 + s * 2.5052108e-8))));
    let pair = exp_pair_combination_f32(ax.clamp(0.34, 9.0), -1.0);
    let mid = if x < 0.0 { -pair } else { pair };
    // e^|x| / 2, also where e^|x| alone would overflow.
    let far = exp_scaled_f32(ax.min(90.0), -1);
    let far = if x < 0.0 { -far } else { far };
    let y = if ax < 9.0 { mid } else { far };
    let y = if ax < 1.0 { series } else { y };
    let y = if ax > 89.415985 { x * f32::INFINITY } else { y };
    if x.is_nan() { x + x } else { y }
}

/// The hyperbolic cosine of `f32` `x`.
pub fn cosh_f32(x: f32) -> f32 {
    let ax = x.abs();
    // |x| < 0.3466: 1 + t^2 / (2 (1 + t)) with t = e^|x| - 1 (a small correction to 1).
    let t = exp_m1_f32(ax.min(0.35));
    let w = 1.0 + t;
    let near = 1.0 + (t * t) / (w + w);
    let mid = exp_pair_combination_f32(ax.clamp(0.34, 9.0), 1.0);
    let far = exp_scaled_f32(ax.min(90.0), -1);
    let y = if ax < 9.0 { mid } else { far };
    let y = if ax < f32::from_bits(0x3eb1_7218) {
        near
    } else {
        y
    };
    let y = if ax > 89.415985 { f32::INFINITY } else { y };
    if x.is_nan() { x + x } else { y }
}

/// The hyperbolic tangent of `f32` `x`.
pub fn tanh_f32(x: f32) -> f32 {
    let ax = x.abs();
    // |x| < 0.55: the odd Taylor series to x^21 (each term about 0.12 of the one before).
    let s = x * x;
    let series = x + x
        * s
        * (-0.33333334
            + s * (0.13333334
                + s * (-0.053968254
                    + s * (0.021869488
                        + s * (-0.008863236
                            + s * (0.003592128
                                + s * (-0.0014558344
                                    + s * (0.0005900274
                                        + s * (-0.00023912912 + s * 9.691538e-5)))))))));
    // Further out: (e^a - e^-a) / (e^a + e^-a), numerator and denominator as sums of two
    // floats, the quotient corrected once.
    let a = ax.clamp(0.34, 9.0);
    let eh = exp_pair_f32(a, false);
    let el = exp_pair_f32(a, true);
    let ih = reciprocal_pair_f32(eh, el, false);
    let il = reciprocal_pair_f32(eh, el, true);
    let nh = eh - ih;
    let nl = two_sum_err_f32(eh, -ih) + (el - il);
    let dh = eh + ih;
    let dl = two_sum_err_f32(eh, ih) + (el + il);
    let quotient = nh / dh;
    let residual = ((nh - quotient * dh) - two_prod_err_f32(quotient, dh)) + (nl - quotient * dl);
    let far = quotient + residual / dh;
    let far = if ax >= 9.0 { 1.0 } else { far };
    let far = if x < 0.0 { -far } else { far };
    let y = if ax < 0.55 { series } else { far };
    // |x| < 2^-12: x itself (this also keeps the sign of zero).
    let y = if ax < 0.00024414063 { x } else { y };
    if x.is_nan() { x + x } else { y }
}

/// e^a for a in [0.29, 22] as a sum of two doubles (high part, or the low one).
fn exp_pair_f64(a: f64, low: bool) -> f64 {
    let z = std::f64::consts::LOG2_E * a + 6755399441055744.0;
    let t = z - 6755399441055744.0;
    let k = (z.to_bits() as i64) - 0x4338_0000_0000_0000;
    let hi = a - t * 0.6931471803691238;
    let lo = t * 1.9082149292705877e-10;
    let r = hi - lo;
    let tt = r * r;
    let c = r - tt
        * (0.16666666666666602
            + tt * (-0.0027777777777015593
                + tt * (6.613756321437934e-5
                    + tt * (-1.6533902205465252e-6 + tt * 4.1381367970572385e-8))));
    let q = (r * c) / (2.0 - c) - lo;
    let ah = 1.0 + hi;
    let rest = two_sum_err_f64(1.0, hi) + q;
    let eh = ah + rest;
    let el = rest - (eh - ah);
    // Times 2^k, exactly (k in [0, 32]).
    let p = f64::from_bits(((0x3ff + k) as u64) << 52);
    if low { el * p } else { eh * p }
}

/// 1 / (eh + el) as a sum of two doubles (high or low part).
fn reciprocal_pair_f64(eh: f64, el: f64, low: bool) -> f64 {
    let ih = 1.0 / eh;
    let d = ((1.0 - eh * ih) - two_prod_err_f64(eh, ih)) - el * ih;
    if low { ih * d } else { ih }
}

/// (e^a + s e^-a) / 2 for a in [0.29, 22] and s = 1 or -1.
fn exp_pair_combination_f64(a: f64, s: f64) -> f64 {
    let eh = exp_pair_f64(a, false);
    let el = exp_pair_f64(a, true);
    let ih = reciprocal_pair_f64(eh, el, false);
    let il = reciprocal_pair_f64(eh, el, true);
    let sh = eh + s * ih;
    let sl = two_sum_err_f64(eh, s * ih) + (el + s * il);
    0.5 * (sh + sl)
}

/// The hyperbolic sine of `f64` `x`.
pub fn sinh_f64(x: f64) -> f64 {
    let ax = x.abs();
    // |x| < 1: the odd Taylor series to x^19 (the next term is below 2^-65 relative).
    let s = x * x;
    let series = x + x
        * s
        * (0.16666666666666666
            + s * (0.008333333333333333
                + s * (0.0001984126984126984
                    + s * (2.7557319223985893e-6
                        + s * (2.505210838544172e-8
                            + s * (1.6059043836821613e-10
                                + s * (7.647163731819816e-13
                                    + s * (2.8114572543455206e-15
                                        + s * 8.22063524662433e-18))))))));
    let pair = exp_pair_combination_f64(ax.clamp(0.29, 22.0), -1.0);
    let mid = if x < 0.0 { -pair } else { pair };
    let far = exp_scaled_f64(ax.min(711.0), -1);
    let far = if x < 0.0 { -far } else { far };
    let y = if ax < 22.0 { mid } else { far };
    let y = if ax < 1.0 { series } else { y };
    let y = if ax > 710.4755859375 {
        x * f64::INFINITY
    } else {
        y
    };
    if x.is_nan() { x + x } else { y }
}

/// The hyperbolic cosine of `f64` `x`.
pub fn cosh_f64(x: f64) -> f64 {
    let ax = x.abs();
    // |x| < 0.3466: 1 + t^2 / (2 (1 + t)) with t = e^|x| - 1.
    let t = exp_m1_f64(ax.min(0.35));
    let w = 1.0 + t;
    let near = 1.0 + (t * t) / (w + w);
    let mid = exp_pair_combination_f64(ax.clamp(0.29, 22.0), 1.0);
    let far = exp_scaled_f64(ax.min(711.0), -1);
    let y = if ax < 22.0 { mid } else { far };
    let y = if ax < f64::from_bits(0x3fd6_2e43_0000_0000) {
        near
    } else {
        y
    };
    let y = if ax > 710.4755859375 {
        f64::INFINITY
    } else {
        y
    };
    if x.is_nan() { x + x } else { y }
}

/// The hyperbolic tangent of `f64` `x`.
pub fn tanh_f64(x: f64) -> f64 {
    let ax = x.abs();
    // |x| < 0.3: the odd Taylor series to x^27 (each term under 0.04 of the one before), by
    // Horner's rule from the highest coefficient.
    let s = x * x;
    let p = -6.451689215655431e-6;
    let p = 1.5918905069328964e-5 + s * p;
    let p = -3.927832388331683e-5 + s * p;
    let p = 9.691537956929451e-5 + s * p;
    let p = -0.00023912911424355248 + s * p;
    let p = 0.000590027440945586 + s * p;
    let p = -0.0014558343870513183 + s * p;
    let p = 0.003592128036572481 + s * p;
    let p = -0.008863235529902197 + s * p;
    let p = 0.021869488536155203 + s * p;
    let p = -0.05396825396825397 + s * p;
    let p = 0.13333333333333333 + s * p;
    let p = -0.3333333333333333 + s * p;
    let series = x + x * s * p;
    let a = ax.clamp(0.29, 22.0);
    let eh = exp_pair_f64(a, false);
    let el = exp_pair_f64(a, true);
    let ih = reciprocal_pair_f64(eh, el, false);
    let il = reciprocal_pair_f64(eh, el, true);
    let nh = eh - ih;
    let nl = two_sum_err_f64(eh, -ih) + (el - il);
    let dh = eh + ih;
    let dl = two_sum_err_f64(eh, ih) + (el + il);
    let quotient = nh / dh;
    let residual = ((nh - quotient * dh) - two_prod_err_f64(quotient, dh)) + (nl - quotient * dl);
    let far = quotient + residual / dh;
    let far = if ax >= 22.0 { 1.0 } else { far };
    let far = if x < 0.0 { -far } else { far };
    let y = if ax < 0.3 { series } else { far };
    // |x| < 2^-28: x itself (this also keeps the sign of zero).
    let y = if ax < 3.725290298461914e-9 { x } else { y };
    if x.is_nan() { x + x } else { y }
}
