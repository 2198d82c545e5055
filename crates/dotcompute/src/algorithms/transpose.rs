//! [`transpose`]: a row-major matrix's transpose, on any accelerator (an exact copy: the same
//! bits everywhere).
//!
//! ```
//! use dotcompute::prelude::*;
//! use dotcompute::algorithms;
//!
//! # fn main() -> Result<(), dotcompute::Error> {
//! let dc = ComputeService::new()?;
//! let acc = dc.best_accelerator()?;
//! // 2 rows, 3 columns.
//! let a = dc.buffer_from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0])?;
//! let mut t = dc.buffer_zeroed::<f32>(6)?;
//! algorithms::transpose(&acc, &a, 2, 3, &mut t)?;
//! assert_eq!(t.to_vec()?, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
//! # Ok(())
//! # }
//! ```

use super::transpose_kernels as k;
use crate::{Accelerator, Error, Grid, UnifiedBuffer};

mod sealed {
    use crate::{Accelerator, Error, Grid, UnifiedBuffer};

    /// What [`super::Transposable`] types provide: their kernel.
    pub trait Transpose: Copy + bytemuck::Pod {
        /// Launches the transpose.
        ///
        /// # Safety
        ///
        /// `a` and `t` hold `rows * cols` elements; `grid` covers the matrix in 16 x 16
        /// groups.
        unsafe fn launch(
            acc: &Accelerator,
            grid: Grid,
            rows: u64,
            cols: u64,
            a: &UnifiedBuffer<Self>,
            t: &mut UnifiedBuffer<Self>,
        ) -> Result<(), Error>;
    }
}

/// Element types [`transpose`] works on: `f32 f64 i32 u32 i64 u64`.
pub trait Transposable: sealed::Transpose {}

macro_rules! transposable {
    ($t:ty, $kernel:ident) => {
        impl sealed::Transpose for $t {
            unsafe fn launch(
                acc: &Accelerator,
                grid: Grid,
                rows: u64,
                cols: u64,
                a: &UnifiedBuffer<$t>,
                t: &mut UnifiedBuffer<$t>,
            ) -> Result<(), Error> {
                // SAFETY: the caller's contract: every index is below rows * cols (guarded by
                // the true sizes) or below 272 (the tile).
                unsafe { k::$kernel::launch(acc, grid, rows, cols, a, t) }
            }
        }
        impl Transposable for $t {}
    };
}

transposable!(f32, transpose_f32);
transposable!(f64, transpose_f64);
transposable!(i32, transpose_i32);
transposable!(u32, transpose_u32);
transposable!(i64, transpose_i64);
transposable!(u64, transpose_u64);

/// `t = aᵀ`: `a` is a row-major `rows x cols` matrix, `t` receives the `cols x rows` one.
/// Both must hold `rows * cols` elements ([`Error::InvalidArgument`] otherwise, `t`
/// untouched).
pub fn transpose<T: Transposable>(
    acc: &Accelerator,
    a: &UnifiedBuffer<T>,
    rows: usize,
    cols: usize,
    t: &mut UnifiedBuffer<T>,
) -> Result<(), Error> {
    let invalid = |reason: String| Error::InvalidArgument {
        operation: "transpose".into(),
        reason,
    };
    let elements = rows
        .checked_mul(cols)
        .ok_or_else(|| invalid(format!("{rows} x {cols} elements overflow usize")))?;
    if a.len() != elements || t.len() != elements {
        return Err(invalid(format!(
            "a {rows} x {cols} matrix has {elements} elements; the input holds {}, the output {}",
            a.len(),
            t.len()
        )));
    }
    if elements == 0 {
        return Ok(());
    }
    // Whole 16 x 16 tiles: items outside the matrix still load and store their share.
    let grid = Grid::d2(
        (cols as u64).div_ceil(16) * 16,
        (rows as u64).div_ceil(16) * 16,
    )
    .with_group_size([16, 16, 1]);
    // SAFETY: a and t hold rows * cols elements; the grid covers the matrix in 16 x 16
    // groups.
    unsafe { T::launch(acc, grid, rows as u64, cols as u64, a, t) }
}
