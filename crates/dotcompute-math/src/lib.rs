//! The math library of DotCompute's kernel language, written in that language.
//!
//! A kernel's `x.exp()` is not the device's `exp`: Vulkan lets drivers be thousands of ulp off
//! (and SPIR-V has no `f64` transcendental functions at all), CUDA's differ from the CPU's,
//! and the CPU's libm call stops a loop from vectorising. So `#[kernel]` replaces each call
//! of a function this library implements by a call of the library's function, compiled into
//! the kernel like a `#[kernel_fn]` helper: every backend runs the same operations in the same
//! order, and a backend whose `+ - * /` and `sqrt` are IEEE-exact (the CPU, lavapipe, CUDA
//! with its precise flags) computes the same bits. `#[kernel(fast_math)]` keeps the device's
//! own functions instead.
//!
//! The functions are plain Rust too: this crate compiles them natively, which is how their
//! accuracy is tested (against higher-precision references, every `f32` input for the
//! one-argument `f32` functions in `scripts/math-accuracy.sh`).
//!
//! | method | f32 | f64 | algorithm |
//! | --- | --- | --- | --- |
//! | `exp` | [`exp::exp_f32`] | [`exp::exp_f64`] | msun's reduction and rational approximation |
//! | `exp2` | [`exp::exp2_f32`] | [`exp::exp2_f64`] | exact split of r ln 2, then `exp`'s kernel |
//! | `ln` | [`log::ln_f32`] | [`log::ln_f64`] | msun's `logf` / `log` |
//! | `ln_1p` | [`log::ln_1p_f32`] | [`log::ln_1p_f64`] | msun's `log1pf` / `log1p`, 1 + x's rounding error added back |
//! | `log2` | [`log::log2_f32`] | [`log::log2_f64`] | msun's, with the split high part |
//! | `log10` | [`log::log10_f32`] | [`log::log10_f64`] | msun's, with the split high part |
//! | `atan` | [`atan::atan_f32`] | [`atan::atan_f64`] | msun's four reductions, odd polynomial |
//! | `atan2` | [`atan::atan2_f32`] | [`atan::atan2_f64`] | msun's cases; the quotient's error and pi added before rounding |
//! | `asin` | [`asin::asin_f32`] | [`asin::asin_f64`] | msun's rational approximation and half-angle identity |
//! | `acos` | [`asin::acos_f32`] | [`asin::acos_f64`] | as `asin` |
//! | `cbrt` | [`cbrt::cbrt_f32`] | [`cbrt::cbrt_f64`] | bit trick, two Halley steps, a Newton step with an exact residual |
//! | `sin` | [`trig::sin_f32`] | [`trig::sin_f64`] | pi/2 in parts or Payne-Hanek, msun's kernels |
//! | `cos` | [`trig::cos_f32`] | [`trig::cos_f64`] | as `sin` |
//! | `tan` | [`trig::tan_f32`] | [`trig::tan_f64`] | `sin`'s reduction, sin / cos as sums of two floats |
//! | `powf` | [`pow::powf_f32`] | [`pow::powf_f64`] | msun's: log2 and y log2 x in extra precision, then 2^z |
//! | `exp_m1` | [`expm1::exp_m1_f32`] | [`expm1::exp_m1_f64`] | msun's, the recombination chosen by k |
//! | `sinh` `cosh` `tanh` | [`hyperbolic::sinh_f32`] ... | [`hyperbolic::sinh_f64`] ... | e^x as two floats, Taylor near 0 |
//! | `hypot` | [`hypot::hypot_f32`] | [`hypot::hypot_f64`] | scaled, sum of squares as two floats, one Newton step |
//! | `powi` | [`powi::powi_f32`] | [`powi::powi_f64`] | binary exponentiation, one division |
//!
//! ```
//! use dotcompute_math::exp::exp_f32;
//! assert_eq!(exp_f32(0.0), 1.0);
//! assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
//! assert!((exp_f32(1.0) - std::f32::consts::E).abs() <= f32::EPSILON * 2.0);
//! ```

// The kernel language has no ranges as values: `a <= x && x < b` is how it tests one.
#![allow(clippy::manual_range_contains)]

pub mod asin;
pub mod atan;
pub mod cbrt;
pub mod exact;
pub mod exp;
pub mod expm1;
pub mod hyperbolic;
pub mod hypot;
pub mod log;
pub mod pow;
pub mod powi;
pub mod trig;

/// The library's source, for `#[kernel]` to lower: every file of functions.
pub const SOURCES: &[&str] = &[
    include_str!("asin.rs"),
    include_str!("atan.rs"),
    include_str!("cbrt.rs"),
    include_str!("exact.rs"),
    include_str!("exp.rs"),
    include_str!("expm1.rs"),
    include_str!("hyperbolic.rs"),
    include_str!("hypot.rs"),
    include_str!("log.rs"),
    include_str!("pow.rs"),
    include_str!("powi.rs"),
    include_str!("trig.rs"),
];

/// Which library function implements each math method: (method, type, function name).
pub const FUNCTIONS: &[(&str, &str, &str)] = &[
    ("exp", "f32", "exp_f32"),
    ("exp", "f64", "exp_f64"),
    ("exp2", "f32", "exp2_f32"),
    ("exp2", "f64", "exp2_f64"),
    ("ln", "f32", "ln_f32"),
    ("ln", "f64", "ln_f64"),
    ("ln_1p", "f32", "ln_1p_f32"),
    ("ln_1p", "f64", "ln_1p_f64"),
    ("log2", "f32", "log2_f32"),
    ("log2", "f64", "log2_f64"),
    ("log10", "f32", "log10_f32"),
    ("log10", "f64", "log10_f64"),
    ("atan", "f32", "atan_f32"),
    ("atan", "f64", "atan_f64"),
    ("atan2", "f32", "atan2_f32"),
    ("atan2", "f64", "atan2_f64"),
    ("asin", "f32", "asin_f32"),
    ("asin", "f64", "asin_f64"),
    ("acos", "f32", "acos_f32"),
    ("acos", "f64", "acos_f64"),
    ("cbrt", "f32", "cbrt_f32"),
    ("cbrt", "f64", "cbrt_f64"),
    ("sin", "f32", "sin_f32"),
    ("sin", "f64", "sin_f64"),
    ("cos", "f32", "cos_f32"),
    ("cos", "f64", "cos_f64"),
    ("tan", "f32", "tan_f32"),
    ("tan", "f64", "tan_f64"),
    ("powf", "f32", "powf_f32"),
    ("powf", "f64", "powf_f64"),
    ("exp_m1", "f32", "exp_m1_f32"),
    ("exp_m1", "f64", "exp_m1_f64"),
    ("sinh", "f32", "sinh_f32"),
    ("sinh", "f64", "sinh_f64"),
    ("cosh", "f32", "cosh_f32"),
    ("cosh", "f64", "cosh_f64"),
    ("tanh", "f32", "tanh_f32"),
    ("tanh", "f64", "tanh_f64"),
    ("hypot", "f32", "hypot_f32"),
    ("hypot", "f64", "hypot_f64"),
    ("powi", "f32", "powi_f32"),
    ("powi", "f64", "powi_f64"),
];
