//! The OpenCL peer of the launch benchmark: a minimal host program on the raw OpenCL API
//! (the same C calls a C program makes) that enqueues the same kernel, the same OpenCL C
//! built with the same options, in groups of the same size, on the same device; its
//! arguments set once, then launches enqueued back to back and one wait. What a launch
//! costs without the library's work (argument binding, fault records, the launch tracker).

use crate::CliError;
use dotcompute::backend::{BufferBinding, LaunchArg};
use dotcompute::ir::ScalarType;
use dotcompute::ir::emit::opencl::{self, ENTRY_POINT, OPENCL_BUILD_OPTIONS};
use dotcompute::{Accelerator, BackendKind, Grid};
use dotcompute_conformance::kernels;
use dotcompute_core::ParameterBlock;
use opencl3::command_queue::CommandQueue;
use opencl3::context::Context;
use opencl3::kernel::Kernel;
use opencl3::memory::{Buffer, CL_MEM_COPY_HOST_PTR, CL_MEM_READ_WRITE, ClMem};
use opencl3::program::Program;

/// `iota` over one work item, ready to enqueue.
pub(super) struct OpenClLaunchPeer {
    queue: CommandQueue,
    kernel: Kernel,
    group: usize,
    _program: Program,
    _buffers: (Buffer<u32>, Buffer<u64>),
}

fn failed(what: &str, e: impl std::fmt::Display) -> CliError {
    CliError::Message(format!("OpenCL peer: {what}: {e}"))
}

impl OpenClLaunchPeer {
    /// The peer on `acc`'s device, when `acc` is an OpenCL accelerator.
    pub(super) fn new(acc: &Accelerator) -> Result<Option<OpenClLaunchPeer>, CliError> {
        if acc.id().backend != BackendKind::OpenCl {
            return Ok(None);
        }
        let devices = dotcompute_opencl::devices().map_err(|e| failed("listing devices", e))?;
        let Some(info) = devices.get(acc.id().index as usize) else {
            return Ok(None);
        };
        let device = info.device();
        let context = Context::from_device(device).map_err(|e| failed("context", e))?;
        // clCreateCommandQueue: OpenCL 1.2 devices have nothing newer.
        #[allow(deprecated)]
        // SAFETY: the device is the context's only device.
        let queue = unsafe { CommandQueue::create(&context, device.id(), 0) }
            .map_err(|e| failed("queue", e))?;
        let def = kernels::iota::definition();
        let emitted = opencl::emit(def.ir()?).map_err(|e| failed("emitting", e))?;
        let program =
            Program::create_and_build_from_source(&context, &emitted.source, OPENCL_BUILD_OPTIONS)
                .map_err(|e| failed("building", e))?;
        let kernel = Kernel::create(&program, ENTRY_POINT).map_err(|e| failed("kernel", e))?;
        // The library's group size and parameter block.
        let group = dotcompute_opencl::ordinary_group_size(&kernel, device)
            .map_err(|e| failed("work-group size", e))?;
        let out_binding = LaunchArg::Buffer(BufferBinding::Host {
            ptr: std::ptr::null_mut(),
            len: 1,
            elem: ScalarType::U64,
            writable: true,
        });
        let params = ParameterBlock::new(emitted.params.size, &Grid::d1(1), 1, &[out_binding]);
        let block = params.bytes();
        let mut record = [0u32; 8];
        let mut out = [0u64; 1];
        // SAFETY: COPY_HOST_PTR reads the given host arrays (of the given counts) during the
        // calls only.
        let buffers = unsafe {
            (
                Buffer::<u32>::create(
                    &context,
                    CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                    record.len(),
                    record.as_mut_ptr().cast(),
                ),
                Buffer::<u64>::create(
                    &context,
                    CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                    out.len(),
                    out.as_mut_ptr().cast(),
                ),
            )
        };
        let buffers = (
            buffers.0.map_err(|e| failed("buffer", e))?,
            buffers.1.map_err(|e| failed("buffer", e))?,
        );
        // SAFETY: the arguments of `dotcompute_main(dc_params, fault, b0)`: the block is the
        // whole `dc_params` (copied by the call), then two buffers of this context.
        unsafe {
            opencl3::kernel::set_kernel_arg(kernel.get(), 0, block.len(), block.as_ptr().cast())
                .map_err(|e| failed("argument", e))?;
            kernel
                .set_arg(1, &buffers.0.get())
                .map_err(|e| failed("argument", e))?;
            kernel
                .set_arg(2, &buffers.1.get())
                .map_err(|e| failed("argument", e))?;
        }
        Ok(Some(OpenClLaunchPeer {
            queue,
            kernel,
            group,
            _program: program,
            _buffers: buffers,
        }))
    }

    /// Enqueues `launches` launches, then waits for them.
    pub(super) fn run(&self, launches: u64) -> Result<(), CliError> {
        let size = [self.group];
        for _ in 0..launches {
            // SAFETY: every argument is set; one dimension, the global size a multiple of
            // the local one.
            unsafe {
                self.queue.enqueue_nd_range_kernel(
                    self.kernel.get(),
                    1,
                    std::ptr::null(),
                    size.as_ptr(),
                    size.as_ptr(),
                    &[],
                )
            }
            .map_err(|e| failed("enqueueing", e))?;
        }
        self.queue.finish().map_err(|e| failed("waiting", e))
    }
}
