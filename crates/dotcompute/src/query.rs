//! Queries: a chain of closures over a buffer, written inline like a rayon iterator chain and
//! compiled at build time into fused kernels that run on every accelerator.
//!
//! ```
//! use dotcompute::prelude::*;
//! use dotcompute::query;
//!
//! # fn main() -> Result<(), dotcompute::Error> {
//! let dc = ComputeService::new()?;
//! let acc = dc.best_accelerator()?;
//! let xs = dc.buffer_from_slice(&[0.5f32, 1.5, -2.0, 3.0])?;
//! let k = 2.0f32;
//! let total: f32 = query!(acc.query(&xs).map(|x: f32| x * k).filter(|x| x > 1.0).sum())?;
//! assert_eq!(total, 3.0 + 6.0);
//! let big: UnifiedBuffer<f32> = query!(acc.query(&xs).filter(|x: f32| x.abs() > 1.0).collect())?;
//! assert_eq!(big.to_vec()?, [1.5, -2.0, 3.0]);
//! let n = query!(acc.query(&xs).filter(|x: f32| x < 0.0).count())?;
//! assert_eq!(n, 1);
//! assert_eq!(query!(acc.query(&xs).map(|x: f32| x * x).max())?, Some(9.0));
//! assert!(query!(acc.query(&xs).any(|x: f32| x > 2.5))?);
//! assert!(!query!(acc.query(&xs).all(|x: f32| x > 0.0))?);
//! let ys = dc.buffer_from_slice(&[2.0f32, 2.0, 0.5, 1.0])?;
//! let dot: f32 = query!(acc.query(&xs).zip(&ys).map(|x: f32, y: f32| x * y).sum())?;
//! assert_eq!(dot, 1.0 + 3.0 - 1.0 + 3.0);
//! let odd_squares = query!(acc.query(0..10u64).filter(|i| i % 2 == 1).map(|i| i * i).sum())?;
//! assert_eq!(odd_squares, 1 + 9 + 25 + 49 + 81);
//! let late: UnifiedBuffer<f32> =
//!     query!(acc.query(&xs).enumerate().filter(|i, x: f32| i >= 2).map(|i, x| x).collect())?;
//! assert_eq!(late.to_vec()?, [-2.0, 3.0]);
//! # Ok(())
//! # }
//! ```
//!
//! # Writing a query
//!
//! `query!(accelerator.query(&buffer) .op(|x| ..) .. .terminal())`: the macro sees the whole
//! chain, so the closures are compiled like `#[kernel]` bodies (the kernel language applies,
//! and what lies outside it is a compile error at the construct). The first closure names the
//! element type of each buffer (`|x: f32|`: the macro cannot see the buffer's type; positions and
//! ranges are `u64` without it); later closures receive
//! what the stage before gives. Closures take their element by value (`filter(|x| x > 1.0)`,
//! not `|&x|`). Names from the enclosing code are captured scalars and become kernel
//! parameters (`let k = 2.0f32; .map(|x: f32| x * k)`); their types come from their uses in
//! the whole chain (where the uses do not tell, write it: `let k: f32 = k;` in the closure). A
//! closure may call `#[kernel_fn]`s defined or imported at module level (give it its result
//! type then: `|x: f32| -> f32 { helper(x) }`, since the macro cannot see the helper). Write
//! `u64`/`i64` rather than `usize`/`isize` inside closures (a captured `usize` is fine).
//!
//! | operator | what it does | LINQ |
//! | --- | --- | --- |
//! | `query(a..b)` | the indices `a, a + 1, .., b - 1` as `u64` (a half-open range of `u64`, `usize`, `u32`, `i64` or `i32`; a negative bound is an error) | `Enumerable.Range` |
//! | `enumerate()` (right after `query` or `zip`) | the element's position (`u64`) comes first: `\|i, x: f32\|` | `Select((x, i) => ..)` |
//! | `query(&xs).zip(&ys)` (right after `query`; at most three elements in all, counting a range and the position) | elements in pairs (triples): the closures take one parameter each (`\|x: f32, y: f32\|`) until a `map` makes one value; the lengths must agree | `Zip` |
//! | `map(f)` | each element becomes `f(x)` | `Select` |
//! | `filter(p)` | keeps the elements for which `p(x)` is true; later stages do not run on the others | `Where` |
//! | `sum()` | the sum of the values (`Result<T, Error>`), deterministic | `Sum` |
//! | `count()` | how many values reach the end (`Result<usize, Error>`) | `Count` |
//! | `collect()` | the values, in their order, in a new `UnifiedBuffer` | `ToArray` |
//! | `min()`, `max()` | the least / greatest value (`Result<Option<T>, Error>`, `None` when no value reaches the end), by [`algorithms::min`](crate::algorithms::min)'s rules (NaNs are ignored, so values that are all NaN give the identity, `+inf` / `-inf`) | `Min`, `Max` |
//! | `any(p)`, `all(p)` | whether some / every value satisfies `p` (`Result<bool, Error>`; `all` of nothing is `true`) | `Any`, `All` |
//!
//! # How it runs
//!
//! The whole chain and its terminal become one kernel (`sum`, `count`: plus the library's
//! fixed passes over the chunk values; `min`, `max` after a filter: a counting kernel too; `collect` with a `filter`: a counting kernel and a
//! writing kernel around an exclusive scan, as [`define_compaction!`](crate::define_compaction)
//! does, so the order is the input's, each running the chain; `collect` without one: a
//! kernel writing each element's value). No intermediate buffer is written. The kernels are
//! ordinary `#[kernel]`s: native code on the CPU, WGSL, CUDA C++ elsewhere, compiled once.

