//! `ln`, `log2` and `log10` (f32 and f64): x = 2^k (1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)),
//! then log(1 + f) from s = f / (2 + f) and the polynomials of FreeBSD msun's `e_logf.c` /
//! `e_log.c` / `k_log.h`. For `log2` and `log10` the high part of f is split off by masking
//! its low bits, so that its products with the split constants are exact (msun's
//! `e_log2.c` / `e_log10.c`). Maximum error below 1 ulp.
//!
//! Written in the kernel language (see the `exp` module).

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

/// The natural logarithm of `f32` `x`.
pub fn ln_f32(x: f32) -> f32 {
    let mut x = x;
    let mut ix = x.to_bits() as i32;
    let mut k: i32 = 0;
    if ix < 0x0080_0000 {
        // Zero, negative or subnormal.
        if ix & 0x7fff_ffff == 0 {
            return f32::NEG_INFINITY;
        }
        if ix < 0 {
            return f32::NAN;
        }
        k = -25;
        x *= 33554432.0;
        ix = x.to_bits() as i32;
    }
    if ix >= 0x7f80_0000 {
        // +inf, NaN.
        return x + x;
    }
    k += (ix >> 23) - 127;
    ix &= 0x007f_ffff;
    // Normalise the mantissa to [sqrt(2)/2, sqrt(2)), moving a factor 2 into k.
    let i = (ix + 0x004a_fb20) & 0x0080_0000;
    x = f32::from_bits((ix | (i ^ 0x3f80_0000)) as u32);
    k += i >> 23;
    let f = x - 1.0;
    let dk = k as f32;
    if (0x007f_ffff & (0x8000 + ix)) < 0xc000 {
        // -2^-9 <= f < 2^-9.
        if f == 0.0 {
            if k == 0 {
                return 0.0;
            }
            return dk * 0.6931381 + dk * 9.058001e-6;
        }
        let r = f * f * (0.5 - 0.33333334 * f);
        if k == 0 {
            return f - r;
        }
        return dk * 0.6931381 - ((r - dk * 9.058001e-6) - f);
    }
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (0.40000972 + w * 0.24279079);
    let t2 = z * (0.6666666 + w * 0.28498787);
    let r = t2 + t1;
    if ((ix - 0x0030_a3d0) | (0x0035_c288 - ix)) > 0 {
        let hfsq = 0.5 * f * f;
        if k == 0 {
            return f - (hfsq - s * (hfsq + r));
        }
        return dk * 0.6931381 - ((hfsq - (s * (hfsq + r) + dk * 9.058001e-6)) - f);
    }
    if k == 0 {
        return f - s * (f - r);
    }
    dk * 0.6931381 - ((s * (f - r) - dk * 9.058001e-6) - f)
}

/// x = 2^k (1 + f) for positive normal or subnormal `f32` `x`: (k, f) with 1 + f in
/// [sqrt(2)/2, sqrt(2)). (Callers handle zero, negative, infinite and NaN inputs.)
fn log_reduce_f32_k(x: f32) -> i32 {
    let mut ix = x.to_bits() as i32;
    let mut k: i32 = 0;
    if ix < 0x0080_0000 {
        k = -25;
        ix = (x * 33554432.0).to_bits() as i32;
    }
    k += (ix >> 23) - 127;
    let m = ix & 0x007f_ffff;
    k + (((m + 0x004a_fb0d) & 0x0080_0000) >> 23)
}

/// The `f` of [`log_reduce_f32_k`].
fn log_reduce_f32_f(x: f32) -> f32 {
    let mut ix = x.to_bits() as i32;
    if ix < 0x0080_0000 {
        ix = (x * 33554432.0).to_bits() as i32;
    }
    let m = ix & 0x007f_ffff;
    let i = (m + 0x004a_fb0d) & 0x0080_0000;
    f32::from_bits((m | (i ^ 0x3f80_0000)) as u32) - 1.0
}

/// The special cases of `log2` and `log10` (`f32`): zero, negative, infinite and NaN inputs.
fn log_special_f32(x: f32) -> f32 {
    if x.is_nan() || x == f32::INFINITY {
        return x + x;
    }
    if x == 0.0 {
        return f32::NEG_INFINITY;
    }
    f32::NAN
}

/// The base-2 logarithm of `f32` `x`.
pub fn log2_f32(x: f32) -> f32 {
    if x.is_nan() || x <= 0.0 || x == f32::INFINITY {
        return log_special_f32(x);
    }
    if x == 1.0 {
        return 0.0;
    }
    let y = log_reduce_f32_k(x) as f32;
    let f = log_reduce_f32_f(x);
    let hfsq = 0.5 * f * f;
    let r = log1p_tail_f32(f);
    let hi = f32::from_bits((f - hfsq).to_bits() & 0xffff_f000);
    let lo = (f - hi) - hfsq + r;
    (lo + hi) * -0.00017605285 + lo * 1.4428711 + hi * 1.4428711 + y
}

