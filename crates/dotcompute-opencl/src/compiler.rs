//! Building kernels' OpenCL C for a device: what the device must have, the build, and the
//! check that the program has the entry point.

use crate::discovery::OpenClDeviceInfo;
use crate::error::OpenClError;
use dotcompute_core::KernelDefinition;
use dotcompute_ir::Requirements;
use dotcompute_ir::emit::opencl::{self, ENTRY_POINT, OPENCL_BUILD_OPTIONS, OpenClProgram};
use opencl3::context::Context;
use opencl3::kernel::Kernel;
use opencl3::program::Program;
use std::sync::Arc;

/// Builds kernels' OpenCL C for one device (in a context of its own, or the context of the
/// device's accelerator).
pub struct OpenClCompiler {
    device: OpenClDeviceInfo,
    context: Arc<Context>,
}

impl OpenClCompiler {
    /// A compiler for `device`, in a context of its own.
    ///
    /// # Errors
    ///
    /// When the device's context cannot be created.
    pub fn new(device: &OpenClDeviceInfo) -> Result<OpenClCompiler, OpenClError> {
        let context = Context::from_device(&device.device).map_err(|e| OpenClError::Api {
            what: "creating a context".into(),
            device: device.to_string(),
            reason: e.to_string(),
        })?;
        Ok(OpenClCompiler::in_context(
            device.clone(),
            Arc::new(context),
        ))
    }

    /// A compiler for `device` in `context` (which holds the device).
    pub(crate) fn in_context(device: OpenClDeviceInfo, context: Arc<Context>) -> OpenClCompiler {
        OpenClCompiler { device, context }
    }

    /// The device it builds for.
    pub fn device(&self) -> &OpenClDeviceInfo {
        &self.device
    }

    /// Emits `def`'s OpenCL C and builds it with [`OPENCL_BUILD_OPTIONS`] (and, on PoCL,
    /// cooperative kernels unoptimised: see the source), checking that the program has the
    /// entry point.
    ///
    /// # Errors
    ///
    /// [`OpenClError::Unsupported`] when the device lacks what the kernel needs (`f64`,
    /// 64-bit atomics, its shared memory) or IEEE `f32` (subnormals, correctly rounded
    /// division and square root); [`OpenClError::Emit`] for a kernel OpenCL C cannot
    /// express (subgroup operations) or whose IR does not decode; [`OpenClError::Build`]
    /// with the device's log when the device's compiler rejects the source.
    pub fn build(&self, def: &'static KernelDefinition) -> Result<OpenClProgram, OpenClError> {
        self.program(def).map(|(emitted, _)| emitted)
    }

    /// `def`'s OpenCL C and the program built from it (see [`OpenClCompiler::build`]).
    pub(crate) fn program(
        &self,
        def: &'static KernelDefinition,
    ) -> Result<(OpenClProgram, Program), OpenClError> {
        let kernel_ir = def.ir().map_err(|e| match e {
            dotcompute_core::Error::Ir(ir) => OpenClError::Emit(ir),
            other => OpenClError::Build {
                kernel: def.name().to_string(),
                device: self.device.to_string(),
                log: other.to_string(),
            },
        })?;
        if let Some(need) = self.lacks(&kernel_ir.requirements()) {
            return Err(OpenClError::Unsupported {
                kernel: def.name().to_string(),
                device: self.device.to_string(),
                need,
            });
        }
        let emitted = opencl::emit(kernel_ir)?;
        let options = self.options(kernel_ir.is_cooperative());
        let program = self.build_program(def.name(), &emitted.source, &options)?;
        Ok((emitted, program))
    }

    /// The build options of a kernel: [`OPENCL_BUILD_OPTIONS`], and on PoCL, for cooperative
    /// kernels, no optimisation. PoCL's work-group passes can miscompile a kernel whose
    /// branches after a barrier reconverge before the next barrier (our early `return` in a
    /// group makes that shape): work items run branches meant for others (pocl/pocl#2235
    /// and #2281; seen on PoCL 3.1 with `return_in_group_branch`, which passes unoptimised).
    fn options(&self, cooperative: bool) -> String {
        if cooperative && self.device.platform.contains("Portable Computing Language") {
            format!("{OPENCL_BUILD_OPTIONS} -cl-opt-disable")
        } else {
            OPENCL_BUILD_OPTIONS.to_string()
        }
    }

    /// What the device lacks of `needs`, or of IEEE `f32`, in words.
    fn lacks(&self, needs: &Requirements) -> Option<String> {
        let device = &self.device;
        if !device.ieee_f32 {
            Some("IEEE f32 (subnormals, correctly rounded division and square root)".into())
        } else if needs.f64 && !device.has_extension("cl_khr_fp64") {
            Some("f64 (cl_khr_fp64)".into())
        } else if needs.atomics64
            && !(device.has_extension("cl_khr_int64_base_atomics")
                && device.has_extension("cl_khr_int64_extended_atomics"))
        {
            Some("64-bit atomics (cl_khr_int64_base_atomics and _extended_atomics)".into())
        } else if needs.shared_bytes > device.local_memory_bytes {
            Some(format!("{} bytes of local memory", needs.shared_bytes))
        } else {
            None
        }
    }

    /// Builds OpenCL C `source` (named `kernel` in errors) with [`OPENCL_BUILD_OPTIONS`] and
    /// checks that it has the entry point.
    ///
    /// # Errors
    ///
    /// [`OpenClError::Build`] with the device's log.
    pub fn build_source(&self, kernel: &str, source: &str) -> Result<(), OpenClError> {
        self.build_program(kernel, source, OPENCL_BUILD_OPTIONS)
            .map(|_| ())
    }

    fn build_program(
        &self,
        kernel: &str,
        source: &str,
        options: &str,
    ) -> Result<Program, OpenClError> {
        let failed = |log: String| OpenClError::Build {
            kernel: kernel.to_string(),
            device: self.device.to_string(),
            log,
        };
        let program = Program::create_and_build_from_source(&self.context, source, options)
            .map_err(failed)?;
        Kernel::create(&program, ENTRY_POINT).map_err(|e| failed(e.to_string()))?;
        Ok(program)
    }
}
