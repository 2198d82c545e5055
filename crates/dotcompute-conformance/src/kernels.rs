//! The kernels of the conformance suite, in the kernel language.

use dotcompute::KernelDefinition;
use dotcompute::prelude::*;

/// Every kernel of the suite (for checks over all generated code, such as WGSL validation).
pub fn all() -> Vec<&'static KernelDefinition> {
    vec![
        crate::faulting::shifted_copy::definition(),
        crate::faulting::divide::definition(),
        crate::faulting::explode::definition(),
        crate::faulting::store_until_fault::definition(),
        vector_add::definition(),
        saxpy::definition(),
        mandelbrot::definition(),
        nbody_accel::definition(),
        matmul_f64::definition(),
        histogram::definition(),
        int_ops_i32::definition(),
        int_ops_u32::definition(),
        int_ops_i64::definition(),
        int_ops_u64::definition(),
        saturating_casts::definition(),
        float_math::definition(),
        rounding_f32::definition(),
        rounding_f64::definition(),
        control_flow::definition(),
        values_and_shadowing::definition(),
        atomics::definition(),
        wide_atomics::definition(),
        iota::definition(),
        lengths::definition(),
        encode_3d::definition(),
        group_ids::definition(),
        tail_ids::definition(),
        poly8::definition(),
        triad::definition(),
        partial_sums::definition(),
        poly32::definition(),
        float_bits::definition(),
        exact_float_steps::definition(),
        roots_and_quotients::definition(),
        float_remainder::definition(),
        random_findings::definition(),
        math_library_f32::definition(),
        math_library_f64::definition(),
        black_scholes_f32::definition(),
        black_scholes_f64::definition(),
        black_scholes_fast_f32::definition(),
        black_scholes_fast_f64::definition(),
        exp_map::definition(),
        exp_map_fast::definition(),
        sin_map::definition(),
        sin_map_fast::definition(),
        ln_map::definition(),
        ln_map_fast::definition(),
        exp_m1_ln_1p_map_fast::definition(),
    ]
    .into_iter()
    .chain(crate::cooperative::all())
    .chain(crate::subgroups::all())
    .chain(dotcompute::algorithms::kernels())
    .chain(crate::algorithms::custom_kernels())
    .chain(crate::queries::kernels())
    .chain(dotcompute::query::kernels())
    .chain(dotcompute::placement::kernels())
    .collect()
}

/// `out[i] = a[i] + b[i]`
#[kernel]
pub fn vector_add(a: &[f32], b: &[f32], out: &mut [f32]) {
    let i = global_id();
    out[i] = a[i] + b[i];
}

/// `y[i] = alpha * x[i] + y[i]`
#[kernel]
pub fn saxpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    let i = global_id();
    y[i] = alpha * x[i] + y[i];
}

/// Escape-time iterations of one point of the Mandelbrot set.
#[kernel_fn]
pub fn escape_time(cx: f32, cy: f32, max_iter: u32) -> u32 {
    let mut x = 0.0f32;
    let mut y = 0.0f32;
    let mut i = 0u32;
    while i < max_iter {
        let x2 = x * x;
        let y2 = y * y;
        if x2 + y2 > 4.0 {
            break;
        }
        y = 2.0 * x * y + cy;
        x = x2 - y2 + cx;
        i += 1;
    }
    i
}

/// A 2-D Mandelbrot image: one work item per pixel, `u32` iterations out.
#[kernel]
pub fn mandelbrot(x0: f32, y0: f32, step: f32, max_iter: u32, out: &mut [u32]) {
    let px = global_id_x();
    let py = global_id_y();
    let width = global_size_x();
    let cx = x0 + px as f32 * step;
    let cy = y0 + py as f32 * step;
    out[py * width + px] = escape_time(cx, cy, max_iter);
}

/// Softened inverse-cube factor of the gravitational pull at squared distance `d2`.
#[kernel_fn]
pub fn inv_dist_cubed(d2: f32, softening: f32) -> f32 {
    let d = (d2 + softening).sqrt();
    1.0 / (d * d * d)
}

