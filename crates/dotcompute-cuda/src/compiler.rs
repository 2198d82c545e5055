//! NVRTC: CUDA C++ to a CUBIN for one GPU architecture.
//!
//! CUBINs, not PTX: a driver cannot load PTX newer than its own PTX ISA, and the NVRTC found
//! (e.g. a newer pip wheel) may be newer than the driver; machine code for the device's exact
//! architecture loads on any driver that supports that architecture.

use crate::error::CudaError;
use crate::libraries;
use cudarc::nvrtc::{result, sys};
use dotcompute_core::{Error, KernelDefinition};
use dotcompute_ir::emit::cuda::{self, CUDA_COMPILE_OPTIONS, CudaProgram};
use std::ffi::{CString, c_char, c_int};

/// NVRTC's version, `(major, minor)`; loads NVRTC first, with an error listing where it
/// looked if it is not installed.
pub fn nvrtc_version() -> Result<(i32, i32), Error> {
    ensure_nvrtc()?;
    let (mut major, mut minor): (c_int, c_int) = (0, 0);
    // SAFETY: NVRTC is loaded (ensure_nvrtc); the out-pointers are valid locals.
    let status = unsafe { sys::nvrtcVersion(&mut major, &mut minor) };
    status.result().map_err(|e| CudaError::Compile {
        kernel: String::new(),
        arch: String::new(),
        message: format!("nvrtcVersion failed: {e:?}"),
        log: String::new(),
    })?;
    Ok((major, minor))
}

fn ensure_nvrtc() -> Result<(), CudaError> {
    match libraries::nvrtc() {
        Ok(_) => Ok(()),
        Err(searched) => Err(CudaError::LibraryNotFound {
            library: "NVRTC (libnvrtc.so.13; `pip install nvidia-cuda-nvrtc` provides it)",
            searched: searched.clone(),
        }),
    }
}

/// The CUDA C++ of a kernel and its CUBIN for `sm_{arch}` (e.g. `90` for Hopper).
pub fn compile_kernel(
    def: &'static KernelDefinition,
    arch: u32,
) -> Result<(CudaProgram, Vec<u8>), Error> {
    let program = cuda::emit(def.ir()?);
    let cubin = compile_source(def.name(), &program.source, arch)?;
    Ok((program, cubin))
}

/// Compiles CUDA C++ `source` to a CUBIN for `sm_{arch}`, with the options the emitted code
/// needs ([`CUDA_COMPILE_OPTIONS`]). On failure the error carries NVRTC's log.
pub fn compile_source(kernel: &str, source: &str, arch: u32) -> Result<Vec<u8>, CudaError> {
    ensure_nvrtc()?;
    let arch_name = format!("sm_{arch}");
    let failed = |message: String, log: String| CudaError::Compile {
        kernel: kernel.to_string(),
        arch: arch_name.clone(),
        message,
        log,
    };
    let src = CString::new(source).map_err(|e| failed(e.to_string(), String::new()))?;
    let name =
        CString::new(format!("{kernel}.cu")).map_err(|e| failed(e.to_string(), String::new()))?;
    let prog = result::create_program(&src, Some(&name))
        .map_err(|e| failed(format!("{e:?}"), String::new()))?;
    let mut options: Vec<String> = CUDA_COMPILE_OPTIONS.iter().map(|o| o.to_string()).collect();
    options.push(format!("--gpu-architecture={arch_name}"));
    // SAFETY: `prog` was created above and is destroyed only at the end of this function;
    // `src` and `name`, which it may reference, outlive it.
    let compiled = unsafe { result::compile_program(prog, &options) };
    // SAFETY: as above.
    let log = unsafe { result::get_program_log(prog) }
        .map(|raw| c_chars_to_string(&raw))
        .unwrap_or_default();
    let cubin = compiled
        .map_err(|e| failed(format!("{e:?}"), log.clone()))
        .and_then(|()| {
            // SAFETY: as above; the program compiled.
            unsafe { cubin_of(prog) }.map_err(|e| failed(format!("{e:?}"), log.clone()))
        });
    // SAFETY: created above, not destroyed before.
    let _ = unsafe { result::destroy_program(prog) };
    if !log.trim().is_empty() {
        tracing::debug!(kernel, arch = arch_name, "NVRTC log: {log}");
    }
    cubin
}

/// The CUBIN of a compiled program.
///
/// # Safety
///
/// `prog` is a live program that compiled.
unsafe fn cubin_of(prog: sys::nvrtcProgram) -> Result<Vec<u8>, sys::nvrtcResult> {
    let mut size = 0usize;
    // SAFETY: the caller's guarantee; `size` is a valid out-pointer.
    let status = unsafe { sys::nvrtcGetCUBINSize(prog, &mut size) };
    if status != sys::nvrtcResult::NVRTC_SUCCESS {
        return Err(status);
    }
    let mut bytes = vec![0u8; size];
    // SAFETY: `bytes` holds the `size` bytes NVRTC writes.
    let status = unsafe { sys::nvrtcGetCUBIN(prog, bytes.as_mut_ptr().cast::<c_char>()) };
    if status != sys::nvrtcResult::NVRTC_SUCCESS {
        return Err(status);
    }
    Ok(bytes)
}

fn c_chars_to_string(raw: &[c_char]) -> String {
    let bytes: Vec<u8> = raw
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}
