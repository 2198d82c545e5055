//! OpenBLAS as the GEMM peer, loaded at run time (`libopenblas.so.0`, Debian's
//! `libopenblas0` or `libopenblas-dev`), so that the CLI builds and runs without it and a
//! later install needs no rebuild.

use std::ffi::{c_char, c_int};

/// `cblas_sgemm` / `cblas_dgemm`: order, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta,
/// c, ldc.
type Gemm<T> = unsafe extern "C" fn(
    c_int,
    c_int,
    c_int,
    c_int,
    c_int,
    c_int,
    T,
    *const T,
    c_int,
    *const T,
    c_int,
    T,
    *mut T,
    c_int,
);

const ROW_MAJOR: c_int = 101;
const NO_TRANS: c_int = 111;

/// The loaded library and its GEMM entry points.
pub struct OpenBlas {
    sgemm: Gemm<f32>,
    dgemm: Gemm<f64>,
    /// What `openblas_get_config` says (version, target, threads).
    pub config: String,
    /// Kept loaded while the function pointers are used.
    _library: libloading::Library,
}

impl OpenBlas {
    /// Loads OpenBLAS, or says why it could not.
    pub fn load() -> Result<OpenBlas, String> {
        let mut last = String::new();
        for name in ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"] {
            // SAFETY: loading OpenBLAS runs its initialisers, which only set up its threads.
            match unsafe { libloading::Library::new(name) } {
                Ok(library) => return Self::bind(library),
                Err(e) => last = e.to_string(),
            }
        }
        Err(format!(
            "OpenBLAS not found ({last}); `apt-get install libopenblas0` adds the GEMM peer"
        ))
    }

    fn bind(library: libloading::Library) -> Result<OpenBlas, String> {
        let missing = |e: libloading::Error| format!("OpenBLAS lacks a symbol: {e}");
        // SAFETY: the types are CBLAS's prototypes for these symbols (LP64: int indices).
        let (sgemm, dgemm, config) = unsafe {
            let sgemm = *library
                .get::<Gemm<f32>>(b"cblas_sgemm\0")
                .map_err(missing)?;
            let dgemm = *library
                .get::<Gemm<f64>>(b"cblas_dgemm\0")
                .map_err(missing)?;
            let config = match library
                .get::<unsafe extern "C" fn() -> *const c_char>(b"openblas_get_config\0")
            {
                Ok(get) => {
                    let text = get();
                    if text.is_null() {
                        String::new()
                    } else {
                        std::ffi::CStr::from_ptr(text)
                            .to_string_lossy()
                            .into_owned()
                    }
                }
                Err(_) => String::new(),
            };
            (sgemm, dgemm, config)
        };
        Ok(OpenBlas {
            sgemm,
            dgemm,
            config,
            _library: library,
        })
    }

    /// `c = a b` for row-major `n x n` matrices; `None` (nothing done) when a length is
    /// not `n * n`.
    pub fn sgemm(&self, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) -> Option<()> {
        square_product(self.sgemm, 1.0, 0.0, n, a, b, c)
    }

    /// `c = a b` for row-major `n x n` matrices; `None` as for [`OpenBlas::sgemm`].
    pub fn dgemm(&self, n: usize, a: &[f64], b: &[f64], c: &mut [f64]) -> Option<()> {
        square_product(self.dgemm, 1.0, 0.0, n, a, b, c)
    }
}

/// `c = a b` through a CBLAS `?gemm` for row-major `n x n` matrices.
fn square_product<T>(
    gemm: Gemm<T>,
    one: T,
    zero: T,
    n: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
) -> Option<()> {
    let dim = square(n, [a.len(), b.len(), c.len()])?;
    // SAFETY: each slice holds n * n elements (checked), c does not overlap a or b (it is
    // borrowed mutably), and `gemm` is CBLAS's function of this element type.
    unsafe {
        gemm(
            ROW_MAJOR,
            NO_TRANS,
            NO_TRANS,
            dim,
            dim,
            dim,
            one,
            a.as_ptr(),
            dim,
            b.as_ptr(),
            dim,
            zero,
            c.as_mut_ptr(),
            dim,
        );
    }
    Some(())
}

/// `n` as a C int when every length is `n * n`.
fn square(n: usize, lens: [usize; 3]) -> Option<c_int> {
    let elements = n.checked_mul(n)?;
    lens.iter()
        .all(|&l| l == elements)
        .then(|| c_int::try_from(n).ok())
        .flatten()
}
