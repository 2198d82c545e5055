//! Algorithms over functions of the user's: [`define_reduction!`](crate::define_reduction)
//! (a reduction and scans with any associative `#[kernel_fn]` combiner) and
//! [`define_compaction!`](crate::define_compaction) (the elements a `#[kernel_fn]` predicate
//! keeps, in their order). Kernels cannot be generic over functions, so each macro defines,
//! where it is called (where the helper is in scope), a module with its own kernels, built
//! from the templates of the library's kernels and driven the same way: a custom reduction
//! combines in the documented order of [`reduce`](super::reduce), so its bits too depend on
//! the input alone.
//!
//! ```
//! use dotcompute::prelude::*;
//!
//! /// The larger magnitude (associative, with identity 0).
//! #[kernel_fn]
//! fn max_abs(a: f32, b: f32) -> f32 {
//!     a.abs().max(b.abs())
//! }
//!
//! #[kernel_fn]
//! fn is_positive(v: f32) -> bool {
//!     v > 0.0
//! }
//!
//! dotcompute::define_reduction! {
//!     /// The largest magnitude, and running largest magnitudes.
//!     mod largest_magnitude: f32 = max_abs, identity 0.0
//! }
//!
//! dotcompute::define_compaction! {
//!     /// The positive elements.
//!     mod positives: f32 = is_positive
//! }
//!
//! # fn main() -> Result<(), dotcompute::Error> {
//! let dc = ComputeService::new()?;
//! let acc = dc.best_accelerator()?;
//! let x = dc.buffer_from_slice(&[3.0f32, -7.5, 1.0, -2.0, 8.0])?;
//! assert_eq!(largest_magnitude::reduce(&acc, &x)?, 8.0);
//! let mut running = dc.buffer_zeroed::<f32>(5)?;
//! largest_magnitude::inclusive_scan(&acc, &x, &mut running)?;
//! assert_eq!(running.to_vec()?, [3.0, 7.5, 7.5, 7.5, 8.0]);
//! assert_eq!(positives::compact(&acc, &x)?.to_vec()?, [3.0, 1.0, 8.0]);
//! # Ok(())
//! # }
//! ```

use super::reduce::{CHUNK, GROUP};
use crate::{Accelerator, Error, Grid, UnifiedBuffer};

