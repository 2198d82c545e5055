//! [`Fft`]: 1-D complex FFTs of any length, forward and inverse, batched, in `f32` and `f64`,
//! on any accelerator. Data are interleaved complex numbers: `[re0, im0, re1, im1, ..]`,
//! `batch` transforms of `len` numbers one after another, transformed in place.
//!
//! `X[k] = sum_j x[j] exp(-2 pi i j k / len)` forward, `exp(+2 pi i j k / len)` inverse,
//! **unnormalised** (as FFTW, cuFFT and rustfft): an inverse after a forward transform gives
//! `len` times the input.
//!
//! On the CPU it runs [`rustfft`](https://docs.rs/rustfft) (SIMD kernels for every length),
//! batches in parallel on the accelerator's threads; lengths with a prime factor above 1000
//! go through Bluestein's algorithm around rustfft's power-of-two transforms, which is
//! faster there than rustfft's own choice. The plan is made at the first run and kept in the
//! `Fft`. Elsewhere: kernels of the library,
//! radix-2 Stockham stages for powers of two and Bluestein's algorithm (a chirp product and
//! three power-of-two transforms of at least `2 len - 1`) for other lengths, with twiddles and
//! chirps computed on the host in `f64`. Results agree to rounding across accelerators, not
//! bit for bit.
//!
//! ```
//! use dotcompute::prelude::*;
//! use dotcompute::algorithms::Fft;
//!
//! # fn main() -> Result<(), dotcompute::Error> {
//! let dc = ComputeService::new()?;
//! let acc = dc.best_accelerator()?;
//! // x = [1, 2, 3] (imaginary parts 0).
//! let mut x = dc.buffer_from_slice(&[1.0f64, 0.0, 2.0, 0.0, 3.0, 0.0])?;
//! Fft::new(3).run(&acc, &mut x)?;
//! let y = x.to_vec()?;
//! assert!((y[0] - 6.0).abs() < 1e-12 && y[1].abs() < 1e-12); // X[0] = 1 + 2 + 3
//! assert!((y[2] + 1.5).abs() < 1e-12 && (y[3] - 0.8660254037844386).abs() < 1e-12);
//! Fft::new(3).inverse().run(&acc, &mut x)?; // 3 x, unnormalised
//! assert!((x.to_vec()?[4] - 9.0).abs() < 1e-12);
//! # Ok(())
//! # }
//! ```

use super::fft_kernels as k;
use crate::{Accelerator, Error, UnifiedBuffer};
use std::sync::{Arc, OnceLock};

mod sealed {
    use super::k;
    use crate::{Accelerator, Error, UnifiedBuffer};

    /// What [`super::FftElement`] types provide: conversions and kernels.
    pub trait FftElement: rustfft::FftNum + bytemuck::Pod {
        /// `v` rounded to this type.
        fn rounded(v: f64) -> Self;
        /// One Stockham stage over `items` butterflies.
        #[allow(clippy::too_many_arguments)]
        fn stage(
            acc: &Accelerator,
            items: usize,
            n: u64,
            p: u64,
            sign: Self,
            twiddles: &UnifiedBuffer<Self>,
            x: &UnifiedBuffer<Self>,
            y: &mut UnifiedBuffer<Self>,
        ) -> Result<(), Error>;
        /// Bluestein's chirp product into the padded buffer.
        #[allow(clippy::too_many_arguments)]
        fn chirp_in(
            acc: &Accelerator,
            items: usize,
            n: u64,
            m: u64,
            sign: Self,
            chirp: &UnifiedBuffer<Self>,
            x: &UnifiedBuffer<Self>,
            a: &mut UnifiedBuffer<Self>,
        ) -> Result<(), Error>;
        /// `a *= f`, per transform.
        fn multiply(
            acc: &Accelerator,
            items: usize,
            m: u64,
            f: &UnifiedBuffer<Self>,
            a: &mut UnifiedBuffer<Self>,
        ) -> Result<(), Error>;
        /// Bluestein's last chirp product, scaled.
        #[allow(clippy::too_many_arguments)]
        fn chirp_out(
            acc: &Accelerator,
            items: usize,
            n: u64,
            m: u64,
            sign: Self,
            scale: Self,
            chirp: &UnifiedBuffer<Self>,
            c: &UnifiedBuffer<Self>,
            x: &mut UnifiedBuffer<Self>,
        ) -> Result<(), Error>;
    }

