//! Accuracy of the library's functions, natively: `f32` functions on a million inputs spread
//! over every exponent (against the `f64` functions of the platform's libm, whose error is
//! negligible at `f32` precision), `f64` functions on random inputs of every exponent and of
//! their main range (against 192-bit values from astro-float, which rounds correctly), and
//! the special values of C99 Annex F.
//! `scripts/math-accuracy.sh` checks every `f32` input.

#![allow(clippy::unwrap_used, clippy::panic)] // tests fail by panicking

use astro_float::{BigFloat, Consts, RoundingMode};
use dotcompute_math::{asin, atan, cbrt, exp, expm1, hyperbolic, hypot, log, pow, powi, trig};

/// The error of `got` against the exact value `want` (an `f64`), in `f32` ulps at `want`.
fn ulps_f32(got: f32, want: f64) -> f64 {
    let ulp = if want.abs() < f64::from(f32::MIN_POSITIVE) {
        2f64.powi(-149)
    } else {
        2f64.powi(want.abs().log2().floor() as i32 - 23)
    };
    (f64::from(got) - want).abs() / ulp
}

/// Bit patterns of every sign and exponent, a million in all.
fn f32_inputs() -> impl Iterator<Item = f32> {
    (0..(1u64 << 20)).map(|i| f32::from_bits(((i * 4099) % (1u64 << 32)) as u32))
}

/// Max error of `ours` against `reference` over [`f32_inputs`]; results where the reference
/// is not finite (or ours is NaN) must match it exactly.
fn check_f32(name: &str, ours: fn(f32) -> f32, reference: fn(f64) -> f64) {
    let mut worst = (0.0f64, 0.0f32);
    for x in f32_inputs() {
        let want = reference(f64::from(x));
        let got = ours(x);
        let want_f32 = want as f32;
        if want.is_nan() || got.is_nan() {
            assert!(
                want.is_nan() && got.is_nan(),
                "{name}({x:e}) = {got:e}, want {want:e}"
            );
            continue;
        }
        if !want_f32.is_finite() || !got.is_finite() {
            assert_eq!(got, want_f32, "{name}({x:e})");
            continue;
        }
        let e = ulps_f32(got, want);
        if e > worst.0 {
            worst = (e, x);
        }
    }
    eprintln!("{name}: max error {:.3} ulp at {:e}", worst.0, worst.1);
    assert!(worst.0 < 1.0, "{name}: {:.3} ulp at {:e}", worst.0, worst.1);
}

#[test]
fn f32_functions_are_faithful() {
    check_f32("sin_f32", trig::sin_f32, f64::sin);
    check_f32("cos_f32", trig::cos_f32, f64::cos);
    check_f32("tan_f32", trig::tan_f32, f64::tan);
    check_f32("atan_f32", atan::atan_f32, f64::atan);
    check_f32("asin_f32", asin::asin_f32, f64::asin);
    check_f32("acos_f32", asin::acos_f32, f64::acos);
    check_f32("cbrt_f32", cbrt::cbrt_f32, f64::cbrt);
    check_f32("exp_f32", exp::exp_f32, f64::exp);
    check_f32("exp_m1_f32", expm1::exp_m1_f32, f64::exp_m1);
    check_f32("sinh_f32", hyperbolic::sinh_f32, f64::sinh);
    check_f32("cosh_f32", hyperbolic::cosh_f32, f64::cosh);
    check_f32("tanh_f32", hyperbolic::tanh_f32, f64::tanh);
    check_f32("exp2_f32", exp::exp2_f32, f64::exp2);
    check_f32("ln_f32", log::ln_f32, f64::ln);
    check_f32("ln_1p_f32", log::ln_1p_f32, f64::ln_1p);
    check_f32("log2_f32", log::log2_f32, f64::log2);
    check_f32("log10_f32", log::log10_f32, f64::log10);
}

/// Bits of the reference computations (astro-float).
const P: usize = 192;

/// One step of Marsaglia's xorshift64: reproducible inputs without a dependency.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// The error of `got` against `f(x)` computed with 192 bits (astro-float rounds correctly),
/// in `f64` ulps at the exact value.
fn ulps_f64(got: f64, exact: &BigFloat) -> f64 {
    let want: f64 = format!("{exact}").parse().unwrap_or(f64::NAN);
    // The ulp of the binade of |want| (exact: the next float minus this one, from below the
    // binade's top); the ratio is taken in 192 bits, since a difference below the smallest
    // subnormal would not survive a conversion to f64.
    let magnitude = want.abs();
    let ulp = f64::from_bits(magnitude.to_bits() + 1) - magnitude;
    let diff = big(got).sub(exact, P, RoundingMode::ToEven);
    let ratio = diff.div(&big(ulp), P, RoundingMode::ToEven);
    format!("{ratio}")
        .parse::<f64>()
        .map_or(f64::INFINITY, f64::abs)
}

