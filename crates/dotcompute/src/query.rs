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
//! let mean = query!(acc.query(&xs).skip(1).average())?;
//! assert_eq!(mean, Some((1.5 - 2.0 + 3.0) / 3.0));
//! let largest = query!(acc.query(&xs).reduce(|| 0.0f32, |a: f32, b| a.abs().max(b.abs())))?;
//! assert_eq!(largest, 3.0);
//! assert_eq!(query!(acc.query(&xs).position(|x: f32| x < 0.0))?, Some(2));
//! assert_eq!(query!(acc.query(&xs).min_by_key(|x: f32| (x - 1.0).abs()))?, Some(0.5));
//! let by_size = query!(acc.query(&xs).sort_by_key(|x: f32| x.abs()))?;
//! assert_eq!(by_size.to_vec()?, [0.5, 1.5, -2.0, 3.0]);
//! let running = query!(acc.query(&xs).map(|x: f32| x * 2.0).scan())?;
//! assert_eq!(running.to_vec()?, [1.0, 4.0, 0.0, 6.0]);
//! let ids = dc.buffer_from_slice(&[2u32, 7, 2])?;
//! let names = dc.buffer_from_slice(&[7u32, 2, 9])?;
//! let pairs = query!(acc.query(&ids).join(&names, |i: u32| i, |n: u32| n))?;
//! assert_eq!(pairs.left.to_vec()?, [0, 1, 2]);
//! assert_eq!(pairs.right.to_vec()?, [1, 0, 1]);
//! let per_sign = query!(acc.query(&xs).group_by_key(|x: f32| (x > 0.0) as u32).sum())?;
//! assert_eq!(per_sign.keys.to_vec()?, [0, 1]);
//! assert_eq!(per_sign.values.to_vec()?, [-2.0, 5.0]);
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
//! | `skip(k)`, `take(k)` (`usize`) | without the first `k` values / at most the first `k`; counts past the end leave what there is; positions from `enumerate` stay the source's; after a `filter`, they count the values it kept: the chain up to there is collected (a stage boundary: its values are written to a buffer) and the rest runs over them | `Skip`, `Take` |
//! | `average()` (float values) | the sum over the count (`Result<Option<T>, Error>`, `None` when no value reaches the end; map integers to a float first) | `Average` |
//! | `reduce(\|\| identity, \|a, b\| ..)` | the values combined by an associative and commutative combiner (the identity for none); in `sum`'s order, so deterministic; unlike rayon's, the order of the values is not kept (see [`define_reduction!`](crate::define_reduction)) | `Aggregate` |
//! | `position(p)` | how many values come before the first that satisfies `p` (`Result<Option<usize>, Error>`), as `Iterator::position` | `FindIndex` (on lists) |
//! | `min_by_key(k)`, `max_by_key(k)` | the first value with the least key / the last with the greatest (as Rust's), `Result<Option<T>, Error>`; keys compare as `min`/`max` do (a NaN key is never chosen: `None` when every key is NaN) | `MinBy`, `MaxBy` |
//! | `sort()` | the values, ascending, in a new buffer (floats in `total_cmp` order) | `Order` |
//! | `sort_by_key(k)` | the values ordered by their keys, stable: equal keys keep the values' order | `OrderBy` |
//! | `distinct()` (`distinct::<T>()` on a buffer without closures, which name no type) | the distinct values, ascending, in a new buffer (values are equal when their bits are) | `Distinct` (which keeps first-seen order; ours is sorted) |
//! | `scan()`, `exclusive_scan()` | the running sums of the values (each value's sum with those before it; without it for `exclusive_scan`), in a new buffer as long as the values, with [`algorithms::inclusive_scan`](crate::algorithms::inclusive_scan)'s bits; integers wrap | none (MoreLINQ's `Scan`, `PreScan`) |
//! | `scan(\|\| identity, \|a, b\| ..)`, `exclusive_scan(..)` | the same with an associative combiner (not necessarily commutative: the values keep their order), starting from the identity | none |
//! | `join(&right, \|l\| key, \|r\| key)` | the pairs of positions `(i, j)` (in the left sources and in `right`) whose keys are equal, for the elements the chain keeps (keys of one type, equal when their bits are), ordered by `i` then `j`: a [`Joined`] of two `u64` buffers; gather the values with a kernel or a query over the positions | `Join` (an inner equi-join; LINQ's result selector is that later step) |
//! | `group_by_key(k)` then `count()`, `sum()`, `min()` or `max()` | per distinct key (ascending, as `sort`; keys are equal when their bits are), the group's count (`u64`) or its values folded in their input order: a [`Groups`] of two buffers | `GroupBy(k).Select(g => g.Count())` |
//!
//! Not yet: `join` after `take`/`skip` that follow a filter (a compile error), `average` of
//! groups;
//! `SelectMany` has no counterpart (a kernel writes a fixed number of values per element).
//!
//! # How it runs
//!
//! The whole chain and its terminal become one kernel (`sum`, `count`: plus the library's
//! fixed passes over the chunk values; `min`, `max` after a filter: a counting kernel too; `collect` with a `filter`: a counting kernel and a
//! writing kernel around an exclusive scan, as [`define_compaction!`](crate::define_compaction)
//! does, so the order is the input's, each running the chain; `collect` without one: a
//! kernel writing each element's value). No intermediate buffer is written. The kernels are
//! ordinary `#[kernel]`s: native code on the CPU, WGSL, CUDA C++ elsewhere, compiled once
//! per accelerator and kept under the kernel's hash, so running a query again compiles
//! nothing. The other terminals: `average` is `sum`'s kernel (and a counting kernel after a
//! filter); `reduce` a kernel like `sum`'s with the combiner, then one kernel over the
//! chunk values, pass after pass; `position` a kernel finding the least index that matches
//! (and a count of the values before it after a filter); `min_by_key`/`max_by_key` three:
//! the extreme key, the first (last) element with it, its value; `sort` and `sort_by_key`
//! collect the values as `collect` does, then [`algorithms::sort`](crate::algorithms::sort)
//! or a key kernel and [`algorithms::sort_pairs`](crate::algorithms::sort_pairs);
//! `group_by_key` sorts likewise, finds where each group starts (an order-preserving
//! compaction, two kernels) and folds each group with one work item (`count` sorts the keys
//! alone, and counts integer keys that span at most 4,096 values with
//! [`algorithms::histogram`](crate::algorithms::histogram) instead of sorting); `distinct`
//! is the keys of `group_by_key(|v| v).count()`; `scan` runs the chain in both passes of
//! the library's scan (chunk totals, then each value's prefix from its chunk's carry, the
//! carries being the scan of the chunk totals), or after a filter scans the collected values
//! (running sums on the CPU: the values by `query_map`, then the library's host scan, which
//! is faster there than the cooperative passes);
//! `join` computes each side's keys (a kernel each; after operators, the kept elements'
//! positions are collected first and the left keys computed at them), sorts the right keys' positions
//! ([`algorithms::argsort`](crate::algorithms::argsort), stable), finds each left key's
//! equals by two binary searches (`join_count_*`), scans the match counts into offsets and
//! writes the pairs (`join_write_*`). Every launch shows in
//! [`ComputeService::statistics`](crate::ComputeService::statistics).
//!
//! A query runs on the accelerator it is given, or with `dc.auto().query(..)` on the one
//! a cost model picks for it from measured figures and where its inputs are (see
//! [`placement`](crate::placement); each stage of a split chain is placed on its own).
//!
//! A `take` or `skip` after a filter ends a stage: the chain up to there runs as
//! `collect()` (its kept values written to a buffer, in order), and the rest of the chain
//! runs over that buffer as above. A filter's `take` does not stop early: every element
//! runs through the first stage.
//!
//! `sum` follows [`algorithms::sum`](crate::algorithms::sum)'s order: element `i`'s value
//! takes the place of `x[i]`, and an element a filter removes counts as the identity, so the
//! bits are the same on every accelerator, thread count and run.
//!
//! A fault inside a closure (a division by zero, `MIN / -1`, `clamp` with bad bounds) is
//! reported by the query as an [`Error::QueryFault`] naming the operator as written, the first
//! element at which it faults and the stage, around the launch's own
//! [`Error::KernelFault`] (which names the query's kernel: `query_sum`, `query_map`, ...):
//!
//! ```
//! # use dotcompute::prelude::*;
//! # use dotcompute::query;
//! # fn main() -> Result<(), dotcompute::Error> {
//! # let dc = ComputeService::new()?;
//! # let acc = dc.best_accelerator()?;
//! let d = dc.buffer_from_slice(&[4u32, 2, 0, 1])?;
//! let err = query!(acc.query(&d).map(|v: u32| 8 / v).sum()).unwrap_err();
//! assert!(err.to_string().starts_with("query operator `map(|v: u32| 8 / v)` faulted at element 2:"));
//! assert_eq!(err.fault(), Some(&dotcompute::KernelFault::DivisionByZero));
//! # Ok(())
//! # }
//! ```
//!
//! After a fault, and only then, the query runs a locate kernel (`query_locate`, one work
//! item per element running the chain and marking each closure before it runs, over
//! windows of a million elements) to find the element; the first faulting element is
//! reported, with its own fault, the same on every accelerator. Elements count in the
//! sources (after `skip`, still their positions there), or, in a stage after a
//! `take`/`skip` that follows a filter, among the values that stage receives. A fault in a
//! `reduce` or `scan` combiner, which combines values rather than elements, in a `join`'s
//! right key, and in either key of a `join` right after `query(&buffer)` (whose keys run in
//! kernels of their own), comes as the launch's [`Error::KernelFault`].
//!
//! So that the query reports it, a query with operators or a key closure returns once the
//! buffers of its result are written: on accelerators that run launches asynchronously
//! (wgpu, CUDA), `collect`, `sort`, `sort_by_key`, `distinct`, `group_by_key`, `scan` and
//! `join` after operators wait for their last launch (a round trip to the device), where a
//! kernel launch would return at once.
//! Every element runs through the chain: `any`, `all` and `position` do not stop at the
//! first match, so a closure that faults on a later element fails the query where Rust's
//! iterator would have stopped.

