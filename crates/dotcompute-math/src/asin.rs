//! `asin` and `acos`: FreeBSD msun's `e_asin.c` / `e_acos.c` method, in the argument's own
//! type (msun's `f32` versions compute in `f64`, which not every device has). For |x| < 1/2
//! a rational approximation R(x^2) with asin(x) = x + x R(x^2); beyond, the half-angle
//! identity asin(x) = pi/2 - 2 asin(sqrt((1 - |x|) / 2)), where the square root s is carried
//! as a part f with its low half of bits cleared (so that f^2 is exact) plus the correction
//! (z - f^2) / (s + f). Both paths are computed and one is chosen (see the `exp` module).

/// R(z) = asin(sqrt z) / sqrt z - 1, as msun's rational approximation P(z) / Q(z) (`f32`).
fn asin_ratio_f32(z: f32) -> f32 {
    let p = 3.479331e-5;
    let p = 0.000791535 + z * p;
    let p = -0.040055536 + z * p;
    let p = 0.20121253 + z * p;
    let p = -0.32556581 + z * p;
    let p = 0.16666667 + z * p;
    let q = 0.077038154;
    let q = -0.688284 + z * q;
    let q = 2.0209458 + z * q;
    let q = -2.403395 + z * q;
    let q = 1.0 + z * q;
    z * p / q
}

/// R(z) (`f64`), msun's coefficients.
fn asin_ratio_f64(z: f64) -> f64 {
    let p = 3.479331075960212e-5;
    let p = 0.0007915349942898145 + z * p;
    let p = -0.04005553450067941 + z * p;
    let p = 0.20121253213486293 + z * p;
    let p = -0.3255658186224009 + z * p;
    let p = 0.16666666666666666 + z * p;
    let q = 0.07703815055590194;
    let q = -0.6882839716054533 + z * q;
    let q = 2.0209457602335057 + z * q;
    let q = -2.403394911734414 + z * q;
    let q = 1.0 + z * q;
    z * p / q
}

/// The arcsine of `f32` `x`, in [-pi/2, pi/2].
pub fn asin_f32(x: f32) -> f32 {
    let ax = x.abs();
    // pi/2 = PIO2_HI + PIO2_LO; PIO4_HI is half of PIO2_HI.
    let pio2_hi = f32::from_bits(0x3fc9_0fdb);
    let pio2_lo = -4.371139e-8;
    let pio4_hi = f32::from_bits(0x3f49_0fdb);
    // |x| < 1/2.
    let small = ax + ax * asin_ratio_f32(x * x);
    // |x| >= 1/2: z = (1 - |x|) / 2, s = sqrt(z).
    let z = (1.0 - ax) * 0.5;
    let r = asin_ratio_f32(z);
    let s = z.sqrt();
    // Near 1 the correction of s does not matter.
    let near_one = pio2_hi - (2.0 * (s + s * r) - pio2_lo);
    let f = f32::from_bits(s.to_bits() & 0xffff_f000);
    let c = (z - f * f) / (s + f);
    let p = 2.0 * s * r - (pio2_lo - 2.0 * c);
    let q = pio4_hi - 2.0 * f;
    let middle = pio4_hi - (p - q);
    let large = if ax >= 0.975 { near_one } else { middle };
    let v = if ax < 0.5 { small } else { large };
    let v = if x < 0.0 { -v } else { v };
    // |x| < 2^-12: x itself (subnormals and the sign of zero included); |x| = 1: +-pi/2;
    // |x| > 1 or NaN: NaN.
    let v = if ax < 0.00024414062 { x } else { v };
    let v = if ax == 1.0 {
        if x < 0.0 {
            -(pio2_hi + pio2_lo)
        } else {
            pio2_hi + pio2_lo
        }
    } else {
        v
    };
    if ax > 1.0 || x.is_nan() { f32::NAN } else { v }
}