type Reference = fn(&BigFloat, &mut Consts) -> BigFloat;

/// `x` as a 192-bit number. (astro-float 0.9's `from_f64` halves subnormals: they are scaled
/// into the normal range first, and back exactly.)
fn big(x: f64) -> BigFloat {
    if x != 0.0 && x.abs() < f64::MIN_POSITIVE {
        let scale = 2f64.powi(64);
        return BigFloat::from_f64(x * scale, P).div(
            &BigFloat::from_f64(scale, P),
            P,
            RoundingMode::ToEven,
        );
    }
    BigFloat::from_f64(x, P)
}

fn check_f64(name: &str, ours: fn(f64) -> f64, reference: Reference, inputs: &[f64]) {
    let mut cc = Consts::new().unwrap();
    let mut worst = (0.0f64, 0.0f64);
    for &x in inputs {
        let got = ours(x);
        let exact = reference(&big(x), &mut cc);
        if exact.is_nan() || got.is_nan() {
            assert!(
                exact.is_nan() && got.is_nan(),
                "{name}({x:e}) = {got:e}, want {exact}"
            );
            continue;
        }
        let want: f64 = format!("{exact}").parse().unwrap_or(f64::NAN);
        if !want.is_finite() || !got.is_finite() || want == 0.0 {
            assert_eq!(got, want, "{name}({x:e})");
            continue;
        }
        let e = ulps_f64(got, &exact);
        if e > worst.0 {
            worst = (e, x);
        }
    }
    eprintln!("{name}: max error {:.3} ulp at {:e}", worst.0, worst.1);
    assert!(worst.0 < 1.0, "{name}: {:.3} ulp at {:e}", worst.0, worst.1);
}

/// Random `f64`s of every exponent, and random ones in [lo, hi).
fn f64_inputs(lo: f64, hi: f64) -> Vec<f64> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || xorshift(&mut state);
    let mut v: Vec<f64> = (0..4_000).map(|_| f64::from_bits(next())).collect();
    v.extend((0..8_000).map(|_| lo + (hi - lo) * (next() >> 11) as f64 / (1u64 << 53) as f64));
    v
}

