//! [`Gemm`]: `C = alpha * op(A) * op(B) + beta * C` for row-major `f32` and `f64` matrices, on
//! any accelerator.
//!
//! On the CPU it runs the [`gemm`](https://docs.rs/gemm) crate (packed, cache-blocked
//! micro-kernels for every SIMD level, parallel on the accelerator's threads); elsewhere a
//! tiled kernel of the library (64 x 64 blocks of `C` per group, a 4 x 4 register tile per
//! item). The two sum the `k` products in different orders, so results agree to rounding,
//! not bit for bit (GEMM is not among the deterministic algorithms).
//!
//! BLAS conventions: with `beta == 0` the old `C` is not read (NaNs in it do not propagate),
//! with `alpha == 0` (or `k == 0`) `A` and `B` are not used and `C = beta * C`.
//!
//! ```
//! use dotcompute::prelude::*;
//! use dotcompute::algorithms::Gemm;
//!
//! # fn main() -> Result<(), dotcompute::Error> {
//! let dc = ComputeService::new()?;
//! let acc = dc.best_accelerator()?;
//! // A is 2 x 3, B is 3 x 2.
//! let a = dc.buffer_from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0])?;
//! let b = dc.buffer_from_slice(&[1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0])?;
//! let mut c = dc.buffer_zeroed::<f32>(4)?;
//! Gemm::new(2, 2, 3).run(&acc, &a, &b, &mut c)?;
//! assert_eq!(c.to_vec()?, [4.0, 5.0, 10.0, 11.0]);
//!
//! // c = 0.5 * a * aᵀ + c: `a` serves as B, stored n x k and transposed.
//! Gemm::new(2, 2, 3).transpose_b().alpha(0.5).beta(1.0).run(&acc, &a, &a, &mut c)?;
//! assert_eq!(c.to_vec()?, [11.0, 21.0, 26.0, 49.5]);
//! # Ok(())
//! # }
//! ```

use super::gemm_kernels as k;
use crate::{Accelerator, Error, Grid, UnifiedBuffer};

mod sealed {
    use crate::{Accelerator, Error, Grid, UnifiedBuffer};

    /// What [`super::GemmElement`] types provide.
    pub trait GemmElement: Copy + bytemuck::Pod + PartialEq + Send + Sync + 'static {
        /// Zero.
        const ZERO: Self;
        /// One.
        const ONE: Self;
        /// `x * y`.
        fn mul(x: Self, y: Self) -> Self;
        /// Launches the tiled kernel.
        ///
        /// # Safety
        ///
        /// The buffers hold `m k`, `k n` and `m n` elements; `grid` covers `n` and `m` in
        /// whole 64 x 64 blocks of 16 x 16 groups.
        #[allow(clippy::too_many_arguments)]
        unsafe fn launch(
            acc: &Accelerator,
            grid: Grid,
            shape: [u64; 3],
            transposes: u32,
            alpha: Self,
            beta: Self,
            a: &UnifiedBuffer<Self>,
            b: &UnifiedBuffer<Self>,
            c: &mut UnifiedBuffer<Self>,
        ) -> Result<(), Error>;
    }
}

/// Element types [`Gemm`] works on: `f32` and `f64`.
pub trait GemmElement: sealed::GemmElement {}

macro_rules! gemm_element {
    ($t:ty, $kernel:ident) => {
        impl sealed::GemmElement for $t {
            const ZERO: $t = 0.0;
            const ONE: $t = 1.0;
            fn mul(x: $t, y: $t) -> $t {
                x * y
            }
            unsafe fn launch(
                acc: &Accelerator,
                grid: Grid,
                shape: [u64; 3],
                transposes: u32,
                alpha: $t,
                beta: $t,
                a: &UnifiedBuffer<$t>,
                b: &UnifiedBuffer<$t>,
                c: &mut UnifiedBuffer<$t>,
            ) -> Result<(), Error> {
                let [m, n, depth] = shape;
                // SAFETY: the caller's contract: every index the kernel forms is guarded by
                // m, n and k, and the buffers hold the products of those.
                unsafe {
                    k::$kernel::launch(acc, grid, m, n, depth, transposes, alpha, beta, a, b, c)
                }
            }
        }
        impl GemmElement for $t {}
    };
}

gemm_element!(f32, gemm_f32);
gemm_element!(f64, gemm_f64);

