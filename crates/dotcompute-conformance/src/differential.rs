//! Differential testing against the IR interpreter: a backend plugin that wraps another
//! backend's devices and checks every launch they make against [`dotcompute::ir::interpret`].
//!
//! Before each launch the wrapper copies the arguments and runs the interpreter on the
//! copies; after it, the buffers the kernel may write must hold the interpreter's bits, and
//! a launch must fault exactly when the interpreter faults. A disagreement fails the launch
//! with an [`Error::Backend`] that names the kernel, the buffer, the element and both values,
//! so that any test run through the wrapper (the whole conformance suite) checks every
//! kernel it launches, on the inputs it launches them with.
//!
//! What is compared, and why:
//! - Written buffers, bit for bit, when neither side faulted. Floats too: the backends that
//!   are wrapped evaluate every operation as Rust does, as the interpreter does; only a
//!   NaN's sign and payload, which Rust leaves unspecified, may differ.
//! - Kernels whose result depends on the order in which items run are not compared
//!   element by element: float atomics other than exchange, min and max (a sum's rounding
//!   depends on the order of its terms), and compare-exchange or exchange, whose winners
//!   depend on timing. Their launches are still checked for faults.
//! - Faults: both sides fault or neither. Which item's fault a parallel backend reports
//!   first is not defined, so a fault's kind is compared only when one item can fault.
//!
//! - Launches over more than [`MAX_INTERPRETED_ITEMS`] items are passed through unchecked.
//!
//! Devices with memory of their own are read through downloads, which wait for the
//! launch. Their faults surface at the caller's next synchronisation, which the wrapper
//! does not take: when the interpreter faults, their launch is not compared (the cases that
//! expect a fault check it).

use crate::interpreter;
use dotcompute::PoolStatistics;
use dotcompute::backend::{
    BackendPlugin, BufferBinding, CompiledKernel, Device, DeviceMemory, LaunchArg, LaunchError,
    MemorySpace,
};
use dotcompute::ir::interpret::{self, Arg, Launch};
use dotcompute::ir::{AtomicOp, ExprKind, Kernel, ParamKind, ScalarType, walk_exprs_mut};
use dotcompute::launch_tracker::TrackedLaunch;
use dotcompute::{AcceleratorInfo, BackendKind, Error, Grid, KernelDefinition};
use std::sync::Arc;

/// Launches over more work items than this run unchecked: the interpreter takes about 100 ns
/// an item (the conformance case over 2^32 + 7 items took 407 s), and the cases that make
/// them compare with their own references.
pub const MAX_INTERPRETED_ITEMS: u64 = 1 << 26;

/// Wraps `inner`'s devices so that each launch is checked against the interpreter.
pub struct DifferentialPlugin {
    inner: Box<dyn BackendPlugin>,
}

impl DifferentialPlugin {
    /// The wrapper of `inner`'s devices.
    pub fn new(inner: Box<dyn BackendPlugin>) -> DifferentialPlugin {
        DifferentialPlugin { inner }
    }
}

impl BackendPlugin for DifferentialPlugin {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn backend(&self) -> BackendKind {
        self.inner.backend()
    }

    fn discover(&self) -> Result<Vec<Arc<dyn Device>>, Error> {
        let mut devices: Vec<Arc<dyn Device>> = Vec::new();
        for inner in self.inner.discover()? {
            devices.push(Arc::new(DifferentialDevice { inner }));
        }
        Ok(devices)
    }
}

struct DifferentialDevice {
    inner: Arc<dyn Device>,
}

impl Device for DifferentialDevice {
    fn info(&self) -> &AcceleratorInfo {
        self.inner.info()
    }

    fn compile(&self, kernel: &'static KernelDefinition) -> Result<Arc<dyn CompiledKernel>, Error> {
        let compiled = self.inner.compile(kernel)?;
        let ir = kernel.ir()?;
        Ok(Arc::new(DifferentialKernel {
            def: kernel,
            inner: compiled,
            order_dependent: order_dependent(ir),
            subgroup_size: u64::from(self.inner.info().capabilities.subgroup_size.max(1)),
        }))
    }