mod join_kernels;

use crate::algorithms::Reducible;
use crate::algorithms::reduce::{CHUNK, GROUP};
use crate::algorithms::sort::{SortKey, SortValue};
use crate::{Accelerator, Error, Grid, UnifiedBuffer};

/// The grid of the fused kernels: one group of [`GROUP`] items per chunk of [`CHUNK`].
fn chunk_grid(n: usize) -> (usize, Grid) {
    let groups = n.div_ceil(CHUNK);
    let grid = Grid::d1(groups as u64 * u64::from(GROUP)).with_group_size([GROUP, 1, 1]);
    (groups, grid)
}

/// The length of the zipped sources: they must agree ([`Error::InvalidArgument`] naming
/// them otherwise).
#[doc(hidden)]
pub fn zip_len(lens: &[usize]) -> Result<usize, Error> {
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

/// How many elements one locate pass covers at most (its marks: 4 MiB).
const LOCATE_WINDOW: usize = 1 << 20;

/// Names the operator and element of a fault in a query's closure. After a launch of the
/// query failed with a fault, `locate(base, len, marks)` runs the stage's locate kernel over
/// elements `base..base + len`, one item each: before each closure it writes the closure's
/// number (from 1, as `operators` lists them) to the item's mark, and 0 once the element's
/// chain is done, so an element whose closure faulted keeps that closure's number. Windows
/// of [`LOCATE_WINDOW`] elements are tried in order; in the first that faults, an
/// accelerator may have stopped early, so the pass runs again over the elements before the
/// first marked one until none of them faults, and once more up to that element alone for
/// its own fault. The element reported (at position `first +` its index) is thus the first
/// that faults, with its fault, on every accelerator. The locate passes' faults are
/// acknowledged (the accelerator's `synchronize()` does not return them). Any other error,
/// or locate passes that do not fault (a fault in a combiner, which no element owns),
/// return `error` as it is. (Called by `query!`'s expansion, on the error path only.)
#[doc(hidden)]
pub fn locate_fault(
    acc: &Accelerator,
    error: Error,
    (n, first, stage): (usize, u64, u32),
    operators: &[&str],
    mut locate: impl FnMut(u64, u64, &mut UnifiedBuffer<u32>) -> Result<(), Error>,
) -> Error {
    if error.fault().is_none() || n == 0 || matches!(error, Error::QueryFault { .. }) {
        return error;
    }
    let Ok(mut marks) = acc.buffer_zeroed::<u32>(n.min(LOCATE_WINDOW)) else {
        return error;
    };
    // One pass over `base..base + len`: its fault, and the first marked item with its mark.
    // Every mark is 0 before a pass: clean passes reset each item's, and only items before
    // the first marked one run again after a faulting pass.
    let mut pass = |base: usize, len: usize| -> Option<(Error, Option<(usize, u32)>)> {
        // Asynchronous accelerators report the fault once the pass has run.
        let fault = match locate(base as u64, len as u64, &mut marks).and_then(|()| marks.wait()) {
            Err(e) if e.fault().is_some() => e,
            _ => return None,
        };
        marks.acknowledge_fault();
        let marked = marks.read_after_fault().ok().and_then(|(read, _)| {
            let found = read[..len].iter().position(|&m| m != 0)?;
            Some((found, read[found]))
        });
        Some((fault, marked))
    };
    let mut base = 0;
    let found = loop {
        if base >= n {
            break None;
        }
        let len = (n - base).min(LOCATE_WINDOW);
        match pass(base, len) {
            None => base += len,
            Some((_, None)) => break None,
            Some((_, Some(mut at))) => {
                // Shrink to the first faulting element, then take its own fault.
                while at.0 > 0 {
                    match pass(base, at.0) {
                        Some((_, Some(earlier))) => at = earlier,
                        _ => break,
                    }
                }
                break pass(base, at.0 + 1).map(|(own, _)| (base + at.0, at.1, own));
            }
        }
    };
    let Some((i, mark, own)) = found else {
        return error;
    };
    let Some(operator) = (mark as usize)
        .checked_sub(1)
        .and_then(|k| operators.get(k))
    else {
        return error;
    };
    let element = first + i as u64;
    tracing::debug!(operator, element, "located a query fault");
    // The launch's own error when the element's fault is the one it reported; otherwise the
    // element's (from the locate kernel): another element faulted differently first there.
    let launch = if own.fault() == error.fault() {
        error
    } else {
        own
    };
    Error::QueryFault {
        operator: (*operator).to_string(),
        element,
        stage,
        launch: Box::new(launch),
    }
}

/// A query's result whose buffers a query waits for before it returns (so that a fault in
/// a closure is the query's error, located, on accelerators that run launches
/// asynchronously too).
#[doc(hidden)]
pub trait Settle {
    /// Waits for the launches that wrote the result.
    fn settle(&self) -> Result<(), Error>;
}

impl<T: bytemuck::Pod> Settle for UnifiedBuffer<T> {
    fn settle(&self) -> Result<(), Error> {
        self.wait()
    }
}

impl<K: bytemuck::Pod, A: bytemuck::Pod> Settle for Groups<K, A> {
    fn settle(&self) -> Result<(), Error> {
        self.keys.wait()?;
        self.values.wait()
    }
}

impl Settle for Joined {
    fn settle(&self) -> Result<(), Error> {
        self.left.wait()?;
        self.right.wait()
    }
}

/// `result`, once its buffers are written (see [`Settle`]).
#[doc(hidden)]
pub fn settled<R: Settle>(result: R) -> Result<R, Error> {
    result.settle()?;
    Ok(result)
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

/// The elements that `take` and `skip` leave of a query's sources: `len()` consecutive
/// elements from `first()`. Like Rust's `Iterator::take` and `skip`, counts past the end
/// leave what there is. (Built by `query!`'s expansion.)
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    first: usize,
    len: usize,
}

impl Window {
    /// All `len` elements.
    pub fn new(len: usize) -> Window {
        Window { first: 0, len }
    }

    /// Without the first `k` elements.
    #[must_use]
    pub fn skip(self, k: usize) -> Window {
        let k = k.min(self.len);
        Window {
            first: self.first + k,
            len: self.len - k,
        }
    }

    /// At most the first `k` elements.
    #[must_use]
    pub fn take(self, k: usize) -> Window {
        Window {
            first: self.first,
            len: self.len.min(k),
        }
    }

    /// The first element's index in the sources (the kernels' `__dc_first`).
    pub fn first(&self) -> u64 {
        self.first as u64 // usize is at most 64 bits on every target the library builds for
    }

    /// How many elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no element is left.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The window of `x` as a new buffer (a chain without closures cut by `take`/`skip`).
#[doc(hidden)]
pub fn window_copy<T: bytemuck::Pod>(
    acc: &Accelerator,
    x: &UnifiedBuffer<T>,
    window: Window,
) -> Result<UnifiedBuffer<T>, Error> {
    let mut out = acc.buffer_zeroed::<T>(window.len)?;
    if !window.is_empty() {
        out.copy_from_slice(&x.read()?[window.first..window.first + window.len])?;
    }
    Ok(out)
}

/// Float types whose values a query can average.
#[diagnostic::on_unimplemented(
    message = "`average` needs float values, not `{Self}`",
    label = "map the values to a float first: `.map(|v: {Self}| v as f64)`"
)]
pub trait Mean: Reducible {
    /// `sum / count`.
    fn mean(sum: Self, count: usize) -> Self;
}