/// A general matrix product `C = alpha * op(A) * op(B) + beta * C` of row-major matrices:
/// `op(A)` is `m x k`, `op(B)` is `k x n`, `C` is `m x n`. Built with [`Gemm::new`] (`alpha`
/// 1, `beta` 0, no transposes) and the setters; [`run`](Gemm::run) computes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gemm<T> {
    m: usize,
    n: usize,
    k: usize,
    transpose_a: bool,
    transpose_b: bool,
    alpha: T,
    beta: T,
}

impl<T: GemmElement> Gemm<T> {
    /// `C = A * B` with `A` `m x k`, `B` `k x n` and `C` `m x n`.
    pub fn new(m: usize, n: usize, k: usize) -> Gemm<T> {
        Gemm {
            m,
            n,
            k,
            transpose_a: false,
            transpose_b: false,
            alpha: T::ONE,
            beta: T::ZERO,
        }
    }

    /// Uses `Aᵀ`: `A` is stored `k x m`.
    pub fn transpose_a(self) -> Gemm<T> {
        Gemm {
            transpose_a: true,
            ..self
        }
    }

    /// Uses `Bᵀ`: `B` is stored `n x k`.
    pub fn transpose_b(self) -> Gemm<T> {
        Gemm {
            transpose_b: true,
            ..self
        }
    }

    /// Scales the product (default 1).
    pub fn alpha(self, alpha: T) -> Gemm<T> {
        Gemm { alpha, ..self }
    }

    /// Scales the old `C` (default 0: `C` is overwritten, not read).
    pub fn beta(self, beta: T) -> Gemm<T> {
        Gemm { beta, ..self }
    }

    /// Computes `c = alpha * op(a) * op(b) + beta * c` on `acc`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when a buffer's length is not its matrix's (`m k`, `k n`,
    /// `m n`), naming the dimensions (`c` untouched); [`Error::ForeignBuffer`] for buffers of
    /// another service; [`Error::Unsupported`] for `f64` on an accelerator without it; what
    /// a launch returns.
    pub fn run(
        &self,
        acc: &Accelerator,
        a: &UnifiedBuffer<T>,
        b: &UnifiedBuffer<T>,
        c: &mut UnifiedBuffer<T>,
    ) -> Result<(), Error> {
        let (m, n, depth) = (self.m, self.n, self.k);
        let invalid = |reason: String| Error::InvalidArgument {
            operation: "gemm".into(),
            reason,
        };
        let elements = |rows: usize, cols: usize| {
            rows.checked_mul(cols)
                .ok_or_else(|| invalid(format!("{rows} x {cols} elements overflow usize")))
        };
        let (a_rows, a_cols) = if self.transpose_a {
            (depth, m)
        } else {
            (m, depth)
        };
        let (b_rows, b_cols) = if self.transpose_b {
            (n, depth)
        } else {
            (depth, n)
        };
        for (name, rows, cols, len) in [
            ("a", a_rows, a_cols, a.len()),
            ("b", b_rows, b_cols, b.len()),
            ("c", m, n, c.len()),
        ] {
            let want = elements(rows, cols)?;
            if len != want {
                return Err(invalid(format!(
                    "m = {m}, n = {n}, k = {depth}: `{name}` must be a {rows} x {cols} matrix \
                     ({want} elements) but holds {len}"
                )));
            }
        }
        super::check_services(
            acc,
            "gemm",
            &[
                ("a", a.raw().service()),
                ("b", b.raw().service()),
                ("c", c.raw().service()),
            ],
        )?;
        if m == 0 || n == 0 {
            return Ok(());
        }
        #[cfg(feature = "cpu")]
        if let Some(result) = super::on_host(acc, |threads| self.on_host(a, b, c, threads)) {
            return result;
        }
        let transposes = u32::from(self.transpose_a) | (u32::from(self.transpose_b) << 1);
        let grid = Grid::d2((n as u64).div_ceil(64) * 16, (m as u64).div_ceil(64) * 16)
            .with_group_size([16, 16, 1]);
        // SAFETY: the lengths are checked above; the grid covers C in whole 64 x 64 blocks of
        // 16 x 16 groups.
        unsafe {
            T::launch(
                acc,
                grid,
                [m as u64, n as u64, depth as u64],
                transposes,
                self.alpha,
                self.beta,
                a,
                b,
                c,
            )
        }
    }

