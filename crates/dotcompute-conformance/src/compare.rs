//! Comparing results with references: integers exactly, floats within a tolerance in units in
//! the last place (ULP) or an absolute bound.

use std::fmt;

/// How far a float result may be from the reference: within `ulp` units in the last place, or
/// within `abs` absolutely (for results near zero, where ULPs are tiny). NaN matches NaN.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Largest distance in ULPs.
    pub ulp: u64,
    /// Largest absolute difference.
    pub abs: f64,
    /// The case checks each value against an error bound of its own (the largest ULP
    /// distance is then only reported): e.g. GEMM's `k u sum |a b|`.
    pub own_bound: bool,
}

impl Tolerance {
    /// Bit-exact results.
    pub const EXACT: Tolerance = Tolerance {
        ulp: 0,
        abs: 0.0,
        own_bound: false,
    };

    /// Each value within an error bound that the case computes (described in the case).
    pub const OWN_BOUND: Tolerance = Tolerance {
        ulp: 0,
        abs: 0.0,
        own_bound: true,
    };

    /// Within `ulp` ULPs.
    pub const fn ulp(ulp: u64) -> Tolerance {
        Tolerance {
            ulp,
            abs: 0.0,
            own_bound: false,
        }
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.own_bound {
            write!(f, "the case's error bound")
        } else if self.abs > 0.0 {
            write!(f, "{} ulp or {:e} absolute", self.ulp, self.abs)
        } else if self.ulp > 0 {
            write!(f, "{} ulp", self.ulp)
        } else {
            write!(f, "exact")
        }
    }
}

/// A case's result: how many values were compared and the largest float error seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Values compared.
    pub compared: usize,
    /// Largest distance in ULPs between a float result and its reference (0 for integers).
    pub max_ulp: u64,
}

impl Outcome {
    /// Adds the outcome of comparing another output.
    pub fn merge(self, other: Outcome) -> Outcome {
        Outcome {
            compared: self.compared + other.compared,
            max_ulp: self.max_ulp.max(other.max_ulp),
        }
    }
}

/// The first value outside the tolerance.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// Which output.
    pub output: &'static str,
    /// Element index.
    pub index: usize,
    /// The value computed.
    pub got: String,
    /// The reference value.
    pub want: String,
    /// Distance in ULPs, for floats.
    pub ulp: Option<u64>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}`[{}] is {} but the reference is {}",
            self.output, self.index, self.got, self.want
        )?;
        if let Some(u) = self.ulp {
            write!(f, " ({u} ulp apart)")?;
        }
        Ok(())
    }
}

fn length_mismatch(output: &'static str, got: usize, want: usize) -> Mismatch {
    Mismatch {
        output,
        index: got.min(want),
        got: format!("{got} elements"),
        want: format!("{want} elements"),
        ulp: None,
    }
}

/// Integers must match exactly.
pub fn exact<T: PartialEq + fmt::Debug>(
    output: &'static str,
    got: &[T],
    want: &[T],
) -> Result<Outcome, Mismatch> {
    if got.len() != want.len() {
        return Err(length_mismatch(output, got.len(), want.len()));
    }
    match got.iter().zip(want).position(|(g, w)| g != w) {
        Some(index) => Err(Mismatch {
            output,
            index,
            got: format!("{:?}", got[index]),
            want: format!("{:?}", want[index]),
            ulp: None,
        }),
        None => Ok(Outcome {
            compared: got.len(),
            max_ulp: 0,
        }),
    }
}

/// Distance in ULPs between two floats of the same sign class, via their ordered bit patterns.
pub fn ulp_distance_f64(a: f64, b: f64) -> u64 {
    if a.is_nan() && b.is_nan() {
        return 0;
    }
    if a.is_nan() || b.is_nan() {
        return u64::MAX;
    }
    let key = |x: f64| -> i128 {
        let bits = x.to_bits() as i64;
        i128::from(if bits < 0 { i64::MIN - bits } else { bits })
    };
    u64::try_from((key(a) - key(b)).unsigned_abs()).unwrap_or(u64::MAX)
}

/// [`ulp_distance_f64`] for `f32`.
pub fn ulp_distance_f32(a: f32, b: f32) -> u64 {
    if a.is_nan() && b.is_nan() {
        return 0;
    }
    if a.is_nan() || b.is_nan() {
        return u64::MAX;
    }
    let key = |x: f32| -> i64 {
        let bits = x.to_bits() as i32;
        i64::from(if bits < 0 { i32::MIN - bits } else { bits })
    };
    (key(a) - key(b)).unsigned_abs()
}

macro_rules! float_compare {
    ($name:ident, $t:ty, $dist:ident) => {
        /// Floats within `tol` of the reference.
        pub fn $name(
            output: &'static str,
            got: &[$t],
            want: &[$t],
            tol: Tolerance,
        ) -> Result<Outcome, Mismatch> {
            if got.len() != want.len() {
                return Err(length_mismatch(output, got.len(), want.len()));
            }
            let mut max_ulp = 0;
            let exact = tol == Tolerance::EXACT;
            for (index, (&g, &w)) in got.iter().zip(want).enumerate() {
                let ulp = $dist(g, w);
                let close = if exact {
                    // The same bits (any NaN matches any NaN): also the sign of a zero.
                    g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan())
                } else {
                    ulp <= tol.ulp || (f64::from(g) - f64::from(w)).abs() <= tol.abs
                };
                if !close {
                    return Err(Mismatch {
                        output,
                        index,
                        got: format!("{g:e}"),
                        want: format!("{w:e}"),
                        ulp: Some(ulp),
                    });
                }
                max_ulp = max_ulp.max(ulp);
            }
            Ok(Outcome {
                compared: got.len(),
                max_ulp,
            })
        }
    };
}

float_compare!(floats_f32, f32, ulp_distance_f32);
float_compare!(floats_f64, f64, ulp_distance_f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulp_distance_counts_representable_steps() {
        assert_eq!(ulp_distance_f32(1.0, 1.0), 0);
        assert_eq!(
            ulp_distance_f32(1.0, f32::from_bits(1.0f32.to_bits() + 3)),
            3
        );
        assert_eq!(ulp_distance_f32(-0.0, 0.0), 0);
        assert_eq!(ulp_distance_f32(f32::from_bits(1), -f32::from_bits(1)), 2);
        assert_eq!(ulp_distance_f32(f32::NAN, f32::NAN), 0);
        assert_eq!(ulp_distance_f64(1.0, 1.0 + f64::EPSILON), 1);
    }

    #[test]
    fn tolerance_is_enforced() {
        let got = [1.0f32, 2.0];
        let want = [1.0f32, f32::from_bits(2.0f32.to_bits() + 2)];
        assert_eq!(
            floats_f32("x", &got, &want, Tolerance::ulp(2)).map(|o| o.max_ulp),
            Ok(2)
        );
        let m = floats_f32("x", &got, &want, Tolerance::ulp(1)).unwrap_err();
        assert_eq!((m.index, m.ulp), (1, Some(2)));
        assert!(exact("y", &[1, 2, 3], &[1, 2, 4]).is_err());
    }
}