/// The arcsine of `f64` `x` (as [`asin_f32`]).
pub fn asin_f64(x: f64) -> f64 {
    let ax = x.abs();
    let pio2_hi = std::f64::consts::FRAC_PI_2;
    let pio2_lo = 6.123233995736766e-17;
    let pio4_hi = std::f64::consts::FRAC_PI_4;
    let small = ax + ax * asin_ratio_f64(x * x);
    let z = (1.0 - ax) * 0.5;
    let r = asin_ratio_f64(z);
    let s = z.sqrt();
    let near_one = pio2_hi - (2.0 * (s + s * r) - pio2_lo);
    let f = f64::from_bits(s.to_bits() & 0xffff_ffff_0000_0000);
    let c = (z - f * f) / (s + f);
    let p = 2.0 * s * r - (pio2_lo - 2.0 * c);
    let q = pio4_hi - 2.0 * f;
    let middle = pio4_hi - (p - q);
    let large = if ax >= 0.975 { near_one } else { middle };
    let v = if ax < 0.5 { small } else { large };
    let v = if x < 0.0 { -v } else { v };
    let v = if ax < 1.4901161193847656e-8 { x } else { v };
    let v = if ax == 1.0 {
        if x < 0.0 {
            -(pio2_hi + pio2_lo)
        } else {
            pio2_hi + pio2_lo
        }
    } else {
        v
    };
    if ax > 1.0 || x.is_nan() { f64::NAN } else { v }
}

/// The arccosine of `f32` `x`, in [0, pi].
pub fn acos_f32(x: f32) -> f32 {
    let ax = x.abs();
    let pio2_hi = f32::from_bits(0x3fc9_0fda);
    let pio2_lo = 7.5497894e-8;
    let pi = f32::from_bits(0x4049_0fda);
    // |x| < 1/2: pi/2 - asin(x).
    let small = pio2_hi - (x - (pio2_lo - x * asin_ratio_f32(x * x)));
    // |x| >= 1/2: 2 asin(sqrt((1 - |x|) / 2)), from pi for negative x.
    let z = (1.0 - ax) * 0.5;
    let r = asin_ratio_f32(z);
    let s = z.sqrt();
    let negative = pi - 2.0 * (s + (r * s - pio2_lo));
    let f = f32::from_bits(s.to_bits() & 0xffff_f000);
    let c = (z - f * f) / (s + f);
    let positive = 2.0 * (f + (r * s + c));
    let large = if x < 0.0 { negative } else { positive };
    let v = if ax < 0.5 { small } else { large };
    // |x| < 2^-26: pi/2; x = 1: 0; x = -1: pi; |x| > 1 or NaN: NaN.
    let v = if ax < 1.4901161e-8 {
        pio2_hi + pio2_lo
    } else {
        v
    };
    let v = if x == 1.0 { 0.0 } else { v };
    let v = if x == -1.0 { pi + 2.0 * pio2_lo } else { v };
    if ax > 1.0 || x.is_nan() { f32::NAN } else { v }
}

/// The arccosine of `f64` `x` (as [`acos_f32`]).
pub fn acos_f64(x: f64) -> f64 {
    let ax = x.abs();
    let pio2_hi = std::f64::consts::FRAC_PI_2;
    let pio2_lo = 6.123233995736766e-17;
    let pi = std::f64::consts::PI;
    let small = pio2_hi - (x - (pio2_lo - x * asin_ratio_f64(x * x)));
    let z = (1.0 - ax) * 0.5;
    let r = asin_ratio_f64(z);
    let s = z.sqrt();
    let negative = pi - 2.0 * (s + (r * s - pio2_lo));
    let f = f64::from_bits(s.to_bits() & 0xffff_ffff_0000_0000);
    let c = (z - f * f) / (s + f);
    let positive = 2.0 * (f + (r * s + c));
    let large = if x < 0.0 { negative } else { positive };
    let v = if ax < 0.5 { small } else { large };
    let v = if ax < 6.938893903907228e-18 {
        pio2_hi + pio2_lo
    } else {
        v
    };
    let v = if x == 1.0 { 0.0 } else { v };
    let v = if x == -1.0 { pi + 2.0 * pio2_lo } else { v };
    if ax > 1.0 || x.is_nan() { f64::NAN } else { v }
}
