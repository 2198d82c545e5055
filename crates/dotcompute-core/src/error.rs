//! The error type of DotCompute: every fallible call of the library returns it (the facade
//! re-exports it as `dotcompute::Error`); the IR's and the backends' own errors convert into it.

use crate::fault::KernelFault;
use dotcompute_ir::{IrError, ParamKind};
use thiserror::Error;

/// Everything that can go wrong: bad launches, bad buffers, faults in kernels, pool limits,
/// invalid kernel IR, and errors reported by backends (their own error types are the
/// [`Error::Backend`] source).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A grid with a zero dimension or more work items than fit in a `u64`.
    #[error("invalid grid {grid}: {reason}")]
    InvalidGrid {
        /// The grid, as written.
        grid: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A launch passed the wrong number of arguments.
    #[error("kernel `{kernel}` takes {expected} argument(s), but {found} were passed")]
    ArgumentCount {
        /// Kernel name.
        kernel: String,
        /// Parameters the kernel declares.
        expected: usize,
        /// Arguments passed.
        found: usize,
    },
    /// An argument of the wrong type or access mode.
    #[error("kernel `{kernel}`: parameter `{param}` is `{expected}`, but {found} was passed{hint}")]
    ArgumentMismatch {
        /// Kernel name.
        kernel: String,
        /// Parameter name.
        param: String,
        /// What the parameter is.
        expected: ParamKind,
        /// What was passed.
        found: String,
        /// How to pass it instead.
        hint: String,
    },
    /// A buffer made by another `ComputeService` than the accelerator's.
    #[error(
        "kernel `{kernel}`: buffer `{param}` belongs to another ComputeService than accelerator `{accelerator}`; create it with that accelerator's service"
    )]
    ForeignBuffer {
        /// Kernel name.
        kernel: String,
        /// Parameter name.
        param: String,
        /// The accelerator's name.
        accelerator: String,
    },
    /// A kernel stopped with a fault (out-of-bounds access, division by zero, panic, ...).
    #[error("kernel `{kernel}` on {accelerator}: {message}")]
    KernelFault {
        /// Kernel name.
        kernel: String,
        /// The accelerator's name.
        accelerator: String,
        /// The fault, described with parameter names.
        message: String,
        /// The fault itself.
        fault: KernelFault,
    },
    /// A fault inside a query's closure, located by the query (see `dotcompute::query`): the
    /// operator whose closure faulted and the first element at which it does.
    #[error(
        "query operator `{operator}` faulted at element {element}{}: {launch}",
        stage_note(*stage)
    )]
    QueryFault {
        /// The operator as written, e.g. `map(|v: u32| 8 / v)`.
        operator: String,
        /// The element's position among the stage's inputs: in the query's sources (after
        /// a `skip`, still the source's position; in `acc.query(a..b)`, the value minus `a`)
        /// for stage 1.
        element: u64,
        /// The chain's stage: 1, or, after each `take`/`skip` that follows a filter, the next
        /// (whose elements are the values the stage before kept).
        stage: u32,
        /// The launch's [`Error::KernelFault`], naming the query's kernel (or, when another
        /// element faulted differently first there, the element's own fault from the query's
        /// locate kernel). Shown in the message, so not also the error's `source()`.
        launch: Box<Error>,
    },
    /// A launch by name of a kernel that was never registered.
    #[error("no kernel named `{name}` is registered{known}")]
    UnknownKernel {
        /// The name asked for.
        name: String,
        /// The registered names, for the message.
        known: String,
    },
    /// Two different kernels registered under one name.
    #[error("a different kernel named `{name}` is already registered")]
    DuplicateKernel {
        /// The name.
        name: String,
    },
    /// An `unchecked` kernel launched through a path that cannot be `unsafe`.
    #[error(
        "kernel `{kernel}` is `#[kernel(unchecked)]`: it can only be launched through its `unsafe` typed `launch`"
    )]
    UncheckedKernel {
        /// Kernel name.
        kernel: String,
    },
    /// The kernel needs something the accelerator lacks.
    #[error("kernel `{kernel}` needs {need}, which {accelerator} does not support")]
    Unsupported {
        /// Kernel name.
        kernel: String,
        /// The capability.
        need: String,
        /// The accelerator's name.
        accelerator: String,
    },
    /// A memory pool would exceed its limit.
    #[error(
        "memory pool `{pool}` limit exceeded: {requested} bytes requested with {in_use} in use, limit {limit}"
    )]
    PoolLimit {
        /// The pool's name.
        pool: String,
        /// Bytes asked for (rounded to the size class).
        requested: u64,
        /// Bytes in use already.
        in_use: u64,
        /// The limit.
        limit: u64,
    },
    /// The system could not provide memory.
    #[error("out of memory allocating {bytes} bytes in pool `{pool}`: {reason}")]
    OutOfMemory {
        /// The pool's name.
        pool: String,
        /// Bytes asked for.
        bytes: u64,
        /// The system's answer.
        reason: String,
    },
    /// A host copy of the wrong length.
    #[error("length mismatch: the buffer holds {expected} elements, the slice {found}")]
    LengthMismatch {
        /// Buffer length.
        expected: usize,
        /// Slice length.
        found: usize,
    },
    /// An algorithm's arguments do not fit together (lengths, shapes, counts).
    #[error("`{operation}`: {reason}")]
    InvalidArgument {
        /// The algorithm, e.g. `inclusive_scan`.
        operation: String,
        /// What does not fit.
        reason: String,
    },
    /// No accelerator of the kind asked for.
    #[error("no {kind} accelerator is available{reason}")]
    NoAccelerator {
        /// The kind asked for.
        kind: String,
        /// Why, when a backend said so.
        reason: String,
    },
    /// The kernel's IR is invalid or could not be decoded.
    #[error(transparent)]
    Ir(#[from] IrError),
    /// A backend failed (driver, compiler, thread pool, ...).
    #[error("{backend} backend: {message}")]
    Backend {
        /// Backend name.
        backend: String,
        /// What failed.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Error {
    /// The fault that stopped a kernel, when this error is one.
    ///
    /// ```
    /// # use dotcompute_core::{Error, KernelFault};
    /// # fn check(e: &Error) -> bool {
    /// matches!(e.fault(), Some(KernelFault::DivisionByZero))
    /// # }
    /// ```
    pub fn fault(&self) -> Option<&KernelFault> {
        match self {
            Error::KernelFault { fault, .. } => Some(fault),
            Error::QueryFault { launch, .. } => launch.fault(),
            _ => None,
        }
    }
}

/// How `Error::QueryFault` names a later stage's element.
fn stage_note(stage: u32) -> String {
    if stage > 1 {
        format!(" of stage {stage} (among the values kept before its `take`/`skip`)")
    } else {
        String::new()
    }
}