/// The base-10 logarithm of `f32` `x`.
pub fn log10_f32(x: f32) -> f32 {
    if x.is_nan() || x <= 0.0 || x == f32::INFINITY {
        return log_special_f32(x);
    }
    if x == 1.0 {
        return 0.0;
    }
    let y = log_reduce_f32_k(x) as f32;
    let f = log_reduce_f32_f(x);
    let hfsq = 0.5 * f * f;
    let r = log1p_tail_f32(f);
    let hi = f32::from_bits((f - hfsq).to_bits() & 0xffff_f000);
    let lo = (f - hi) - hfsq + r;
    y * 7.903415e-7 + (lo + hi) * -3.168997e-5 + lo * 0.43432617 + hi * 0.43432617 + y * 0.3010292
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

/// The natural logarithm of `f64` `x`.
pub fn ln_f64(x: f64) -> f64 {
    let mut x = x;
    let mut hx = (x.to_bits() >> 32) as i32;
    let mut k: i32 = 0;
    if hx < 0x0010_0000 {
        // Zero, negative or subnormal.
        if x == 0.0 {
            return f64::NEG_INFINITY;
        }
        if hx < 0 {
            return f64::NAN;
        }
        k = -54;
        x *= 1.8014398509481984e16;
        hx = (x.to_bits() >> 32) as i32;
    }
    if hx >= 0x7ff0_0000 {
        return x + x;
    }
    k += (hx >> 20) - 1023;
    hx &= 0x000f_ffff;
    let i = (hx + 0x0009_5f64) & 0x0010_0000;
    // Replace the high word, keep the low one.
    x = f64::from_bits(
        (((hx | (i ^ 0x3ff0_0000)) as u32 as u64) << 32) | (x.to_bits() & 0xffff_ffff),
    );
    k += i >> 20;
    let f = x - 1.0;
    let dk = k as f64;
    if (0x000f_ffff & (2 + hx)) < 3 {
        // -2^-20 <= f < 2^-20.
        if f == 0.0 {
            if k == 0 {
                return 0.0;
            }
            return dk * 0.6931471803691238 + dk * 1.9082149292705877e-10;
        }
        let r = f * f * (0.5 - 0.3333333333333333 * f);
        if k == 0 {
            return f - r;
        }
        return dk * 0.6931471803691238 - ((r - dk * 1.9082149292705877e-10) - f);
    }
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (0.3999999999940942 + w * (0.22222198432149784 + w * 0.15313837699209373));
    let t2 = z
        * (0.6666666666666735
            + w * (0.2857142874366239 + w * (0.1818357216161805 + w * 0.14798198605116586)));
    let r = t2 + t1;
    if ((hx - 0x0006_147a) | (0x0006_b851 - hx)) > 0 {
        let hfsq = 0.5 * f * f;
        if k == 0 {
            return f - (hfsq - s * (hfsq + r));
        }
        return dk * 0.6931471803691238
            - ((hfsq - (s * (hfsq + r) + dk * 1.9082149292705877e-10)) - f);
    }
    if k == 0 {
        return f - s * (f - r);
    }
    dk * 0.6931471803691238 - ((s * (f - r) - dk * 1.9082149292705877e-10) - f)
}

/// x = 2^k (1 + f) for positive `f64` `x` (normal or subnormal): k.
fn log_reduce_f64_k(x: f64) -> i32 {
    let mut hx = (x.to_bits() >> 32) as i32;
    let mut k: i32 = 0;
    if hx < 0x0010_0000 {
        k = -54;
        hx = ((x * 1.8014398509481984e16).to_bits() >> 32) as i32;
    }
    k += (hx >> 20) - 1023;
    let m = hx & 0x000f_ffff;
    k + (((m + 0x0009_5f64) & 0x0010_0000) >> 20)
}

/// The `f` of [`log_reduce_f64_k`].
fn log_reduce_f64_f(x: f64) -> f64 {
    let mut bits = x.to_bits();
    if (bits >> 32) < 0x0010_0000 {
        bits = (x * 1.8014398509481984e16).to_bits();
    }
    let m = ((bits >> 32) as i32) & 0x000f_ffff;
    let i = (m + 0x0009_5f64) & 0x0010_0000;
    f64::from_bits((((m | (i ^ 0x3ff0_0000)) as u32 as u64) << 32) | (bits & 0xffff_ffff)) - 1.0
}

/// The special cases of `log2` and `log10` (`f64`): zero, negative, infinite and NaN inputs.
fn log_special_f64(x: f64) -> f64 {
    if x.is_nan() || x == f64::INFINITY {
        return x + x;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    f64::NAN
}

/// The base-2 logarithm of `f64` `x`.
pub fn log2_f64(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 || x == f64::INFINITY {
        return log_special_f64(x);
    }
    if x == 1.0 {
        return 0.0;
    }
    let y = log_reduce_f64_k(x) as f64;
    let f = log_reduce_f64_f(x);
    let hfsq = 0.5 * f * f;
    let r = log1p_tail_f64(f);
    // hi: f - hfsq with its low 32 bits cleared.
    let hi = f64::from_bits((f - hfsq).to_bits() & 0xffff_ffff_0000_0000);
    let lo = (f - hi) - hfsq + r;
    let val_hi = hi * 1.4426950407214463;
    let val_lo = (lo + hi) * 1.6751713164886512e-10 + lo * 1.4426950407214463;
    let w = y + val_hi;
    (val_lo + ((y - w) + val_hi)) + w
}

/// The base-10 logarithm of `f64` `x`.
pub fn log10_f64(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 || x == f64::INFINITY {
        return log_special_f64(x);
    }
    if x == 1.0 {
        return 0.0;
    }
    let y = log_reduce_f64_k(x) as f64;
    let f = log_reduce_f64_f(x);
    let hfsq = 0.5 * f * f;
    let r = log1p_tail_f64(f);
    let hi = f64::from_bits((f - hfsq).to_bits() & 0xffff_ffff_0000_0000);
    let lo = (f - hi) - hfsq + r;
    let val_hi = hi * 0.4342944818781689;
    let y2 = y * 0.30102999566361177;
    let val_lo =
        y * 3.694239077158931e-13 + (lo + hi) * 2.5082946711645275e-11 + lo * 0.4342944818781689;
    let w = y2 + val_hi;
    (val_lo + ((y2 - w) + val_hi)) + w
}
