//! Every `f32` input of the one-argument `f32` functions, against the platform's `f64`
//! functions (whose own error is far below an `f32` ulp): prints each function's largest
//! error in ulps and how many results are not correctly rounded. Run by
//! `scripts/math-accuracy.sh` (release build, all cores).

use dotcompute_math::{asin, atan, cbrt, exp, expm1, hyperbolic, log, trig};

/// The error of `got` against `want`, in `f32` ulps at `want`.
fn ulps(got: f32, want: f64) -> f64 {
    let ulp = if want.abs() < f64::from(f32::MIN_POSITIVE) {
        2f64.powi(-149)
    } else {
        2f64.powi(want.abs().log2().floor() as i32 - 23)
    };
    (f64::from(got) - want).abs() / ulp
}

/// A function's name, the library's `f32` version and the reference.
type Function = (&'static str, fn(f32) -> f32, fn(f64) -> f64);

struct Tally {
    worst: f64,
    at: u32,
    not_correctly_rounded: u64,
    special_mismatches: u64,
}

fn check(ours: fn(f32) -> f32, reference: fn(f64) -> f64, bits: std::ops::Range<u64>) -> Tally {
    let mut t = Tally {
        worst: 0.0,
        at: 0,
        not_correctly_rounded: 0,
        special_mismatches: 0,
    };
    for b in bits {
        let x = f32::from_bits(b as u32);
        let want = reference(f64::from(x));
        let got = ours(x);
        let rounded = want as f32;
        if want.is_nan()
            || got.is_nan()
            || !rounded.is_finite()
            || !got.is_finite()
            || rounded == 0.0
        {
            // Special values and zeros: the same bits (a zero's sign included).
            let same = (got.is_nan() && want.is_nan()) || got.to_bits() == rounded.to_bits();
            t.special_mismatches += u64::from(!same);
            continue;
        }
        if got != rounded {
            t.not_correctly_rounded += 1;
        }
        let e = ulps(got, want);
        if e > t.worst {
            t.worst = e;
            t.at = b as u32;
        }
    }
    t
}

fn main() {
    let functions: [Function; 17] = [
        ("ln_1p", log::ln_1p_f32, f64::ln_1p),
        ("tan", trig::tan_f32, f64::tan),
        ("asin", asin::asin_f32, f64::asin),
        ("acos", asin::acos_f32, f64::acos),
        ("cbrt", cbrt::cbrt_f32, f64::cbrt),
        ("sinh", hyperbolic::sinh_f32, f64::sinh),
        ("cosh", hyperbolic::cosh_f32, f64::cosh),
        ("tanh", hyperbolic::tanh_f32, f64::tanh),
        ("atan", atan::atan_f32, f64::atan),
        ("exp_m1", expm1::exp_m1_f32, f64::exp_m1),
        ("sin", trig::sin_f32, f64::sin),
        ("cos", trig::cos_f32, f64::cos),
        ("exp", exp::exp_f32, f64::exp),
        ("exp2", exp::exp2_f32, f64::exp2),
        ("ln", log::ln_f32, f64::ln),
        ("log2", log::log2_f32, f64::log2),
        ("log10", log::log10_f32, f64::log10),
    ];
    // Function names given on the command line: only those.
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let mut failed = false;
    for (name, ours, reference) in functions {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == name) {
            continue;
        }
        let started = std::time::Instant::now();
        let step = (1u64 << 32).div_ceil(threads);
        let tallies: Vec<Tally> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let range = i * step..((i + 1) * step).min(1 << 32);
                    s.spawn(move || check(ours, reference, range))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        eprintln!("a worker thread panicked: its inputs were not all checked");
                        std::process::exit(2)
                    })
                })
                .collect()
        });
        let worst = tallies.iter().max_by(|a, b| a.worst.total_cmp(&b.worst));
        let (worst, at) = worst.map_or((f64::NAN, 0), |t| (t.worst, t.at));
        let incorrect: u64 = tallies.iter().map(|t| t.not_correctly_rounded).sum();
        let special: u64 = tallies.iter().map(|t| t.special_mismatches).sum();
        println!(
            "{name}_f32: all 2^32 inputs: max error {worst:.4} ulp at {:e} ({at:#010x}); {incorrect} results not correctly rounded ({:.4}%); {special} special-value mismatches; {:.0} s",
            f32::from_bits(at),
            incorrect as f64 / 4294967296.0 * 100.0,
            started.elapsed().as_secs_f64()
        );
        failed |= worst >= 1.0 || special > 0;
    }
    if failed {
        std::process::exit(1);
    }
}
