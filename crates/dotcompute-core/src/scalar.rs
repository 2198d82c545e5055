//! Rust types that kernels take as scalars and buffer elements.

use dotcompute_ir::ScalarType;

/// A Rust type usable as a kernel scalar or buffer element: `f32 f64 i32 u32 i64 u64`.
pub trait KernelScalar: bytemuck::Pod + Send + Sync + PartialEq + std::fmt::Debug {
    /// The IR type it is.
    const TYPE: ScalarType;
    /// Wraps a value.
    fn into_value(self) -> ScalarValue;
    /// Unwraps a value of this type.
    fn from_value(value: ScalarValue) -> Option<Self>;
}

/// A scalar kernel argument of any type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScalarValue {
    /// `i32`
    I32(i32),
    /// `u32`
    U32(u32),
    /// `i64`
    I64(i64),
    /// `u64`
    U64(u64),
    /// `f32`
    F32(f32),
    /// `f64`
    F64(f64),
}

impl ScalarValue {
    /// The value's type.
    pub fn scalar_type(&self) -> ScalarType {
        match self {
            ScalarValue::I32(_) => ScalarType::I32,
            ScalarValue::U32(_) => ScalarType::U32,
            ScalarValue::I64(_) => ScalarType::I64,
            ScalarValue::U64(_) => ScalarType::U64,
            ScalarValue::F32(_) => ScalarType::F32,
            ScalarValue::F64(_) => ScalarType::F64,
        }
    }
}

macro_rules! kernel_scalar {
    ($($t:ty => $variant:ident),*) => {$(
        impl KernelScalar for $t {
            const TYPE: ScalarType = ScalarType::$variant;
            fn into_value(self) -> ScalarValue {
                ScalarValue::$variant(self)
            }
            fn from_value(value: ScalarValue) -> Option<Self> {
                match value {
                    ScalarValue::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
        impl From<$t> for ScalarValue {
            fn from(v: $t) -> ScalarValue {
                ScalarValue::$variant(v)
            }
        }
    )*};
}

kernel_scalar!(i32 => I32, u32 => U32, i64 => I64, u64 => U64, f32 => F32, f64 => F64);
