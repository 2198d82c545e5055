//! Scalar Rust references shared by the cases and the benchmarks.
//!
//! The benchmark peers call these in their loops; `#[inline(always)]` makes sure every build
//! inlines them, so that a peer's loop vectorises as well as its compiler allows instead of
//! depending on inlining heuristics.

/// The degree-8 polynomial of [`crate::kernels::poly8`], in the same `r * x + c` order.
#[inline(always)]
pub fn poly8(v: f32) -> f32 {
    let mut r = 0.0078125f32;
    r = r * v + 0.015625;
    r = r * v + 0.03125;
    r = r * v + 0.0625;
    r = r * v + 0.125;
    r = r * v + 0.25;
    r = r * v + 0.5;
    r = r * v + 1.0;
    r * v + 1.0
}

/// The degree-32 polynomial of [`crate::kernels::poly32`], in the same order.
#[inline(always)]
pub fn poly32(v: f32) -> f32 {
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
    r
}

/// The sum of [`crate::kernels::partial_sums`]: four interleaved accumulators, the tail in the
/// first, combined as `(s0 + s1) + (s2 + s3)`.
pub fn sum4(x: &[f32]) -> f32 {
    let mut s = [0.0f32; 4];
    let body = x.len() / 4 * 4;
    for quad in x[..body].chunks_exact(4) {
        for (acc, v) in s.iter_mut().zip(quad) {
            *acc += v;
        }
    }
    for v in &x[body..] {
        s[0] += v;
    }
    (s[0] + s[1]) + (s[2] + s[3])
}

/// Black and Scholes' call and put prices for one option, in the operation order of
/// [`crate::kernels::black_scholes_f32`], with the `exp` and `ln` given: the math library's
/// (then every backend must match the result bit for bit) or std's (the benchmark's peers).
#[inline(always)]
pub fn black_scholes_f32(
    (spot, strike, years): (f32, f32, f32),
    rate: f32,
    volatility: f32,
    exp: impl Fn(f32) -> f32 + Copy,
    ln: impl Fn(f32) -> f32,
) -> (f32, f32) {
    let cdf = |d: f32| {
        let k = 1.0 / (1.0 + 0.231_641_9 * d.abs());
        let poly = k
            * (0.319_381_53
                + k * (-0.356_563_78 + k * (1.781_477_9 + k * (-1.821_256 + k * 1.330_274_5))));
        let w = 1.0 - 0.398_942_3 * exp(-0.5 * d * d) * poly;
        if d < 0.0 { 1.0 - w } else { w }
    };
    let sqrt_t = years.sqrt();
    let d1 = (ln(spot / strike) + (rate + 0.5 * volatility * volatility) * years)
        / (volatility * sqrt_t);
    let d2 = d1 - volatility * sqrt_t;
    let discounted = strike * exp(-rate * years);
    (
        spot * cdf(d1) - discounted * cdf(d2),
        discounted * (1.0 - cdf(d2)) - spot * (1.0 - cdf(d1)),
    )
}

/// [`black_scholes_f32`] in `f64`.
#[inline(always)]
pub fn black_scholes_f64(
    (spot, strike, years): (f64, f64, f64),
    rate: f64,
    volatility: f64,
    exp: impl Fn(f64) -> f64 + Copy,
    ln: impl Fn(f64) -> f64,
) -> (f64, f64) {
    let cdf = |d: f64| {
        let k = 1.0 / (1.0 + 0.231_641_9 * d.abs());
        let poly = k
            * (0.319_381_530
                + k * (-0.356_563_782
                    + k * (1.781_477_937 + k * (-1.821_255_978 + k * 1.330_274_429))));
        let w = 1.0 - 0.398_942_280_401_432_7 * exp(-0.5 * d * d) * poly;
        if d < 0.0 { 1.0 - w } else { w }
    };
    let sqrt_t = years.sqrt();
    let d1 = (ln(spot / strike) + (rate + 0.5 * volatility * volatility) * years)
        / (volatility * sqrt_t);
    let d2 = d1 - volatility * sqrt_t;
    let discounted = strike * exp(-rate * years);
    (
        spot * cdf(d1) - discounted * cdf(d2),
        discounted * (1.0 - cdf(d2)) - spot * (1.0 - cdf(d1)),
    )
}
