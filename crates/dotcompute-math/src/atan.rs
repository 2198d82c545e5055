//! `atan` (f32): FreeBSD msun's `s_atanf.c` method. |x| is mapped into [-7/16, 7/16] by one
//! of four identities atan(x) = atan(c) + atan((x - c) / (1 + c x)) (c = 1/2, 1, 3/2, or
//! infinity), then an odd polynomial; atan(c) is added as two parts. Written without
//! branches on the main path: the interval's constants and the reduction's numerator and
//! denominator are selected, then one division (see the `exp` module).

/// The arctangent of `f32` `x`.
pub fn atan_f32(x: f32) -> f32 {
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
    let reduced = hi - ((r * (s1 + s2) - lo) - r);
    let reduced = if x < 0.0 { -reduced } else { reduced };
    let y = if near { x - x * (s1 + s2) } else { reduced };
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

/// The arctangent of `f64` `x` (msun's `s_atan.c` method, as [`atan_f32`]).
pub fn atan_f64(x: f64) -> f64 {
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
    let reduced = hi - ((r * (s1 + s2) - lo) - r);
    let reduced = if x < 0.0 { -reduced } else { reduced };
    let y = if near { x - x * (s1 + s2) } else { reduced };
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
