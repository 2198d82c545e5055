//! The kernel language's scalar values and what each operation makes of them: Rust's
//! meaning, with integer overflow wrapping, shift amounts masked to the width, float-to-int
//! casts saturating, and the operations that panic in Rust (integer division by zero,
//! `MIN / -1`, a bad `clamp`) as faults.

use super::Fault;
use crate::program::{AtomicOp, BinaryOp, Literal, MathFn, UnaryOp};
use crate::types::ScalarType;

/// A value of one of the language's scalar types.
#[derive(Clone, Copy, Debug, PartialEq)]
#[allow(missing_docs)] // each variant holds the Rust type of its name
pub enum Value {
    Bool(bool),
    I32(i32),
    U32(u32),
    I64(i64),
    U64(u64),
    F32(f32),
    F64(f64),
}

/// Applies `$body` to the number inside a value of any numeric type (`bool` as `u8`).
macro_rules! numeric {
    ($v:expr, $x:ident => $body:expr) => {
        match $v {
            Value::Bool(b) => {
                let $x = u8::from(b);
                $body
            }
            Value::I32($x) => $body,
            Value::U32($x) => $body,
            Value::I64($x) => $body,
            Value::U64($x) => $body,
            Value::F32($x) => $body,
            Value::F64($x) => $body,
        }
    };
}

impl Value {
    /// The value's type.
    pub fn ty(self) -> ScalarType {
        match self {
            Value::Bool(_) => ScalarType::Bool,
            Value::I32(_) => ScalarType::I32,
            Value::U32(_) => ScalarType::U32,
            Value::I64(_) => ScalarType::I64,
            Value::U64(_) => ScalarType::U64,
            Value::F32(_) => ScalarType::F32,
            Value::F64(_) => ScalarType::F64,
        }
    }

    /// Zero (or `false`) of type `ty`: what a local holds before its first assignment and
    /// what shared arrays start with.
    pub fn zero(ty: ScalarType) -> Value {
        Value::U64(0).cast(ty)
    }

    /// A literal of type `ty` (the IR keeps literals in the range of their type).
    pub fn literal(lit: Literal, ty: ScalarType) -> Value {
        match lit {
            Literal::Bool(b) => Value::Bool(b),
            Literal::Int(v) => match ty {
                ScalarType::I32 => Value::I32(v as i32),
                ScalarType::U32 => Value::U32(v as u32),
                ScalarType::I64 => Value::I64(v as i64),
                ScalarType::U64 => Value::U64(v as u64),
                ScalarType::F32 => Value::F32(v as f32),
                ScalarType::F64 => Value::F64(v as f64),
                ScalarType::Bool => Value::Bool(v != 0),
            },
            Literal::Float(v) => Value::F64(v).cast(ty),
        }
    }

    /// `self as ty`, with Rust's meaning (`bool` converts as 0 or 1; nothing converts to
    /// `bool`, which the validator refuses, so that is the identity on `bool`).
    pub fn cast(self, ty: ScalarType) -> Value {
        match ty {
            ScalarType::Bool => match self {
                Value::Bool(b) => Value::Bool(b),
                other => Value::Bool(numeric!(other, x => x as f64) != 0.0),
            },
            ScalarType::I32 => Value::I32(numeric!(self, x => x as i32)),
            ScalarType::U32 => Value::U32(numeric!(self, x => x as u32)),
            ScalarType::I64 => Value::I64(numeric!(self, x => x as i64)),
            ScalarType::U64 => Value::U64(numeric!(self, x => x as u64)),
            ScalarType::F32 => Value::F32(numeric!(self, x => x as f32)),
            ScalarType::F64 => Value::F64(numeric!(self, x => x as f64)),
        }
    }

    /// The value as an index or count (`u64` values, as the IR types them).
    pub fn as_u64(self) -> u64 {
        numeric!(self, x => x as u64)
    }

    /// The value of a condition.
    pub fn is_true(self) -> bool {
        matches!(self, Value::Bool(true))
    }

