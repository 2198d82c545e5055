//! `powf`: FreeBSD msun's `e_powf.c` / `e_pow.c` method, in the arguments' own type.
//! log2|x| is computed as t1 + t2 (t1 with its low bits cleared, so that products with it
//! are exact) from s = (x - b) / (x + b), b = 1 or 1.5, and a polynomial in s^2, or from a
//! series when |y| is so large that only x near 1 gives a finite result; y log2|x| is formed
//! as p_h + p_l with y split the same way; 2^(p_h + p_l) is 2^n times a rational
//! approximation of e^r. Every path is computed and one is chosen (see the `exp` module);
//! the special cases of C99 Annex F are selected last. Shifts whose amounts come from
//! values a lane does not use are clamped, so that no lane's garbage can fault.

/// `x` with the low bits of its representation cleared (`mask` keeps the others).
fn clear_low_f32(x: f32, mask: u32) -> f32 {
    f32::from_bits(x.to_bits() & mask)
}

/// `x` with the low 32 bits of its representation cleared.
fn clear_low_f64(x: f64) -> f64 {
    f64::from_bits(x.to_bits() & 0xffff_ffff_0000_0000)
}

/// `f32` `x` raised to the power `y` (C's `powf`).
pub fn powf_f32(x: f32, y: f32) -> f32 {
    let hx = x.to_bits();
    let hy = y.to_bits();
    let ix = hx & 0x7fff_ffff;
    let iy = hy & 0x7fff_ffff;
    let ax = x.abs();
    let y_integer = y.trunc() == y;
    let y_odd = y_integer && (0.5 * y).trunc() != 0.5 * y;
    let sn = if x < 0.0 && y_odd { -1.0 } else { 1.0 };

    // log2|x| = t1 + t2 for |y| > 2^27 (x within 2^-20 of 1, else the result over- or
    // underflows): the series of ln(1 + t) times 1/ln 2.
    let t = ax - 1.0;
    let w = (t * t) * (0.5 - t * (0.33333334 - t * 0.25));
    let u = f32::from_bits(0x3fb8_aa00) * t;
    let v = t * 7.0526075e-6 - w * std::f32::consts::LOG2_E;
    let t1_near = clear_low_f32(u + v, 0xffff_f000);
    let t2_near = v - (t1_near - u);

    // log2|x| = t1 + t2 in general: |x| = 2^n m, m in [sqrt(2)/2, sqrt(3)) around b.
    let subnormal = ix < 0x0080_0000;
    let axs = if subnormal { ax * 16777216.0 } else { ax };
    let bits = axs.to_bits();
    let shift = if subnormal { 24 } else { 0 };
    let n = (bits >> 23) as i32 - 127 - shift;
    let j = bits & 0x007f_ffff;
    let interval = if j <= 0x001c_c471 {
        0
    } else if j < 0x005d_b3d7 {
        1
    } else {
        2
    };
    // Above sqrt(3): m / 2 with b = 1.
    let n = if interval == 2 { n + 1 } else { n };
    let im = if interval == 2 {
        (j | 0x3f80_0000) - 0x0080_0000
    } else {
        j | 0x3f80_0000
    };
    let k = if interval == 1 { 1u32 } else { 0u32 };
    let m = f32::from_bits(im);
    let b = if k == 1 { 1.5 } else { 1.0 };
    // log2(1.5) = dp_h + dp_l, dp_h with 12 significant bits.
    let dp_h = if k == 1 {
        f32::from_bits(0x3f15_c000)
    } else {
        0.0
    };
    let dp_l = if k == 1 { 1.5632208e-6 } else { 0.0 };
    let u = m - b;
    let v = 1.0 / (m + b);
    let s = u * v;
    let s_h = clear_low_f32(s, 0xffff_f000);
    // t_h: m + b with its low bits cleared.
    let t_h = f32::from_bits((((im >> 1) & 0xffff_f000) | 0x2000_0000) + 0x0040_0000 + (k << 21));
    let t_l = m - (t_h - b);
    let s_l = v * ((u - s_h * t_h) - s_h * t_l);
    let s2 = s * s;
    let p = 0.20697501;
    let p = 0.23066075 + s2 * p;
    let p = 0.27272812 + s2 * p;
    let p = 0.33333334 + s2 * p;
    let p = 0.42857143 + s2 * p;
    let p = 0.6 + s2 * p;
    let r = s2 * s2 * p + s_l * (s_h + s);
    let s2 = s_h * s_h;
    let t_h = clear_low_f32(3.0 + s2 + r, 0xffff_f000);
    let t_l = r - ((t_h - 3.0) - s2);
    let u = s_h * t_h;
    let v = s_l * t_h + t_l * s;
    let p_h = clear_low_f32(u + v, 0xffff_f000);
    let p_l = v - (p_h - u);
    // 2 / (3 ln 2) = 0.9619140625 - 1.1736857e-4 = 0.9617967.
    let z_h = f32::from_bits(0x3f76_4000) * p_h;
    let z_l = -1.1736857e-4 * p_h + p_l * 0.9617967 + dp_l;
    let nf = n as f32;
    let t1 = clear_low_f32(((z_h + z_l) + dp_h) + nf, 0xffff_f000);
    let t2 = z_l - (((t1 - nf) - dp_h) - z_h);

    let huge_y = iy > 0x4d00_0000;
    let t1 = if huge_y { t1_near } else { t1 };
    let t2 = if huge_y { t2_near } else { t2 };

    // y log2|x| = p_h + p_l.
    let y1 = clear_low_f32(y, 0xffff_f000);
    let p_l = (y - y1) * t1 + y * t2;
    let p_h = y1 * t1;
    let z = p_l + p_h;
    // Over- and underflow, decided on the unrounded sum at the edges (0x1.0p-25 is
    // 128 - log2 of the largest float plus half an ulp).
    let overflow = z > 128.0 || (z == 128.0 && p_l + 4.2995666e-8 > z - p_h);
    let underflow = z < -150.0 || (z == -150.0 && p_l <= z - p_h);

    // 2^z: n = z rounded to an integer (for |z| > 1/2), taken out of p_h exactly.
    let jz = z.to_bits();
    let iz = jz & 0x7fff_ffff;
    let kz = ((iz >> 23) as i32 - 127).clamp(-1, 30);
    let nz = jz.wrapping_add(0x0080_0000 >> ((kz + 1) as u32));
    let k2 = (((nz & 0x7fff_ffff) >> 23) as i32 - 127).clamp(0, 23) as u32;
    let t = f32::from_bits(nz & !(0x007f_ffff >> k2));
    let n_abs = (((nz & 0x007f_ffff) | 0x0080_0000) >> (23 - k2)) as i32;
    let n_signed = if (jz >> 31) == 1 { -n_abs } else { n_abs };
    let large_z = iz > 0x3f00_0000;
    let n = if large_z { n_signed } else { 0 };
    let p_h = if large_z { p_h - t } else { p_h };
    let t = clear_low_f32(p_l + p_h, 0xffff_8000);
    // ln 2 = 0.69314575 + 1.4286065e-6 (the first with 16 significant bits).
    let u = t * f32::from_bits(0x3f31_7200);
    let v = (p_l - (t - p_h)) * std::f32::consts::LN_2 + t * 1.4286065e-6;
    let z = u + v;
    let w = v - (z - u);
    let t = z * z;
    let c = -1.6533902e-6 + t * 4.138137e-8;
    let c = 6.613756e-5 + t * c;
    let c = -2.7777778e-3 + t * c;
    let c = 0.16666667 + t * c;
    let t1 = z - t * c;
    let r = (z * t1) / (t1 - 2.0) - (w + z * w);
    let z = 1.0 - (r - z);
    // z 2^n: by the exponent field, or in two steps when the result is subnormal.
    let e = (z.to_bits() >> 23) as i32 + n;
    let normal = f32::from_bits(z.to_bits().wrapping_add((n as u32) << 23));
    let e_small = (n + 64 + 127).clamp(1, 254) as u32;
    let tiny = z * f32::from_bits(e_small << 23) * f32::from_bits(0x1f80_0000);
    let v = if e <= 0 { tiny } else { normal };
    let v = if overflow {
        f32::INFINITY
    } else if underflow {
        0.0
    } else {
        v
    };
    // |y| > 2^27 with x not near 1: over- or underflow at once. (Below 1 - 12 2^-24 the
    // result is below 2^-150 for every such y; 1 - 11 2^-24 ... still needs the series.)
    let big = (ix < 0x3f7f_fff4 && y < 0.0) || (ix > 0x3f80_0007 && y > 0.0);
    let small = (ix < 0x3f7f_fff4 && y > 0.0) || (ix > 0x3f80_0007 && y < 0.0);
    let v = if huge_y && big { f32::INFINITY } else { v };
    let v = if huge_y && small { 0.0 } else { v };
    let v = sn * v;

    // Special cases, the later ones first in C99's order.
    // x negative and y not an integer: NaN.
    let v = if x < 0.0 && !y_integer { f32::NAN } else { v };
    // x = +-0, +-inf or +-1: |x| or 1 / |x|, negated for negative x and odd y.
    let z = if y < 0.0 { 1.0 / ax } else { ax };
    let z = if x.to_bits() >> 31 == 1 && y_odd {
        -z
    } else {
        z
    };
    let z = if x == -1.0 && !y_integer { f32::NAN } else { z };
    let v = if ix == 0x7f80_0000 || ix == 0 || ix == 0x3f80_0000 {
        z
    } else {
        v
    };
    let v = if y == 0.5 && hx < 0x8000_0000 {
        x.sqrt()
    } else {
        v
    };
    let v = if y == 2.0 { x * x } else { v };
    let v = if y == 1.0 { x } else { v };
    let v = if y == -1.0 { 1.0 / x } else { v };
    // y = +-inf: 1 for |x| = 1, else inf or 0 as |x| and y's sign say.
    let inf_y = if ax == 1.0 {
        1.0
    } else if (ax > 1.0) == (y > 0.0) {
        f32::INFINITY
    } else {
        0.0
    };
    let v = if iy == 0x7f80_0000 { inf_y } else { v };
    let v = if x.is_nan() || y.is_nan() { x + y } else { v };
    // x = 1 or y = 0: 1, even with a NaN.
    if x == 1.0 || y == 0.0 { 1.0 } else { v }
}