impl Mean for f32 {
    fn mean(sum: f32, count: usize) -> f32 {
        sum / count as f32 // the nearest f32 to the count: as the sum, a rounded value
    }
}

impl Mean for f64 {
    fn mean(sum: f64, count: usize) -> f64 {
        sum / count as f64 // exact below 2^53 values
    }
}

/// `average()`: `None` when no value reaches the end, else the deterministic sum divided by
/// the count.
#[doc(hidden)]
pub fn average<U: Mean, C>(
    acc: &Accelerator,
    lens: &[usize],
    count_pass: Option<C>,
    sum_pass: impl FnOnce(Grid, u64, &mut UnifiedBuffer<U>) -> Result<(), Error>,
) -> Result<Option<U>, Error>
where
    C: FnOnce(Grid, u64, &mut UnifiedBuffer<u64>) -> Result<(), Error>,
{
    let n = zip_len(lens)?;
    let kept = match count_pass {
        Some(pass) => count(acc, lens, pass)?,
        None => n,
    };
    if kept == 0 {
        return Ok(None);
    }
    Ok(Some(U::mean(sum(acc, lens, sum_pass)?, kept)))
}

/// `average()` of a chain without operators.
#[doc(hidden)]
pub fn average_of<T: Mean>(acc: &Accelerator, x: &UnifiedBuffer<T>) -> Result<Option<T>, Error> {
    if x.is_empty() {
        return Ok(None);
    }
    Ok(Some(T::mean(crate::algorithms::sum(acc, x)?, x.len())))
}