    /// The value's bytes in memory (native order: buffers are host memory).
    pub fn write_to(self, out: &mut [u8]) {
        match self {
            Value::Bool(b) => out.copy_from_slice(&[u8::from(b)]),
            Value::I32(x) => out.copy_from_slice(&x.to_ne_bytes()),
            Value::U32(x) => out.copy_from_slice(&x.to_ne_bytes()),
            Value::I64(x) => out.copy_from_slice(&x.to_ne_bytes()),
            Value::U64(x) => out.copy_from_slice(&x.to_ne_bytes()),
            Value::F32(x) => out.copy_from_slice(&x.to_ne_bytes()),
            Value::F64(x) => out.copy_from_slice(&x.to_ne_bytes()),
        }
    }

    /// The value of type `ty` stored in `bytes` (exactly its size).
    pub fn read_from(ty: ScalarType, bytes: &[u8]) -> Value {
        let mut b8 = [0u8; 8];
        b8[..bytes.len().min(8)].copy_from_slice(&bytes[..bytes.len().min(8)]);
        let b4 = [b8[0], b8[1], b8[2], b8[3]];
        match ty {
            ScalarType::Bool => Value::Bool(b8[0] != 0),
            ScalarType::I32 => Value::I32(i32::from_ne_bytes(b4)),
            ScalarType::U32 => Value::U32(u32::from_ne_bytes(b4)),
            ScalarType::I64 => Value::I64(i64::from_ne_bytes(b8)),
            ScalarType::U64 => Value::U64(u64::from_ne_bytes(b8)),
            ScalarType::F32 => Value::F32(f32::from_ne_bytes(b4)),
            ScalarType::F64 => Value::F64(f64::from_ne_bytes(b8)),
        }
    }

    /// The literal of this value (of its own type).
    pub fn to_literal(self) -> Literal {
        match self {
            Value::Bool(b) => Literal::Bool(b),
            Value::I32(v) => Literal::Int(i128::from(v)),
            Value::U32(v) => Literal::Int(i128::from(v)),
            Value::I64(v) => Literal::Int(i128::from(v)),
            Value::U64(v) => Literal::Int(i128::from(v)),
            Value::F32(v) => Literal::Float(f64::from(v)),
            Value::F64(v) => Literal::Float(v),
        }
    }

    /// Equality as compare-and-swap sees it: floats by their bits.
    pub fn same_bits(self, other: Value) -> bool {
        match (self, other) {
            (Value::F32(a), Value::F32(b)) => a.to_bits() == b.to_bits(),
            (Value::F64(a), Value::F64(b)) => a.to_bits() == b.to_bits(),
            (a, b) => a == b,
        }
    }
}

/// A unary operation.
pub fn unary(op: UnaryOp, v: Value) -> Value {
    match (op, v) {
        (UnaryOp::Neg, Value::I32(x)) => Value::I32(x.wrapping_neg()),
        (UnaryOp::Neg, Value::I64(x)) => Value::I64(x.wrapping_neg()),
        (UnaryOp::Neg, Value::U32(x)) => Value::U32(x.wrapping_neg()),
        (UnaryOp::Neg, Value::U64(x)) => Value::U64(x.wrapping_neg()),
        (UnaryOp::Neg, Value::F32(x)) => Value::F32(-x),
        (UnaryOp::Neg, Value::F64(x)) => Value::F64(-x),
        (UnaryOp::Not, Value::Bool(b)) => Value::Bool(!b),
        (UnaryOp::Not, Value::I32(x)) => Value::I32(!x),
        (UnaryOp::Not, Value::U32(x)) => Value::U32(!x),
        (UnaryOp::Not, Value::I64(x)) => Value::I64(!x),
        (UnaryOp::Not, Value::U64(x)) => Value::U64(!x),
        (_, other) => other,
    }
}

