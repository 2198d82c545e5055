//! `exp` and `exp2` (f32 and f64): x = k ln2 + r with |r| <= ln(2)/2 (the high part of k ln2
//! exact, its last bits being zero), e^r by the rational approximation of FreeBSD msun's
//! `e_expf.c` / `e_exp.c`, then a scaling by 2^k in two steps that rounds once, also when the
//! result is subnormal. Maximum error below 1 ulp.
//!
//! Written in the kernel language, and without branches on the main path: every input takes
//! the same operations and the special cases are chosen at the end, so that a loop over
//! elements vectorises on the CPU. For the same reason k is rounded by adding 1.5 * 2^23
//! (2^52) and read from the sum's bits: a float-to-integer cast is not vectorised. Integer
//! arithmetic never overflows here (kernels wrap, native Rust checks), NaN is tested with
//! `is_nan`, and no expression relies on fused multiply-add.

/// e^(hi - lo) for |hi - lo| <= ln(2)/2 (plus a little), `hi - lo` the reduced argument given
/// as a sum so that its low bits survive: msun's `1 - ((lo - r*c/(2 - c)) - hi)`.
pub fn exp_kernel_f32(hi: f32, lo: f32) -> f32 {
    let r = hi - lo;
    let t = r * r;
    let c = r - t * (0.16666625 + t * -0.0027667333);
    1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
}

/// `y * 2^k` for `y` in [0.5, 2] and `k` in [-252, 254], by two exact powers of two: the
/// first product stays normal, so the second rounds once (also into the subnormals).
pub fn scale_f32(y: f32, k: i32) -> f32 {
    let k1 = k >> 1;
    let k2 = k - k1;
    y * f32::from_bits(((0x7f + k1) as u32) << 23) * f32::from_bits(((0x7f + k2) as u32) << 23)
}

/// e^x * 2^j for `f32` x in [-104, 90] and small j, without special cases: the core of
/// `exp`, also used to compute e^x / 2 beyond e^x's overflow (`sinh`, `cosh`).
pub fn exp_scaled_f32(x: f32, j: i32) -> f32 {
    // k = x / ln2 rounded to nearest, as a float and as the low bits of the sum.
    let z = std::f32::consts::LOG2_E * x + 12582912.0;
    let t = z - 12582912.0;
    let k = (z.to_bits() as i32) - 0x4b40_0000;
    // t * ln2hi is exact: ln2hi ends in 8 zero bits and |k| <= 151.
    let hi = x - t * 0.69314575;
    let lo = t * 1.4286068e-6;
    scale_f32(exp_kernel_f32(hi, lo), k + j)
}

/// e^x for `f32`.
pub fn exp_f32(x: f32) -> f32 {
    // Beyond the clamps the result is 0 or infinity, for NaN it is NaN (chosen below).
    let y = exp_scaled_f32(x.clamp(-104.0, 89.0), 0);
    // |x| < 2^-13: 1 + x (within an ulp of e^x there).
    let y = if (x.to_bits() & 0x7fff_ffff) < 0x3900_0000 {
        1.0 + x
    } else {
        y
    };
    // Above ln(f32::MAX) (88.72284, 0x42b17218): overflow.
    let y = if x > f32::from_bits(0x42b1_7217) {
        f32::INFINITY
    } else {
        y
    };
    let y = if x < -103.972084 { 0.0 } else { y };
    if x.is_nan() { x + x } else { y }
}

/// 2^x for `f32`.
pub fn exp2_f32(x: f32) -> f32 {
    let xc = x.clamp(-151.0, 129.0);
    let z = xc + 12582912.0;
    let kf = z - 12582912.0;
    let k = (z.to_bits() as i32) - 0x4b40_0000;
    // Exact: xc and kf are within 0.5 of each other.
    let r = xc - kf;
    // r ln2 as hi - lo: r's high 12 bits times ln2's high 12 bits is exact.
    let r_hi = f32::from_bits(r.to_bits() & 0xffff_f000);
    let r_lo = r - r_hi;
    let hi = r_hi * 0.69311523;
    let lo = -(r_hi * 3.1946185e-5 + r_lo * std::f32::consts::LN_2);
    let y = scale_f32(exp_kernel_f32(hi, lo), k);
    let y = if x >= 128.0 { f32::INFINITY } else { y };
    // 2^-150 is half the smallest subnormal: it and everything below round to 0.
    let y = if x <= -150.0 { 0.0 } else { y };
    if x.is_nan() { x + x } else { y }
}

/// e^(hi - lo) for |hi - lo| <= ln(2)/2 (plus a little): msun's `e_exp.c` approximation.
pub fn exp_kernel_f64(hi: f64, lo: f64) -> f64 {
    let r = hi - lo;
    let t = r * r;
    let c = r - t
        * (0.16666666666666602
            + t * (-0.0027777777777015593
                + t * (6.613756321437934e-5
                    + t * (-1.6533902205465252e-6 + t * 4.1381367970572385e-8))));
    1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
}

/// `y * 2^k` for `y` in [0.5, 2] and `k` in [-2044, 2046], rounding once.
pub fn scale_f64(y: f64, k: i64) -> f64 {
    let k1 = k >> 1;
    let k2 = k - k1;
    y * f64::from_bits(((0x3ff + k1) as u64) << 52) * f64::from_bits(((0x3ff + k2) as u64) << 52)
}

/// e^x * 2^j for `f64` x in [-746, 711] and small j, without special cases.
pub fn exp_scaled_f64(x: f64, j: i64) -> f64 {
    let z = std::f64::consts::LOG2_E * x + 6755399441055744.0;
    let t = z - 6755399441055744.0;
    let k = (z.to_bits() as i64) - 0x4338_0000_0000_0000;
    // t * ln2HI is exact: ln2HI ends in 21 zero bits and |k| <= 1077.
    let hi = x - t * 0.6931471803691238;
    let lo = t * 1.9082149292705877e-10;
    scale_f64(exp_kernel_f64(hi, lo), k + j)
}

/// e^x for `f64`.
pub fn exp_f64(x: f64) -> f64 {
    let y = exp_scaled_f64(x.clamp(-746.0, 710.0), 0);
    // |x| < 2^-27: 1 + x (within an ulp of e^x there).
    let y = if (x.to_bits() >> 32) & 0x7fff_ffff < 0x3e30_0000 {
        1.0 + x
    } else {
        y
    };
    let y = if x > 709.782712893384 {
        f64::INFINITY
    } else {
        y
    };
    let y = if x < -745.1332191019411 { 0.0 } else { y };
    if x.is_nan() { x + x } else { y }
}

/// 2^x for `f64`.
pub fn exp2_f64(x: f64) -> f64 {
    let xc = x.clamp(-1076.0, 1025.0);
    let z = xc + 6755399441055744.0;
    let kf = z - 6755399441055744.0;
    let k = (z.to_bits() as i64) - 0x4338_0000_0000_0000;
    let r = xc - kf;
    // r ln2 as hi - lo: r's high 26 bits times ln2's high 26 bits is exact.
    let r_hi = f64::from_bits(r.to_bits() & 0xffff_ffff_f800_0000);
    let r_lo = r - r_hi;
    let hi = r_hi * 0.6931471675634384;
    let lo = -(r_hi * 1.2996506893889889e-8 + r_lo * std::f64::consts::LN_2);
    let y = scale_f64(exp_kernel_f64(hi, lo), k);
    let y = if x >= 1024.0 { f64::INFINITY } else { y };
    let y = if x <= -1075.0 { 0.0 } else { y };
    if x.is_nan() { x + x } else { y }
}