#[test]
fn f64_functions_are_faithful() {
    check_f64(
        "exp_f64",
        exp::exp_f64,
        |x, cc| x.exp(P, RoundingMode::ToEven, cc),
        &f64_inputs(-750.0, 710.0),
    );
    check_f64(
        "exp2_f64",
        exp::exp2_f64,
        |x, cc| BigFloat::from_f64(2.0, P).pow(x, P, RoundingMode::ToEven, cc),
        &f64_inputs(-1080.0, 1025.0),
    );
    check_f64(
        "exp_m1_f64",
        expm1::exp_m1_f64,
        |x, cc| {
            // 320 bits: e^x - 1 cancels for small x (inputs below 2^-60 are left out).
            const Q: usize = 320;
            x.exp(Q, RoundingMode::ToEven, cc).sub(
                &BigFloat::from_f64(1.0, Q),
                Q,
                RoundingMode::ToEven,
            )
        },
        &f64_inputs(-40.0, 40.0)
            .into_iter()
            .filter(|x| x.abs() > 1e-18)
            .collect::<Vec<_>>(),
    );
    // The inputs left out: below 2^-54, e^x - 1 rounds to x itself (x^2 / 2 is far below half
    // an ulp of x), so the result must be x, bit for bit.
    let tiny = f64_inputs(-40.0, 40.0)
        .into_iter()
        .filter(|x| x.abs() <= 1e-18);
    for x in tiny.chain([0.0, -0.0, 1e-300, -5e-324, 1e-18]) {
        assert_eq!(
            expm1::exp_m1_f64(x).to_bits(),
            x.to_bits(),
            "exp_m1_f64({x:e})"
        );
    }
    check_f64(
        "atan_f64",
        atan::atan_f64,
        |x, cc| x.atan(P, RoundingMode::ToEven, cc),
        &f64_inputs(-5.0, 5.0),
    );
    // A few turns; the rest of the medium range (below 2^20); and doubles within a few ulp
    // of multiples of pi/2 there, where the reduction cancels most.
    let mut turns = f64_inputs(-20.0, 20.0);
    turns.extend(f64_inputs(-1.1e6, 1.1e6));
    turns.extend((1..2000u64).flat_map(|k| {
        let near = (k * 523) as f64 * std::f64::consts::FRAC_PI_2;
        [-2i64, -1, 0, 1, 2].map(|d| f64::from_bits((near.to_bits() as i64 + d) as u64))
    }));
    for (name, f, r) in [
        (
            "sin_f64",
            trig::sin_f64 as fn(f64) -> f64,
            (|x, cc| x.sin(P, RoundingMode::ToEven, cc)) as Reference,
        ),
        ("cos_f64", trig::cos_f64, |x, cc| {
            x.cos(P, RoundingMode::ToEven, cc)
        }),
        ("tan_f64", trig::tan_f64, |x, cc| {
            x.tan(P, RoundingMode::ToEven, cc)
        }),
    ] {
        check_f64(name, f, r, &turns);
    }
    let unit = f64_inputs(-1.0, 1.0);
    check_f64(
        "asin_f64",
        asin::asin_f64,
        |x, cc| x.asin(P, RoundingMode::ToEven, cc),
        &unit,
    );
    check_f64(
        "acos_f64",
        asin::acos_f64,
        |x, cc| x.acos(P, RoundingMode::ToEven, cc),
        &unit,
    );
    check_f64(
        "cbrt_f64",
        cbrt::cbrt_f64,
        |x, _| x.cbrt(P, RoundingMode::ToEven),
        &f64_inputs(-10.0, 10.0),
    );
    let moderate = f64_inputs(-30.0, 30.0);
    check_f64(
        "sinh_f64",
        hyperbolic::sinh_f64,
        |x, cc| x.sinh(P, RoundingMode::ToEven, cc),
        &moderate,
    );
    check_f64(
        "cosh_f64",
        hyperbolic::cosh_f64,
        |x, cc| x.cosh(P, RoundingMode::ToEven, cc),
        &moderate,
    );
    check_f64(
        "tanh_f64",
        hyperbolic::tanh_f64,
        |x, cc| x.tanh(P, RoundingMode::ToEven, cc),
        &moderate,
    );
    check_f64(
        "ln_1p_f64",
        log::ln_1p_f64,
        |x, cc| {
            // 320 bits: ln(1 + x) cancels for small x (inputs below 1e-18 are left out).
            const Q: usize = 320;
            x.add(&BigFloat::from_f64(1.0, Q), Q, RoundingMode::ToEven)
                .ln(Q, RoundingMode::ToEven, cc)
        },
        &f64_inputs(-1.0, 3.0)
            .into_iter()
            .filter(|x| x.abs() > 1e-18)
            .collect::<Vec<_>>(),
    );
    // The inputs left out: below 2^-53, ln(1 + x) rounds to x itself, bit for bit.
    let tiny = f64_inputs(-1.0, 3.0)
        .into_iter()
        .filter(|x| x.abs() <= 1e-18);
    for x in tiny.chain([0.0, -0.0, 1e-300, -5e-324, 1e-18, -1e-18]) {
        assert_eq!(log::ln_1p_f64(x).to_bits(), x.to_bits(), "ln_1p_f64({x:e})");
    }
    let positive = f64_inputs(0.0, 4.0);
    check_f64(
        "ln_f64",
        log::ln_f64,
        |x, cc| x.ln(P, RoundingMode::ToEven, cc),
        &positive,
    );
    check_f64(
        "log2_f64",
        log::log2_f64,
        |x, cc| x.log2(P, RoundingMode::ToEven, cc),
        &positive,
    );
    check_f64(
        "log10_f64",
        log::log10_f64,
        |x, cc| x.log10(P, RoundingMode::ToEven, cc),
        &positive,
    );
}