    macro_rules! fft_element {
        ($t:ty, $stage:ident, $chirp_in:ident, $multiply:ident, $chirp_out:ident) => {
            impl FftElement for $t {
                fn rounded(v: f64) -> $t {
                    v as $t
                }
                fn stage(
                    acc: &Accelerator,
                    items: usize,
                    n: u64,
                    p: u64,
                    sign: $t,
                    twiddles: &UnifiedBuffer<$t>,
                    x: &UnifiedBuffer<$t>,
                    y: &mut UnifiedBuffer<$t>,
                ) -> Result<(), Error> {
                    k::$stage::launch(acc, items, n, p, sign, twiddles, x, y)
                }
                fn chirp_in(
                    acc: &Accelerator,
                    items: usize,
                    n: u64,
                    m: u64,
                    sign: $t,
                    chirp: &UnifiedBuffer<$t>,
                    x: &UnifiedBuffer<$t>,
                    a: &mut UnifiedBuffer<$t>,
                ) -> Result<(), Error> {
                    k::$chirp_in::launch(acc, items, n, m, sign, chirp, x, a)
                }
                fn multiply(
                    acc: &Accelerator,
                    items: usize,
                    m: u64,
                    f: &UnifiedBuffer<$t>,
                    a: &mut UnifiedBuffer<$t>,
                ) -> Result<(), Error> {
                    k::$multiply::launch(acc, items, m, f, a)
                }
                fn chirp_out(
                    acc: &Accelerator,
                    items: usize,
                    n: u64,
                    m: u64,
                    sign: $t,
                    scale: $t,
                    chirp: &UnifiedBuffer<$t>,
                    c: &UnifiedBuffer<$t>,
                    x: &mut UnifiedBuffer<$t>,
                ) -> Result<(), Error> {
                    k::$chirp_out::launch(acc, items, n, m, sign, scale, chirp, c, x)
                }
            }
        };
    }

    fft_element!(
        f32,
        fft_stage_f32,
        bluestein_in_f32,
        fft_multiply_f32,
        bluestein_out_f32
    );
    fft_element!(
        f64,
        fft_stage_f64,
        bluestein_in_f64,
        fft_multiply_f64,
        bluestein_out_f64
    );
}

/// Element types of [`Fft`]: `f32` and `f64` (complex numbers as interleaved pairs).
pub trait FftElement: sealed::FftElement {}
impl FftElement for f32 {}
impl FftElement for f64 {}

/// A batch of 1-D complex FFTs of one length and direction (see the [module](self) docs).
/// Keep it to run again: the CPU's plan is made once.
#[cfg_attr(not(feature = "cpu"), allow(dead_code))]
pub struct Fft<T: FftElement> {
    len: usize,
    batch: usize,
    inverse: bool,
    host_plan: OnceLock<Arc<HostPlan<T>>>,
}

/// The CPU's plan: rustfft's own, or Bluestein's algorithm around rustfft's power-of-two
/// transforms for lengths with a large prime factor (rustfft's Rader recursion is slow there:
/// 1,000,003 took 48 ms against FFTW's 41 ms; Bluestein with the filter's transform made
/// once takes two transforms of 2^21).
#[cfg_attr(not(feature = "cpu"), allow(dead_code))]
enum HostPlan<T: FftElement> {
    Direct(Arc<dyn rustfft::Fft<T>>),
    Bluestein(HostBluestein<T>),
}

/// Bluestein's algorithm on the host (as `on_device`, with the filter's transform kept).
#[cfg_attr(not(feature = "cpu"), allow(dead_code))]
struct HostBluestein<T: FftElement> {
    /// `m`, a power of two of at least `2 len - 1`.
    padded: usize,
    /// `c_j = exp(-i pi j^2 / len)` (conjugated for the inverse).
    chirp: Vec<num_complex::Complex<T>>,
    /// The transform of the filter `conj(c_j)` (at `j` and `m - j`), divided by `m`.
    filter: Vec<num_complex::Complex<T>>,
    forward: Arc<dyn rustfft::Fft<T>>,
    inverse: Arc<dyn rustfft::Fft<T>>,
}

