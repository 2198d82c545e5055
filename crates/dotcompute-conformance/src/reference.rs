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