/// `reduce(identity, combine)`: the fused first pass combines each chunk's values, then
/// `chunks(grid, n, values, out)` combines the chunk values in the library's order, pass
/// after pass; the identity for no elements.
#[doc(hidden)]
pub fn reduce<U: bytemuck::Pod>(
    acc: &Accelerator,
    lens: &[usize],
    identity: U,
    first_pass: impl FnOnce(Grid, u64, U, &mut UnifiedBuffer<U>) -> Result<(), Error>,
    mut chunks: impl FnMut(Grid, u64, &UnifiedBuffer<U>, &mut UnifiedBuffer<U>) -> Result<(), Error>,
) -> Result<U, Error> {
    let n = zip_len(lens)?;
    if n == 0 {
        return Ok(identity);
    }
    let (groups, grid) = chunk_grid(n);
    let mut out = acc.buffer_zeroed::<U>(groups)?;
    first_pass(grid, n as u64, identity, &mut out)?;
    if groups == 1 {
        return Ok(out.read()?.first().copied().unwrap_or(identity));
    }
    crate::algorithms::reduce::reduce_by(acc, &out, identity, |grid, n, x, out| {
        chunks(grid, n, x, out)
    })
}

/// `position(p)`: the least index whose element reaches the end and satisfies `p` (`find`
/// writes each chunk's, `u64::MAX` for none); with filters in the chain, the values before
/// it are counted (`count_pass` over the elements before that index).
#[doc(hidden)]
pub fn position<C>(
    acc: &Accelerator,
    lens: &[usize],
    count_pass: Option<C>,
    find: impl FnOnce(Grid, u64, &mut UnifiedBuffer<u64>) -> Result<(), Error>,
) -> Result<Option<usize>, Error>
where
    C: FnOnce(Grid, u64, &mut UnifiedBuffer<u64>) -> Result<(), Error>,
{
    let n = zip_len(lens)?;
    if n == 0 {
        return Ok(None);
    }
    let found = first_pass_min(acc, n, find)?;
    if found == u64::MAX {
        return Ok(None);
    }
    // found < n, which is a usize.
    let found = found as usize;
    match count_pass {
        Some(pass) => count(acc, &[found], pass).map(Some),
        None => Ok(Some(found)),
    }
}

/// The least of the chunk values that `pass` writes over `n` elements.
fn first_pass_min(
    acc: &Accelerator,
    n: usize,
    pass: impl FnOnce(Grid, u64, &mut UnifiedBuffer<u64>) -> Result<(), Error>,
) -> Result<u64, Error> {
    let (groups, grid) = chunk_grid(n);
    let mut out = acc.buffer_zeroed::<u64>(groups)?;
    pass(grid, n as u64, &mut out)?;
    crate::algorithms::min(acc, &out)
}

