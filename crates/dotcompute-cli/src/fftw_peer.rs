//! FFTW (single precision) as the FFT peer, loaded at run time (`libfftw3f.so.3`, Debian's
//! `libfftw3-single3` or `libfftw3-dev`), so that the CLI builds and runs without it.

use std::ffi::{c_double, c_int, c_uint, c_void};

const FFTW_FORWARD: c_int = -1;
const FFTW_MEASURE: c_uint = 0;

type PlanDft1d = unsafe extern "C" fn(c_int, *mut f32, *mut f32, c_int, c_uint) -> *mut c_void;
type Execute = unsafe extern "C" fn(*mut c_void);
type SetTimelimit = unsafe extern "C" fn(c_double);

/// The loaded library's entry points.
pub struct Fftw {
    plan_dft_1d: PlanDft1d,
    execute: Execute,
    destroy_plan: Execute,
    set_timelimit: SetTimelimit,
    /// Kept loaded while the function pointers are used.
    _library: libloading::Library,
}

/// An in-place forward transform planned on one buffer, which it owns.
pub struct FftwPlan<'a> {
    fftw: &'a Fftw,
    plan: *mut c_void,
    /// Interleaved complex `f32`, transformed in place; private, so that it never moves or
    /// changes length under the plan.
    data: Vec<f32>,
}

impl Fftw {
    /// Loads FFTW, or says why it could not.
    pub fn load() -> Result<Fftw, String> {
        let mut last = String::new();
        for name in ["libfftw3f.so.3", "libfftw3f.so", "libfftw3f.dylib"] {
            // SAFETY: loading FFTW runs no initialisers with side effects.
            match unsafe { libloading::Library::new(name) } {
                Ok(library) => return Self::bind(library),
                Err(e) => last = e.to_string(),
            }
        }
        Err(format!(
            "FFTW not found ({last}); `apt-get install libfftw3-single3` adds the FFT peer"
        ))
    }

    fn bind(library: libloading::Library) -> Result<Fftw, String> {
        let missing = |e: libloading::Error| format!("FFTW lacks a symbol: {e}");
        // SAFETY: the types are FFTW 3's prototypes for these symbols.
        unsafe {
            Ok(Fftw {
                plan_dft_1d: *library
                    .get::<PlanDft1d>(b"fftwf_plan_dft_1d\0")
                    .map_err(missing)?,
                execute: *library
                    .get::<Execute>(b"fftwf_execute\0")
                    .map_err(missing)?,
                destroy_plan: *library
                    .get::<Execute>(b"fftwf_destroy_plan\0")
                    .map_err(missing)?,
                set_timelimit: *library
                    .get::<SetTimelimit>(b"fftwf_set_timelimit\0")
                    .map_err(missing)?,
                _library: library,
            })
        }
    }

    /// Plans a forward in-place transform of `n` complex numbers with `FFTW_MEASURE` (at most
    /// `seconds` of planning), on a buffer of its own.
    pub fn plan(&self, n: usize, seconds: f64) -> Option<FftwPlan<'_>> {
        let len = c_int::try_from(n).ok()?;
        let mut data = vec![0f32; 2 * n];
        // SAFETY: data holds n interleaved complex numbers (FFTW's fftwf_complex is float[2])
        // and outlives the plan (both are owned by the returned FftwPlan, which destroys the
        // plan first).
        let plan = unsafe {
            (self.set_timelimit)(seconds);
            let p = data.as_mut_ptr();
            (self.plan_dft_1d)(len, p, p, FFTW_FORWARD, FFTW_MEASURE)
        };
        (!plan.is_null()).then_some(FftwPlan {
            fftw: self,
            plan,
            data,
        })
    }
}

impl FftwPlan<'_> {
    /// The buffer the plan transforms (its length fixed).
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Transforms the buffer in place.
    pub fn execute(&mut self) {
        // SAFETY: the plan was made for self.data, which has not moved (never resized).
        unsafe { (self.fftw.execute)(self.plan) }
    }
}

impl Drop for FftwPlan<'_> {
    fn drop(&mut self) {
        // SAFETY: the plan is valid and destroyed once.
        unsafe { (self.fftw.destroy_plan)(self.plan) }
    }
}
