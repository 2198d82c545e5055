//! The transpose kernels: a 16 x 16 group copies a tile of the matrix through shared memory
//! (17 columns, so that the transposed reads do not fall on one bank), reading rows and
//! writing rows.

use crate::prelude::*;

macro_rules! transpose_kernel {
    ($name:ident, $t:ty) => {
        /// `t = aᵀ` for a row-major `rows x cols` matrix `a` (`t` is `cols x rows`).
        #[kernel(unchecked)]
        pub fn $name(rows: u64, cols: u64, a: &[$t], t: &mut [$t]) {
            let mut tile = shared_array::<$t, 272>();
            let lx = local_id_x();
            let ly = local_id_y();
            let x = global_id_x();
            let y = global_id_y();
            if x < cols as usize && y < rows as usize {
                tile[ly * 17 + lx] = a[y * cols as usize + x];
            }
            barrier();
            let ox = group_id_y() * 16 + lx;
            let oy = group_id_x() * 16 + ly;
            if ox < rows as usize && oy < cols as usize {
                t[oy * rows as usize + ox] = tile[lx * 17 + ly];
            }
        }
    };
}

transpose_kernel!(transpose_f32, f32);
transpose_kernel!(transpose_f64, f64);
transpose_kernel!(transpose_i32, i32);
transpose_kernel!(transpose_u32, u32);
transpose_kernel!(transpose_i64, i64);
transpose_kernel!(transpose_u64, u64);

/// Every transpose kernel.
pub fn all() -> Vec<&'static crate::KernelDefinition> {
    vec![
        transpose_f32::definition(),
        transpose_f64::definition(),
        transpose_i32::definition(),
        transpose_u32::definition(),
        transpose_i64::definition(),
        transpose_u64::definition(),
    ]
}