/// `min_by_key(k)` / `max_by_key(k)` (`max`): the least (greatest) key by `extreme`'s
/// chunk values (NaN keys ignored, as `algorithms::min`), then the first element with that
/// key (the last, for `max`, as Rust's `max_by_key`) by `find` (each chunk's least index, or
/// greatest index plus one), then that element's value by `value_at(index, out)`.
#[doc(hidden)]
pub fn extreme_by_key<K: Reducible, U: bytemuck::Pod + Default>(
    acc: &Accelerator,
    lens: &[usize],
    max: bool,
    extreme: impl FnOnce(Grid, u64, &mut UnifiedBuffer<K>) -> Result<(), Error>,
    find: impl FnOnce(Grid, u64, K, &mut UnifiedBuffer<u64>) -> Result<(), Error>,
    value_at: impl FnOnce(u64, &mut UnifiedBuffer<U>) -> Result<(), Error>,
) -> Result<Option<U>, Error> {
    let n = zip_len(lens)?;
    if n == 0 {
        return Ok(None);
    }
    let (groups, grid) = chunk_grid(n);
    let mut keys = acc.buffer_zeroed::<K>(groups)?;
    extreme(grid, n as u64, &mut keys)?;
    let target = if max {
        crate::algorithms::max(acc, &keys)?
    } else {
        crate::algorithms::min(acc, &keys)?
    };
    let mut found = acc.buffer_zeroed::<u64>(groups)?;
    find(grid, n as u64, target, &mut found)?;
    // No element has the key when none reaches the end, or when every key is NaN.
    let index = if max {
        match crate::algorithms::max(acc, &found)? {
            0 => return Ok(None),
            after => after - 1,
        }
    } else {
        match crate::algorithms::min(acc, &found)? {
            u64::MAX => return Ok(None),
            index => index,
        }
    };
    let mut out = acc.buffer_zeroed::<U>(1)?;
    value_at(index, &mut out)?;
    Ok(Some(out.read()?.first().copied().unwrap_or_default()))
}

/// `sort()`: the collected values, sorted by `algorithms::sort` (floats in `total_cmp`
/// order).
#[doc(hidden)]
pub fn sort<U: SortKey>(
    acc: &Accelerator,
    collected: Result<UnifiedBuffer<U>, Error>,
) -> Result<UnifiedBuffer<U>, Error> {
    let mut values = collected?;
    crate::algorithms::sort(acc, &mut values)?;
    Ok(values)
}

/// `sort()` of a chain without operators: a sorted copy.
#[doc(hidden)]
pub fn sorted_copy<T: SortKey>(
    acc: &Accelerator,
    x: &UnifiedBuffer<T>,
) -> Result<UnifiedBuffer<T>, Error> {
    sort(acc, copy(acc, x))
}

/// `scan()` of values that are a buffer's elements (a chain without operators, the values a
/// filter kept, the chunk totals of a fused scan): the library's running sums into a new
/// buffer, inclusive or `exclusive`.
#[doc(hidden)]
pub fn scanned_copy<T: Reducible>(
    acc: &Accelerator,
    x: &UnifiedBuffer<T>,
    exclusive: bool,
) -> Result<UnifiedBuffer<T>, Error> {
    let mut out = acc.buffer_zeroed::<T>(x.len())?;
    if exclusive {
        crate::algorithms::exclusive_scan(acc, x, &mut out)?;
    } else {
        crate::algorithms::inclusive_scan(acc, x, &mut out)?;
    }
    Ok(out)
}

/// `scan()` of a chain without filters: on the CPU, `values()` (the chain's values, by
/// `query_map`) then the library's host scan (the same bits, in one sweep); elsewhere
/// `fused()` (the chain inside both passes of the scan).
#[doc(hidden)]
pub fn running_sums<T: Reducible>(
    acc: &Accelerator,
    exclusive: bool,
    values: impl FnOnce() -> Result<UnifiedBuffer<T>, Error>,
    fused: impl FnOnce() -> Result<UnifiedBuffer<T>, Error>,
) -> Result<UnifiedBuffer<T>, Error> {
    if acc.id().backend == crate::BackendKind::Cpu {
        return scanned_copy(acc, &values()?, exclusive);
    }
    fused()
}

/// `scan(|| identity, combine)` of a buffer's elements into a new buffer: the library's
/// order with the query's two kernels of the combiner (`totals(grid, n, x, out)`,
/// `write(grid, n, exclusive, x, carries, out)`).
#[doc(hidden)]
pub fn scan_values<U: bytemuck::Pod>(
    acc: &Accelerator,
    x: &UnifiedBuffer<U>,
    exclusive: bool,
    identity: U,
    mut totals: impl FnMut(Grid, u64, &UnifiedBuffer<U>, &mut UnifiedBuffer<U>) -> Result<(), Error>,
    mut write: impl FnMut(
        Grid,
        u64,
        bool,
        &UnifiedBuffer<U>,
        &UnifiedBuffer<U>,
        &mut UnifiedBuffer<U>,
    ) -> Result<(), Error>,
) -> Result<UnifiedBuffer<U>, Error> {
    let mut out = acc.buffer_zeroed::<U>(x.len())?;
    crate::algorithms::scan::scan_by(
        acc,
        x,
        &mut out,
        exclusive,
        "query scan",
        identity,
        &mut totals,
        &mut write,
    )?;
    Ok(out)
}

/// `scan()` of a chain without filters, fused: `totals(grid, n, out)` writes each chunk's
/// total of the chain's values, `carries(totals)` scans them (exclusive), and
/// `write(grid, n, carries, out)` writes every value's prefix, all in the library's order.
#[doc(hidden)]
pub fn scan<U: bytemuck::Pod>(
    acc: &Accelerator,
    lens: &[usize],
    identity: U,
    totals: impl FnOnce(Grid, u64, &mut UnifiedBuffer<U>) -> Result<(), Error>,
    carries: impl FnOnce(&UnifiedBuffer<U>) -> Result<UnifiedBuffer<U>, Error>,
    write: impl FnOnce(Grid, u64, &UnifiedBuffer<U>, &mut UnifiedBuffer<U>) -> Result<(), Error>,
) -> Result<UnifiedBuffer<U>, Error> {
    let n = zip_len(lens)?;
    if n == 0 {
        return acc.buffer_zeroed(0);
    }
    let (groups, grid) = chunk_grid(n);
    let chunk_carries = if groups == 1 {
        let mut carry = acc.buffer_zeroed::<U>(1)?;
        carry.copy_from_slice(&[identity])?;
        carry
    } else {
        let mut chunk_totals = acc.buffer_zeroed::<U>(groups)?;
        totals(grid, n as u64, &mut chunk_totals)?;
        carries(&chunk_totals)?
    };
    let mut out = acc.buffer_zeroed::<U>(n)?;
    write(grid, n as u64, &chunk_carries, &mut out)?;
    Ok(out)
}