/// One N-body acceleration step: for each body, the sum of the pulls of all bodies.
/// Positions are `pos[3*i..3*i+3]`, masses `mass[i]`.
#[kernel]
pub fn nbody_accel(pos: &[f32], mass: &[f32], softening: f32, acc: &mut [f32]) {
    let i = global_id();
    let n = mass.len();
    let xi = pos[3 * i];
    let yi = pos[3 * i + 1];
    let zi = pos[3 * i + 2];
    let mut ax = 0.0f32;
    let mut ay = 0.0f32;
    let mut az = 0.0f32;
    for j in 0..n {
        let dx = pos[3 * j] - xi;
        let dy = pos[3 * j + 1] - yi;
        let dz = pos[3 * j + 2] - zi;
        let d2 = dx.mul_add(dx, dy.mul_add(dy, dz * dz));
        let s = mass[j] * inv_dist_cubed(d2, softening);
        ax = dx.mul_add(s, ax);
        ay = dy.mul_add(s, ay);
        az = dz.mul_add(s, az);
    }
    acc[3 * i] = ax;
    acc[3 * i + 1] = ay;
    acc[3 * i + 2] = az;
}

/// Naive `c = a * b` over `f64`, with row strides passed as scalars (`a` is m x k,
/// `b` is k x n, `c` is m x n; the grid is n x m).
#[kernel]
pub fn matmul_f64(a: &[f64], b: &[f64], c: &mut [f64], k: u32, lda: u32, ldb: u32, ldc: u32) {
    let col = global_id_x();
    let row = global_id_y();
    let mut sum = 0.0;
    for p in 0..k as usize {
        sum += a[row * lda as usize + p] * b[p * ldb as usize + col];
    }
    c[row * ldc as usize + col] = sum;
}

/// A histogram of `u32` values into `bins.len()` bins, with atomics.
#[kernel]
pub fn histogram(values: &[u32], bins: &mut [u32]) {
    let v = values[global_id()];
    let bin = v as usize % bins.len();
    atomic_add(&mut bins[bin], 1);
}

/// Integer operations on `i32`: wrapping arithmetic, shifts (amounts masked), bit operations,
/// division and remainder (non-zero divisors), casts.
#[kernel]
pub fn int_ops_i32(a: &[i32], b: &[i32], out: &mut [i32]) {
    let i = global_id();
    let x = a[i];
    let y = b[i];
    let o = i * 12;
    out[o] = x + y;
    out[o + 1] = x - y;
    out[o + 2] = x * y;
    out[o + 3] = x << y;
    out[o + 4] = x >> (y & 63);
    out[o + 5] = (x & y) ^ (x | !y);
    let d = if y == 0 { 7 } else { y };
    out[o + 6] = if x == i32::MIN && d == -1 { 0 } else { x / d };
    out[o + 7] = if x == i32::MIN && d == -1 { 0 } else { x % d };
    out[o + 8] = -x;
    out[o + 9] = x.abs().min(y.max(-5));
    out[o + 10] = (x as u32).count_ones() as i32 + (y as u32).rotate_left(3) as i32;
    out[o + 11] = (x as f32 * 1.5) as i32 + (y as i64 >> 40) as i32;
}

/// Integer operations on `u32`.
#[kernel]
pub fn int_ops_u32(a: &[u32], b: &[u32], out: &mut [u32]) {
    let i = global_id();
    let x = a[i];
    let y = b[i];
    let o = i * 10;
    out[o] = x + y;
    out[o + 1] = x - y;
    out[o + 2] = x.wrapping_mul(y);
    out[o + 3] = x << y;
    out[o + 4] = x >> y;
    out[o + 5] = x & !y | (x ^ y) >> 3;
    let d = y | 1;
    out[o + 6] = x / d + x % d;
    out[o + 7] = x.leading_zeros() + x.trailing_zeros() * 100;
    out[o + 8] = x.rotate_right(y) ^ x.clamp(10, 1000);
    out[o + 9] = (x as i32 as i64 as u32) + (x as f64 * 0.25) as u32;
}

