//! Finding OpenCL devices and building kernels' OpenCL C for them.

use crate::error::OpenClError;
use dotcompute_core::KernelDefinition;
use dotcompute_ir::emit::opencl::{self, ENTRY_POINT, OPENCL_BUILD_OPTIONS, OpenClProgram};
use opencl3::context::Context;
use opencl3::device::{CL_DEVICE_TYPE_ALL, Device};
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
    for platform in platforms {
        let platform_name = platform
            .name()
            .unwrap_or_else(|_| "unnamed platform".into());
        let ids = match platform.get_devices(CL_DEVICE_TYPE_ALL) {
            Ok(ids) => ids,
            // A platform without devices reports an error rather than an empty list.
            Err(e) if e.0 == opencl3::error_codes::CL_DEVICE_NOT_FOUND => Vec::new(),
            Err(e) => {
                return Err(OpenClError::Api {
                    what: "listing devices".into(),
                    device: platform_name,
                    reason: e.to_string(),
                });
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
                device,
            });
        }
    }
    Ok(found)
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
    /// [`OpenClError::Emit`] for a kernel OpenCL C cannot express (subgroup operations),
    /// or when the kernel's IR does not decode; [`OpenClError::Build`] with the device's
    /// log when the device's compiler rejects the source.
    pub fn build(&self, def: &'static KernelDefinition) -> Result<OpenClProgram, OpenClError> {
        let kernel_ir = def.ir().map_err(|e| OpenClError::Build {
            kernel: def.name().to_string(),
            device: self.device.to_string(),
            log: e.to_string(),
        })?;
        let emitted = opencl::emit(kernel_ir)?;
        self.build_source(def.name(), &emitted.source)?;
        Ok(emitted)
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