/// Lengths whose largest prime factor exceeds this go through [`HostBluestein`].
#[cfg_attr(not(feature = "cpu"), allow(dead_code))]
const HOST_BLUESTEIN_PRIME: usize = 1000;

#[cfg_attr(not(feature = "cpu"), allow(dead_code))]
fn largest_prime_factor(mut n: usize) -> usize {
    let mut largest = 1;
    let mut p = 2;
    while p * p <= n {
        while n.is_multiple_of(p) {
            largest = p;
            n /= p;
        }
        p += 1;
    }
    largest.max(n)
}

impl<T: FftElement> std::fmt::Debug for Fft<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fft")
            .field("len", &self.len)
            .field("batch", &self.batch)
            .field("inverse", &self.inverse)
            .finish()
    }
}

impl<T: FftElement> Fft<T> {
    /// A forward transform of `len` complex numbers (a batch of one).
    pub fn new(len: usize) -> Fft<T> {
        Fft {
            len,
            batch: 1,
            inverse: false,
            host_plan: OnceLock::new(),
        }
    }

    /// The inverse transform (unnormalised: no division by `len`).
    pub fn inverse(self) -> Fft<T> {
        Fft {
            len: self.len,
            batch: self.batch,
            inverse: true,
            host_plan: OnceLock::new(),
        }
    }

    /// `batch` transforms, one after another in the buffer.
    pub fn batch(self, batch: usize) -> Fft<T> {
        Fft { batch, ..self }
    }

    /// Transforms `data` (`2 len batch` floats, interleaved) in place on `acc`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a length of 0 or a buffer of another size (`data`
    /// untouched); [`Error::ForeignBuffer`] for a buffer of another service;
    /// [`Error::Unsupported`] for `f64` on an accelerator without it; what a launch returns.
    pub fn run(&self, acc: &Accelerator, data: &mut UnifiedBuffer<T>) -> Result<(), Error> {
        let invalid = |reason: String| Error::InvalidArgument {
            operation: "fft".into(),
            reason,
        };
        if self.len == 0 {
            return Err(invalid("an FFT of length 0".into()));
        }
        let floats = self
            .len
            .checked_mul(self.batch)
            .and_then(|v| v.checked_mul(2))
            .ok_or_else(|| invalid(format!("{} x {} overflows usize", self.batch, self.len)))?;
        if data.len() != floats {
            return Err(invalid(format!(
                "{} transforms of {} complex numbers need {floats} floats (interleaved re, im); \
                 the buffer holds {}",
                self.batch,
                self.len,
                data.len()
            )));
        }
        super::check_services(acc, "fft", &[("data", data.raw().service())])?;
        if floats == 0 || self.len == 1 {
            return Ok(());
        }
        #[cfg(feature = "cpu")]
        if let Some(result) = super::on_host(acc, |threads| self.on_host(data, threads)) {
            return result;
        }
        self.on_device(acc, data)
    }