#[test]
fn hypot_is_faithful() {
    // f32: pairs of every magnitude and ratio, against f64 (exact enough at f32 precision).
    let mut worst = (0.0f64, 0.0f32, 0.0f32);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for i in 0..1_000_000u64 {
        xorshift(&mut state);
        let x = f32::from_bits(state as u32 & 0x7fff_ffff);
        // The second operand near the first in magnitude, or anywhere.
        let y = if i % 2 == 0 {
            x * f32::from_bits(0x3f80_0000 ^ ((state >> 40) as u32 & 0x0f7f_ffff))
        } else {
            f32::from_bits((state >> 32) as u32)
        };
        let want = f64::from(x).hypot(f64::from(y));
        let got = hypot::hypot_f32(x, y);
        if want.is_nan() {
            assert!(got.is_nan(), "hypot({x:e}, {y:e}) = {got:e}");
            continue;
        }
        if !want.is_finite() || want == 0.0 || (want as f32).is_infinite() {
            assert_eq!(
                got.to_bits(),
                (want as f32).to_bits(),
                "hypot({x:e}, {y:e})"
            );
            continue;
        }
        let e = ulps_f32(got, want);
        if e > worst.0 {
            worst = (e, x, y);
        }
    }
    eprintln!(
        "hypot_f32: max error {:.3} ulp at ({:e}, {:e})",
        worst.0, worst.1, worst.2
    );
    assert!(worst.0 < 1.0, "hypot_f32: {worst:?}");
    // f64 against 192 bits.
    let rm = RoundingMode::ToEven;
    let mut worst = (0.0f64, 0.0f64, 0.0f64);
    let inputs = f64_inputs(-1e3, 1e3);
    for pair in inputs.chunks_exact(2) {
        let (x, y) = (pair[0], pair[1]);
        let got = hypot::hypot_f64(x, y);
        let (bx, by) = (big(x), big(y));
        let sum = bx.mul(&bx, P, rm).add(&by.mul(&by, P, rm), P, rm);
        let exact = sum.sqrt(P, rm);
        let want: f64 = format!("{exact}").parse().unwrap_or(f64::NAN);
        if !want.is_finite() || !got.is_finite() || want == 0.0 {
            assert_eq!(got.to_bits(), want.to_bits(), "hypot({x:e}, {y:e})");
            continue;
        }
        let e = ulps_f64(got, &exact);
        if e > worst.0 {
            worst = (e, x, y);
        }
    }
    eprintln!(
        "hypot_f64: max error {:.3} ulp at ({:e}, {:e})",
        worst.0, worst.1, worst.2
    );
    assert!(worst.0 < 1.0, "hypot_f64: {worst:?}");
    // C99: an infinity wins over a NaN; zeros; subnormals; overflow.
    assert_eq!(hypot::hypot_f32(f32::NAN, f32::NEG_INFINITY), f32::INFINITY);
    assert!(hypot::hypot_f32(f32::NAN, 1.0).is_nan());
    assert_eq!(hypot::hypot_f32(-0.0, 0.0).to_bits(), 0);
    assert_eq!(hypot::hypot_f32(3.0, -4.0), 5.0);
    assert_eq!(
        hypot::hypot_f32(f32::from_bits(3), f32::from_bits(4)),
        f32::from_bits(5)
    );
    assert_eq!(hypot::hypot_f32(f32::MAX, f32::MAX), f32::INFINITY);
    assert_eq!(hypot::hypot_f64(f64::INFINITY, f64::NAN), f64::INFINITY);
    assert_eq!(hypot::hypot_f64(3e300, 4e300), 5e300);
    assert_eq!(
        hypot::hypot_f64(f64::from_bits(3), f64::from_bits(4)),
        f64::from_bits(5)
    );
}

/// atan2(y, x) exactly: atan(y / x) moved to x's half-plane.
fn atan2_exact(y: f64, x: f64, cc: &mut Consts) -> BigFloat {
    let rm = RoundingMode::ToEven;
    let z = big(y).div(&big(x), P, rm).atan(P, rm, cc);
    if x > 0.0 {
        return z;
    }
    let pi = cc.pi(P, rm);
    if y >= 0.0 {
        z.add(&pi, P, rm)
    } else {
        z.sub(&pi, P, rm)
    }
}