//! `sum` follows [`algorithms::sum`](crate::algorithms::sum)'s order: element `i`'s value
//! takes the place of `x[i]`, and an element a filter removes counts as the identity, so the
//! bits are the same on every accelerator, thread count and run.
//!
//! A fault inside a closure (an index out of bounds, a division by zero) is the launch's
//! fault, reported as an [`Error`] that names the query's kernel (`query_sum`,
//! `query_count`, `query_extreme`, `query_map`, `query_collect_count`, `query_collect_write`)
//! and the fault. (Which stage
//! and which element faulted is not reported yet: faults do not carry a location.)

use crate::algorithms::Reducible;
use crate::algorithms::reduce::{CHUNK, GROUP};
use crate::{Accelerator, Error, Grid, UnifiedBuffer};

/// The grid of the fused kernels: one group of [`GROUP`] items per chunk of [`CHUNK`].
fn chunk_grid(n: usize) -> (usize, Grid) {
    let groups = n.div_ceil(CHUNK);
    let grid = Grid::d1(groups as u64 * u64::from(GROUP)).with_group_size([GROUP, 1, 1]);
    (groups, grid)
}

/// The length of the zipped sources: they must agree ([`Error::InvalidArgument`] naming
/// them otherwise).
fn zip_len(lens: &[usize]) -> Result<usize, Error> {
    let n = lens.first().copied().unwrap_or(0);
    if lens.iter().any(|&len| len != n) {
        let listed: Vec<String> = lens.iter().map(usize::to_string).collect();
        return Err(Error::InvalidArgument {
            operation: "query zip".into(),
            reason: format!(
                "zipped buffers differ in length: {} elements",
                listed.join(" and ")
            ),
        });
    }
    Ok(n)
}

/// `sum()`: the fused first pass (`first_pass(grid, n, out)` writes one value per chunk of
/// the sources, of lengths `lens`), then the library's sum of the chunk values. (Called by
/// `query!`'s expansion.)
#[doc(hidden)]
pub fn sum<U: Reducible>(
    acc: &Accelerator,
    lens: &[usize],
    first_pass: impl FnOnce(Grid, u64, &mut UnifiedBuffer<U>) -> Result<(), Error>,
) -> Result<U, Error> {
    let n = zip_len(lens)?;
    if n == 0 {
        return Ok(U::sum_identity());
    }
    let (groups, grid) = chunk_grid(n);
    let mut out = acc.buffer_zeroed::<U>(groups)?;
    first_pass(grid, n as u64, &mut out)?;
    if groups == 1 {
        return Ok(out.read()?.first().copied().unwrap_or(U::sum_identity()));
    }
    crate::algorithms::sum(acc, &out)
}

