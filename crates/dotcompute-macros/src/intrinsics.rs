//! The names the kernel language gives a meaning to: intrinsics (from the IR crate's one
//! table, which also defines their host stand-ins) and constants.

use dotcompute_ir::intrinsics::{Intrinsic, intrinsic};
use dotcompute_ir::{AtomicOp, Builtin, ScalarType, SubgroupOp};

/// Index intrinsics by name (all return `usize`).
pub fn builtin(name: &str) -> Option<Builtin> {
    match intrinsic(name)? {
        Intrinsic::Builtin(b) => Some(b),
        _ => None,
    }
}

/// Atomic intrinsics by name.
pub fn atomic(name: &str) -> Option<AtomicOp> {
    match intrinsic(name)? {
        Intrinsic::Atomic(op) => Some(op),
        _ => None,
    }
}

/// Subgroup operations by name.
pub fn subgroup(name: &str) -> Option<SubgroupOp> {
    match intrinsic(name)? {
        Intrinsic::Subgroup(op) => Some(op),
        _ => None,
    }
}

/// Whether a call path names a kernel intrinsic: `f`, `kernel::f` or `dotcompute::kernel::f`
/// (with or without a leading `::`, and `dotcompute::prelude::f`).
pub fn intrinsic_name(segments: &[String]) -> Option<&str> {
    let (last, prefix) = segments.split_last()?;
    let prefix: Vec<&str> = prefix.iter().map(String::as_str).collect();
    let ok = matches!(
        prefix.as_slice(),
        [] | ["kernel"] | ["dotcompute", "kernel"] | ["dotcompute", "prelude"]
    );
    (ok && intrinsic(last).is_some()).then_some(last.as_str())
}

/// Associated constants of the primitive types: `f32::MAX`, `u32::MAX`,
/// `f64::consts::PI`, `std::f32::consts::TAU`, ...
pub enum Constant {
    /// An integer constant.
    Int(i128),
    /// A float constant (exact for its type).
    Float(f64),
}

/// The constant named by a path, with its type.
pub fn constant(segments: &[String]) -> Option<(ScalarType, Constant)> {
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let segs = match segs.as_slice() {
        ["std" | "core", rest @ ..] => rest,
        rest => rest,
    };
    match segs {
        [ty, "consts", name] => float_consts(ty, name),
        [ty, name] => {
            let t = ScalarType::from_rust_name(ty)?;
            if t.is_int() {
                let (lo, hi) = t.int_range()?;
                let v = match *name {
                    "MIN" => lo,
                    "MAX" => hi,
                    "BITS" => return Some((ScalarType::U32, Constant::Int(t.bits().into()))),
                    _ => return None,
                };
                Some((t, Constant::Int(v)))
            } else if t == ScalarType::F32 {
                let v = match *name {
                    "MAX" => f32::MAX,
                    "MIN" => f32::MIN,
                    "MIN_POSITIVE" => f32::MIN_POSITIVE,
                    "EPSILON" => f32::EPSILON,
                    "INFINITY" => f32::INFINITY,
                    "NEG_INFINITY" => f32::NEG_INFINITY,
                    "NAN" => f32::NAN,
                    _ => return None,
                };
                Some((t, Constant::Float(v.into())))
            } else if t == ScalarType::F64 {
                let v = match *name {
                    "MAX" => f64::MAX,
                    "MIN" => f64::MIN,
                    "MIN_POSITIVE" => f64::MIN_POSITIVE,
                    "EPSILON" => f64::EPSILON,
                    "INFINITY" => f64::INFINITY,
                    "NEG_INFINITY" => f64::NEG_INFINITY,
                    "NAN" => f64::NAN,
                    _ => return None,
                };
                Some((t, Constant::Float(v)))
            } else {
                None
            }
        }
        _ => None,
    }
}

fn float_consts(ty: &str, name: &str) -> Option<(ScalarType, Constant)> {
    macro_rules! table {
        ($m:ident) => {{
            use std::$m::consts::*;
            match name {
                "PI" => PI,
                "TAU" => TAU,
                "E" => E,
                "SQRT_2" => SQRT_2,
                "LN_2" => LN_2,
                "LN_10" => LN_10,
                "LOG2_E" => LOG2_E,
                "LOG10_E" => LOG10_E,
                "LOG2_10" => LOG2_10,
                "LOG10_2" => LOG10_2,
                "FRAC_PI_2" => FRAC_PI_2,
                "FRAC_PI_3" => FRAC_PI_3,
                "FRAC_PI_4" => FRAC_PI_4,
                "FRAC_PI_6" => FRAC_PI_6,
                "FRAC_PI_8" => FRAC_PI_8,
                "FRAC_1_PI" => FRAC_1_PI,
                "FRAC_2_PI" => FRAC_2_PI,
                "FRAC_2_SQRT_PI" => FRAC_2_SQRT_PI,
                "FRAC_1_SQRT_2" => FRAC_1_SQRT_2,
                _ => return None,
            }
        }};
    }
    match ty {
        "f32" => Some((ScalarType::F32, Constant::Float(table!(f32).into()))),
        "f64" => Some((ScalarType::F64, Constant::Float(table!(f64)))),
        _ => None,
    }
}
