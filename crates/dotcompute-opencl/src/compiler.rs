//! Finding OpenCL devices and building kernels' OpenCL C for them.

use crate::error::OpenClError;
use dotcompute_core::KernelDefinition;
use dotcompute_ir::Requirements;
use dotcompute_ir::emit::opencl::{self, ENTRY_POINT, OPENCL_BUILD_OPTIONS, OpenClProgram};
use opencl3::context::Context;
use opencl3::device::{
    CL_DEVICE_TYPE_ALL, CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT, CL_FP_DENORM, Device,
};
use opencl3::kernel::Kernel;
use opencl3::program::Program;
use std::sync::OnceLock;

/// An OpenCL device, as its platform describes it.
#[derive(Clone, Debug)]
pub struct OpenClDevice {
    /// The platform's name (e.g. `Portable Computing Language`).
    pub platform: String,
    /// The device's name.
    pub name: String,
    /// Its OpenCL version (`OpenCL 3.0 PoCL ...`).
    pub version: String,
    /// Its driver's version.
    pub driver: String,
    /// Its extensions, separated by spaces.
    pub extensions: String,
    /// Bytes of local (work-group shared) memory.
    pub local_memory_bytes: u64,
    /// Its `f32` operations follow IEEE 754 as Rust's do: subnormals kept, and division and
    /// square root correctly rounded when asked for (`CL_DEVICE_SINGLE_FP_CONFIG`).
    pub ieee_f32: bool,
    device: Device,
}

impl OpenClDevice {
    /// Whether the device has extension `name` (e.g. `cl_khr_fp64`).
    pub fn has_extension(&self, name: &str) -> bool {
        self.extensions.split_whitespace().any(|e| e == name)
    }
}

impl std::fmt::Display for OpenClDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name, self.platform)
    }
}

/// Every device of every OpenCL platform, found once per process: first calls into the ICD
/// loader from two threads at once can see no devices, or crash, with PoCL 3.1 (measured
/// 2026-12-01), so discovery runs once behind a lock and later calls get its result.
///
/// # Errors
///
/// [`OpenClError::Unavailable`] when no OpenCL library can be loaded or it has no platform;
/// [`OpenClError::Api`] when a platform cannot list its devices.
pub fn devices() -> Result<Vec<OpenClDevice>, OpenClError> {
    static FOUND: OnceLock<Result<Vec<OpenClDevice>, OpenClError>> = OnceLock::new();
    FOUND.get_or_init(discover).clone()
}

fn discover() -> Result<Vec<OpenClDevice>, OpenClError> {
    let platforms = opencl3::platform::get_platforms().map_err(|e| OpenClError::Unavailable {
        reason: format!("no OpenCL library or platform ({e})"),
    })?;
    if platforms.is_empty() {
        return Err(OpenClError::Unavailable {
            reason: "the OpenCL library lists no platform".into(),
        });
    }
    let mut found = Vec::new();
    let mut failed = None;
    for platform in platforms {
        let platform_name = platform
            .name()
            .unwrap_or_else(|_| "unnamed platform".into());
        let ids = match platform.get_devices(CL_DEVICE_TYPE_ALL) {
            Ok(ids) => ids,
            // A platform without devices reports an error rather than an empty list.
            Err(e) if e.0 == opencl3::error_codes::CL_DEVICE_NOT_FOUND => Vec::new(),
            // A broken platform does not hide the others' devices.
            Err(e) => {
                failed.get_or_insert(OpenClError::Api {
                    what: "listing devices".into(),
                    device: platform_name,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        for id in ids {
            let device = Device::new(id);
            found.push(OpenClDevice {
                platform: platform_name.clone(),
                name: device.name().unwrap_or_else(|_| "unnamed device".into()),
                version: device.version().unwrap_or_default(),
                driver: device.driver_version().unwrap_or_default(),
                extensions: device.extensions().unwrap_or_default(),
                local_memory_bytes: device.local_mem_size().unwrap_or(0),
                ieee_f32: device.single_fp_config().is_ok_and(|config| {
                    let needed = CL_FP_DENORM | CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT;
                    config & needed == needed
                }),
                device,
            });
        }
    }
    match failed {
        Some(error) if found.is_empty() => Err(error),
        _ => Ok(found),
    }
}

/// Builds kernels' OpenCL C for one device (a context of its own).
pub struct OpenClCompiler {
    device: OpenClDevice,
    context: Context,
}

impl OpenClCompiler {
    /// A compiler for `device`.
    ///
    /// # Errors
    ///
    /// When the device's context cannot be created.
    pub fn new(device: &OpenClDevice) -> Result<OpenClCompiler, OpenClError> {
        let context = Context::from_device(&device.device).map_err(|e| OpenClError::Api {
            what: "creating a context".into(),
            device: device.to_string(),
            reason: e.to_string(),
        })?;
        Ok(OpenClCompiler {
            device: device.clone(),
            context,
        })
    }

    /// The device it builds for.
    pub fn device(&self) -> &OpenClDevice {
        &self.device
    }

    /// Emits `def`'s OpenCL C and builds it with [`OPENCL_BUILD_OPTIONS`], checking that
    /// the program has the entry point.
    ///
    /// # Errors
    ///
    /// [`OpenClError::Unsupported`] when the device lacks what the kernel needs (`f64`,
    /// 64-bit atomics, its shared memory) or IEEE `f32` (subnormals, correctly rounded
    /// division and square root); [`OpenClError::Emit`] for a kernel OpenCL C cannot
    /// express (subgroup operations) or whose IR does not decode; [`OpenClError::Build`]
    /// with the device's log when the device's compiler rejects the source.
    pub fn build(&self, def: &'static KernelDefinition) -> Result<OpenClProgram, OpenClError> {
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
        self.build_source(def.name(), &emitted.source)?;
        Ok(emitted)
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
        let failed = |log: String| OpenClError::Build {
            kernel: kernel.to_string(),
            device: self.device.to_string(),
            log,
        };
        let program =
            Program::create_and_build_from_source(&self.context, source, OPENCL_BUILD_OPTIONS)
                .map_err(failed)?;
        Kernel::create(&program, ENTRY_POINT).map_err(|e| failed(e.to_string()))?;
        Ok(())
    }
}
