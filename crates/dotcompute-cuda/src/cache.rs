//! CUBIN caches: in memory per process, and on disk across processes, keyed by (IR hash,
//! architecture, NVRTC version), so that a second process loads a kernel without compiling.
//!
//! The disk cache lives in `DOTCOMPUTE_CACHE_DIR`, else `$XDG_CACHE_HOME/dotcompute`, else
//! `~/.cache/dotcompute`, under `cuda/`; a file that cannot be read or written is compiled
//! again, never an error.

use crate::compiler;
use dotcompute_core::{Error, KernelDefinition};
use dotcompute_ir::emit::cuda::{self, CudaProgram};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

type Entry = (CudaProgram, Arc<Vec<u8>>);

/// The program and CUBIN of `def` for `sm_{arch}`, from the in-memory cache, the disk cache,
/// or NVRTC (then stored in both caches).
pub fn cubin(def: &'static KernelDefinition, arch: u32) -> Result<Entry, Error> {
    static MEMORY: OnceLock<Mutex<HashMap<(String, u32), Entry>>> = OnceLock::new();
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
    let file = nvrtc.and_then(|(major, minor)| {
        disk_dir().map(|d| d.join(format!("{}-sm{arch}-nvrtc{major}.{minor}.cubin", key.0)))
    });
    // Without NVRTC (a machine that only runs kernels), any cached CUBIN of this kernel for
    // this architecture will do.
    let cached = match (&file, nvrtc) {
        (Some(f), _) => std::fs::read(f).ok(),
        (None, None) => any_cached(&key.0, arch),
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
                store(f, &bytes);
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

fn any_cached(hash: &str, arch: u32) -> Option<Vec<u8>> {
    let prefix = format!("{hash}-sm{arch}-");
    std::fs::read_dir(disk_dir()?)
        .ok()?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .and_then(|e| std::fs::read(e.path()).ok())
}

fn disk_dir() -> Option<PathBuf> {
    let base = std::env::var_os("DOTCOMPUTE_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("dotcompute")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/dotcompute")))?;
    Some(base.join("cuda"))
}

/// Writes a cache file atomically (a temporary file renamed into place), so that a reader in
/// another process never sees half a file.
fn store(file: &std::path::Path, bytes: &[u8]) {
    let Some(dir) = file.parent() else {
        return;
    };
    let tmp = dir.join(format!(".{}.tmp", std::process::id()));
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&tmp, bytes))
        .and_then(|()| std::fs::rename(&tmp, file));
    if let Err(e) = written {
        tracing::debug!("CUBIN not cached at {}: {e}", file.display());
        let _ = std::fs::remove_file(&tmp);
    }
}
