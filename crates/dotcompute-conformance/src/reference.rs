//! Scalar Rust references shared by the cases and the benchmarks.

/// The degree-8 polynomial of [`crate::kernels::poly8`], in the same `r * x + c` order.
#[inline]
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