/// `f64` `x` raised to the power `y` (as [`powf_f32`], msun's `e_pow.c` constants).
pub fn powf_f64(x: f64, y: f64) -> f64 {
    let hx = x.to_bits();
    let ix = (hx >> 32) as u32 & 0x7fff_ffff;
    let iy = (y.to_bits() >> 32) as u32 & 0x7fff_ffff;
    let ax = x.abs();
    let y_integer = y.trunc() == y;
    let y_odd = y_integer && (0.5 * y).trunc() != 0.5 * y;
    let sn = if x < 0.0 && y_odd { -1.0 } else { 1.0 };

    // log2|x| = t1 + t2 for |y| > 2^31 (x within 2^-20 of 1).
    let t = ax - 1.0;
    let w = (t * t) * (0.5 - t * (0.3333333333333333 - t * 0.25));
    let u = f64::from_bits(0x3ff7_1547_6000_0000) * t;
    let v = t * 1.9259629911266175e-8 - w * std::f64::consts::LOG2_E;
    let t1_near = clear_low_f64(u + v);
    let t2_near = v - (t1_near - u);

    // log2|x| = t1 + t2 in general.
    let subnormal = ix < 0x0010_0000;
    let axs = if subnormal {
        ax * 9007199254740992.0
    } else {
        ax
    };
    let high = (axs.to_bits() >> 32) as u32;
    let shift = if subnormal { 53 } else { 0 };
    let n = (high >> 20) as i32 - 1023 - shift;
    let j = high & 0x000f_ffff;
    let interval = if j <= 0x0003_988e {
        0
    } else if j < 0x000b_b67a {
        1
    } else {
        2
    };
    let n = if interval == 2 { n + 1 } else { n };
    let im = if interval == 2 {
        (j | 0x3ff0_0000) - 0x0010_0000
    } else {
        j | 0x3ff0_0000
    };
    let k = if interval == 1 { 1u32 } else { 0u32 };
    let m = f64::from_bits(((im as u64) << 32) | (axs.to_bits() & 0xffff_ffff));
    let b = if k == 1 { 1.5 } else { 1.0 };
    // log2(1.5) = dp_h + dp_l, dp_h with its low word zero.
    let dp_h = if k == 1 {
        f64::from_bits(0x3fe2_b803_4000_0000)
    } else {
        0.0
    };
    let dp_l = if k == 1 { 1.350039202129749e-8 } else { 0.0 };
    let u = m - b;
    let v = 1.0 / (m + b);
    let s = u * v;
    let s_h = clear_low_f64(s);
    let t_h_high = (((im >> 1) | 0x2000_0000) + 0x0008_0000 + (k << 18)) as u64;
    let t_h = f64::from_bits(t_h_high << 32);
    let t_l = m - (t_h - b);
    let s_l = v * ((u - s_h * t_h) - s_h * t_l);
    let s2 = s * s;
    let p = 0.20697501780033842;
    let p = 0.23066074577556175 + s2 * p;
    let p = 0.272728123808534 + s2 * p;
    let p = 0.33333332981837743 + s2 * p;
    let p = 0.4285714285785502 + s2 * p;
    let p = 0.5999999999999946 + s2 * p;
    let r = s2 * s2 * p + s_l * (s_h + s);
    let s2 = s_h * s_h;
    let t_h = clear_low_f64(3.0 + s2 + r);
    let t_l = r - ((t_h - 3.0) - s2);
    let u = s_h * t_h;
    let v = s_l * t_h + t_l * s;
    let p_h = clear_low_f64(u + v);
    let p_l = v - (p_h - u);
    // 2 / (3 ln 2) = cp_h + cp_l, cp_h with its low word zero.
    let z_h = f64::from_bits(0x3fee_c709_e000_0000) * p_h;
    let z_l = -7.028461650952758e-9 * p_h + p_l * 0.9617966939259756 + dp_l;
    let nf = n as f64;
    let t1 = clear_low_f64(((z_h + z_l) + dp_h) + nf);
    let t2 = z_l - (((t1 - nf) - dp_h) - z_h);

    let huge_y = iy > 0x41e0_0000;
    let t1 = if huge_y { t1_near } else { t1 };
    let t2 = if huge_y { t2_near } else { t2 };

    let y1 = clear_low_f64(y);
    let p_l = (y - y1) * t1 + y * t2;
    let p_h = y1 * t1;
    let z = p_l + p_h;
    // 8.008566259537294e-17 is 1024 - log2 of the largest double plus half an ulp.
    let overflow = z > 1024.0 || (z == 1024.0 && p_l + 8.008566259537294e-17 > z - p_h);
    let underflow = z < -1075.0 || (z == -1075.0 && p_l <= z - p_h);

    let jz = (z.to_bits() >> 32) as u32;
    let iz = jz & 0x7fff_ffff;
    let kz = ((iz >> 20) as i32 - 1023).clamp(-1, 30);
    let nz = jz.wrapping_add(0x0010_0000 >> ((kz + 1) as u32));
    let k2 = (((nz & 0x7fff_ffff) >> 20) as i32 - 1023).clamp(0, 20) as u32;
    let t = f64::from_bits(((nz & !(0x000f_ffff >> k2)) as u64) << 32);
    let n_abs = (((nz & 0x000f_ffff) | 0x0010_0000) >> (20 - k2)) as i32;
    let n_signed = if (jz >> 31) == 1 { -n_abs } else { n_abs };
    let large_z = iz > 0x3fe0_0000;
    let n = if large_z { n_signed } else { 0 };
    let p_h = if large_z { p_h - t } else { p_h };
    let t = clear_low_f64(p_l + p_h);
    // ln 2 = lg2_h + lg2_l, lg2_h with its low word zero.
    let u = t * f64::from_bits(0x3fe6_2e43_0000_0000);
    let v = (p_l - (t - p_h)) * std::f64::consts::LN_2 + t * -1.904654299957768e-9;
    let z = u + v;
    let w = v - (z - u);
    let t = z * z;
    let c = -1.6533902205465252e-6 + t * 4.1381367970572385e-8;
    let c = 6.613756321437934e-5 + t * c;
    let c = -0.0027777777777015593 + t * c;
    let c = 0.16666666666666602 + t * c;
    let t1 = z - t * c;
    let r = (z * t1) / (t1 - 2.0) - (w + z * w);
    let z = 1.0 - (r - z);
    let e = (z.to_bits() >> 52) as i32 + n;
    let normal = f64::from_bits(z.to_bits().wrapping_add(((n as i64) << 52) as u64));
    let e_small = (n + 200 + 1023).clamp(1, 2046) as u64;
    let tiny = z * f64::from_bits(e_small << 52) * f64::from_bits(0x3370_0000_0000_0000);
    let v = if e <= 0 { tiny } else { normal };
    let v = if overflow {
        f64::INFINITY
    } else if underflow {
        0.0
    } else {
        v
    };
    // |y| > 2^31 with x not near 1 (|y| > 2^64: x not 1): over- or underflow at once.
    let below = ix < 0x3fef_ffff || (iy > 0x43f0_0000 && ix <= 0x3fef_ffff);
    let above = ix > 0x3ff0_0000 || (iy > 0x43f0_0000 && ix >= 0x3ff0_0000);
    let big = (below && y < 0.0) || (above && y > 0.0);
    let small = (below && y > 0.0) || (above && y < 0.0);
    let v = if huge_y && big { f64::INFINITY } else { v };
    let v = if huge_y && small { 0.0 } else { v };
    let v = sn * v;

    let v = if x < 0.0 && !y_integer { f64::NAN } else { v };
    let z = if y < 0.0 { 1.0 / ax } else { ax };
    let z = if hx >> 63 == 1 && y_odd { -z } else { z };
    let z = if x == -1.0 && !y_integer { f64::NAN } else { z };
    let v = if ax.is_infinite() || ax == 0.0 || ax == 1.0 {
        z
    } else {
        v
    };
    let v = if y == 0.5 && hx >> 63 == 0 {
        x.sqrt()
    } else {
        v
    };
    let v = if y == 2.0 { x * x } else { v };
    let v = if y == 1.0 { x } else { v };
    let v = if y == -1.0 { 1.0 / x } else { v };
    let inf_y = if ax == 1.0 {
        1.0
    } else if (ax > 1.0) == (y > 0.0) {
        f64::INFINITY
    } else {
        0.0
    };
    let v = if y.is_infinite() { inf_y } else { v };
    let v = if x.is_nan() || y.is_nan() { x + y } else { v };
    if x == 1.0 || y == 0.0 { 1.0 } else { v }
}