#[test]
fn atan2_is_faithful() {
    // f32: pairs of every magnitude and sign, against the f64 function.
    let mut worst = (0.0f64, 0.0f32, 0.0f32);
    let mut state = 0x1234_5678_9abc_def1u64;
    for i in 0..2_000_000u64 {
        xorshift(&mut state);
        let x = f32::from_bits(state as u32);
        // Half the pairs of magnitudes within a few binades of each other.
        let y = if i % 2 == 0 {
            x * f32::from_bits(0x3f80_0000 ^ ((state >> 32) as u32 & 0x8f7f_ffff))
        } else {
            f32::from_bits((state >> 32) as u32)
        };
        let want = f64::from(y).atan2(f64::from(x));
        let got = atan::atan2_f32(y, x);
        if want.is_nan() {
            assert!(got.is_nan(), "atan2({y:e}, {x:e}) = {got:e}");
            continue;
        }
        if (want as f32) == 0.0 {
            assert_eq!(
                got.to_bits(),
                (want as f32).to_bits(),
                "atan2({y:e}, {x:e})"
            );
            continue;
        }
        assert!(!got.is_nan(), "atan2({y:e}, {x:e}) = NaN, want {want:e}");
        let e = ulps_f32(got, want);
        if e > worst.0 {
            worst = (e, y, x);
        }
    }
    eprintln!(
        "atan2_f32: max error {:.3} ulp at ({:e}, {:e})",
        worst.0, worst.1, worst.2
    );
    assert!(worst.0 < 1.0, "atan2_f32: {worst:?}");
    // f64 against 192 bits.
    let mut cc = Consts::new().unwrap();
    let mut worst = (0.0f64, 0.0f64, 0.0f64);
    let inputs = f64_inputs(-4.0, 4.0);
    for pair in inputs.chunks_exact(2) {
        let (y, x) = (pair[0], pair[1]);
        let got = atan::atan2_f64(y, x);
        if x == 0.0 || y == 0.0 || !x.is_finite() || !y.is_finite() {
            assert_eq!(got.to_bits(), y.atan2(x).to_bits(), "atan2({y:e}, {x:e})");
            continue;
        }
        assert!(!got.is_nan(), "atan2({y:e}, {x:e}) = NaN");
        let exact = atan2_exact(y, x, &mut cc);
        let want: f64 = format!("{exact}").parse().unwrap_or(f64::NAN);
        if want == 0.0 {
            assert_eq!(got.to_bits(), want.to_bits(), "atan2({y:e}, {x:e})");
            continue;
        }
        let e = ulps_f64(got, &exact);
        if e > worst.0 {
            worst = (e, y, x);
        }
    }
    eprintln!(
        "atan2_f64: max error {:.3} ulp at ({:e}, {:e})",
        worst.0, worst.1, worst.2
    );
    assert!(worst.0 < 1.0, "atan2_f64: {worst:?}");
    // C99 Annex F's special cases, as the platform's libm gives them.
    let specials = [
        0.0f64,
        -0.0,
        1.0,
        -1.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1e-310,
        -1e300,
    ];
    for &y in &specials {
        for &x in &specials {
            let want = y.atan2(x);
            let got = atan::atan2_f64(y, x);
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "atan2_f64({y:e}, {x:e}) = {got:e}, want {want:e}"
            );
            let (y32, x32) = (y as f32, x as f32);
            let want = y32.atan2(x32);
            let got = atan::atan2_f32(y32, x32);
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "atan2_f32({y32:e}, {x32:e}) = {got:e}, want {want:e}"
            );
        }
    }
}

/// x^y exactly (192 bits), for finite x and y with a finite, nonzero result: as
/// e^(y ln|x|) (astro-float 0.9's `pow` does not return for some inputs, 1.013365926529^3
/// among them).
fn pow_exact(x: f64, y: f64, cc: &mut Consts) -> BigFloat {
    let rm = RoundingMode::ToEven;
    let magnitude = big(x.abs())
        .ln(P, rm, cc)
        .mul(&big(y), P, rm)
        .exp(P, rm, cc);
    let odd = y.trunc() == y && (0.5 * y).trunc() != 0.5 * y;
    if x < 0.0 && odd {
        magnitude.neg()
    } else {
        magnitude
    }
}

