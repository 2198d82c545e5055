//! CUBIN caches: in memory per process, and on disk across processes, keyed by (IR hash,
//! architecture, NVRTC version, hash of the emitted source and options), so that a second
//! process loads a kernel without compiling.
//!
//! The disk cache lives under `cuda/` in the folder of `dotcompute_core::disk_cache`; a file
//! that cannot be read or written is compiled again, never an error.

use crate::compiler;
use dotcompute_core::disk_cache;
use dotcompute_core::{Error, KernelDefinition};
use dotcompute_ir::emit::cuda::{self, CUDA_COMPILE_OPTIONS, CudaProgram};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

type Entry = (CudaProgram, Arc<Vec<u8>>);

/// CUBINs of this process, by (IR hash, architecture).
static MEMORY: OnceLock<Mutex<HashMap<(String, u32), Entry>>> = OnceLock::new();

/// The program and CUBIN of `def` for `sm_{arch}`, from the in-memory cache, the disk cache,
/// or NVRTC (then stored in both caches).
pub fn cubin(def: &'static KernelDefinition, arch: u32) -> Result<Entry, Error> {
    let memory = MEMORY.get_or_init(Mutex::default);
    let key = (def.hash().to_string(), arch);
    if let Some(hit) = memory
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return Ok(hit.clone());
    }
    let program = cuda::emit(def.ir()?);
    let nvrtc = compiler::nvrtc_version().ok();
    // The emitted source (hence the emitter's version) and the options are part of the key,
    // so that an upgraded emitter never loads an old CUBIN.
    let source_key = source_key(&program.source);
    let file = nvrtc.and_then(|(major, minor)| {
        disk_dir().map(|d| {
            d.join(format!(
                "{}-sm{arch}-nvrtc{major}.{minor}-{source_key}.cubin",
                key.0
            ))
        })
    });
    // Without NVRTC (a machine that only runs kernels), any cached CUBIN of this kernel for
    // this architecture will do.
    let cached = match (&file, nvrtc) {
        (Some(f), _) => std::fs::read(f).ok(),
        (None, None) => any_cached(&key.0, arch, &source_key),
        (None, Some(_)) => None,
    };
    let bytes = match cached {
        Some(bytes) if bytes.starts_with(b"\x7fELF") => {
            tracing::debug!(kernel = def.name(), arch, "CUBIN from the disk cache");
            bytes
        }
        _ => {
            let started = std::time::Instant::now();
            let bytes = compiler::compile_source(def.name(), &program.source, arch)?;
            tracing::debug!(
                kernel = def.name(),
                arch,
                ms = started.elapsed().as_secs_f64() * 1e3,
                "compiled with NVRTC"
            );
            if let Some(f) = &file {
                disk_cache::store(f, &bytes);
            }
            bytes
        }
    };
    let entry = (program, Arc::new(bytes));
    memory
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, entry.clone());
    Ok(entry)
}

fn any_cached(hash: &str, arch: u32, source_key: &str) -> Option<Vec<u8>> {
    let prefix = format!("{hash}-sm{arch}-");
    let suffix = format!("-{source_key}.cubin");
    std::fs::read_dir(disk_dir()?)
        .ok()?
        .flatten()
        .find(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(&prefix) && name.ends_with(&suffix)
        })
        .and_then(|e| std::fs::read(e.path()).ok())
}

/// The key of the source and the compile options.
fn source_key(source: &str) -> String {
    let mut parts = vec![source];
    parts.extend(CUDA_COMPILE_OPTIONS.iter().copied());
    disk_cache::key(&parts)
}

/// Forgets a cached CUBIN that the driver would not load (a damaged or foreign file), so
/// that the next attempt compiles.
pub(crate) fn evict(def: &'static KernelDefinition, arch: u32) {
    let key = (def.hash().to_string(), arch);
    if let Some(memory) = MEMORY.get() {
        memory
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&key);
    }
    let Some(dir) = disk_dir() else {
        return;
    };
    let prefix = format!("{}-sm{arch}-", key.0);
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

fn disk_dir() -> Option<PathBuf> {
    disk_cache::dir("cuda")
}