/// `sort_by_key(k)`: `keys(n, values, out)` computes the collected values' keys, then
/// `algorithms::sort_pairs` orders the values by them (stable: equal keys keep the values'
/// order).
#[doc(hidden)]
pub fn sort_by_key<U: SortValue, K: SortKey>(
    acc: &Accelerator,
    collected: Result<UnifiedBuffer<U>, Error>,
    keys: impl FnOnce(usize, &UnifiedBuffer<U>, &mut UnifiedBuffer<K>) -> Result<(), Error>,
) -> Result<UnifiedBuffer<U>, Error> {
    let mut values = collected?;
    let mut sort_keys = acc.buffer_zeroed::<K>(values.len())?;
    if !values.is_empty() {
        keys(values.len(), &values, &mut sort_keys)?;
    }
    crate::algorithms::sort_pairs(acc, &mut sort_keys, &mut values)?;
    Ok(values)
}

/// What `group_by_key(k).count()` (`sum`, `min`, `max`) returns: one entry per distinct
/// key, the keys ascending (in [`algorithms::sort`](crate::algorithms::sort)'s order; keys
/// are the same when their bits are, so `0.0` and `-0.0` are two groups), each with its
/// group's aggregate.
#[derive(Debug)]
pub struct Groups<K: bytemuck::Pod, A: bytemuck::Pod> {
    /// The distinct keys, ascending.
    pub keys: UnifiedBuffer<K>,
    /// `values[g]`: the aggregate of the values whose key is `keys[g]` (a count as `u64`).
    pub values: UnifiedBuffer<A>,
}

/// `group_by_key(k)` then an aggregate: the collected values' keys (`keys(n, values,
/// out)`), both sorted by key ([`algorithms::sort_pairs`](crate::algorithms::sort_pairs),
/// stable), where each group starts (`count` and `write`: an order-preserving compaction of
/// the positions whose key differs from the one before), then `fold(groups, n, starts,
/// keys, values, out_keys, out)` with one item per group, folding its values in their
/// order.
#[doc(hidden)]
#[allow(clippy::type_complexity)]
pub fn group_by_key<U: SortValue, K: SortKey, A: bytemuck::Pod>(
    acc: &Accelerator,
    collected: Result<UnifiedBuffer<U>, Error>,
    keys: impl FnOnce(usize, &UnifiedBuffer<U>, &mut UnifiedBuffer<K>) -> Result<(), Error>,
    count: impl FnOnce(Grid, u64, &UnifiedBuffer<K>, &mut UnifiedBuffer<u64>) -> Result<(), Error>,
    write: impl FnOnce(
        Grid,
        u64,
        &UnifiedBuffer<K>,
        &UnifiedBuffer<u64>,
        &mut UnifiedBuffer<u64>,
    ) -> Result<(), Error>,
    fold: impl FnOnce(
        usize,
        u64,
        &UnifiedBuffer<u64>,
        &UnifiedBuffer<K>,
        &UnifiedBuffer<U>,
        &mut UnifiedBuffer<K>,
        &mut UnifiedBuffer<A>,
    ) -> Result<(), Error>,
) -> Result<Groups<K, A>, Error> {
    let mut values = collected?;
    let n = values.len();
    let mut sort_keys = acc.buffer_zeroed::<K>(n)?;
    if n > 0 {
        keys(n, &values, &mut sort_keys)?;
    }
    crate::algorithms::sort_pairs(acc, &mut sort_keys, &mut values)?;
    fold_groups(acc, &sort_keys, &values, count, write, fold)
}

/// `group_by_key(k).count()`: the keys alone (`collected_keys`), sorted by
/// [`algorithms::sort`](crate::algorithms::sort), then as [`group_by_key`] (the fold counts
/// each group's keys).
#[doc(hidden)]
#[allow(clippy::type_complexity)]
pub fn group_count<K: GroupKey>(
    acc: &Accelerator,
    collected_keys: Result<UnifiedBuffer<K>, Error>,
    count: impl FnOnce(Grid, u64, &UnifiedBuffer<K>, &mut UnifiedBuffer<u64>) -> Result<(), Error>,
    write: impl FnOnce(
        Grid,
        u64,
        &UnifiedBuffer<K>,
        &UnifiedBuffer<u64>,
        &mut UnifiedBuffer<u64>,
    ) -> Result<(), Error>,
    fold: impl FnOnce(
        usize,
        u64,
        &UnifiedBuffer<u64>,
        &UnifiedBuffer<K>,
        &UnifiedBuffer<K>,
        &mut UnifiedBuffer<K>,
        &mut UnifiedBuffer<u64>,
    ) -> Result<(), Error>,
) -> Result<Groups<K, u64>, Error> {
    let mut keys = collected_keys?;
    if let Some(groups) = K::dense_counts(acc, &keys) {
        return groups;
    }
    crate::algorithms::sort(acc, &mut keys)?;
    fold_groups(acc, &keys, &keys, count, write, fold)
}

/// Key types of `group_by_key`: `f32 f64 i32 u32 i64 u64`.
#[doc(hidden)]
pub trait GroupKey: SortKey + SortValue + Reducible {
    /// The counts of `keys`' distinct values by a histogram with one bin per value, when
    /// they are integers spanning at most [`algorithms::histogram`](crate::algorithms::histogram)'s
    /// 4,096 bins (the few bins then become the groups on the host); `None` otherwise, and
    /// for floats.
    fn dense_counts(
        acc: &Accelerator,
        keys: &UnifiedBuffer<Self>,
    ) -> Option<Result<Groups<Self, u64>, Error>>;
}