/// `min()` / `max()` (`max`): `None` when `count_pass` (or, without a filter, the length)
/// finds no value, else `first_pass`'s chunk values reduced by `algorithms::min` / `max`
/// (the same order and NaN rule).
#[doc(hidden)]
pub fn extreme_by<U: Reducible, C>(
    acc: &Accelerator,
    lens: &[usize],
    max: bool,
    count_pass: Option<C>,
    first_pass: impl FnOnce(Grid, u64, &mut UnifiedBuffer<U>) -> Result<(), Error>,
) -> Result<Option<U>, Error>
where
    C: FnOnce(Grid, u64, &mut UnifiedBuffer<u64>) -> Result<(), Error>,
{
    let n = zip_len(lens)?;
    let any = match count_pass {
        Some(pass) => count(acc, lens, pass)? > 0,
        None => n > 0,
    };
    if !any {
        return Ok(None);
    }
    let (groups, grid) = chunk_grid(n);
    let mut out = acc.buffer_zeroed::<U>(groups)?;
    first_pass(grid, n as u64, &mut out)?;
    let reduced = if max {
        crate::algorithms::max(acc, &out)
    } else {
        crate::algorithms::min(acc, &out)
    };
    reduced.map(Some)
}

/// A counting pass of `extreme_by`.
#[doc(hidden)]
pub type CountPass = fn(Grid, u64, &mut UnifiedBuffer<u64>) -> Result<(), Error>;

/// A count pass for `extreme_by` (a function, so that the closure's argument types are
/// inferred for every lifetime).
#[doc(hidden)]
pub fn count_pass<C>(pass: C) -> Option<C>
where
    C: FnOnce(Grid, u64, &mut UnifiedBuffer<u64>) -> Result<(), Error>,
{
    Some(pass)
}

/// No count pass, for `extreme_by` of a chain without filters.
#[doc(hidden)]
pub fn no_count() -> Option<CountPass> {
    None
}

/// `min()` / `max()` of a chain without operators: the library's, `None` when empty.
#[doc(hidden)]
pub fn extreme<T: Reducible>(
    acc: &Accelerator,
    x: &UnifiedBuffer<T>,
    max: bool,
) -> Result<Option<T>, Error> {
    if x.is_empty() {
        return Ok(None);
    }
    let reduced = if max {
        crate::algorithms::max(acc, x)
    } else {
        crate::algorithms::min(acc, x)
    };
    reduced.map(Some)
}

/// `count()`: the fused first pass counts each chunk's values, the library sums the counts.
#[doc(hidden)]
pub fn count(
    acc: &Accelerator,
    lens: &[usize],
    first_pass: impl FnOnce(Grid, u64, &mut UnifiedBuffer<u64>) -> Result<(), Error>,
) -> Result<usize, Error> {
    let total = sum(acc, lens, first_pass)?;
    usize::try_from(total).map_err(|_| Error::InvalidArgument {
        operation: "count".into(),
        reason: format!("{total} values do not fit usize"),
    })
}

/// `collect()`: `count(grid, n, counts)` counts each chunk's kept values, an exclusive scan
/// turns the counts into offsets, and `write(grid, n, offsets, out)` writes them.
#[doc(hidden)]
pub fn collect<U: bytemuck::Pod>(
    acc: &Accelerator,
    lens: &[usize],
    count: impl FnOnce(Grid, u64, &mut UnifiedBuffer<u64>) -> Result<(), Error>,
    write: impl FnOnce(Grid, u64, &UnifiedBuffer<u64>, &mut UnifiedBuffer<U>) -> Result<(), Error>,
) -> Result<UnifiedBuffer<U>, Error> {
    let n = zip_len(lens)?;
    if n == 0 {
        return acc.buffer_zeroed(0);
    }
    let (groups, grid) = chunk_grid(n);
    let mut counts = acc.buffer_zeroed::<u64>(groups)?;
    count(grid, n as u64, &mut counts)?;
    let mut offsets = acc.buffer_zeroed::<u64>(groups)?;
    crate::algorithms::exclusive_scan(acc, &counts, &mut offsets)?;
    let last = |b: &UnifiedBuffer<u64>| -> Result<u64, Error> {
        Ok(b.read()?.last().copied().unwrap_or(0))
    };
    let kept = last(&offsets)? + last(&counts)?;
    let kept = usize::try_from(kept).map_err(|_| Error::InvalidArgument {
        operation: "collect".into(),
        reason: format!("{kept} values do not fit usize"),
    })?;
    let mut out = acc.buffer_zeroed::<U>(kept)?;
    if kept > 0 {
        write(grid, n as u64, &offsets, &mut out)?;
    }
    Ok(out)
}

