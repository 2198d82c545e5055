//! Faults: what stops a work item where Rust would panic.

use std::borrow::Cow;
use std::fmt;

/// Why a kernel launch stopped: an access out of bounds, an integer division by zero, a
/// `panic!` in the kernel, ... Backends report one fault per launch (the first they see); the
/// launch then returns [`crate::Error::KernelFault`], which names the kernel and parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KernelFault {
    /// A checked access outside a buffer.
    OutOfBounds {
        /// Index of the buffer parameter.
        param: u32,
        /// The index used.
        index: u64,
        /// The buffer's length.
        len: u64,
    },
    /// A checked access outside a kernel's array: a work-group shared array or a private one.
    ArrayOutOfBounds {
        /// The array's number: the kernel's shared arrays first, then its private arrays
        /// (see [`FaultSubject::Array`]).
        array: u32,
        /// The index used.
        index: u64,
        /// The array's length.
        len: u64,
    },
    /// Integer division or remainder by zero.
    DivisionByZero,
    /// Integer division or remainder of `MIN` by `-1`.
    DivisionOverflow,
    /// `clamp(min, max)` with `min > max` or a NaN bound.
    InvalidClamp,
    /// `step_by(0)`.
    ZeroStep,
    /// `panic!` or a failed `assert!` in the kernel, or a panic in backend code.
    Panic {
        /// The panic message.
        message: Cow<'static, str>,
    },
    /// The device ended a work item's loops early, so its results are wrong: Mesa's
    /// llvmpipe and lavapipe run at most [`KernelFault::DRIVER_LOOP_LIMIT`] loop iterations
    /// per work item, counted over all of its loops (and per group of SIMD lanes), then leave
    /// every loop silently. Kernels there record this fault instead of returning what the cut
    /// loops computed.
    LoopLimit,
    /// An argument did not match the kernel's signature (a backend saw a bad launch).
    ArgumentMismatch {
        /// Index of the parameter.
        param: u32,
    },
}

impl KernelFault {
    /// The loop iterations per work item after which Mesa's llvmpipe and lavapipe leave
    /// every loop (`LP_MAX_TGSI_LOOP_ITERATIONS`).
    pub const DRIVER_LOOP_LIMIT: u32 = 65_535;

    /// A panic fault with a static message (used by generated code for `panic!`).
    pub const fn panic(message: &'static str) -> KernelFault {
        KernelFault::Panic {
            message: Cow::Borrowed(message),
        }
    }

    /// A readable description, with parameter and shared-array names resolved through
    /// `name`.
    pub fn describe(&self, name: &dyn Fn(FaultSubject) -> String) -> String {
        match self {
            KernelFault::OutOfBounds { param, index, len } => format!(
                "index {index} is out of bounds for buffer `{}` of length {len}",
                name(FaultSubject::Param(*param))
            ),
            KernelFault::ArrayOutOfBounds { array, index, len } => format!(
                "index {index} is out of bounds for {} of length {len}",
                name(FaultSubject::Array(*array))
            ),
            KernelFault::DivisionByZero => "integer division or remainder by zero".into(),
            KernelFault::DivisionOverflow => {
                "integer division or remainder overflowed (MIN / -1)".into()
            }
            KernelFault::InvalidClamp => "`clamp` called with min > max or a NaN bound".into(),
            KernelFault::ZeroStep => "`step_by(0)` in a loop".into(),
            KernelFault::Panic { message } => format!("panicked: {message}"),
            KernelFault::LoopLimit => format!(
                "the device ended a work item's loops early (llvmpipe and lavapipe run at most {} loop iterations per work item), so its results would be wrong",
                KernelFault::DRIVER_LOOP_LIMIT
            ),
            KernelFault::ArgumentMismatch { param } => format!(
                "argument `{}` does not match the kernel's signature",
                name(FaultSubject::Param(*param))
            ),
        }
    }
}

impl fmt::Display for KernelFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(&|s| match s {
            FaultSubject::Param(p) => format!("#{p}"),
            FaultSubject::Array(a) => format!("array #{a}"),
        }))
    }
}

/// What a fault names: a parameter or a shared array, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultSubject {
    /// A kernel parameter.
    Param(u32),
    /// One of a kernel's arrays, numbered across its shared arrays, then its private
    /// arrays; its name reads "shared array `tile`" or "array `acc`".
    Array(u32),
}