impl GroupKey for f32 {
    fn dense_counts(
        _: &Accelerator,
        _: &UnifiedBuffer<f32>,
    ) -> Option<Result<Groups<f32, u64>, Error>> {
        None
    }
}

impl GroupKey for f64 {
    fn dense_counts(
        _: &Accelerator,
        _: &UnifiedBuffer<f64>,
    ) -> Option<Result<Groups<f64, u64>, Error>> {
        None
    }
}

macro_rules! integer_group_key {
    ($($t:ty),*) => {$(
        impl GroupKey for $t {
            fn dense_counts(
                acc: &Accelerator,
                keys: &UnifiedBuffer<$t>,
            ) -> Option<Result<Groups<$t, u64>, Error>> {
                // The histogram counts at most u32::MAX elements.
                if keys.is_empty() || keys.len() as u64 > u64::from(u32::MAX) {
                    return None;
                }
                let dense = || -> Result<Option<Groups<$t, u64>>, Error> {
                    let lo = crate::algorithms::min(acc, keys)?;
                    let hi = crate::algorithms::max(acc, keys)?;
                    let span = i128::from(hi) - i128::from(lo) + 1;
                    let Some(end) = hi.checked_add(1) else {
                        return Ok(None);
                    };
                    if span > DENSE_BINS as i128 {
                        return Ok(None);
                    }
                    // span <= DENSE_BINS: one bin of width 1 per value from lo.
                    let counts = crate::algorithms::histogram(acc, keys, span as usize, lo, end)?;
                    let (mut kept_keys, mut kept_counts) = (Vec::new(), Vec::new());
                    for (i, &c) in counts.read()?.iter().enumerate() {
                        if c > 0 {
                            kept_keys.push(lo + i as $t); // lo + i <= hi
                            kept_counts.push(u64::from(c));
                        }
                    }
                    let mut out_keys = acc.buffer_zeroed::<$t>(kept_keys.len())?;
                    out_keys.copy_from_slice(&kept_keys)?;
                    let mut values = acc.buffer_zeroed::<u64>(kept_counts.len())?;
                    values.copy_from_slice(&kept_counts)?;
                    Ok(Some(Groups { keys: out_keys, values }))
                };
                dense().transpose()
            }
        }
    )*};
}

integer_group_key!(i32, u32, i64, u64);

/// The most distinct integer values `group_by_key(k).count()` counts by a histogram.
const DENSE_BINS: usize = 4096;

/// The groups of `values` sorted by `sort_keys`: where each starts, then each folded.
#[allow(clippy::type_complexity)]
fn fold_groups<U: bytemuck::Pod, K: bytemuck::Pod, A: bytemuck::Pod>(
    acc: &Accelerator,
    sort_keys: &UnifiedBuffer<K>,
    values: &UnifiedBuffer<U>,
    count: impl FnOnce(Grid, u64, &UnifiedBuffer<K>, &mut UnifiedBuffer<u64>) -> Result<(), Error>,
    write: impl FnOnce(
        Grid,
        u64,
        &UnifiedBuffer<K>,
        &UnifiedBuffer<u64>,
        &mut UnifiedBuffer<u64>,
    ) -> Result<(), Error>,
    fold: impl FnOnce(
        usize,
        u64,
        &UnifiedBuffer<u64>,
        &UnifiedBuffer<K>,
        &UnifiedBuffer<U>,
        &mut UnifiedBuffer<K>,
        &mut UnifiedBuffer<A>,
    ) -> Result<(), Error>,
) -> Result<Groups<K, A>, Error> {
    let n = values.len();
    let starts = collect(
        acc,
        &[n],
        |grid, n, counts| count(grid, n, sort_keys, counts),
        |grid, n, offsets, out| write(grid, n, sort_keys, offsets, out),
    )?;
    let groups = starts.len();
    let mut out_keys = acc.buffer_zeroed::<K>(groups)?;
    let mut out = acc.buffer_zeroed::<A>(groups)?;
    if groups > 0 {
        fold(
            groups,
            n as u64,
            &starts,
            sort_keys,
            values,
            &mut out_keys,
            &mut out,
        )?;
    }
    Ok(Groups {
        keys: out_keys,
        values: out,
    })
}

/// The result of `join`: the pairs of positions `(left[p], right[p])` whose keys are equal,
/// ordered by the left position, then the right.
#[derive(Debug)]
pub struct Joined {
    /// The left buffer's positions, one per pair.
    pub left: UnifiedBuffer<u64>,
    /// The right buffer's positions, one per pair.
    pub right: UnifiedBuffer<u64>,
}

impl Joined {
    /// How many pairs there are.
    pub fn len(&self) -> usize {
        self.left.len()
    }

    /// Whether no keys matched.
    pub fn is_empty(&self) -> bool {
        self.left.is_empty()
    }
}

/// A key type of `join` (the sort's key types): the launches of its search and write
/// kernels.
#[doc(hidden)]
pub trait JoinKey: SortKey {
    /// For each of the `left` keys, the first place among the `right` keys in `order`
    /// (the stable sort's permutation) whose key is not less, and how many equal it.
    fn count(
        acc: &Accelerator,
        left: &UnifiedBuffer<Self>,
        right: &UnifiedBuffer<Self>,
        order: &UnifiedBuffer<u32>,
        lower: &mut UnifiedBuffer<u64>,
        counts: &mut UnifiedBuffer<u64>,
    ) -> Result<(), Error>;