/// A binary operation other than the short-circuiting `&&` and `||` (the caller evaluates
/// those). Shift amounts may have any integer type: Rust's `wrapping_shl(r as u32)`.
pub fn binary(op: BinaryOp, l: Value, r: Value) -> Result<Value, Fault> {
    use BinaryOp::*;
    if matches!(op, Shl | Shr) {
        let amount = r.cast(ScalarType::U32).as_u64() as u32;
        return Ok(match (op, l) {
            (Shl, Value::I32(x)) => Value::I32(x.wrapping_shl(amount)),
            (Shl, Value::U32(x)) => Value::U32(x.wrapping_shl(amount)),
            (Shl, Value::I64(x)) => Value::I64(x.wrapping_shl(amount)),
            (Shl, Value::U64(x)) => Value::U64(x.wrapping_shl(amount)),
            (_, Value::I32(x)) => Value::I32(x.wrapping_shr(amount)),
            (_, Value::U32(x)) => Value::U32(x.wrapping_shr(amount)),
            (_, Value::I64(x)) => Value::I64(x.wrapping_shr(amount)),
            (_, Value::U64(x)) => Value::U64(x.wrapping_shr(amount)),
            (_, other) => other,
        });
    }
    macro_rules! compare {
        ($a:expr, $b:expr) => {
            match op {
                Eq => Some(Value::Bool($a == $b)),
                Ne => Some(Value::Bool($a != $b)),
                Lt => Some(Value::Bool($a < $b)),
                Le => Some(Value::Bool($a <= $b)),
                Gt => Some(Value::Bool($a > $b)),
                Ge => Some(Value::Bool($a >= $b)),
                _ => None,
            }
        };
    }
    macro_rules! int {
        ($a:expr, $b:expr, $V:path) => {{
            let (a, b) = ($a, $b);
            if let Some(c) = compare!(a, b) {
                return Ok(c);
            }
            $V(match op {
                Add => a.wrapping_add(b),
                Sub => a.wrapping_sub(b),
                Mul => a.wrapping_mul(b),
                Div | Rem if b == 0 => return Err(Fault::DivisionByZero),
                Div => a.checked_div(b).ok_or(Fault::DivisionOverflow)?,
                Rem => a.checked_rem(b).ok_or(Fault::DivisionOverflow)?,
                BitAnd => a & b,
                BitOr => a | b,
                BitXor => a ^ b,
                _ => a,
            })
        }};
    }
    macro_rules! float {
        ($a:expr, $b:expr, $V:path) => {{
            let (a, b) = ($a, $b);
            if let Some(c) = compare!(a, b) {
                return Ok(c);
            }
            $V(match op {
                Add => a + b,
                Sub => a - b,
                Mul => a * b,
                Div => a / b,
                Rem => a % b,
                _ => a,
            })
        }};
    }
    Ok(match (l, r) {
        (Value::I32(a), Value::I32(b)) => int!(a, b, Value::I32),
        (Value::U32(a), Value::U32(b)) => int!(a, b, Value::U32),
        (Value::I64(a), Value::I64(b)) => int!(a, b, Value::I64),
        (Value::U64(a), Value::U64(b)) => int!(a, b, Value::U64),
        (Value::F32(a), Value::F32(b)) => float!(a, b, Value::F32),
        (Value::F64(a), Value::F64(b)) => float!(a, b, Value::F64),
        (Value::Bool(a), Value::Bool(b)) => {
            if let Some(c) = compare!(a, b) {
                return Ok(c);
            }
            Value::Bool(match op {
                BitAnd | And => a & b,
                BitOr | Or => a | b,
                BitXor => a ^ b,
                _ => a,
            })
        }
        (a, _) => a,
    })
}

