//! Building kernels' OpenCL C for a device: what the device must have, the build, the check
//! that the program has the entry point, and the program binaries cached on disk (under
//! `opencl/` in the folder of `dotcompute_core::disk_cache`), keyed by the kernel's IR hash,
//! the device and its driver, and the emitted source with its build options, so that a
//! second process builds nothing.

use crate::discovery::OpenClDeviceInfo;
use crate::error::OpenClError;
use dotcompute_core::KernelDefinition;
use dotcompute_core::disk_cache;
use dotcompute_ir::Requirements;
use dotcompute_ir::emit::opencl::{self, ENTRY_POINT, OPENCL_BUILD_OPTIONS, OpenClProgram};
use opencl3::context::Context;
use opencl3::kernel::Kernel;
use opencl3::program::Program;
use std::path::Path;
use std::sync::Arc;

/// Builds kernels' OpenCL C for one device (in a context of its own, or the context of the
/// device's accelerator).
pub struct OpenClCompiler {
    device: OpenClDeviceInfo,
    context: Arc<Context>,
    /// What names the device and its driver in cache file names (a binary is for one device
    /// model and compiler).
    device_key: String,
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
        let d = &device;
        let device_key = disk_cache::key(&[&d.platform, &d.name, &d.version, &d.driver]);
        OpenClCompiler {
            device,
            context,
            device_key,
        }
    }

    /// The device it builds for.
    pub fn device(&self) -> &OpenClDeviceInfo {
        &self.device
    }

    /// Emits `def`'s OpenCL C and builds it with [`OPENCL_BUILD_OPTIONS`] (and, on PoCL,
    /// cooperative kernels unoptimised: see the source), checking that the program has the
    /// entry point; a program binary cached on disk by an earlier build for this device and
    /// driver is loaded instead, and a new build is cached (see the module docs).
    ///
    /// # Errors
    ///
    /// [`OpenClError::Unsupported`] when the device lacks what the kernel needs (`f64`,
    /// 64-bit atomics, its shared memory) or IEEE `f32` (subnormals, correctly rounded
    /// division and square root); [`OpenClError::Emit`] for a kernel OpenCL C cannot
    /// express (subgroup operations) or whose IR does not decode; [`OpenClError::Build`]
    /// with the device's log when the device's compiler rejects the source.
    pub fn build(&self, def: &'static KernelDefinition) -> Result<OpenClProgram, OpenClError> {
        self.program(def).map(|(emitted, _, _)| emitted)
    }

    /// `def`'s OpenCL C, the program built from it and its entry point (see
    /// [`OpenClCompiler::build`]).
    pub(crate) fn program(
        &self,
        def: &'static KernelDefinition,
    ) -> Result<(OpenClProgram, Program, Kernel), OpenClError> {
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
        let file = disk_cache::dir("opencl").map(|dir| {
            dir.join(format!(
                "{}-{}-{}.bin",
                def.hash(),
                self.device_key,
                disk_cache::key(&[&emitted.source, &options])
            ))
        });
        if let Some((program, kernel)) = file
            .as_deref()
            .and_then(|f| self.load_binary(def.name(), f, &options))
        {
            return Ok((emitted, program, kernel));
        }
        let started = std::time::Instant::now();
        let (program, kernel) = self.build_program(def.name(), &emitted.source, &options)?;
        tracing::debug!(
            kernel = def.name(),
            device = %self.device,
            ms = started.elapsed().as_secs_f64() * 1e3,
            "OpenCL program built from source"
        );
        if let Some(f) = &file {
            // One device, so one binary.
            match program.get_binaries().map(|mut b| b.pop()) {
                Ok(Some(binary)) if !binary.is_empty() => disk_cache::store(f, &binary),
                Ok(_) => tracing::debug!(
                    kernel = def.name(),
                    "the device gave no program binary to cache"
                ),
                Err(e) => tracing::debug!(kernel = def.name(), "no program binary to cache: {e}"),
            }
        }
        Ok((emitted, program, kernel))
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

    /// The program in the cached binary `file`, built for the device, if there is one and the
    /// device takes it; a binary it refuses (damaged, or from another driver) is deleted so
    /// that the source build replaces it.
    fn load_binary(&self, kernel: &str, file: &Path, options: &str) -> Option<(Program, Kernel)> {
        let binary = std::fs::read(file).ok()?;
        let ids = [self.device.device.id()];
        // SAFETY: the device is the context's; one device and one binary, which is what the
        // call's pointer casts support (a slice of one `&[u8]`, read during the call).
        let built = unsafe { Program::create_from_binary(&self.context, &ids, &[&binary[..]]) }
            .and_then(|mut program| {
                program.build(&ids, options)?;
                let entry = Kernel::create(&program, ENTRY_POINT)?;
                Ok((program, entry))
            });
        let loaded = match built {
            Ok(loaded) => loaded,
            Err(e) => {
                tracing::warn!(
                    kernel,
                    device = %self.device,
                    "cached program binary {} refused ({}); building from source",
                    file.display(),
                    e
                );
                let _ = std::fs::remove_file(file);
                return None;
            }
        };
        tracing::debug!(kernel, device = %self.device, "OpenCL program from the disk cache");
        Some(loaded)
    }

    /// What the device lacks of `needs`, or of IEEE `f32`, in words.
    fn lacks(&self, needs: &Requirements) -> Option<String> {
        let device = &self.device;
        if !device.ieee_f32 {
            Some("IEEE f32 (subnormals, correctly rounded division and square root)".into())
        } else if needs.f64 && !device.fp64() {
            Some("f64 (cl_khr_fp64)".into())
        } else if needs.atomics64 && !device.atomics64() {
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

    /// The program built from `source` and its entry point.
    fn build_program(
        &self,
        kernel: &str,
        source: &str,
        options: &str,
    ) -> Result<(Program, Kernel), OpenClError> {
        let failed = |log: String| OpenClError::Build {
            kernel: kernel.to_string(),
            device: self.device.to_string(),
            log,
        };
        let program = Program::create_and_build_from_source(&self.context, source, options)
            .map_err(failed)?;
        let entry = Kernel::create(&program, ENTRY_POINT).map_err(|e| failed(e.to_string()))?;
        Ok((program, entry))
    }
}
