//! `exp` and `exp2` (f32 and f64): argument reduction by multiples of ln 2 (exact for the
//! high part, whose last bits are zero), then the rational approximation of FreeBSD msun's
//! `e_expf.c` / `e_exp.c` on |r| <= ln(2)/2, then a scaling by 2^k that keeps subnormal
//! results to one rounding. Maximum error below 1 ulp.
//!
//! Written in the kernel language: integer arithmetic never overflows here (kernels wrap,
//! native Rust checks), NaN is tested with `is_nan`, and no expression relies on fused
//! multiply-add.

/// e^(hi - lo) for |hi - lo| <= ln(2)/2 (plus a little), `hi - lo` the reduced argument given
/// as a sum so that its low bits survive: msun's `1 - ((lo - r*c/(2 - c)) - hi)`.
pub fn exp_kernel_f32(hi: f32, lo: f32) -> f32 {
    let r = hi - lo;
    let t = r * r;
    let c = r - t * (0.16666625 + t * -0.0027667333);
    1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
}

/// `y * 2^k` for `y` in [0.5, 2] and `k` in [-151, 128], with one rounding also when the
/// result is subnormal.
pub fn scale_f32(y: f32, k: i32) -> f32 {
    if k >= -125 {
        if k == 128 {
            return y * 2.0 * 1.7014118e38;
        }
        return y * f32::from_bits(((0x7f + k) as u32) << 23);
    }
    y * f32::from_bits(((0x7f + k + 100) as u32) << 23) * 7.888609e-31
}

/// e^x for `f32`.
pub fn exp_f32(x: f32) -> f32 {
    let hx = x.to_bits();
    let negative = hx >> 31 != 0;
    let ax = hx & 0x7fff_ffff;
    if ax >= 0x42b1_7218 {
        // |x| >= 88.72284: overflow, underflow, infinities and NaN.
        if x.is_nan() {
            return x + x;
        }
        if !negative {
            return f32::INFINITY;
        }
        if x < -103.972084 {
            return 0.0;
        }
    }
    if ax > 0x3eb1_7218 {
        // |x| > ln(2)/2: x = k ln2 + r.
        let mut k = 1;
        let mut hi = x - 0.69314575;
        let mut lo = 1.4286068e-6;
        if negative {
            k = -1;
            hi = x + 0.69314575;
            lo = -1.4286068e-6;
        }
        if ax >= 0x3f85_1592 {
            // |x| >= 1.5 ln 2: k = x/ln2 rounded half away from zero (by truncation).
            let half = if negative { -0.5 } else { 0.5 };
            k = (std::f32::consts::LOG2_E * x + half) as i32;
            let t = k as f32;
            // t * ln2hi is exact: ln2hi ends in 8 zero bits and |k| < 256.
            hi = x - t * 0.69314575;
            lo = t * 1.4286068e-6;
        }
        return scale_f32(exp_kernel_f32(hi, lo), k);
    }
    if ax < 0x3900_0000 {
        // |x| < 2^-14: e^x rounds to 1 + x.
        return 1.0 + x;
    }
    exp_kernel_f32(x, 0.0)
}

/// 2^x for `f32`.
pub fn exp2_f32(x: f32) -> f32 {
    if x.is_nan() {
        return x + x;
    }
    if x >= 128.0 {
        return f32::INFINITY;
    }
    if x <= -150.0 {
        // 2^-150 is half the smallest subnormal: it and everything below round to 0.
        return 0.0;
    }
    let k = x.round();
    // Exact: x and k are within 0.5 of each other.
    let r = x - k;
    // r ln2 as hi - lo: r's high 12 bits times ln2's high 12 bits is exact.
    let r_hi = f32::from_bits(r.to_bits() & 0xffff_f000);
    let r_lo = r - r_hi;
    let hi = r_hi * 0.69311523;
    let lo = -(r_hi * 3.1946185e-5 + r_lo * std::f32::consts::LN_2);
    scale_f32(exp_kernel_f32(hi, lo), k as i32)
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

/// `y * 2^k` for `y` in [0.5, 2] and `k` in [-1076, 1024], with one rounding also when the
/// result is subnormal.
pub fn scale_f64(y: f64, k: i64) -> f64 {
    if k >= -1021 {
        if k == 1024 {
            return y * 2.0 * 8.98846567431158e307;
        }
        return y * f64::from_bits(((0x3ff + k) as u64) << 52);
    }
    y * f64::from_bits(((0x3ff + k + 1000) as u64) << 52) * 9.332636185032189e-302
}

/// e^x for `f64`.
pub fn exp_f64(x: f64) -> f64 {
    let hx = x.to_bits();
    let negative = hx >> 63 != 0;
    let ax = (hx >> 32) & 0x7fff_ffff;
    if ax >= 0x4086_2e42 {
        // |x| >= 709.78: overflow, underflow, infinities and NaN.
        if x.is_nan() {
            return x + x;
        }
        if x > 709.782712893384 {
            return f64::INFINITY;
        }
        if x < -745.1332191019411 {
            return 0.0;
        }
    }
    if ax > 0x3fd6_2e42 {
        // |x| > ln(2)/2.
        let mut k: i64 = 1;
        let mut hi = x - 0.6931471803691238;
        let mut lo = 1.9082149292705877e-10;
        if negative {
            k = -1;
            hi = x + 0.6931471803691238;
            lo = -1.9082149292705877e-10;
        }
        if ax >= 0x3ff0_a2b2 {
            // |x| >= 1.5 ln 2.
            let half = if negative { -0.5 } else { 0.5 };
            k = (std::f64::consts::LOG2_E * x + half) as i64;
            let t = k as f64;
            // t * ln2HI is exact: ln2HI ends in 21 zero bits and |k| < 2048.
            hi = x - t * 0.6931471803691238;
            lo = t * 1.9082149292705877e-10;
        }
        return scale_f64(exp_kernel_f64(hi, lo), k);
    }
    if ax < 0x3e30_0000 {
        // |x| < 2^-28: e^x rounds to 1 + x.
        return 1.0 + x;
    }
    exp_kernel_f64(x, 0.0)
}

/// 2^x for `f64`.
pub fn exp2_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x + x;
    }
    if x >= 1024.0 {
        return f64::INFINITY;
    }
    if x <= -1075.0 {
        return 0.0;
    }
    let k = x.round();
    let r = x - k;
    // r ln2 as hi - lo: r's high 26 bits times ln2's high 26 bits is exact.
    let r_hi = f64::from_bits(r.to_bits() & 0xffff_ffff_f800_0000);
    let r_lo = r - r_hi;
    let hi = r_hi * 0.6931471675634384;
    let lo = -(r_hi * 1.2996506893889889e-8 + r_lo * std::f64::consts::LN_2);
    scale_f64(exp_kernel_f64(hi, lo), k as i64)
}