/// A math function of `args` (receiver first); `ty` is the call's result type.
pub fn math(func: MathFn, args: &[Value], ty: ScalarType) -> Result<Value, Fault> {
    use MathFn::*;
    let x = args.first().copied().unwrap_or(Value::Bool(false));
    let y = args.get(1).copied().unwrap_or(x);
    let z = args.get(2).copied().unwrap_or(x);
    macro_rules! float {
        ($x:expr, $y:expr, $z:expr, $V:path, $T:ty, $B:path) => {{
            let (x, y, z) = ($x, $y, $z);
            Ok(match func {
                Sqrt => $V(x.sqrt()),
                Exp => $V(x.exp()),
                Exp2 => $V(x.exp2()),
                Ln => $V(x.ln()),
                Log2 => $V(x.log2()),
                Log10 => $V(x.log10()),
                Sin => $V(x.sin()),
                Cos => $V(x.cos()),
                Tan => $V(x.tan()),
                Tanh => $V(x.tanh()),
                Sinh => $V(x.sinh()),
                Cosh => $V(x.cosh()),
                Asin => $V(x.asin()),
                Acos => $V(x.acos()),
                Atan => $V(x.atan()),
                Atan2 => $V(x.atan2(y)),
                Powf => $V(x.powf(y)),
                Powi => $V(x.powi(
                    args.get(1)
                        .map_or(0, |n| n.cast(ScalarType::I32).as_u64() as i32),
                )),
                Abs => $V(x.abs()),
                Min => $V(x.min(y)),
                Max => $V(x.max(y)),
                Clamp => {
                    if !matches!(
                        y.partial_cmp(&z),
                        Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
                    ) {
                        return Err(Fault::InvalidClamp);
                    }
                    $V(x.clamp(y, z))
                }
                Floor => $V(x.floor()),
                Ceil => $V(x.ceil()),
                Round => $V(x.round()),
                Trunc => $V(x.trunc()),
                MulAdd => $V(x.mul_add(y, z)),
                Hypot => $V(x.hypot(y)),
                Cbrt => $V(x.cbrt()),
                Recip => $V(x.recip()),
                IsNan => Value::Bool(x.is_nan()),
                IsFinite => Value::Bool(x.is_finite()),
                IsInfinite => Value::Bool(x.is_infinite()),
                CopySign => $V(x.copysign(y)),
                ExpM1 => $V(x.exp_m1()),
                Ln1p => $V(x.ln_1p()),
                ToBits => $B(x.to_bits()),
                _ => $V(x),
            })
        }};
    }
    macro_rules! int {
        ($x:expr, $y:expr, $z:expr, $V:path, $abs:expr) => {{
            let (x, y, z) = ($x, $y, $z);
            Ok(match func {
                Abs => $V($abs(x)),
                Min => $V(Ord::min(x, y)),
                Max => $V(Ord::max(x, y)),
                Clamp => {
                    if y > z {
                        return Err(Fault::InvalidClamp);
                    }
                    $V(x.clamp(y, z))
                }
                CountOnes => Value::U32(x.count_ones()),
                LeadingZeros => Value::U32(x.leading_zeros()),
                TrailingZeros => Value::U32(x.trailing_zeros()),
                RotateLeft => $V(x.rotate_left(args.get(1).map_or(0, |n| n.as_u64() as u32))),
                RotateRight => $V(x.rotate_right(args.get(1).map_or(0, |n| n.as_u64() as u32))),
                FromBits => match ty {
                    ScalarType::F32 => Value::F32(f32::from_bits(x as u32)),
                    _ => Value::F64(f64::from_bits(x as u64)),
                },
                _ => $V(x),
            })
        }};
    }
    let same = |v: Value| v.cast(x.ty());
    match x {
        Value::F32(a) => {
            let (b, c) = (same(y), same(z));
            let (Value::F32(b), Value::F32(c)) = (b, c) else {
                return Ok(x);
            };
            float!(a, b, c, Value::F32, f32, Value::U32)
        }
        Value::F64(a) => {
            let (Value::F64(b), Value::F64(c)) = (same(y), same(z)) else {
                return Ok(x);
            };
            float!(a, b, c, Value::F64, f64, Value::U64)
        }
        Value::I32(a) => {
            let (Value::I32(b), Value::I32(c)) = (same(y), same(z)) else {
                return Ok(x);
            };
            int!(a, b, c, Value::I32, i32::wrapping_abs)
        }
        Value::U32(a) => {
            let (Value::U32(b), Value::U32(c)) = (same(y), same(z)) else {
                return Ok(x);
            };
            int!(a, b, c, Value::U32, |x: u32| x)
        }
        Value::I64(a) => {
            let (Value::I64(b), Value::I64(c)) = (same(y), same(z)) else {
                return Ok(x);
            };
            int!(a, b, c, Value::I64, i64::wrapping_abs)
        }
        Value::U64(a) => {
            let (Value::U64(b), Value::U64(c)) = (same(y), same(z)) else {
                return Ok(x);
            };
            int!(a, b, c, Value::U64, |x: u64| x)
        }
        Value::Bool(_) => Ok(x),
    }
}