/// Defines a module with a deterministic reduction and scans of `T` by a `#[kernel_fn]`
/// combiner `fn(T, T) -> T` in scope. The result is the combiner applied in the order of
/// [`algorithms::reduce`](crate::algorithms::reduce) and
/// [`algorithms::scan`](crate::algorithms::scan), with every lane starting from the
/// identity and padding (lanes past the end, the tree's spare slots) combined with it on
/// either side; so its bits depend on the input alone, on every accelerator, and it is the
/// plain fold of the elements when the combiner is associative and the identity neutral on
/// both sides (`combine(identity, v) == v == combine(v, identity)` for the values that
/// combinations produce), and, for `reduce`, commutative too: its tree combines lanes that
/// hold strided elements, not in the elements' order (a "last non-zero" combiner, associative
/// but not commutative, does not give the last one).
///
/// `define_reduction! { /// docs  pub mod name: T = combiner, identity EXPR }` defines
/// `name::reduce(&acc, &x) -> Result<T, Error>` (the identity for an empty `x`),
/// `name::inclusive_scan(&acc, &x, &mut y)` and `name::exclusive_scan(&acc, &x, &mut y)`
/// (`y` as long as `x`), `name::IDENTITY` and `name::kernels()` (its kernel definitions).
/// See [`algorithms::custom`](crate::algorithms::custom) for an example.
#[macro_export]
macro_rules! define_reduction {
    ($(#[$meta:meta])* $vis:vis mod $module:ident: $t:ty = $combine:ident, identity $identity:expr $(,)?) => {
        $(#[$meta])*
        $vis mod $module {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::prelude::*;

            $crate::__dotcompute_reduce_kernel!(() reduce_chunks, $t, identity, [identity: $t], |acc, v| $combine(acc, v));
            $crate::__dotcompute_scan_kernels!(() scan_totals, scan_chunks, $t, identity, [identity: $t], |a, b| $combine(a, b));

            /// The combiner's identity.
            pub const IDENTITY: $t = $identity;

            /// The reduction of `x` (the identity when `x` is empty).
            pub fn reduce(
                acc: &$crate::Accelerator,
                x: &$crate::UnifiedBuffer<$t>,
            ) -> ::core::result::Result<$t, $crate::Error> {
                $crate::algorithms::reduce::reduce_by(acc, x, IDENTITY, |grid, n, input, out| {
                    reduce_chunks::launch(acc, grid, IDENTITY, n, input, out)
                })
            }

            /// `y[i]` combines `x[0] ..= x[i]`.
            pub fn inclusive_scan(
                acc: &$crate::Accelerator,
                x: &$crate::UnifiedBuffer<$t>,
                y: &mut $crate::UnifiedBuffer<$t>,
            ) -> ::core::result::Result<(), $crate::Error> {
                scan(acc, x, y, false, "inclusive_scan")
            }

            /// `y[i]` combines `x[0] .. x[i]` (`y[0]` is the identity).
            pub fn exclusive_scan(
                acc: &$crate::Accelerator,
                x: &$crate::UnifiedBuffer<$t>,
                y: &mut $crate::UnifiedBuffer<$t>,
            ) -> ::core::result::Result<(), $crate::Error> {
                scan(acc, x, y, true, "exclusive_scan")
            }

            fn scan(
                acc: &$crate::Accelerator,
                x: &$crate::UnifiedBuffer<$t>,
                y: &mut $crate::UnifiedBuffer<$t>,
                exclusive: bool,
                operation: &str,
            ) -> ::core::result::Result<(), $crate::Error> {
                $crate::algorithms::scan::scan_by(
                    acc,
                    x,
                    y,
                    exclusive,
                    operation,
                    IDENTITY,
                    &mut |grid, n, x, totals| scan_totals::launch(acc, grid, IDENTITY, n, x, totals),
                    &mut |grid, n, exclusive, x, carries, y| {
                        scan_chunks::launch(acc, grid, IDENTITY, n, u32::from(exclusive), x, carries, y)
                    },
                )
            }

            /// The module's kernels (to compile or validate them ahead of use).
            pub fn kernels() -> ::std::vec::Vec<&'static $crate::KernelDefinition> {
                ::std::vec![
                    reduce_chunks::definition(),
                    scan_totals::definition(),
                    scan_chunks::definition(),
                ]
            }
        }
    };
}

/// Defines a module that keeps the elements of a buffer of `T` for which a `#[kernel_fn]`
/// predicate `fn(T) -> bool` in scope returns `true`, in their order (positions come from a
/// scan of per-chunk counts, never from an atomic counter, so the output is the same on
/// every run and accelerator).
///
/// `define_compaction! { /// docs  pub mod name: T = predicate }` defines
/// `name::compact(&acc, &x) -> Result<UnifiedBuffer<T>, Error>` (a new buffer of the kept
/// elements) and `name::kernels()`. See [`algorithms::custom`](crate::algorithms::custom)
/// for an example.
#[macro_export]
macro_rules! define_compaction {
    ($(#[$meta:meta])* $vis:vis mod $module:ident: $t:ty = $keep:ident $(,)?) => {
        $(#[$meta])*
        $vis mod $module {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::prelude::*;

            $crate::__dotcompute_compact_kernels!(compact_count, compact_scatter, $t, |v| $keep(v));

            /// The elements of `x` that the predicate keeps, in their order.
            pub fn compact(
                acc: &$crate::Accelerator,
                x: &$crate::UnifiedBuffer<$t>,
            ) -> ::core::result::Result<$crate::UnifiedBuffer<$t>, $crate::Error> {
                $crate::algorithms::custom::compact_by(
                    acc,
                    x,
                    |grid, n, x, counts| compact_count::launch(acc, grid, n, x, counts),
                    |grid, n, x, offsets, out| compact_scatter::launch(acc, grid, n, x, offsets, out),
                )
            }

            /// The module's kernels (to compile or validate them ahead of use).
            pub fn kernels() -> ::std::vec::Vec<&'static $crate::KernelDefinition> {
                ::std::vec![compact_count::definition(), compact_scatter::definition()]
            }
        }
    };
}

/// A compaction from its two kernels (`define_compaction!` builds on it):
/// `count(grid, n, x, counts)` writes each chunk's kept count, `scatter(grid, n, x, offsets,
/// out)` each kept element at its place; `grid` has one group of [`GROUP`] items per chunk
/// of [`CHUNK`], `counts` and `offsets` one value per chunk, `out` the kept count.
#[doc(hidden)]
pub fn compact_by<T: bytemuck::Pod>(
    acc: &Accelerator,
    x: &UnifiedBuffer<T>,
    mut count: impl FnMut(Grid, u64, &UnifiedBuffer<T>, &mut UnifiedBuffer<u64>) -> Result<(), Error>,
    mut scatter: impl FnMut(
        Grid,
        u64,
        &UnifiedBuffer<T>,
        &UnifiedBuffer<u64>,
        &mut UnifiedBuffer<T>,
    ) -> Result<(), Error>,
) -> Result<UnifiedBuffer<T>, Error> {
    let n = x.len();
    if n == 0 {
        return acc.buffer_zeroed(0);
    }
    let groups = n.div_ceil(CHUNK);
    let grid = Grid::d1(groups as u64 * u64::from(GROUP)).with_group_size([GROUP, 1, 1]);
    let mut counts = acc.buffer_zeroed::<u64>(groups)?;
    count(grid, n as u64, x, &mut counts)?;
    let mut offsets = acc.buffer_zeroed::<u64>(groups)?;
    super::exclusive_scan(acc, &counts, &mut offsets)?;
    let last = |b: &UnifiedBuffer<u64>| -> Result<u64, Error> {
        Ok(b.read()?.last().copied().unwrap_or(0))
    };
    let kept =
        usize::try_from(last(&offsets)? + last(&counts)?).map_err(|_| Error::InvalidArgument {
            operation: "compact".into(),
            reason: "more kept elements than usize holds".into(),
        })?;
    let mut out = acc.buffer_zeroed::<T>(kept)?;
    if kept > 0 {
        scatter(grid, n as u64, x, &offsets, &mut out)?;
    }
    Ok(out)
}
