//! The IR interpreter ([`dotcompute::ir::interpret`]) as an accelerator, so that every
//! conformance case runs on it like on any backend: the hand-written references check the
//! interpreter, and the interpreter, the language's meaning written once, is the reference
//! the backends' results can be compared with.
//!
//! It computes on host memory, one work item after another on the calling thread: a
//! reference, not a way to run kernels fast.

use dotcompute::backend::{
    BackendPlugin, BufferBinding, CompiledKernel, Device, LaunchArg, LaunchError,
};
use dotcompute::ir::interpret::{self, Arg, Fault, Launch, Value};
use dotcompute::launch_tracker::TrackedLaunch;
use dotcompute::{
    AcceleratorId, AcceleratorInfo, AcceleratorKind, BackendKind, Capabilities, Error, Grid,
    KernelDefinition, KernelFault, ScalarValue,
};
use std::sync::Arc;

/// The backend's name (`BackendKind::Plugin`).
pub const NAME: &str = "interpreter";

/// Subgroup size of the interpreter's launches: the CPU backend's default.
const SUBGROUP_SIZE: u32 = 16;

/// Finds the one interpreter device.
pub struct InterpreterPlugin;

impl BackendPlugin for InterpreterPlugin {
    fn name(&self) -> &str {
        NAME
    }

    fn backend(&self) -> BackendKind {
        BackendKind::Plugin(NAME)
    }

    fn discover(&self) -> Result<Vec<Arc<dyn Device>>, Error> {
        Ok(vec![Arc::new(InterpreterDevice {
            info: AcceleratorInfo {
                id: AcceleratorId {
                    backend: BackendKind::Plugin(NAME),
                    index: 0,
                },
                name: "IR interpreter".into(),
                kind: AcceleratorKind::Other,
                vendor: "DotCompute".into(),
                memory_bytes: 0,
                compute_units: 1,
                versions: vec![("kernels".into(), "interpreted IR (the reference)".into())],
                capabilities: Capabilities {
                    f64: true,
                    int64: true,
                    int64_emulated: false,
                    atomics: true,
                    atomics64: true,
                    float_atomics: true,
                    f64_device_math: true,
                    shared_memory_bytes: 16 << 20,
                    cooperative: true,
                    max_group_size: 1024,
                    subgroup_size: SUBGROUP_SIZE,
                    max_buffer_bytes: isize::MAX as u64,
                    simd: None,
                    device_timing: false,
                },
            },
        })])
    }
}

struct InterpreterDevice {
    info: AcceleratorInfo,
}

impl Device for InterpreterDevice {
    fn info(&self) -> &AcceleratorInfo {
        &self.info
    }

    fn compile(&self, kernel: &'static KernelDefinition) -> Result<Arc<dyn CompiledKernel>, Error> {
        // Validated when decoded: nothing else to prepare.
        kernel.ir()?;
        Ok(Arc::new(InterpretedKernel { def: kernel }))
    }

    fn synchronize(&self) -> Result<(), Error> {
        // Launches complete before they return.
        Ok(())
    }
}

struct InterpretedKernel {
    def: &'static KernelDefinition,
}

impl CompiledKernel for InterpretedKernel {
    unsafe fn launch(
        &self,
        grid: &Grid,
        _work_items: u64,
        args: &[LaunchArg<'_>],
        _tracked: Option<&Arc<TrackedLaunch>>,
    ) -> Result<(), LaunchError> {
        let kernel = self.def.ir().map_err(LaunchError::Failed)?;
        let mut bound = Vec::with_capacity(args.len());
        for (i, arg) in args.iter().enumerate() {
            let mismatch = KernelFault::ArgumentMismatch { param: i as u32 };
            bound.push(match *arg {
                LaunchArg::Scalar(v) => Arg::Scalar(value(v)),
                LaunchArg::Buffer(BufferBinding::Host {
                    ptr,
                    len,
                    elem,
                    writable,
                }) => {
                    let bytes = usize::try_from(len)
                        .ok()
                        .and_then(|n| n.checked_mul(elem.size_bytes()))
                        .ok_or(mismatch)?;
                    if bytes == 0 {
                        Arg::Buffer(&[])
                    } else if writable {
                        // SAFETY: the caller guarantees `len` valid elements at `ptr` that
                        // nothing else accesses during the call; a writable binding is the
                        // launch's only binding of its buffer (the launcher borrows it
                        // mutably), so this is the one reference to those bytes.
                        Arg::BufferMut(unsafe { std::slice::from_raw_parts_mut(ptr, bytes) })
                    } else {
                        // SAFETY: as above; read-only bindings may share their bytes with
                        // other read-only bindings, never with a writable one.
                        Arg::Buffer(unsafe { std::slice::from_raw_parts(ptr.cast_const(), bytes) })
                    }
                }
                LaunchArg::Buffer(BufferBinding::Device { .. }) => return Err(mismatch.into()),
            });
        }
        let launch = Launch {
            grid: grid.dims(),
            group: grid.group_size_or_default(),
            subgroup_size: u64::from(SUBGROUP_SIZE),
        };
        interpret::run(kernel, &launch, &mut bound).map_err(|f| LaunchError::Fault(fault(f)))
    }
}

/// A launch's scalar argument as the interpreter's value.
pub(crate) fn value(v: ScalarValue) -> Value {
    match v {
        ScalarValue::I32(x) => Value::I32(x),
        ScalarValue::U32(x) => Value::U32(x),
        ScalarValue::I64(x) => Value::I64(x),
        ScalarValue::U64(x) => Value::U64(x),
        ScalarValue::F32(x) => Value::F32(x),
        ScalarValue::F64(x) => Value::F64(x),
    }
}

fn fault(f: Fault) -> KernelFault {
    match f {
        Fault::OutOfBounds { param, index, len } => KernelFault::OutOfBounds { param, index, len },
        Fault::ArrayOutOfBounds { array, index, len } => {
            KernelFault::ArrayOutOfBounds { array, index, len }
        }
        Fault::DivisionByZero => KernelFault::DivisionByZero,
        Fault::DivisionOverflow => KernelFault::DivisionOverflow,
        Fault::InvalidClamp => KernelFault::InvalidClamp,
        Fault::ZeroStep => KernelFault::ZeroStep,
        Fault::Panic { message } => KernelFault::Panic {
            message: message.into(),
        },
        Fault::ArgumentMismatch { param } => KernelFault::ArgumentMismatch { param },
    }
}