    /// Each left key's pairs from its offset.
    fn write(
        acc: &Accelerator,
        places: [&UnifiedBuffer<u64>; 3],
        order: &UnifiedBuffer<u32>,
        left_out: &mut UnifiedBuffer<u64>,
        right_out: &mut UnifiedBuffer<u64>,
    ) -> Result<(), Error>;
}

macro_rules! join_key {
    ($t:ty, $count:ident, $write:ident) => {
        impl JoinKey for $t {
            fn count(
                acc: &Accelerator,
                left: &UnifiedBuffer<Self>,
                right: &UnifiedBuffer<Self>,
                order: &UnifiedBuffer<u32>,
                lower: &mut UnifiedBuffer<u64>,
                counts: &mut UnifiedBuffer<u64>,
            ) -> Result<(), Error> {
                join_kernels::$count::launch(
                    acc,
                    left.len(),
                    right.len() as u64,
                    left,
                    right,
                    order,
                    lower,
                    counts,
                )
            }

            fn write(
                acc: &Accelerator,
                [lower, counts, offsets]: [&UnifiedBuffer<u64>; 3],
                order: &UnifiedBuffer<u32>,
                left_out: &mut UnifiedBuffer<u64>,
                right_out: &mut UnifiedBuffer<u64>,
            ) -> Result<(), Error> {
                join_kernels::$write::launch(
                    acc,
                    lower.len(),
                    lower,
                    counts,
                    offsets,
                    order,
                    left_out,
                    right_out,
                )
            }
        }
    };
}

join_key!(u32, join_count_u32, join_write_u32);
join_key!(i32, join_count_i32, join_write_i32);
join_key!(f32, join_count_f32, join_write_f32);
join_key!(u64, join_count_u64, join_write_u64);
join_key!(i64, join_count_i64, join_write_i64);
join_key!(f64, join_count_f64, join_write_f64);

/// `join(&right, left_key, right_key)`: `left_keys(n, out)` and `right_keys(m, out)`
/// compute every element's key; the right keys are sorted (stably, by
/// [`algorithms::argsort`](crate::algorithms::argsort)), each left key finds its equals by
/// binary search, an exclusive scan of the match counts gives each left element's offset,
/// and the pairs are written there.
#[doc(hidden)]
pub fn join<K: JoinKey>(
    acc: &Accelerator,
    lens: [usize; 2],
    left_keys: impl FnOnce(usize, &mut UnifiedBuffer<K>) -> Result<(), Error>,
    right_keys: impl FnOnce(usize, &mut UnifiedBuffer<K>) -> Result<(), Error>,
) -> Result<Joined, Error> {
    let [n, m] = lens;
    if n == 0 || m == 0 {
        return Ok(Joined {
            left: acc.buffer_zeroed(0)?,
            right: acc.buffer_zeroed(0)?,
        });
    }
    let mut left = acc.buffer_zeroed::<K>(n)?;
    left_keys(n, &mut left)?;
    let mut right = acc.buffer_zeroed::<K>(m)?;
    right_keys(m, &mut right)?;
    let order = crate::algorithms::argsort(acc, &right)?;
    let mut lower = acc.buffer_zeroed::<u64>(n)?;
    let mut counts = acc.buffer_zeroed::<u64>(n)?;
    K::count(acc, &left, &right, &order, &mut lower, &mut counts)?;
    let mut offsets = acc.buffer_zeroed::<u64>(n)?;
    crate::algorithms::exclusive_scan(acc, &counts, &mut offsets)?;
    // A sum rather than the scan's last element: on a device, reading that would download
    // the whole buffer.
    let pairs = crate::algorithms::sum(acc, &counts)?;
    let pairs = usize::try_from(pairs).map_err(|_| Error::InvalidArgument {
        operation: "join".into(),
        reason: format!("{pairs} pairs do not fit usize"),
    })?;
    let mut left_out = acc.buffer_zeroed::<u64>(pairs)?;
    let mut right_out = acc.buffer_zeroed::<u64>(pairs)?;
    if pairs > 0 {
        K::write(
            acc,
            [&lower, &counts, &offsets],
            &order,
            &mut left_out,
            &mut right_out,
        )?;
    }
    Ok(Joined {
        left: left_out,
        right: right_out,
    })
}

/// `join` after operators: `count` and `write` collect the source positions of the elements
/// the chain keeps (as `collect` does), `left_keys(n, positions, out)` computes their keys,
/// and the pairs [`join`] finds index the kept elements until `join_positions` maps them back
/// to source positions.
#[doc(hidden)]
#[allow(clippy::too_many_arguments)]
pub fn join_kept<K: JoinKey>(
    acc: &Accelerator,
    lens: &[usize],
    right_len: usize,
    count: impl FnOnce(Grid, u64, &mut UnifiedBuffer<u64>) -> Result<(), Error>,
    write: impl FnOnce(Grid, u64, &UnifiedBuffer<u64>, &mut UnifiedBuffer<u64>) -> Result<(), Error>,
    left_keys: impl FnOnce(usize, &UnifiedBuffer<u64>, &mut UnifiedBuffer<K>) -> Result<(), Error>,
    right_keys: impl FnOnce(usize, &mut UnifiedBuffer<K>) -> Result<(), Error>,
) -> Result<Joined, Error> {
    let positions: UnifiedBuffer<u64> = collect(acc, lens, count, write)?;
    let mut joined = join(
        acc,
        [positions.len(), right_len],
        |n, out| left_keys(n, &positions, out),
        right_keys,
    )?;
    if !joined.is_empty() {
        join_kernels::join_positions::launch(acc, joined.len(), &positions, &mut joined.left)?;
    }
    Ok(joined)
}

/// The kernels the query drivers launch themselves (`join`'s), for tests that compile or
/// validate every kernel.
pub fn kernels() -> Vec<&'static crate::KernelDefinition> {
    join_kernels::all()
}
