//! `powi`: x^n by binary exponentiation, then one division for negative n. This fixes the
//! order of the multiplications, which otherwise depends on the compiler (LLVM expands
//! constant exponents its own way): the library's order is compiler-rt's `__powisf2`, which
//! the CPU ran for variable exponents before this library existed.

/// x^n for `f32`.
pub fn powi_f32(x: f32, n: i32) -> f32 {
    let mut a = x;
    let mut b = n;
    let mut r = 1.0f32;
    loop {
        if b & 1 != 0 {
            r *= a;
        }
        b /= 2;
        if b == 0 {
            break;
        }
        a *= a;
    }
    if n < 0 { 1.0 / r } else { r }
}

/// x^n for `f64`.
pub fn powi_f64(x: f64, n: i32) -> f64 {
    let mut a = x;
    let mut b = n;
    let mut r = 1.0f64;
    loop {
        if b & 1 != 0 {
            r *= a;
        }
        b /= 2;
        if b == 0 {
            break;
        }
        a *= a;
    }
    if n < 0 { 1.0 / r } else { r }
}