/// Integer operations on `i64`.
#[kernel]
pub fn int_ops_i64(a: &[i64], b: &[i64], out: &mut [i64]) {
    let i = global_id();
    let x = a[i];
    let y = b[i];
    let o = i * 8;
    out[o] = x + y;
    out[o + 1] = x - y * 3;
    out[o + 2] = x * y;
    out[o + 3] = x << (y as u32);
    out[o + 4] = x >> 17;
    let d = if y == 0 { 3 } else { y };
    out[o + 5] = if x == i64::MIN && d == -1 {
        1
    } else {
        x / d - x % d
    };
    out[o + 6] = (x as i32) as i64 + (x as u64 >> 60) as i64;
    out[o + 7] = (x as f64) as i64 ^ (y as f32) as i64;
}

/// Integer operations on `u64`.
#[kernel]
pub fn int_ops_u64(a: &[u64], b: &[u64], out: &mut [u64]) {
    let i = global_id();
    let x = a[i];
    let y = b[i];
    let o = i * 6;
    out[o] = x + y * 0x9E37_79B9_7F4A_7C15;
    out[o + 1] = x - y;
    out[o + 2] = (x ^ (x >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    out[o + 3] = x << (y % 80);
    out[o + 4] = x / (y | 1) + x % (y | 1);
    out[o + 5] = x.count_ones() as u64 + x.max(y) - x.min(y) + (x as u32) as u64;
}

/// Float-to-integer casts with Rust's saturating semantics (NaN to 0).
#[kernel]
pub fn saturating_casts(x: &[f32], out_i32: &mut [i32], out_u32: &mut [u32], out_i64: &mut [i64]) {
    let i = global_id();
    out_i32[i] = x[i] as i32;
    out_u32[i] = x[i] as u32;
    out_i64[i] = x[i] as i64;
}

/// `floor`, `ceil`, `round` and `trunc` of `f32`: exact operations, so every backend must
/// give `std`'s bits, at every magnitude.
#[kernel]
pub fn rounding_f32(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    let a = x[i];
    out[4 * i] = a.floor();
    out[4 * i + 1] = a.ceil();
    out[4 * i + 2] = a.round();
    out[4 * i + 3] = a.trunc();
}

/// `floor`, `ceil`, `round` and `trunc` of `f64` (as [`rounding_f32`]).
#[kernel]
pub fn rounding_f64(x: &[f64], out: &mut [f64]) {
    let i = global_id();
    let a = x[i];
    out[4 * i] = a.floor();
    out[4 * i + 1] = a.ceil();
    out[4 * i + 2] = a.round();
    out[4 * i + 3] = a.trunc();
}

/// The float math functions, each compared with Rust's `std`.
#[kernel]
pub fn float_math(x: &[f32], y: &[f32], out: &mut [f32]) {
    let i = global_id();
    let a = x[i];
    let b = y[i];
    let o = i * 16;
    out[o] = a.abs().sqrt() + a.exp2().min(1e30);
    out[o + 1] = a.min(50.0).exp();
    out[o + 2] = a.abs().ln() + (a.abs() + 1.0).log2() + (a.abs() + 1.0).log10();
    out[o + 3] = a.sin() + a.cos() * 2.0;
    out[o + 4] = a.tan().clamp(-100.0, 100.0) + a.tanh();
    out[o + 5] = (a / 1000.0).asin() + (b / 1000.0).acos() + a.atan();
    out[o + 6] = a.atan2(b) + a.hypot(b);
    out[o + 7] = a.abs().powf(0.37) + a.powi(3);
    out[o + 8] = a.floor() + b.ceil() * 3.0;
    out[o + 9] = a.round() + (b * 0.5).trunc() * 7.0;
    out[o + 10] = a.mul_add(b, 1.0);
    out[o + 11] = a.min(b) - a.max(b);
    out[o + 12] = a.clamp(-1.0, 1.0) + std::f32::consts::PI;
    out[o + 13] = (a * 0.1).sinh() + (b * 0.1).cosh() + a.cbrt();
    out[o + 14] = if a.is_nan() || b.is_infinite() {
        -1.0
    } else {
        a.recip()
    };
    out[o + 15] = if (a - b).is_finite() { a % b } else { 0.0 };
}

/// e^x per element (the math library's `exp`).
#[kernel]
pub fn exp_map(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    out[i] = x[i].exp();
}

/// e^x per element with the device's own `exp`.
#[kernel(fast_math)]
pub fn exp_map_fast(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    out[i] = x[i].exp();
}

/// sin(x) per element (the math library's `sin`).
#[kernel]
pub fn sin_map(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    out[i] = x[i].sin();
}

/// sin(x) per element with the device's own `sin`.
#[kernel(fast_math)]
pub fn sin_map_fast(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    out[i] = x[i].sin();
}

/// e^x - 1 and ln(1 + |x|) per element with the device's own functions.
#[kernel(fast_math)]
pub fn exp_m1_ln_1p_map_fast(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    out[i] = x[i].exp_m1() + x[i].abs().ln_1p();
}

/// ln(x) per element (the math library's `ln`).
#[kernel]
pub fn ln_map(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    out[i] = x[i].ln();
}

/// ln(x) per element with the device's own `ln`.
#[kernel(fast_math)]
pub fn ln_map_fast(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    out[i] = x[i].ln();
}

/// The standard normal distribution function, by Abramowitz and Stegun's 26.2.17
/// (absolute error below 7.5e-8).
#[kernel_fn]
pub fn normal_cdf_f32(d: f32) -> f32 {
    let k = 1.0 / (1.0 + 0.231_641_9 * d.abs());
    let poly = k
        * (0.319_381_53
            + k * (-0.356_563_78 + k * (1.781_477_9 + k * (-1.821_256 + k * 1.330_274_5))));
    let w = 1.0 - 0.398_942_3 * (-0.5 * d * d).exp() * poly;
    if d < 0.0 { 1.0 - w } else { w }
}

/// [`normal_cdf_f32`] in `f64`.
#[kernel_fn]
pub fn normal_cdf_f64(d: f64) -> f64 {
    let k = 1.0 / (1.0 + 0.231_641_9 * d.abs());
    let poly = k
        * (0.319_381_530
            + k * (-0.356_563_782
                + k * (1.781_477_937 + k * (-1.821_255_978 + k * 1.330_274_429))));
    let w = 1.0 - 0.398_942_280_401_432_7 * (-0.5 * d * d).exp() * poly;
    if d < 0.0 { 1.0 - w } else { w }
}

/// European call and put prices by Black and Scholes (`f32`): `ln`, `exp`, `sqrt` and the
/// normal distribution function per option.
#[kernel]
pub fn black_scholes_f32(
    spot: &[f32],
    strike: &[f32],
    years: &[f32],
    rate: f32,
    volatility: f32,
    call: &mut [f32],
    put: &mut [f32],
) {
    let i = global_id();
    let sqrt_t = years[i].sqrt();
    let d1 = ((spot[i] / strike[i]).ln() + (rate + 0.5 * volatility * volatility) * years[i])
        / (volatility * sqrt_t);
    let d2 = d1 - volatility * sqrt_t;
    let discounted = strike[i] * (-rate * years[i]).exp();
    call[i] = spot[i] * normal_cdf_f32(d1) - discounted * normal_cdf_f32(d2);
    put[i] = discounted * (1.0 - normal_cdf_f32(d2)) - spot[i] * (1.0 - normal_cdf_f32(d1));
}

/// [`black_scholes_f32`] in `f64`.
#[kernel]
pub fn black_scholes_f64(
    spot: &[f64],
    strike: &[f64],
    years: &[f64],
    rate: f64,
    volatility: f64,
    call: &mut [f64],
    put: &mut [f64],
) {
    let i = global_id();
    let sqrt_t = years[i].sqrt();
    let d1 = ((spot[i] / strike[i]).ln() + (rate + 0.5 * volatility * volatility) * years[i])
        / (volatility * sqrt_t);
    let d2 = d1 - volatility * sqrt_t;
    let discounted = strike[i] * (-rate * years[i]).exp();
    call[i] = spot[i] * normal_cdf_f64(d1) - discounted * normal_cdf_f64(d2);
    put[i] = discounted * (1.0 - normal_cdf_f64(d2)) - spot[i] * (1.0 - normal_cdf_f64(d1));
}

/// [`black_scholes_f32`] with the devices' own `exp` and `ln`.
#[kernel(fast_math)]
pub fn black_scholes_fast_f32(
    spot: &[f32],
    strike: &[f32],
    years: &[f32],
    rate: f32,
    volatility: f32,
    call: &mut [f32],
    put: &mut [f32],
) {
    let i = global_id();
    let sqrt_t = years[i].sqrt();
    let d1 = ((spot[i] / strike[i]).ln() + (rate + 0.5 * volatility * volatility) * years[i])
        / (volatility * sqrt_t);
    let d2 = d1 - volatility * sqrt_t;
    let discounted = strike[i] * (-rate * years[i]).exp();
    call[i] = spot[i] * normal_cdf_f32(d1) - discounted * normal_cdf_f32(d2);
    put[i] = discounted * (1.0 - normal_cdf_f32(d2)) - spot[i] * (1.0 - normal_cdf_f32(d1));
}

/// [`black_scholes_f64`] with the devices' own `exp` and `ln`.
#[kernel(fast_math)]
pub fn black_scholes_fast_f64(
    spot: &[f64],
    strike: &[f64],
    years: &[f64],
    rate: f64,
    volatility: f64,
    call: &mut [f64],
    put: &mut [f64],
) {
    let i = global_id();
    let sqrt_t = years[i].sqrt();
    let d1 = ((spot[i] / strike[i]).ln() + (rate + 0.5 * volatility * volatility) * years[i])
        / (volatility * sqrt_t);
    let d2 = d1 - volatility * sqrt_t;
    let discounted = strike[i] * (-rate * years[i]).exp();
    call[i] = spot[i] * normal_cdf_f64(d1) - discounted * normal_cdf_f64(d2);
    put[i] = discounted * (1.0 - normal_cdf_f64(d2)) - spot[i] * (1.0 - normal_cdf_f64(d1));
}

/// The math library's functions (`f32`): each backend must compute the library's bits.
#[kernel]
pub fn math_library_f32(x: &[f32], n: &[i32], out: &mut [f32]) {
    let i = global_id();
    let a = x[i];
    let o = i * 24;
    out[o] = a.exp();
    out[o + 1] = a.exp2();
    out[o + 2] = a.ln();
    out[o + 3] = a.log2();
    out[o + 4] = a.log10();
    out[o + 5] = a.powi(n[i]);
    out[o + 6] = a.sin();
    out[o + 7] = a.cos();
    out[o + 8] = a.hypot(x[(i * 7 + 3) % x.len()]);
    out[o + 9] = a.exp_m1();
    out[o + 10] = a.atan();
    out[o + 11] = a.sinh();
    out[o + 12] = a.cosh();
    out[o + 13] = a.tanh();
    out[o + 14] = a.atan2(x[(i * 5 + 1) % x.len()]);
    out[o + 15] = a.asin();
    out[o + 16] = a.acos();
    out[o + 17] = a.cbrt();
    out[o + 18] = (a * 1e-3).asin() + (a * 1e-3).acos();
    out[o + 19] = a.tan();
    out[o + 20] = a.powf(x[(i * 3 + 2) % x.len()]);
    out[o + 21] = a.ln_1p();
    let (s, c) = a.sin_cos();
    out[o + 22] = s;
    out[o + 23] = c;
}

/// The math library's functions (`f64`).
#[kernel]
pub fn math_library_f64(x: &[f64], n: &[i32], out: &mut [f64]) {
    let i = global_id();
    let a = x[i];
    let o = i * 24;
    out[o] = a.exp();
    out[o + 1] = a.exp2();
    out[o + 2] = a.ln();
    out[o + 3] = a.log2();
    out[o + 4] = a.log10();
    out[o + 5] = a.powi(n[i]);
    out[o + 6] = a.hypot(x[(i * 7 + 3) % x.len()]);
    out[o + 7] = a.exp_m1();
    out[o + 8] = a.atan();
    out[o + 9] = a.sinh();
    out[o + 10] = a.cosh();
    out[o + 11] = a.tanh();
    out[o + 12] = a.atan2(x[(i * 5 + 1) % x.len()]);
    out[o + 13] = a.asin();
    out[o + 14] = a.acos();
    out[o + 15] = a.cbrt();
    out[o + 16] = (a * 1e-3).asin() + (a * 1e-3).acos();
    out[o + 17] = a.powf(x[(i * 3 + 2) % x.len()]);
    out[o + 18] = a.sin();
    out[o + 19] = a.cos();
    out[o + 20] = a.tan();
    out[o + 21] = a.ln_1p();
    let (s, mut c) = (a * 3.0).sin_cos();
    c += 0.0;
    out[o + 22] = s;
    out[o + 23] = c;
}

/// Square roots, quotients and reciprocals of `f32` and `f64`: IEEE 754 rounds each
/// correctly, so every backend must give the host's bits (Vulkan drivers that do not get the
/// correctly rounded helpers).
#[kernel]
pub fn roots_and_quotients(
    x: &[f32],
    y: &[f32],
    d: &[f64],
    e: &[f64],
    out: &mut [f32],
    out64: &mut [f64],
) {
    let i = global_id();
    out[3 * i] = x[i].sqrt();
    out[3 * i + 1] = x[i] / y[i];
    out[3 * i + 2] = y[i].recip();
    out64[3 * i] = d[i].sqrt();
    out64[3 * i + 1] = d[i] / e[i];
    out64[3 * i + 2] = e[i].recip();
}

/// Float remainders `x % y` on `f32` and `f64`: exact in Rust (the result is representable),
/// so every backend must give the host's bits.
#[kernel]
pub fn float_remainder(
    x: &[f32],
    y: &[f32],
    d: &[f64],
    e: &[f64],
    out: &mut [f32],
    out64: &mut [f64],
) {
    let i = global_id();
    out[i] = x[i] % y[i];
    out64[i] = d[i] % e[i];
}

/// What the random kernels of issue #14 found on wgpu, each as it was found: `!=` with a NaN
/// operand (true in Rust; naga's comparison is ordered), `u32 as i64` (zero-extends in Rust;
/// naga's sign-extends), operations on constants that naga's constant evaluator refused
/// (bits shifted out, a 64-bit constant converted, `abs` of an `f64` constant, an infinite
/// result).
#[kernel]
pub fn random_findings(
    f: &[f32],
    d: &[f64],
    u: &[u32],
    bits: &mut [u32],
    wide: &mut [i64],
    floats: &mut [f32],
    doubles: &mut [f64],
) {
    let i = global_id();
    let a = f[i];
    let b = d[i];
    bits[4 * i] = if a != 1.5 { 1 } else { 0 };
    bits[4 * i + 1] = if b != b { 1 } else { 0 };
    bits[4 * i + 2] = (543105372u32 << 13) ^ u[i];
    bits[4 * i + 3] = (-89i64) as u32 + u[i];
    wide[2 * i] = u[i] as i64;
    wide[2 * i + 1] = (u[i] - 1622455964) as i64;
    floats[2 * i] = 18446744073709551566u64 as f32 + a;
    floats[2 * i + 1] = 1.0f32 / 0.0 - a;
    doubles[2 * i] = 0.5f64.abs() * b;
    doubles[2 * i + 1] = f64::MAX * 2.0 + (2.5f64 as f32) as f64 + b;
}

/// Bit casts and sign copies: `to_bits`, `from_bits`, `copysign` on `f32` and `f64`.
#[kernel]
pub fn float_bits(
    x: &[f32],
    y: &[f32],
    d: &[f64],
    bits: &mut [u32],
    f: &mut [f32],
    bits64: &mut [u64],
    g: &mut [f64],
) {
    let i = global_id();
    bits[i] = x[i].to_bits() ^ (y[i].to_bits() >> 3);
    f[i] = x[i].copysign(f32::from_bits(y[i].to_bits() ^ 0x8000_0000));
    bits64[i] = d[i].to_bits().rotate_left(7);
    let magnitude = f64::from_bits(d[i].to_bits() & 0x7fff_ffff_ffff_ffff);
    g[i] = magnitude.copysign(d[i] - 1.0) + f64::from_bits(4_607_182_418_800_017_408u64);
}

/// Loops and control flow: `while`, `loop`, `break`, `continue`, early `return`,
/// inclusive ranges, `step_by`, and a `for mut` variable assigned in the body.
#[kernel]
pub fn control_flow(n: &[u32], out: &mut [u64]) {
    let i = global_id();
    let limit = n[i];
    if limit == 13 {
        out[i] = 13013;
        return;
    }
    let mut acc = 0u64;
    for k in (0..=limit).step_by(3) {
        if k % 2 == 0 {
            continue;
        }
        acc += k as u64;
    }
    // Assigning the loop variable changes this iteration only, as in Rust.
    for mut m in 0..4u32 {
        m += limit;
        acc += m as u64;
    }
    let mut j = 0;
    loop {
        j += 1;
        if j > limit {
            break;
        }
        acc = acc * 3 + j as u64;
    }
    let mut w = limit;
    while w > 1 {
        w = if w % 2 == 0 { w / 2 } else { 3 * w + 1 };
        acc += 1;
    }
    out[i] = acc;
}

/// An `if` used as a value, shadowing, compound assignment on buffer elements.
#[kernel]
pub fn values_and_shadowing(x: &[i32], out: &mut [i32]) {
    let i = global_id();
    let v = x[i];
    let v = if v < 0 {
        -v
    } else if v == 0 {
        100
    } else {
        let t = v * 2;
        t + 1
    };
    out[i] += v;
    out[i] *= 3;
    out[i] -= 1;
}

/// The atomics on 64-bit and float elements that `atomics` leaves out: compare-exchange on
/// `u64`/`i64` (one winner each), `f64` add (sums of 0.25, exact), and exchange on `f32` and
/// `f64`.
#[kernel]
pub fn wide_atomics(
    winner_u64: &mut [u64],
    winner_i64: &mut [i64],
    sum_f64: &mut [f64],
    swap_f32: &mut [f32],
    swap_f64: &mut [f64],
) {
    let i = global_id();
    if atomic_compare_exchange(&mut winner_u64[0], 0, i as u64 + 1) == 0 {
        atomic_add(&mut winner_u64[1], 1);
    }
    if atomic_compare_exchange(&mut winner_i64[0], 0, -(i as i64) - 1) == 0 {
        atomic_add(&mut winner_i64[1], 1);
    }
    atomic_add(&mut sum_f64[0], 0.25);
    let _ = atomic_exchange(&mut swap_f32[0], 2.5);
    let _ = atomic_exchange(&mut swap_f64[0], -1.5);
}

/// Every atomic on every integer width, plus float add.
#[kernel]
pub fn atomics(
    values: &[u32],
    acc_u32: &mut [u32],
    acc_i32: &mut [i32],
    acc_u64: &mut [u64],
    acc_i64: &mut [i64],
    sum_f32: &mut [f32],
    winner: &mut [u32],
) {
    let i = global_id();
    let v = values[i];
    atomic_add(&mut acc_u32[0], v);
    atomic_max(&mut acc_u32[1], v);
    atomic_min(&mut acc_u32[2], v);
    atomic_or(&mut acc_u32[3], 1 << (v % 32));
    atomic_xor(&mut acc_u32[4], v);
    atomic_and(&mut acc_u32[5], !(1 << (v % 32)));
    atomic_sub(&mut acc_i32[0], v as i32);
    atomic_max(&mut acc_i32[1], v as i32 - 500);
    atomic_min(&mut acc_i32[2], v as i32 - 500);
    atomic_add(&mut acc_u64[0], v as u64 * 1_000_000_007);
    atomic_max(&mut acc_u64[1], v as u64 * 3);
    atomic_add(&mut acc_i64[0], -(v as i64));
    atomic_min(&mut acc_i64[1], -(v as i64));
    atomic_add(&mut sum_f32[0], 0.5);
    let old = atomic_compare_exchange(&mut winner[0], 0, i as u32 + 1);
    if old == 0 {
        atomic_add(&mut winner[1], 1);
    }
    let _ = atomic_exchange(&mut winner[2], 7);
}

/// `out[i] = i` over a 1-D grid (also for edge-case grids).
#[kernel]
pub fn iota(out: &mut [u64]) {
    let i = global_id();
    out[i] = i as u64;
}

/// Writes the length of an (empty) buffer: buffers of length zero are valid arguments.
#[kernel]
pub fn lengths(empty: &[f32], out: &mut [u64]) {
    out[0] = empty.len() as u64 + 1000;
    if empty.len() > 0 {
        out[1] = empty[0] as u64;
    }
}

/// Encodes each id of a 3-D grid: `x + 1000 y + 1000000 z` at the linear position.
#[kernel]
pub fn encode_3d(out: &mut [u64]) {
    let x = global_id_x();
    let y = global_id_y();
    let z = global_id_z();
    let w = global_size_x();
    let h = global_size_y();
    out[(z * h + y) * w + x] = (x + 1000 * y + 1_000_000 * z) as u64;
}

/// Group and local ids for a grid with an explicit group size.
#[kernel]
pub fn group_ids(out: &mut [u64]) {
    let i = global_id_x();
    let j = global_id_y();
    let w = global_size_x();
    out[j * w + i] = (group_id_x() * 1_000_000
        + local_id_x() * 1000
        + group_id_y() * 10
        + local_id_y()
        + group_size_x() * 100_000_000) as u64;
}

/// Touches only the last few ids of a huge 1-D grid: `out[i - offset] = i` for `i >= offset`.
#[kernel]
pub fn tail_ids(offset: u64, out: &mut [u64]) {
    let i = global_id() as u64;
    if i >= offset {
        out[(i - offset) as usize] = i;
    }
}

/// Degree-8 polynomial per element, in plain `a * x + b` form (no fused multiply-add): the
/// compute-bound benchmark kernel.
#[kernel]
pub fn poly8(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    let v = x[i];
    let mut r = 0.0078125f32;
    r = r * v + 0.015625;
    r = r * v + 0.03125;
    r = r * v + 0.0625;
    r = r * v + 0.125;
    r = r * v + 0.25;
    r = r * v + 0.5;
    r = r * v + 1.0;
    r = r * v + 1.0;
    out[i] = r;
}

/// STREAM triad: `a[i] = b[i] + s * c[i]`.
#[kernel]
pub fn triad(a: &mut [f32], b: &[f32], c: &[f32], s: f32) {
    let i = global_id();
    a[i] = b[i] + s * c[i];
}

/// Sum reduction, first pass: work item `g` sums elements `g*chunk .. (g+1)*chunk` with four
/// independent accumulators (so that additions overlap) and writes one partial sum.
#[kernel]
pub fn partial_sums(chunk: usize, x: &[f32], out: &mut [f32]) {
    let g = global_id();
    let start = g * chunk;
    let end = (start + chunk).min(x.len());
    let mut s0 = 0.0f32;
    let mut s1 = 0.0f32;
    let mut s2 = 0.0f32;
    let mut s3 = 0.0f32;
    let mut k = start;
    while k + 4 <= end {
        s0 += x[k];
        s1 += x[k + 1];
        s2 += x[k + 2];
        s3 += x[k + 3];
        k += 4;
    }
    while k < end {
        s0 += x[k];
        k += 1;
    }
    out[g] = (s0 + s1) + (s2 + s3);
}

/// Degree-32 polynomial per element (the degree-8 coefficients four times over, plain
/// `r * x + c`): 64 flops per 8 bytes moved, compute-bound even from memory.
#[kernel]
pub fn poly32(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    let v = x[i];
    let mut r = 0.0078125f32;
    for _ in 0..4 {
        r = r * v + 0.015625;
        r = r * v + 0.03125;
        r = r * v + 0.0625;
        r = r * v + 0.125;
        r = r * v + 0.25;
        r = r * v + 0.5;
        r = r * v + 1.0;
        r = r * v + 1.0;
    }
    out[i] = r;
}

/// Steps whose IEEE results differ from real arithmetic's, as exact algorithms use them: a
/// compiler that treats floats as reals folds each of them away.
#[kernel]
pub fn exact_float_steps(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    let v = x[i];
    let o = 8 * i;
    // Rounding to an integer by adding and subtracting 1.5 * 2^23.
    out[o] = (v * std::f32::consts::LOG2_E + 12582912.0) - 12582912.0;
    out[o + 1] = (v + 1.0) - 1.0;
    out[o + 2] = 1.0 - (1.0 - v);
    out[o + 3] = (v * 3.0) * (1.0 / 3.0);
    // The rounding error of v + 1 (Knuth's two-sum).
    let s = v + 1.0;
    let b = s - v;
    out[o + 4] = (v - (s - b)) + (1.0 - b);
    // NaN for infinities and NaN, else +0 (x - x) or a signed zero (x * 0).
    out[o + 5] = v - v;
    out[o + 6] = v * 0.0;
    out[o + 7] = (v + 0.0) * -1.0;
}