    /// The product on the host with the `gemm` crate, on `threads` threads of the current
    /// rayon pool.
    #[cfg(feature = "cpu")]
    fn on_host(
        &self,
        a: &UnifiedBuffer<T>,
        b: &UnifiedBuffer<T>,
        c: &mut UnifiedBuffer<T>,
        threads: usize,
    ) -> Result<(), Error> {
        let (m, n, depth) = (self.m, self.n, self.k);
        let mut c = c.write()?;
        if self.alpha == T::ZERO || depth == 0 {
            for v in c.iter_mut() {
                *v = if self.beta == T::ZERO {
                    T::ZERO
                } else {
                    T::mul(self.beta, *v)
                };
            }
            return Ok(());
        }
        let a = a.read()?;
        let b = b.read()?;
        // Row and column strides of op(A) (m x k) and op(B) (k x n) in their storage.
        let (a_rs, a_cs) = if self.transpose_a { (1, m) } else { (depth, 1) };
        let (b_rs, b_cs) = if self.transpose_b { (1, depth) } else { (n, 1) };
        let parallelism = if threads > 1 {
            gemm::Parallelism::Rayon(threads)
        } else {
            gemm::Parallelism::None
        };
        // SAFETY: the lengths were checked against m, n and k by `run`, so every element the
        // strides reach lies in its slice; `c` is borrowed mutably and does not overlap `a`
        // or `b` (distinct buffers); T is f32 or f64, which `gemm` supports. In `gemm`'s
        // terms dst = alpha' dst + beta' lhs rhs, so our beta is its alpha and ours alpha its
        // beta, and `read_dst` is false when our beta is zero.
        unsafe {
            gemm::gemm::<T>(
                m,
                n,
                depth,
                c.as_mut_ptr(),
                1,
                n as isize,
                self.beta != T::ZERO,
                a.as_ptr(),
                a_cs as isize,
                a_rs as isize,
                b.as_ptr(),
                b_cs as isize,
                b_rs as isize,
                self.beta,
                self.alpha,
                false,
                false,
                false,
                parallelism,
            );
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "cpu"))]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail by panicking

    use super::sealed::GemmElement as _;
    use super::*;
    use crate::{BackendKind, ComputeService};

    /// The tiled kernel (what GPUs run) on the CPU, against the host crate, for ragged shapes
    /// and every transpose: both within a few rounding errors of the f64 reference.
    #[test]
    fn the_tiled_kernel_agrees_with_the_host_crate() {
        let dc = ComputeService::new().unwrap();
        let acc = dc.accelerator(BackendKind::Cpu).unwrap();
        let (m, n, depth) = (70usize, 131usize, 37usize);
        let value = |i: usize| ((i * 7919 % 1000) as f64 / 500.0 - 1.0) as f32;
        let a: Vec<f32> = (0..m * depth).map(value).collect();
        let b: Vec<f32> = (0..depth * n).map(|i| value(i + 17)).collect();
        let c0: Vec<f32> = (0..m * n).map(|i| value(i + 5)).collect();
        for transposes in 0..4u32 {
            let (ta, tb) = (transposes & 1 == 1, transposes & 2 == 2);
            let da = dc.buffer_from_slice(&a).unwrap();
            let db = dc.buffer_from_slice(&b).unwrap();
            let mut kernel = dc.buffer_from_slice(&c0).unwrap();
            let mut host = dc.buffer_from_slice(&c0).unwrap();
            let grid = Grid::d2(n.div_ceil(64) as u64 * 16, m.div_ceil(64) as u64 * 16)
                .with_group_size([16, 16, 1]);
            // SAFETY: the buffers hold m k, k n and m n elements; the grid covers C in whole
            // blocks.
            unsafe {
                f32::launch(
                    &acc,
                    grid,
                    [m as u64, n as u64, depth as u64],
                    transposes,
                    0.5,
                    -1.0,
                    &da,
                    &db,
                    &mut kernel,
                )
            }
            .unwrap();
            let mut spec = Gemm::new(m, n, depth).alpha(0.5).beta(-1.0);
            if ta {
                spec = spec.transpose_a();
            }
            if tb {
                spec = spec.transpose_b();
            }
            spec.run(&acc, &da, &db, &mut host).unwrap();
            let (kernel, host) = (kernel.to_vec().unwrap(), host.to_vec().unwrap());
            for i in 0..m {
                for j in 0..n {
                    let mut want = -f64::from(c0[i * n + j]);
                    for p in 0..depth {
                        let x = if ta { a[p * m + i] } else { a[i * depth + p] };
                        let y = if tb { b[j * depth + p] } else { b[p * n + j] };
                        want += 0.5 * f64::from(x) * f64::from(y);
                    }
                    for (what, got) in [("kernel", kernel[i * n + j]), ("host", host[i * n + j])] {
                        assert!(
                            (f64::from(got) - want).abs() < 1e-5,
                            "{what} [{i}, {j}] transposes {transposes}: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }
}