/// What atomic `op` stores over `old` with operand `v` (for compare-exchange, `old`: the
/// caller compares): integers wrap, floats by IEEE arithmetic and `min`/`max`, bitwise
/// operations on a float's bits.
pub fn atomic(op: AtomicOp, old: Value, v: Value) -> Value {
    use AtomicOp::*;
    macro_rules! bits {
        ($a:expr, $b:expr, $T:ty, $V:path) => {{
            let (a, b) = ($a.to_bits(), $b.to_bits());
            $V(<$T>::from_bits(match op {
                And => a & b,
                Or => a | b,
                _ => a ^ b,
            }))
        }};
    }
    match (op, old, v) {
        (Exchange, _, v) => v,
        (CompareExchange, old, _) => old,
        (And | Or | Xor, Value::F32(a), Value::F32(b)) => bits!(a, b, f32, Value::F32),
        (And | Or | Xor, Value::F64(a), Value::F64(b)) => bits!(a, b, f64, Value::F64),
        (Add, o, v) => binary(BinaryOp::Add, o, v).unwrap_or(o),
        (Sub, o, v) => binary(BinaryOp::Sub, o, v).unwrap_or(o),
        (And, o, v) => binary(BinaryOp::BitAnd, o, v).unwrap_or(o),
        (Or, o, v) => binary(BinaryOp::BitOr, o, v).unwrap_or(o),
        (Xor, o, v) => binary(BinaryOp::BitXor, o, v).unwrap_or(o),
        (Min, o, v) => math(MathFn::Min, &[o, v], o.ty()).unwrap_or(o),
        (Max, o, v) => math(MathFn::Max, &[o, v], o.ty()).unwrap_or(o),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_wrap_and_shifts_mask() {
        assert_eq!(
            binary(BinaryOp::Add, Value::I32(i32::MAX), Value::I32(1)),
            Ok(Value::I32(i32::MIN))
        );
        assert_eq!(
            binary(BinaryOp::Shl, Value::U32(1), Value::U64(33)),
            Ok(Value::U32(2))
        );
        assert_eq!(
            binary(BinaryOp::Shr, Value::I64(-8), Value::I32(-63)),
            Ok(Value::I64(-4))
        );
    }

    #[test]
    fn division_faults_where_rust_panics() {
        assert_eq!(
            binary(BinaryOp::Div, Value::U32(1), Value::U32(0)),
            Err(Fault::DivisionByZero)
        );
        assert_eq!(
            binary(BinaryOp::Rem, Value::I64(i64::MIN), Value::I64(-1)),
            Err(Fault::DivisionOverflow)
        );
        assert_eq!(
            math(
                MathFn::Clamp,
                &[Value::F32(1.0), Value::F32(f32::NAN), Value::F32(2.0)],
                ScalarType::F32
            ),
            Err(Fault::InvalidClamp)
        );
    }

    #[test]
    fn casts_saturate_and_convert_as_rust_does() {
        assert_eq!(Value::F32(f32::NAN).cast(ScalarType::I32), Value::I32(0));
        assert_eq!(Value::F64(1e20).cast(ScalarType::U32), Value::U32(u32::MAX));
        assert_eq!(Value::I32(-1).cast(ScalarType::U64), Value::U64(u64::MAX));
        assert_eq!(Value::Bool(true).cast(ScalarType::I64), Value::I64(1));
        assert_eq!(
            Value::U64(u64::MAX).cast(ScalarType::F32),
            Value::F32(1.8446744e19)
        );
    }

    #[test]
    fn float_atomics_act_on_bits_for_bitwise_operations() {
        assert_eq!(
            atomic(AtomicOp::Xor, Value::F32(1.0), Value::F32(-0.0)),
            Value::F32(-1.0)
        );
        assert_eq!(
            atomic(AtomicOp::Min, Value::F32(f32::NAN), Value::F32(2.0)),
            Value::F32(2.0)
        );
        assert_eq!(
            atomic(AtomicOp::Add, Value::U32(u32::MAX), Value::U32(2)),
            Value::U32(1)
        );
    }
}