    #[cfg(feature = "cpu")]
    fn on_host(&self, data: &mut UnifiedBuffer<T>, threads: usize) -> Result<(), Error> {
        use rayon::prelude::*;
        let plan = self
            .host_plan
            .get_or_init(|| Arc::new(self.host_plan()))
            .clone();
        let mut floats = data.write()?;
        let numbers: &mut [num_complex::Complex<T>] = bytemuck::cast_slice_mut(&mut floats);
        // A few tasks per thread, each whole transforms (one transform runs on one thread).
        let per_task = self.batch.div_ceil(threads.max(1) * 4).max(1) * self.len;
        match &*plan {
            HostPlan::Direct(fft) => numbers
                .par_chunks_mut(per_task)
                .for_each(|chunk| fft.process(chunk)),
            HostPlan::Bluestein(b) => numbers.par_chunks_mut(per_task).for_each(|chunk| {
                let mut padded =
                    vec![num_complex::Complex::<T>::new(T::zero(), T::zero()); b.padded];
                let scratch_len = b
                    .forward
                    .get_inplace_scratch_len()
                    .max(b.inverse.get_inplace_scratch_len());
                let mut scratch =
                    vec![num_complex::Complex::<T>::new(T::zero(), T::zero()); scratch_len];
                for x in chunk.chunks_mut(self.len) {
                    for (p, (v, c)) in padded.iter_mut().zip(x.iter().zip(&b.chirp)) {
                        *p = *v * *c;
                    }
                    for p in &mut padded[self.len..] {
                        *p = num_complex::Complex::new(T::zero(), T::zero());
                    }
                    b.forward.process_with_scratch(&mut padded, &mut scratch);
                    for (p, f) in padded.iter_mut().zip(&b.filter) {
                        *p = *p * *f;
                    }
                    b.inverse.process_with_scratch(&mut padded, &mut scratch);
                    for (v, (p, c)) in x.iter_mut().zip(padded.iter().zip(&b.chirp)) {
                        *v = *p * *c;
                    }
                }
            }),
        }
        Ok(())
    }

    /// rustfft's plan, or Bluestein's for a large prime factor.
    #[cfg(feature = "cpu")]
    fn host_plan(&self) -> HostPlan<T> {
        use num_complex::Complex;
        let mut planner = rustfft::FftPlanner::new();
        let n = self.len;
        if largest_prime_factor(n) <= HOST_BLUESTEIN_PRIME {
            let direction = if self.inverse {
                rustfft::FftDirection::Inverse
            } else {
                rustfft::FftDirection::Forward
            };
            return HostPlan::Direct(planner.plan_fft(n, direction));
        }
        let m = (2 * n - 1).next_power_of_two();
        let sign = if self.inverse { 1.0 } else { -1.0 };
        let chirp: Vec<Complex<T>> = (0..n)
            .map(|j| {
                let angle = chirp_angle(n, j);
                Complex::new(T::rounded(angle.cos()), T::rounded(sign * angle.sin()))
            })
            .collect();
        let forward = planner.plan_fft_forward(m);
        let inverse = planner.plan_fft_inverse(m);
        let mut filter = vec![Complex::new(T::zero(), T::zero()); m];
        let scale = T::rounded(1.0 / m as f64);
        for (j, c) in chirp.iter().enumerate() {
            filter[j] = c.conj();
            filter[(m - j) % m] = c.conj();
        }
        forward.process(&mut filter);
        for f in &mut filter {
            *f = *f * scale;
        }
        HostPlan::Bluestein(HostBluestein {
            padded: m,
            chirp,
            filter,
            forward,
            inverse,
        })
    }

    fn on_device(&self, acc: &Accelerator, data: &mut UnifiedBuffer<T>) -> Result<(), Error> {
        let (n, batch) = (self.len, self.batch);
        let sign = T::rounded(if self.inverse { -1.0 } else { 1.0 });
        if n.is_power_of_two() {
            return power_of_two(acc, n, batch, sign, data);
        }
        // Bluestein: X_k = c_k sum_j (x_j c_j) conj(c_(k-j)), c_j = exp(-i pi j^2 / n)
        // (conjugated for the inverse), the sum a cyclic convolution of length m.
        let m = (2 * n - 1).next_power_of_two();
        let mut chirp = Vec::with_capacity(2 * n);
        for j in 0..n {
            let angle = chirp_angle(n, j);
            chirp.push(T::rounded(angle.cos()));
            chirp.push(T::rounded(-angle.sin()));
        }
        // The filter conj(c_j) at j and m - j, in the direction's sign.
        let direction = if self.inverse { -1.0 } else { 1.0 };
        let mut filter = vec![T::rounded(0.0); 2 * m];
        for j in 0..n {
            let angle = chirp_angle(n, j);
            let (re, im) = (T::rounded(angle.cos()), T::rounded(direction * angle.sin()));
            for at in [j, (m - j) % m] {
                filter[2 * at] = re;
                filter[2 * at + 1] = im;
            }
        }
        let chirp = acc.context().buffer_from_slice(&chirp)?;
        let mut filter = acc.context().buffer_from_slice(&filter)?;
        let forward = T::rounded(1.0);
        power_of_two(acc, m, 1, forward, &mut filter)?;
        let mut padded = acc.buffer_zeroed::<T>(2 * m * batch)?;
        T::chirp_in(
            acc,
            m * batch,
            n as u64,
            m as u64,
            sign,
            &chirp,
            data,
            &mut padded,
        )?;
        power_of_two(acc, m, batch, forward, &mut padded)?;
        T::multiply(acc, m * batch, m as u64, &filter, &mut padded)?;
        power_of_two(acc, m, batch, T::rounded(-1.0), &mut padded)?;
        let scale = T::rounded(1.0 / m as f64);
        T::chirp_out(
            acc,
            n * batch,
            n as u64,
            m as u64,
            sign,
            scale,
            &chirp,
            &padded,
            data,
        )
    }
}