/// Pairs for `pow`: x of every exponent or near 1, y of every exponent or moderate.
fn pow_pairs(count: usize, seed: u64) -> Vec<(f64, f64)> {
    let mut state = seed;
    (0..count)
        .map(|i| {
            let a = xorshift(&mut state);
            let b = xorshift(&mut state);
            let x = match i % 4 {
                0 => f64::from_bits(a),
                1 => {
                    1.0 + ((a >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
                        * 2f64.powi(-((i % 40) as i32))
                }
                _ => f64::from_bits((a & 0x800f_ffff_ffff_ffff) | (((a >> 52) % 40 + 1003) << 52)),
            };
            let y = match i % 3 {
                0 => f64::from_bits(b),
                1 => ((b >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2000.0,
                // Integers, where a negative x gives a finite result.
                _ => ((b >> 11) % 200) as f64 - 100.0,
            };
            (x, y)
        })
        .collect()
}

#[test]
fn pow_is_faithful() {
    // f32 against the f64 function (exact enough at f32 precision).
    let mut worst = (0.0f64, 0.0f32, 0.0f32);
    for (x, y) in pow_pairs(2_000_000, 0x5851_f42d_4c95_7f2d) {
        let (x, y) = (x as f32, y as f32);
        let want = f64::from(x).powf(f64::from(y));
        let got = pow::powf_f32(x, y);
        let rounded = want as f32;
        if want.is_nan() || !rounded.is_finite() || rounded == 0.0 || !got.is_finite() {
            assert!(
                got.to_bits() == rounded.to_bits() || (got.is_nan() && want.is_nan()),
                "powf_f32({x:e}, {y:e}) = {got:e}, want {want:e}"
            );
            continue;
        }
        assert!(!got.is_nan(), "powf_f32({x:e}, {y:e}) = NaN, want {want:e}");
        let e = ulps_f32(got, want);
        if e > worst.0 {
            worst = (e, x, y);
        }
    }
    eprintln!(
        "powf_f32: max error {:.3} ulp at ({:e}, {:e})",
        worst.0, worst.1, worst.2
    );
    assert!(worst.0 < 1.0, "powf_f32: {worst:?}");
    // f64 against 192 bits.
    let mut cc = Consts::new().unwrap();
    let mut worst = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in pow_pairs(12_000, 0x2545_f491_4f6c_dd1d) {
        let got = pow::powf_f64(x, y);
        let libm = x.powf(y);
        if !libm.is_finite() || libm == 0.0 || x == 0.0 || !x.is_finite() || !y.is_finite() {
            // Special values and results beyond the range: the same bits as C99's.
            assert!(
                got.to_bits() == libm.to_bits() || (got.is_nan() && libm.is_nan()),
                "powf_f64({x:e}, {y:e}) = {got:e}, want {libm:e}"
            );
            continue;
        }
        assert!(!got.is_nan(), "powf_f64({x:e}, {y:e}) = NaN, want {libm:e}");
        let exact = pow_exact(x, y, &mut cc);
        let e = ulps_f64(got, &exact);
        if e > worst.0 {
            worst = (e, x, y);
        }
    }
    eprintln!(
        "powf_f64: max error {:.3} ulp at ({:e}, {:e})",
        worst.0, worst.1, worst.2
    );
    assert!(worst.0 < 1.0, "powf_f64: {worst:?}");
    // C99 Annex F's special cases, as the platform's libm gives them.
    let specials = [
        0.0f64,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.0,
        -2.0,
        3.0,
        -3.0,
        2.5,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1e-310,
        -1e300,
        1e10,
        -1e10,
    ];
    // Results that are special (a zero, an infinity, NaN, x itself) must be C99's bits; the
    // others (2.5^-0.5, ...) within an ulp of the platform's.
    let close64 = |got: f64, want: f64| {
        got.to_bits() == want.to_bits()
            || (got.is_nan() && want.is_nan())
            || (want.is_finite() && want != 0.0 && got.to_bits().abs_diff(want.to_bits()) <= 1)
    };
    let close32 = |got: f32, want: f32| {
        got.to_bits() == want.to_bits()
            || (got.is_nan() && want.is_nan())
            || (want.is_finite() && want != 0.0 && got.to_bits().abs_diff(want.to_bits()) <= 1)
    };
    for &x in &specials {
        for &y in &specials {
            let special = !x.is_finite() || !y.is_finite() || x == 0.0 || x.abs() == 1.0;
            let want = x.powf(y);
            let got = pow::powf_f64(x, y);
            let exact = !want.is_finite() || want == 0.0 || special || y.abs() == 1.0;
            assert!(
                if exact {
                    got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan())
                } else {
                    close64(got, want)
                },
                "powf_f64({x:e}, {y:e}) = {got:e}, want {want:e}"
            );
            let (x32, y32) = (x as f32, y as f32);
            let want = x32.powf(y32);
            let got = pow::powf_f32(x32, y32);
            let exact = !want.is_finite() || want == 0.0 || special || y32.abs() == 1.0;
            assert!(
                if exact {
                    got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan())
                } else {
                    close32(got, want)
                },
                "powf_f32({x32:e}, {y32:e}) = {got:e}, want {want:e}"
            );
        }
    }
    // |y| just above 2^27 with x a few ulp below 1: finite results (a review found these
    // flushed to 0 and inf).
    for (bits, y) in [
        (0x3f7f_fff5u32, 134217744.0f32),
        (0x3f7f_fff4, 134217744.0),
        (0x3f7f_fff5, -134217744.0),
        (0xbf7f_fff5, 134217744.0),
    ] {
        let x = f32::from_bits(bits);
        let want = f64::from(x).powf(f64::from(y));
        let got = pow::powf_f32(x, y);
        assert!(
            got.is_finite() && got != 0.0 && ulps_f32(got, want) < 1.0,
            "powf_f32({x:e}, {y:e}) = {got:e}, want {want:e}"
        );
    }
    // Exact powers stay exact.
    assert_eq!(pow::powf_f32(3.0, 5.0), 243.0);
    assert_eq!(pow::powf_f64(10.0, 22.0), 1e22);
    assert_eq!(pow::powf_f64(-2.0, -3.0), -0.125);
    assert_eq!(pow::powf_f32(2.0, -149.0), f32::from_bits(1));
}

#[test]
fn special_values_are_c99s() {
    let same =
        |got: f32, want: f32| got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan());
    for (got, want) in [
        (exp::exp_f32(0.0), 1.0),
        (exp::exp_f32(-0.0), 1.0),
        (exp::exp_f32(f32::INFINITY), f32::INFINITY),
        (exp::exp_f32(f32::NEG_INFINITY), 0.0),
        (exp::exp_f32(f32::NAN), f32::NAN),
        (exp::exp_f32(89.0), f32::INFINITY),
        (exp::exp_f32(-104.0), 0.0),
        (exp::exp_f32(-100.0), f32::from_bits(27)),
        (exp::exp2_f32(-149.0), f32::from_bits(1)),
        (exp::exp2_f32(127.0), 1.7014118e38),
        (exp::exp2_f32(128.0), f32::INFINITY),
        (exp::exp2_f32(3.0), 8.0),
        (exp::exp2_f32(f32::NEG_INFINITY), 0.0),
        (log::ln_f32(1.0), 0.0),
        (log::ln_f32(0.0), f32::NEG_INFINITY),
        (log::ln_f32(-0.0), f32::NEG_INFINITY),
        (log::ln_f32(-1.0), f32::NAN),
        (log::ln_f32(f32::INFINITY), f32::INFINITY),
        (log::ln_f32(1e-40), -92.10341),
        (log::log2_f32(1.0), 0.0),
        (log::log2_f32(0.125), -3.0),
        (log::log2_f32(f32::from_bits(1)), -149.0),
        (log::log2_f32(-0.0), f32::NEG_INFINITY),
        (log::log10_f32(1000.0), 3.0),
        (log::log10_f32(f32::NEG_INFINITY), f32::NAN),
        (trig::sin_f32(0.0), 0.0),
        (trig::sin_f32(-0.0), -0.0),
        (trig::sin_f32(1e-40), 1e-40),
        (trig::sin_f32(-1e-40), -1e-40),
        (trig::cos_f32(-0.0), 1.0),
        (trig::cos_f32(1e-40), 1.0),
        (trig::sin_f32(f32::INFINITY), f32::NAN),
        (trig::cos_f32(f32::NEG_INFINITY), f32::NAN),
        (trig::sin_f32(f32::NAN), f32::NAN),
        (exp::exp2_f32(-0.0), 1.0),
        (hyperbolic::tanh_f32(-0.0), -0.0),
        (hyperbolic::sinh_f32(-0.0), -0.0),
        (hyperbolic::cosh_f32(-0.0), 1.0),
        (hyperbolic::tanh_f32(f32::NEG_INFINITY), -1.0),
        (hyperbolic::sinh_f32(f32::NEG_INFINITY), f32::NEG_INFINITY),
        (hyperbolic::cosh_f32(f32::NEG_INFINITY), f32::INFINITY),
        (log::ln_f32(f32::MIN_POSITIVE), -87.33655),
        (log::ln_1p_f32(-0.0), -0.0),
        (log::ln_1p_f32(1e-40), 1e-40),
        (log::ln_1p_f32(-1.0), f32::NEG_INFINITY),
        (log::ln_1p_f32(-1.5), f32::NAN),
        (log::ln_1p_f32(f32::INFINITY), f32::INFINITY),
        (log::ln_1p_f32(f32::MAX), 88.72284),
        (asin::asin_f32(-0.0), -0.0),
        (asin::asin_f32(1.0), std::f32::consts::FRAC_PI_2),
        (asin::asin_f32(-1.0), -std::f32::consts::FRAC_PI_2),
        (asin::asin_f32(1.0000001), f32::NAN),
        (asin::asin_f32(0.5), std::f32::consts::FRAC_PI_6),
        (asin::acos_f32(1.0), 0.0),
        (asin::acos_f32(-1.0), std::f32::consts::PI),
        (asin::acos_f32(0.0), std::f32::consts::FRAC_PI_2),
        (asin::acos_f32(f32::NEG_INFINITY), f32::NAN),
        (cbrt::cbrt_f32(-0.0), -0.0),
        (cbrt::cbrt_f32(27.0), 3.0),
        (cbrt::cbrt_f32(-8.0), -2.0),
        (cbrt::cbrt_f32(f32::INFINITY), f32::INFINITY),
        (cbrt::cbrt_f32(f32::NEG_INFINITY), f32::NEG_INFINITY),
        (cbrt::cbrt_f32(f32::from_bits(1)), 1.1190347e-15),
    ] {
        assert!(
            same(got, want),
            "got {got:e} ({:#x}), want {want:e}",
            got.to_bits()
        );
    }
    assert_eq!(exp::exp_f64(0.0), 1.0);
    assert_eq!(exp::exp_f64(f64::NEG_INFINITY), 0.0);
    assert_eq!(exp::exp_f64(710.0), f64::INFINITY);
    assert_eq!(exp::exp2_f64(-1074.0), f64::from_bits(1));
    assert_eq!(exp::exp2_f64(1023.0), 2f64.powi(1023));
    assert_eq!(log::ln_f64(1.0).to_bits(), 0);
    assert_eq!(log::ln_f64(0.0), f64::NEG_INFINITY);
    assert!(log::ln_f64(-2.0).is_nan());
    assert_eq!(log::log2_f64(f64::from_bits(1)), -1074.0);
    assert_eq!(log::log2_f64(1024.0), 10.0);
    assert_eq!(log::log10_f64(1e10), 10.0);
    assert_eq!(log::ln_1p_f64(-0.0).to_bits(), (-0.0f64).to_bits());
    assert_eq!(log::ln_1p_f64(-1.0), f64::NEG_INFINITY);
    assert!(log::ln_1p_f64(-1.0 - f64::EPSILON).is_nan());
    assert_eq!(log::ln_1p_f64(1e-300), 1e-300);
    assert_eq!(log::ln_1p_f64(f64::INFINITY), f64::INFINITY);
    // The double nearest a multiple of pi/2 (6381956970095103 2^797, Muller's worst case for
    // argument reduction: x = q pi/2 + r with q = 1 mod 4 and r = 4.687e-19), against values
    // worked out with 2,200 bits of pi (the platform's cos is 16 ulp off here).
    let hard = 6381956970095103.0 * 2f64.powi(797);
    assert_eq!(trig::sin_f64(hard), 1.0);
    assert_eq!(trig::cos_f64(hard), -4.687165924254628e-19);
    assert_eq!(trig::tan_f64(hard), -2.133485385753704e18);
    assert_eq!(trig::sin_f64(-0.0).to_bits(), (-0.0f64).to_bits());
    assert_eq!(trig::tan_f64(-0.0).to_bits(), (-0.0f64).to_bits());
    assert_eq!(trig::cos_f64(-0.0), 1.0);
    assert!(trig::sin_f64(f64::INFINITY).is_nan());
    assert!(trig::tan_f64(f64::NEG_INFINITY).is_nan());
    assert_eq!(trig::sin_f64(1e-300), 1e-300);
    assert_eq!(asin::asin_f64(-1.0), -std::f64::consts::FRAC_PI_2);
    assert_eq!(asin::acos_f64(-1.0), std::f64::consts::PI);
    assert_eq!(asin::acos_f64(1.0).to_bits(), 0);
    assert!(asin::acos_f64(1.5).is_nan());
    assert_eq!(asin::asin_f64(-0.0).to_bits(), (-0.0f64).to_bits());
    assert_eq!(cbrt::cbrt_f64(-27.0), -3.0);
    assert_eq!(cbrt::cbrt_f64(1e300), 1e100);
    assert_eq!(cbrt::cbrt_f64(-0.0).to_bits(), (-0.0f64).to_bits());
    assert_eq!(cbrt::cbrt_f64(f64::NEG_INFINITY), f64::NEG_INFINITY);
}

#[test]
fn powi_is_binary_exponentiation_as_compiler_rt_does_it() {
    let mut x = 0.73f32;
    for n in [-40, -7, -1, 0, 1, 2, 3, 5, 17, 64, i32::MAX, i32::MIN] {
        // A variable exponent: LLVM calls compiler-rt, whose order the library keeps.
        let n = std::hint::black_box(n);
        x = std::hint::black_box(x * 1.01);
        assert_eq!(
            powi::powi_f32(x, n).to_bits(),
            x.powi(n).to_bits(),
            "{x}^{n}"
        );
        let y = f64::from(x) * 1.3;
        assert_eq!(
            powi::powi_f64(y, n).to_bits(),
            y.powi(n).to_bits(),
            "{y}^{n}"
        );
    }
    assert_eq!(powi::powi_f32(f32::NAN, 0), 1.0);
}