/// `collect()` of a chain without filters: `run(n, out)` writes every element's value.
#[doc(hidden)]
pub fn map<U: bytemuck::Pod>(
    acc: &Accelerator,
    lens: &[usize],
    run: impl FnOnce(usize, &mut UnifiedBuffer<U>) -> Result<(), Error>,
) -> Result<UnifiedBuffer<U>, Error> {
    let n = zip_len(lens)?;
    let mut out = acc.buffer_zeroed::<U>(n)?;
    if n > 0 {
        run(n, &mut out)?;
    }
    Ok(out)
}

/// A captured value as its kernel parameter's type: the value itself, or a `usize` /
/// `isize` as the kernel language's `u64` / `i64`.
#[diagnostic::on_unimplemented(
    message = "`query!` captured a `{Self}` that the chain uses as `{T}`",
    label = "captured here"
)]
pub trait CaptureAs<T> {
    /// The value as `T`, without loss.
    fn capture_as(self) -> T;
}

impl<T> CaptureAs<T> for T {
    fn capture_as(self) -> T {
        self
    }
}

impl CaptureAs<u64> for usize {
    fn capture_as(self) -> u64 {
        self as u64 // usize is at most 64 bits on every target the library builds for
    }
}

impl CaptureAs<i64> for isize {
    fn capture_as(self) -> i64 {
        self as i64 // as above
    }
}

/// `value` as `T` (called by `query!`'s expansion for each captured name).
#[doc(hidden)]
pub fn capture<T, V: CaptureAs<T>>(value: V) -> T {
    value.capture_as()
}

/// A range source's start and length (`acc.query(a..b)`: the elements are the `u64`s
/// `a, a + 1, .., b - 1`; a reversed range has none; a negative bound is an error).
#[doc(hidden)]
pub fn range<R: RangeSource>(r: R) -> Result<(u64, usize), Error> {
    r.start_and_len()
}

/// Ranges a query can start from: `Range` of `u64`, `usize`, `u32`, `i64` or `i32` (plain
/// integer literals are `i32`).
pub trait RangeSource {
    /// The first index and the number of indices.
    fn start_and_len(self) -> Result<(u64, usize), Error>;
}

macro_rules! range_source {
    ($($t:ty),*) => {$(
        impl RangeSource for std::ops::Range<$t> {
            fn start_and_len(self) -> Result<(u64, usize), Error> {
                let (Some(start), Some(end)) =
                    (u64::try_from(self.start).ok(), u64::try_from(self.end).ok())
                else {
                    return Err(Error::InvalidArgument {
                        operation: "query range".into(),
                        reason: format!(
                            "{}..{}: the indices of a query are not negative",
                            self.start, self.end
                        ),
                    });
                };
                let len = usize::try_from(end.saturating_sub(start)).map_err(|_| {
                    Error::InvalidArgument {
                        operation: "query range".into(),
                        reason: format!("{start}..{end} holds more indices than usize"),
                    }
                })?;
                Ok((start, len))
            }
        }
    )*};
}

range_source!(u64, usize, u32, i64, i32);

/// `collect()` of a chain without operators: a copy of the buffer on `acc`.
#[doc(hidden)]
pub fn copy<T: bytemuck::Pod>(
    acc: &Accelerator,
    x: &UnifiedBuffer<T>,
) -> Result<UnifiedBuffer<T>, Error> {
    let mut out = acc.buffer_zeroed::<T>(x.len())?;
    out.copy_from_slice(&x.read()?)?;
    Ok(out)
}