/// `pi j^2 / n`, from `j^2 mod 2n` computed exactly, so that the angle keeps its precision
/// for large `j`.
fn chirp_angle(n: usize, j: usize) -> f64 {
    let square = (j as u128 * j as u128 % (2 * n as u128)) as f64;
    std::f64::consts::PI * square / n as f64
}

/// `batch` transforms of power-of-two length `n` in `data`, by Stockham stages (the result
/// ends in `data`, swapped with the scratch buffer after an odd number of stages).
fn power_of_two<T: FftElement>(
    acc: &Accelerator,
    n: usize,
    batch: usize,
    sign: T,
    data: &mut UnifiedBuffer<T>,
) -> Result<(), Error> {
    if n < 2 {
        return Ok(());
    }
    let mut twiddles = Vec::with_capacity(n);
    for t in 0..n / 2 {
        let angle = 2.0 * std::f64::consts::PI * t as f64 / n as f64;
        twiddles.push(T::rounded(angle.cos()));
        twiddles.push(T::rounded(-angle.sin()));
    }
    let twiddles = acc.context().buffer_from_slice(&twiddles)?;
    let mut scratch = acc.buffer_zeroed::<T>(data.len())?;
    let items = n / 2 * batch;
    let mut p = 1;
    let mut in_data = true;
    while p < n {
        if in_data {
            T::stage(
                acc,
                items,
                n as u64,
                p as u64,
                sign,
                &twiddles,
                data,
                &mut scratch,
            )?;
        } else {
            T::stage(
                acc, items, n as u64, p as u64, sign, &twiddles, &scratch, data,
            )?;
        }
        in_data = !in_data;
        p *= 2;
    }
    if !in_data {
        std::mem::swap(data, &mut scratch);
    }
    Ok(())
}

#[cfg(all(test, feature = "cpu"))]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail by panicking

    use super::*;
    use crate::{BackendKind, ComputeService};

    /// The kernels (what GPUs run: Stockham stages, Bluestein) on the CPU agree with
    /// rustfft, for powers of two and other lengths, both directions, batches.
    #[test]
    fn the_kernels_agree_with_rustfft() {
        let dc = ComputeService::new().unwrap();
        let acc = dc.accelerator(BackendKind::Cpu).unwrap();
        for len in [2usize, 16, 12, 7, 257, 2 * 1031] {
            for inverse in [false, true] {
                let batch = 3;
                let x: Vec<f64> = (0..2 * len * batch)
                    .map(|i| ((i * 7919 % 1000) as f64 / 500.0) - 1.0)
                    .collect();
                let mut plan = Fft::<f64>::new(len).batch(batch);
                if inverse {
                    plan = plan.inverse();
                }
                let mut kernels = dc.buffer_from_slice(&x).unwrap();
                plan.on_device(&acc, &mut kernels).unwrap();
                let mut host = dc.buffer_from_slice(&x).unwrap();
                plan.run(&acc, &mut host).unwrap();
                let (kernels, host) = (kernels.to_vec().unwrap(), host.to_vec().unwrap());
                for (i, (a, b)) in kernels.iter().zip(&host).enumerate() {
                    assert!(
                        (a - b).abs() < 1e-9 * len as f64,
                        "len {len} inverse {inverse} [{i}]: kernels {a}, rustfft {b}"
                    );
                }
            }
        }
    }
}
