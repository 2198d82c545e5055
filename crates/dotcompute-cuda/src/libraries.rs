//! Finding the CUDA driver (`libcuda.so.1`) and NVRTC (`libnvrtc.so.13`) at run time.
//!
//! cudarc loads both by name on first use and panics if that fails, so nothing touches its
//! API before this module has found the library. NVRTC often lives where the loader does not
//! look (a pip wheel's `site-packages/nvidia/cu13/lib`, `/usr/local/cuda*/lib64`): we search
//! those places and load the library from its full path, globally, so that cudarc's later
//! load by name finds the library already in the process (the loader matches it by soname).

use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// File names of NVRTC, newest first (the bindings are CUDA 13's).
const NVRTC_NAMES: &[&str] = &["libnvrtc.so.13", "libnvrtc.so"];
/// File names of the driver library.
const DRIVER_NAMES: &[&str] = &["libcuda.so.1", "libcuda.so"];

/// A library that was found and loaded, or every place that was searched.
pub(crate) type Found = Result<PathBuf, Vec<String>>;

/// Loads NVRTC once per process; later calls return the first answer.
pub(crate) fn nvrtc() -> &'static Found {
    static NVRTC: OnceLock<Found> = OnceLock::new();
    NVRTC.get_or_init(|| {
        let found = load(NVRTC_NAMES, &nvrtc_dirs(), true)?;
        // SAFETY: only tries to load the library by cudarc's names (already loaded: cheap).
        let usable = unsafe { cudarc::nvrtc::sys::is_culib_present() };
        reachable(found, usable)
    })
}

/// cudarc loads a library by its own list of names and panics if none works: a library we
/// found but cudarc cannot reach by name (e.g. CUDA 11's `libnvrtc.so.11.2`) is not usable.
fn reachable(found: PathBuf, usable: bool) -> Found {
    if usable {
        Ok(found)
    } else {
        Err(vec![format!(
            "{} (found, but not under a name the CUDA 13 bindings load: an older CUDA?)",
            found.display()
        )])
    }
}

/// Loads the driver library once per process.
pub(crate) fn driver() -> &'static Found {
    static DRIVER: OnceLock<Found> = OnceLock::new();
    DRIVER.get_or_init(|| {
        let found = load(DRIVER_NAMES, &driver_dirs(), false)?;
        // SAFETY: as for NVRTC.
        let usable = unsafe { cudarc::driver::sys::is_culib_present() };
        reachable(found, usable)
    })
}

/// Tries each name through the loader's own search (`LD_LIBRARY_PATH`, the cache), then in
/// each directory. The library stays loaded for the life of the process.
fn load(names: &[&str], dirs: &[PathBuf], with_builtins: bool) -> Found {
    let mut searched = Vec::new();
    for name in names {
        if open(Path::new(name)) {
            return Ok(PathBuf::from(name));
        }
        searched.push(format!("{name} (the loader's search path)"));
    }
    for dir in dirs {
        for name in names {
            let path = dir.join(name);
            if !path.exists() {
                continue;
            }
            if with_builtins {
                // NVRTC loads its builtins library by name when it compiles; load it from
                // the same directory first so that the name resolves.
                if let Ok(entries) = std::fs::read_dir(dir) {
                    for entry in entries.flatten() {
                        let file = entry.file_name();
                        if file.to_string_lossy().starts_with("libnvrtc-builtins.so") {
                            open(&entry.path());
                        }
                    }
                }
            }
            if open(&path) {
                return Ok(path);
            }
            searched.push(format!("{} (present but would not load)", path.display()));
        }
        searched.push(dir.display().to_string());
    }
    Err(searched)
}

/// Loads a library for good (global symbols, so that later loads by soname find it).
fn open(path: &Path) -> bool {
    // SAFETY: loading a shared library runs its initialisers; the CUDA libraries' are safe to
    // run at any time, and the handle is leaked so that the code stays mapped for the life of
    // the process (cudarc calls into it from then on).
    match unsafe { Library::open(Some(path), RTLD_NOW | RTLD_GLOBAL) } {
        Ok(lib) => {
            std::mem::forget(lib);
            true
        }
        Err(_) => false,
    }
}

/// Where NVRTC may be: `DOTCOMPUTE_NVRTC_DIR`, pip wheels (`nvidia-cuda-nvrtc`) in the usual
/// site-packages, conda, and CUDA toolkits.
fn nvrtc_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("DOTCOMPUTE_NVRTC_DIR") {
        dirs.push(PathBuf::from(dir));
    }
    let wheel = Path::new("nvidia/cu13/lib");
    let mut prefixes: Vec<PathBuf> = Vec::new();
    for var in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        if let Some(p) = std::env::var_os(var) {
            prefixes.push(PathBuf::from(p));
        }
    }
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from) {
        prefixes.push(home.join(".local"));
        prefixes.extend(children(&home.join(".pyenv/versions")));
    }
    prefixes.extend([PathBuf::from("/usr/local"), PathBuf::from("/usr")]);
    for prefix in &prefixes {
        for python in children(&prefix.join("lib")) {
            let is_python = python
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python3"));
            if is_python {
                for packages in ["site-packages", "dist-packages"] {
                    dirs.push(python.join(packages).join(wheel));
                }
            }
        }
        // Conda puts NVRTC in the environment's lib.
        dirs.push(prefix.join("lib"));
    }
    dirs.extend(cuda_toolkit_dirs());
    dirs.retain(|d| d.is_dir());
    dirs.dedup();
    dirs
}

/// Where the driver library may be, beyond the loader's path (never a toolkit's
/// `lib64/stubs`: its libcuda links but cannot run anything).
fn driver_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = [
        "/usr/local/nvidia/lib64",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
        "/usr/lib/wsl/lib",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    dirs.retain(|d| d.is_dir());
    dirs
}

/// `CUDA_PATH`, `CUDA_HOME` and `/usr/local/cuda*` library directories.
fn cuda_toolkit_dirs() -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = ["CUDA_PATH", "CUDA_HOME"]
        .iter()
        .filter_map(std::env::var_os)
        .map(PathBuf::from)
        .collect();
    let mut installed: Vec<PathBuf> = children(Path::new("/usr/local"))
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("cuda"))
        })
        .collect();
    // Newest first: `cuda-13.0` before `cuda-12.4`.
    installed.sort();
    installed.reverse();
    roots.extend(installed);
    roots
        .iter()
        .flat_map(|r| {
            [
                r.join("lib64"),
                r.join("lib"),
                r.join("targets/x86_64-linux/lib"),
                r.join("targets/sbsa-linux/lib"),
            ]
        })
        .collect()
}

fn children(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_library_that_is_nowhere_lists_every_place_searched() {
        let empty = std::env::temp_dir().join(format!("dotcompute-nolib-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        let searched = load(
            &["libdotcompute-missing.so.1"],
            std::slice::from_ref(&empty),
            true,
        )
        .unwrap_err();
        assert_eq!(
            searched,
            [
                "libdotcompute-missing.so.1 (the loader's search path)".to_string(),
                empty.display().to_string(),
            ]
        );
        std::fs::remove_dir_all(&empty).ok();
    }
}
