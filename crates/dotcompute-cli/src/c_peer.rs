//! The STREAM-style C peers, built by `build.rs` with `-O3 -march=native -fopenmp` where a C
//! compiler with OpenMP exists. Without one every function here returns `None`.

#[cfg(dotcompute_c_peer)]
mod ffi {
    unsafe extern "C" {
        pub fn dc_peer_add(c: *mut f32, a: *const f32, b: *const f32, n: usize);
        pub fn dc_peer_copy(c: *mut f32, a: *const f32, n: usize);
        pub fn dc_peer_scan(out: *mut f32, a: *const f32, n: usize);
        pub fn dc_peer_triad(a: *mut f32, b: *const f32, c: *const f32, s: f32, n: usize);
        pub fn dc_peer_sum(a: *const f32, n: usize) -> f64;
        pub fn dc_peer_poly8(x: *const f32, out: *mut f32, n: usize);
        pub fn dc_peer_threads() -> i32;
    }
}

/// `c = a + b`; `None` without the C peer or when the lengths differ.
pub fn add(c: &mut [f32], a: &[f32], b: &[f32]) -> Option<()> {
    (c.len() == a.len() && a.len() == b.len()).then_some(())?;
    #[cfg(dotcompute_c_peer)]
    {
        // SAFETY: the three slices have n = c.len() elements and do not overlap (one is
        // borrowed mutably).
        unsafe { ffi::dc_peer_add(c.as_mut_ptr(), a.as_ptr(), b.as_ptr(), c.len()) };
        Some(())
    }
    #[cfg(not(dotcompute_c_peer))]
    None
}

/// STREAM copy, `c = a`; `None` without the C peer or when the lengths differ.
pub fn copy(c: &mut [f32], a: &[f32]) -> Option<()> {
    (c.len() == a.len()).then_some(())?;
    #[cfg(dotcompute_c_peer)]
    {
        // SAFETY: both slices have n = c.len() elements and do not overlap (one is borrowed
        // mutably).
        unsafe { ffi::dc_peer_copy(c.as_mut_ptr(), a.as_ptr(), c.len()) };
        Some(())
    }
    #[cfg(not(dotcompute_c_peer))]
    None
}

/// The inclusive scan of `a` into `out`, sequential (one thread, in order, from `-0.0`);
/// `None` without the C peer or when the lengths differ.
pub fn scan(out: &mut [f32], a: &[f32]) -> Option<()> {
    (out.len() == a.len()).then_some(())?;
    #[cfg(dotcompute_c_peer)]
    {
        // SAFETY: as in `copy`.
        unsafe { ffi::dc_peer_scan(out.as_mut_ptr(), a.as_ptr(), out.len()) };
        Some(())
    }
    #[cfg(not(dotcompute_c_peer))]
    None
}

/// `a = b + s * c`; `None` without the C peer or when the lengths differ.
pub fn triad(a: &mut [f32], b: &[f32], c: &[f32], s: f32) -> Option<()> {
    (a.len() == b.len() && b.len() == c.len()).then_some(())?;
    #[cfg(dotcompute_c_peer)]
    {
        // SAFETY: as in `add`.
        unsafe { ffi::dc_peer_triad(a.as_mut_ptr(), b.as_ptr(), c.as_ptr(), s, a.len()) };
        Some(())
    }
    #[cfg(not(dotcompute_c_peer))]
    {
        let _ = s;
        None
    }
}

/// The sum of `a` (accumulated in `f64` per thread).
pub fn sum(a: &[f32]) -> Option<f64> {
    #[cfg(dotcompute_c_peer)]
    {
        // SAFETY: `a` is valid for a.len() elements.
        Some(unsafe { ffi::dc_peer_sum(a.as_ptr(), a.len()) })
    }
    #[cfg(not(dotcompute_c_peer))]
    {
        let _ = a;
        None
    }
}

/// The degree-8 polynomial of every element.
pub fn poly8(x: &[f32], out: &mut [f32]) -> Option<()> {
    (x.len() == out.len()).then_some(())?;
    #[cfg(dotcompute_c_peer)]
    {
        // SAFETY: as in `add`.
        unsafe { ffi::dc_peer_poly8(x.as_ptr(), out.as_mut_ptr(), x.len()) };
        Some(())
    }
    #[cfg(not(dotcompute_c_peer))]
    None
}

/// OpenMP threads the C peer runs with (asked once: the query starts a parallel region).
pub fn threads() -> Option<usize> {
    #[cfg(dotcompute_c_peer)]
    {
        static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        // SAFETY: no arguments; only queries OpenMP.
        Some(*THREADS.get_or_init(|| unsafe { ffi::dc_peer_threads() }.max(1) as usize))
    }
    #[cfg(not(dotcompute_c_peer))]
    None
}