    fn synchronize(&self) -> Result<(), Error> {
        self.inner.synchronize()
    }

    fn memory_space(&self) -> MemorySpace {
        self.inner.memory_space()
    }

    fn allocate(&self, bytes: usize) -> Result<Box<dyn DeviceMemory>, Error> {
        self.inner.allocate(bytes)
    }

    fn memory_statistics(&self) -> Option<PoolStatistics> {
        self.inner.memory_statistics()
    }

    fn run_in_host_pool(&self, task: &mut (dyn FnMut(usize) + Send)) -> bool {
        self.inner.run_in_host_pool(task)
    }
}

struct DifferentialKernel {
    def: &'static KernelDefinition,
    inner: Arc<dyn CompiledKernel>,
    /// The kernel's results depend on the order its items run in (see the module docs).
    order_dependent: bool,
    subgroup_size: u64,
}

impl CompiledKernel for DifferentialKernel {
    unsafe fn launch(
        &self,
        grid: &Grid,
        work_items: u64,
        args: &[LaunchArg<'_>],
        tracked: Option<&Arc<TrackedLaunch>>,
    ) -> Result<(), LaunchError> {
        let kernel = self.def.ir().map_err(LaunchError::Failed)?;
        if work_items > MAX_INTERPRETED_ITEMS {
            // SAFETY: the caller's guarantees are passed on unchanged.
            return unsafe { self.inner.launch(grid, work_items, args, tracked) };
        }
        // The interpreter's copies of the arguments, before the launch changes them.
        let mut copies: Vec<Option<Vec<u8>>> = Vec::with_capacity(args.len());
        for arg in args {
            copies.push(match arg {
                LaunchArg::Buffer(b) => Some(contents(b).map_err(LaunchError::Failed)?),
                LaunchArg::Scalar(_) => None,
            });
        }
        let mut interpreted: Vec<Arg<'_>> = Vec::with_capacity(args.len());
        for ((arg, copy), param) in args.iter().zip(&mut copies).zip(&kernel.params) {
            interpreted.push(match (arg, copy) {
                (LaunchArg::Scalar(v), _) => Arg::Scalar(interpreter::value(*v)),
                (_, Some(bytes)) => {
                    if param_writable(&param.kind) {
                        Arg::BufferMut(bytes)
                    } else {
                        Arg::Buffer(bytes)
                    }
                }
                (_, None) => Arg::Buffer(&[]),
            });
        }
        let launch = Launch {
            grid: grid.dims(),
            group: grid.group_size_or_default(),
            subgroup_size: self.subgroup_size,
        };
        let expected = interpret::run(kernel, &launch, &mut interpreted);
        drop(interpreted);
        // SAFETY: the caller's guarantees are passed on unchanged.
        let actual = unsafe { self.inner.launch(grid, work_items, args, tracked) };
        let differs = |what: String| {
            LaunchError::Failed(Error::Backend {
                backend: "differential".into(),
                message: format!(
                    "kernel `{}` over {:?}: {what}",
                    self.def.name(),
                    grid.dims()
                ),
                source: None,
            })
        };
        let asynchronous = args
            .iter()
            .any(|a| matches!(a, LaunchArg::Buffer(BufferBinding::Device { .. })));
        match (&expected, &actual) {
            (Ok(()), Ok(())) => {}
            (Err(_), Err(LaunchError::Fault(_))) => return actual,
            // A device's fault surfaces at its next synchronisation, which is the caller's
            // (taking it here would hide it from them): the cases that expect faults check it.
            (Err(_), Ok(())) if asynchronous => return actual,
            (Err(e), _) => {
                return Err(differs(format!(
                    "the interpreter faults ({e}), the backend does not"
                )));
            }
            (Ok(()), Err(LaunchError::Fault(f))) => {
                return Err(differs(format!(
                    "the backend faults ({f}), the interpreter does not"
                )));
            }
            (Ok(()), Err(LaunchError::Failed(_))) => return actual,
        }
        if self.order_dependent {
            return actual;
        }
        for (i, (arg, copy)) in args.iter().zip(&copies).enumerate() {
            let (LaunchArg::Buffer(binding), Some(want)) = (arg, copy) else {
                continue;
            };
            let (elem, writable) = match *binding {
                BufferBinding::Host { elem, writable, .. }
                | BufferBinding::Device { elem, writable, .. } => (elem, writable),
            };
            if !writable || want.is_empty() {
                continue;
            }
            // A download waits for the launch; host devices have finished already.
            let got = contents(binding).map_err(LaunchError::Failed)?;
            let size = elem.size_bytes();
            if let Some(k) = first_difference(elem, &got, want) {
                let value =
                    |b: &[u8]| interpret::Value::read_from(elem, &b[k * size..(k + 1) * size]);
                return Err(differs(format!(
                    "buffer `{}` element {k}: the backend wrote {:?}, the interpreter {:?}",
                    kernel.params[i].name,
                    value(&got),
                    value(want)
                )));
            }
        }
        actual
    }

    fn device_times(&self) -> Option<dotcompute::DeviceTimes> {
        self.inner.device_times()
    }
}

/// A bound buffer's bytes: read from host memory, or downloaded from the device (after the
/// work that writes it).
fn contents(binding: &BufferBinding<'_>) -> Result<Vec<u8>, Error> {
    match *binding {
        BufferBinding::Host { ptr, len, elem, .. } => {
            let bytes = len as usize * elem.size_bytes();
            if bytes == 0 {
                return Ok(Vec::new());
            }
            // SAFETY: the launch's caller guarantees `len` valid elements at `ptr` that
            // nothing else accesses during the launch (of which this is part).
            Ok(unsafe { std::slice::from_raw_parts(ptr.cast_const(), bytes) }.to_vec())
        }
        BufferBinding::Device {
            memory, len, elem, ..
        } => {
            let mut bytes = vec![0u8; len as usize * elem.size_bytes()];
            memory.download(&mut bytes)?;
            Ok(bytes)
        }
    }
}

/// The first element of type `elem` at which `got` and `want` differ, any NaN matching any
/// NaN (see [`is_nan`]); `None` when they agree.
pub(crate) fn first_difference(elem: ScalarType, got: &[u8], want: &[u8]) -> Option<usize> {
    let size = elem.size_bytes();
    got.chunks_exact(size)
        .zip(want.chunks_exact(size))
        .position(|(g, w)| {
            g != w
                && !(is_nan(interpret::Value::read_from(elem, g))
                    && is_nan(interpret::Value::read_from(elem, w)))
        })
}

/// Whether a value is a NaN: Rust, like IEEE 754, leaves most NaN results' sign and
/// payload unspecified (an AVX-512 `floor` of a signalling NaN quiets it, a scalar one may
/// not), so any NaN matches any NaN.
fn is_nan(v: interpret::Value) -> bool {
    match v {
        interpret::Value::F32(x) => x.is_nan(),
        interpret::Value::F64(x) => x.is_nan(),
        _ => false,
    }
}

fn param_writable(kind: &ParamKind) -> bool {
    matches!(
        kind,
        ParamKind::Buffer {
            access: dotcompute::ir::Access::ReadWrite,
            ..
        }
    )
}

/// Whether a kernel's results may depend on the order its items run in: float atomics that
/// round (add, sub), or atomics whose winner is whoever comes first (exchange and
/// compare-exchange), on buffers.
fn order_dependent(kernel: &Kernel) -> bool {
    let mut found = false;
    // The walker visits mutably; a copy of the body is walked.
    let mut body = kernel.body.clone();
    walk_exprs_mut(&mut body, &mut |e| {
        if let ExprKind::Atomic { op, args, .. } = &e.kind {
            let float = args.first().is_some_and(|a| a.ty.is_float());
            found |= matches!(op, AtomicOp::Exchange | AtomicOp::CompareExchange)
                || (float && matches!(op, AtomicOp::Add | AtomicOp::Sub));
        }
    });
    found
}
