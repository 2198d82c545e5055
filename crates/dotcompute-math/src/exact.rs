//! Error-free transformations: the rounding error of a sum or a product as a float, so that
//! `a + b` or `a * b` can be carried as an unevaluated sum of two floats. Without fused
//! multiply-add (which the CPU's baseline clone lacks): Knuth's two-sum, and Dekker's product
//! with Veltkamp's split. They need exact IEEE arithmetic evaluated as written, which every
//! backend gives (the wgpu backend marks every float operation exact on Vulkan).

/// The rounding error of `a + b`: `a + b = (a + b rounded) + two_sum_err_f32(a, b)` exactly.
pub fn two_sum_err_f32(a: f32, b: f32) -> f32 {
    let s = a + b;
    let bb = s - a;
    (a - (s - bb)) + (b - bb)
}

/// The rounding error of `a * b` (`f32`), for products that neither overflow nor underflow.
pub fn two_prod_err_f32(a: f32, b: f32) -> f32 {
    let p = a * b;
    let ca = a * 4097.0;
    let a_hi = ca - (ca - a);
    let a_lo = a - a_hi;
    let cb = b * 4097.0;
    let b_hi = cb - (cb - b);
    let b_lo = b - b_hi;
    ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
}

/// The rounding error of `a + b` (`f64`).
pub fn two_sum_err_f64(a: f64, b: f64) -> f64 {
    let s = a + b;
    let bb = s - a;
    (a - (s - bb)) + (b - bb)
}

/// The rounding error of `a * b` (`f64`), for products that neither overflow nor underflow.
pub fn two_prod_err_f64(a: f64, b: f64) -> f64 {
    let p = a * b;
    let ca = a * 134217729.0;
    let a_hi = ca - (ca - a);
    let a_lo = a - a_hi;
    let cb = b * 134217729.0;
    let b_hi = cb - (cb - b);
    let b_lo = b - b_hi;
    ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
}
