//! The FFT kernels of accelerators without a host FFT (wgpu, CUDA), on interleaved complex
//! numbers (`re, im` pairs of floats): radix-2 Stockham stages for powers of two (one work
//! item per butterfly, ping-ponging between two buffers, so no bit reversal), and the
//! elementwise steps of Bluestein's algorithm for other lengths.

use crate::prelude::*;

macro_rules! fft_kernels {
    ($stage:ident, $chirp_in:ident, $multiply:ident, $chirp_out:ident, $t:ty) => {
        /// One radix-2 Stockham stage of `batch` transforms of length `n` (a power of two):
        /// item `i` of a transform (`i < n / 2`) combines elements `i` and `i + n/2` with
        /// twiddle `W_n^(k n / 2p)`, `k = i mod p`, into `y[2i - k]` and `y[2i - k + p]`.
        /// `twiddles` holds `W_n^t = exp(-2 pi i t / n)` for `t < n / 2`; `sign` -1 conjugates
        /// them (the inverse transform).
        #[kernel]
        pub fn $stage(n: u64, p: u64, sign: $t, twiddles: &[$t], x: &[$t], y: &mut [$t]) {
            let item = global_id();
            let half = (n / 2) as usize;
            let span = p as usize;
            let base = (item / half) * n as usize;
            let i = item % half;
            let k = i & (span - 1);
            let t = k * (half / span);
            let wr = twiddles[2 * t];
            let wi = sign * twiddles[2 * t + 1];
            let a = base + i;
            let c = a + half;
            let u0r = x[2 * a];
            let u0i = x[2 * a + 1];
            let xr = x[2 * c];
            let xi = x[2 * c + 1];
            let u1r = xr * wr - xi * wi;
            let u1i = xr * wi + xi * wr;
            let j = base + 2 * i - k;
            y[2 * j] = u0r + u1r;
            y[2 * j + 1] = u0i + u1i;
            let j2 = j + span;
            y[2 * j2] = u0r - u1r;
            y[2 * j2 + 1] = u0i - u1i;
        }

        /// Bluestein's first step: `a[b m + j] = x[b n + j] * chirp[j]` for `j < n`, zero
        /// up to `m` (`chirp` conjugated when `sign` is -1).
        #[kernel]
        pub fn $chirp_in(n: u64, m: u64, sign: $t, chirp: &[$t], x: &[$t], a: &mut [$t]) {
            let item = global_id();
            let padded = m as usize;
            let len = n as usize;
            let b = item / padded;
            let j = item % padded;
            if j < len {
                let cr = chirp[2 * j];
                let ci = sign * chirp[2 * j + 1];
                let xr = x[2 * (b * len + j)];
                let xi = x[2 * (b * len + j) + 1];
                a[2 * item] = xr * cr - xi * ci;
                a[2 * item + 1] = xr * ci + xi * cr;
            } else {
                a[2 * item] = 0.0;
                a[2 * item + 1] = 0.0;
            }
        }

        /// `a[b m + j] *= f[j]`: every transform of the batch times the kernel's transform.
        #[kernel]
        pub fn $multiply(m: u64, f: &[$t], a: &mut [$t]) {
            let item = global_id();
            let j = item % m as usize;
            let ar = a[2 * item];
            let ai = a[2 * item + 1];
            let fr = f[2 * j];
            let fi = f[2 * j + 1];
            a[2 * item] = ar * fr - ai * fi;
            a[2 * item + 1] = ar * fi + ai * fr;
        }

        /// Bluestein's last step: `x[b n + k] = chirp[k] * c[b m + k] * scale`.
        #[kernel]
        pub fn $chirp_out(
            n: u64,
            m: u64,
            sign: $t,
            scale: $t,
            chirp: &[$t],
            c: &[$t],
            x: &mut [$t],
        ) {
            let item = global_id();
            let len = n as usize;
            let b = item / len;
            let k = item % len;
            let cr = chirp[2 * k];
            let ci = sign * chirp[2 * k + 1];
            let at = b * m as usize + k;
            let vr = c[2 * at] * scale;
            let vi = c[2 * at + 1] * scale;
            x[2 * item] = vr * cr - vi * ci;
            x[2 * item + 1] = vr * ci + vi * cr;
        }
    };
}

fft_kernels!(
    fft_stage_f32,
    bluestein_in_f32,
    fft_multiply_f32,
    bluestein_out_f32,
    f32
);
fft_kernels!(
    fft_stage_f64,
    bluestein_in_f64,
    fft_multiply_f64,
    bluestein_out_f64,
    f64
);

/// Every FFT kernel.
pub fn all() -> Vec<&'static crate::KernelDefinition> {
    vec![
        fft_stage_f32::definition(),
        bluestein_in_f32::definition(),
        fft_multiply_f32::definition(),
        bluestein_out_f32::definition(),
        fft_stage_f64::definition(),
        bluestein_in_f64::definition(),
        fft_multiply_f64::definition(),
        bluestein_out_f64::definition(),
    ]
}
