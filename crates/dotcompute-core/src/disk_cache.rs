//! The device backends' kernel caches on disk: where they live, the key of an emitted
//! source, and writes that a reader in another process never sees half done.
//!
//! The caches live in `DOTCOMPUTE_CACHE_DIR`, else `$XDG_CACHE_HOME/dotcompute`, else
//! `~/.cache/dotcompute`, one folder per backend. A file that cannot be read or written is
//! compiled again, never an error.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The cache folder of `backend` (e.g. `cuda`), or `None` when no home is known.
pub fn dir(backend: &str) -> Option<PathBuf> {
    let base = std::env::var_os("DOTCOMPUTE_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("dotcompute")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/dotcompute")))?;
    Some(base.join(backend))
}

/// 16 hex digits of the SHA-256 of `parts` (each length-prefixed, so that no two lists
/// share a digest by moving a boundary): the emitted source and the build options, so that
/// an upgraded emitter never loads an old binary; or what names a device and its driver.
pub fn key(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes `bytes` to `file` atomically (a temporary file renamed into place), creating the
/// folder; a failure is logged at debug level and otherwise ignored (the entry is rebuilt
/// next time).
pub fn store(file: &Path, bytes: &[u8]) {
    let Some(dir) = file.parent() else {
        return;
    };
    // Unique per process, thread and write: concurrent writers (threads, or containers with
    // equal pids sharing the folder) never share a temporary file.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let tmp = dir.join(format!(
        ".{}.{}.{:?}.{}.{nonce}.tmp",
        file.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        std::process::id(),
        std::thread::current().id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&tmp, bytes))
        .and_then(|()| std::fs::rename(&tmp, file));
    if let Err(e) = written {
        tracing::debug!("kernel not cached at {}: {e}", file.display());
        let _ = std::fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_their_parts() {
        assert_eq!(key(&["ab", "c"]).len(), 16);
        assert_ne!(key(&["ab", "c"]), key(&["a", "bc"]));
        assert_eq!(key(&["x"]), key(&["x"]));
    }

    #[test]
    fn stores_replace_whole_files() {
        let dir =
            std::env::temp_dir().join(format!("dotcompute-disk-cache-{}", std::process::id()));
        let file = dir.join("nested").join("entry.bin");
        store(&file, b"first");
        store(&file, b"second");
        assert_eq!(std::fs::read(&file).ok().as_deref(), Some(&b"second"[..]));
        // No temporary file is left behind.
        let left = std::fs::read_dir(dir.join("nested")).map_or(0, |d| d.count());
        assert_eq!(left, 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
