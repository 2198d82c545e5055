//! The GEMM kernel of accelerators without a host GEMM (wgpu, CUDA): a group of 16 x 16 items
//! computes a 64 x 64 block of `C`, each item a 4 x 4 register tile (rows `ty + 16 i`,
//! columns `tx + 16 j`, so that neighbouring items touch neighbouring elements), from tiles of
//! 64 x 16 of `op(A)` and 16 x 64 of `op(B)` in shared memory, stored k-major so that the
//! inner loop reads both along rows and columns of the tiles.

use crate::prelude::*;

macro_rules! gemm_kernel {
    ($name:ident, $t:ty, $zero:literal) => {
        /// `c = alpha * op(a) * op(b) + beta * c` for row-major matrices: `op(a)` is
        /// `m x k`, `op(b)` is `k x n`; bit 0 of `transposes` transposes `a` (stored
        /// `k x m`), bit 1 `b` (stored `n x k`). `c` is not read when `beta` is zero, nor
        /// `a` and `b` used when `alpha` is zero. The grid covers `n` and `m` in whole 64 x
        /// 64 blocks, groups of 16 x 16.
        #[kernel(unchecked)]
        pub fn $name(
            m: u64,
            n: u64,
            k: u64,
            transposes: u32,
            alpha: $t,
            beta: $t,
            a: &[$t],
            b: &[$t],
            c: &mut [$t],
        ) {
            let mut ta = shared_array::<$t, 1024>();
            let mut tb = shared_array::<$t, 1024>();
            let rows = m as usize;
            let cols = n as usize;
            let depth = k as usize;
            let tx = local_id_x();
            let ty = local_id_y();
            let lin = ty * 16 + tx;
            let row0 = group_id_y() * 64;
            let col0 = group_id_x() * 64;
            let a_t = (transposes & 1) == 1;
            let b_t = (transposes & 2) == 2;
            let mut acc = [$zero; 16];
            for t in 0..(depth + 15) / 16 {
                for i in 0..4 {
                    let l = i * 256 + lin;
                    // Loads run along the stored matrix's rows: along k for `a` as is, along
                    // m for `a` transposed (and along n / k for `b`).
                    let r = if a_t { l % 64 } else { l / 16 };
                    let p = if a_t { l / 64 } else { l % 16 };
                    let gr = row0 + r;
                    let gp = t * 16 + p;
                    let ia = if a_t { gp * rows + gr } else { gr * depth + gp };
                    let va = if gr < rows && gp < depth {
                        a[ia]
                    } else {
                        $zero
                    };
                    ta[p * 64 + r] = va;
                    let q = if b_t { l % 16 } else { l / 64 };
                    let cc = if b_t { l / 16 } else { l % 64 };
                    let gq = t * 16 + q;
                    let gc = col0 + cc;
                    let ib = if b_t { gc * depth + gq } else { gq * cols + gc };
                    let vb = if gq < depth && gc < cols {
                        b[ib]
                    } else {
                        $zero
                    };
                    tb[q * 64 + cc] = vb;
                }
                barrier();
                for p in 0..16 {
                    for i in 0..4 {
                        let x = ta[p * 64 + ty + 16 * i];
                        for j in 0..4 {
                            acc[i * 4 + j] += x * tb[p * 64 + tx + 16 * j];
                        }
                    }
                }
                barrier();
            }
            for i in 0..4 {
                for j in 0..4 {
                    let r = row0 + ty + 16 * i;
                    let cc = col0 + tx + 16 * j;
                    if r < rows && cc < cols {
                        // With alpha 0 or k 0, C = beta C (alpha * 0 would be NaN for an
                        // infinite alpha).
                        let product = if alpha == $zero || depth == 0 {
                            $zero
                        } else {
                            alpha * acc[i * 4 + j]
                        };
                        if beta == $zero {
                            c[r * cols + cc] = product;
                        } else {
                            c[r * cols + cc] = product + beta * c[r * cols + cc];
                        }
                    }
                }
            }
        }
    };
}

gemm_kernel!(gemm_f32, f32, 0.0f32);
gemm_kernel!(gemm_f64, f64, 0.0f64);

/// Every GEMM kernel.
pub fn all() -> Vec<&'static crate::KernelDefinition> {
    vec![gemm_f32::definition(), gemm_f64::definition()]
}
