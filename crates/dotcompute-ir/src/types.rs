//! Scalar types and parameter kinds of the kernel language.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A scalar type of the kernel language.
///
/// `usize`/`isize` in kernel source are the 64-bit types (every target is 64-bit); `Bool` is the
/// type of comparisons and local flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScalarType {
    /// `bool`
    Bool,
    /// `i32`
    I32,
    /// `u32`
    U32,
    /// `i64` (and `isize`)
    I64,
    /// `u64` (and `usize`)
    U64,
    /// `f32`
    F32,
    /// `f64`
    F64,
}

impl ScalarType {
    /// Every scalar type, in a fixed order.
    pub const ALL: [ScalarType; 7] = [
        ScalarType::Bool,
        ScalarType::I32,
        ScalarType::U32,
        ScalarType::I64,
        ScalarType::U64,
        ScalarType::F32,
        ScalarType::F64,
    ];

    /// The Rust spelling of the type.
    pub fn rust_name(self) -> &'static str {
        match self {
            ScalarType::Bool => "bool",
            ScalarType::I32 => "i32",
            ScalarType::U32 => "u32",
            ScalarType::I64 => "i64",
            ScalarType::U64 => "u64",
            ScalarType::F32 => "f32",
            ScalarType::F64 => "f64",
        }
    }

    /// The type named by a Rust primitive type name (`usize` is `U64`, `isize` is `I64`).
    pub fn from_rust_name(name: &str) -> Option<ScalarType> {
        Some(match name {
            "bool" => ScalarType::Bool,
            "i32" => ScalarType::I32,
            "u32" => ScalarType::U32,
            "i64" | "isize" => ScalarType::I64,
            "u64" | "usize" => ScalarType::U64,
            "f32" => ScalarType::F32,
            "f64" => ScalarType::F64,
            _ => return None,
        })
    }

    /// `true` for `f32` and `f64`.
    pub fn is_float(self) -> bool {
        matches!(self, ScalarType::F32 | ScalarType::F64)
    }

    /// `true` for the four integer types.
    pub fn is_int(self) -> bool {
        matches!(
            self,
            ScalarType::I32 | ScalarType::U32 | ScalarType::I64 | ScalarType::U64
        )
    }

    /// `true` for signed integers and floats.
    pub fn is_signed(self) -> bool {
        matches!(
            self,
            ScalarType::I32 | ScalarType::I64 | ScalarType::F32 | ScalarType::F64
        )
    }

    /// `true` for integers and floats.
    pub fn is_numeric(self) -> bool {
        self.is_int() || self.is_float()
    }

    /// Width in bits (`Bool` counts as 8, its size in a buffer).
    pub fn bits(self) -> u32 {
        match self {
            ScalarType::Bool => 8,
            ScalarType::I32 | ScalarType::U32 | ScalarType::F32 => 32,
            ScalarType::I64 | ScalarType::U64 | ScalarType::F64 => 64,
        }
    }

    /// The unsigned integer type holding a float's bits (`to_bits`): `u32` for `f32`, `u64`
    /// for `f64`.
    pub fn float_bits_type(self) -> Option<ScalarType> {
        match self {
            ScalarType::F32 => Some(ScalarType::U32),
            ScalarType::F64 => Some(ScalarType::U64),
            _ => None,
        }
    }

    /// The float type whose bits an unsigned integer holds (`from_bits`): `f32` for `u32`,
    /// `f64` for `u64`.
    pub fn float_from_bits_type(self) -> Option<ScalarType> {
        match self {
            ScalarType::U32 => Some(ScalarType::F32),
            ScalarType::U64 => Some(ScalarType::F64),
            _ => None,
        }
    }

    /// Size in bytes.
    pub fn size_bytes(self) -> usize {
        (self.bits() / 8) as usize
    }

    /// Whether buffers of this element type are part of the kernel language.
    pub fn is_buffer_element(self) -> bool {
        self != ScalarType::Bool
    }

    /// Smallest and largest integer value of the type, or `None` for non-integers.
    pub fn int_range(self) -> Option<(i128, i128)> {
        Some(match self {
            ScalarType::I32 => (i32::MIN.into(), i32::MAX.into()),
            ScalarType::U32 => (0, u32::MAX.into()),
            ScalarType::I64 => (i64::MIN.into(), i64::MAX.into()),
            ScalarType::U64 => (0, u64::MAX.into()),
            _ => return None,
        })
    }
}

impl fmt::Display for ScalarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.rust_name())
    }
}

/// How a kernel uses a buffer parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Access {
    /// `&[T]`: the kernel only reads it.
    Read,
    /// `&mut [T]`: the kernel may read and write it.
    ReadWrite,
}

/// What a kernel parameter is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ParamKind {
    /// A scalar passed by value.
    Scalar(ScalarType),
    /// A buffer of elements.
    Buffer {
        /// Element type.
        elem: ScalarType,
        /// Read-only or read-write.
        access: Access,
    },
}

impl fmt::Display for ParamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamKind::Scalar(t) => write!(f, "{t}"),
            ParamKind::Buffer {
                elem,
                access: Access::Read,
            } => write!(f, "&[{elem}]"),
            ParamKind::Buffer {
                elem,
                access: Access::ReadWrite,
            } => write!(f, "&mut [{elem}]"),
        }
    }
}
