//! Sorting on any accelerator: [`sort`] (keys in place), [`sort_pairs`] (keys and their
//! values, stable) and [`argsort`] (the stable sorting permutation), for `u32 i32 f32 u64 i64
//! f64` keys, floats in `total_cmp` order (`-NaN < -inf < .. < -0.0 < 0.0 < .. < inf <
//! NaN`). [`sort_u32`], [`sort_i32`] and [`sort_f32`] are [`sort`] for one type.
//!
//! On the CPU, [`sort`] runs the `rdst` crate's parallel radix sort (over the same words as
//! below), and [`sort_pairs`] and [`argsort`] a stable host radix sort that moves each value
//! with its key (one pass on the top digit into buckets, then each bucket by the lower
//! digits). Elsewhere everything is a stable LSD radix sort from the library's own kernels: signed and float keys become
//! unsigned words in the same order (32 or 64 bits), then per pass (8 bits of the word), each
//! run of [`RUN`] keys counts its digits, the counts in digit-major order are scanned into
//! offsets ([`transpose`] and [`exclusive_scan`]), and each run writes its keys in order to
//! their places. Pairs and `argsort` carry each key's original index through the passes (so
//! equal keys keep their order) and gather the values by it at the end. Counts and indices
//! are `u32`: at most `u32::MAX` keys ([`Error::InvalidArgument`] beyond).
//!
//! ```
//! use dotcompute::prelude::*;
//! use dotcompute::algorithms;
//!
//! # fn main() -> Result<(), dotcompute::Error> {
//! let dc = ComputeService::new()?;
//! let acc = dc.best_accelerator()?;
//! let mut keys = dc.buffer_from_slice(&[5u32, 3, 900, 3, 0, 70_000])?;
//! algorithms::sort(&acc, &mut keys)?;
//! assert_eq!(keys.to_vec()?, [0, 3, 3, 5, 900, 70_000]);
//!
//! let mut keys = dc.buffer_from_slice(&[2.5f64, -1.0, 2.5, f64::NAN, -0.0])?;
//! let mut names = dc.buffer_from_slice(&[0u32, 1, 2, 3, 4])?;
//! algorithms::sort_pairs(&acc, &mut keys, &mut names)?;
//! assert_eq!(names.to_vec()?, [1, 4, 0, 2, 3]); // equal keys keep their order
//!
//! let order = algorithms::argsort(&acc, &dc.buffer_from_slice(&[30i64, -5, 7])?)?;
//! assert_eq!(order.to_vec()?, [1, 2, 0]);
//! # Ok(())
//! # }
//! ```

use super::sort_kernels as k;
use super::{exclusive_scan, transpose};
use crate::{Accelerator, Error, UnifiedBuffer};

/// Keys per work item and pass.
pub const RUN: usize = 4096;

mod sealed {
    use super::k;
    use crate::{Accelerator, Error, UnifiedBuffer};

    /// What the CPU's host sorts need of a word.
    #[cfg(feature = "cpu")]
    pub trait HostWord: rdst::RadixKey + super::super::host_radix::RadixWord {}
    #[cfg(feature = "cpu")]
    impl<T: rdst::RadixKey + super::super::host_radix::RadixWord> HostWord for T {}
    /// Without the CPU backend there are no host sorts.
    #[cfg(not(feature = "cpu"))]
    pub trait HostWord {}
    #[cfg(not(feature = "cpu"))]
    impl<T> HostWord for T {}

    /// An unsigned key word the passes sort: `u32` or `u64`.
    pub trait Word: Copy + bytemuck::Pod + HostWord {
        /// Passes of 8 bits.
        const PASSES: u32;
        /// Counts each run's digits at `shift`.
        ///
        /// # Safety
        ///
        /// `counts` holds 256 values per run of `run` keys, `runs` covers the keys.
        unsafe fn count(
            acc: &Accelerator,
            runs: usize,
            shift: u32,
            keys: &UnifiedBuffer<Self>,
            counts: &mut UnifiedBuffer<u32>,
        ) -> Result<(), Error>;
        /// Scatters each run's keys (and indices, when given) to their offsets.
        ///
        /// # Safety
        ///
        /// `offsets` are the exclusive scan, in digit-major order, of the counts that
        /// [`Word::count`] gave for the same keys and shift; the outputs hold as many values
        /// as the keys (and `index` too).
        #[allow(clippy::too_many_arguments)]
        unsafe fn scatter(
            acc: &Accelerator,
            runs: usize,
            shift: u32,
            keys: &UnifiedBuffer<Self>,
            index: Option<(&UnifiedBuffer<u32>, &mut UnifiedBuffer<u32>)>,
            offsets: &UnifiedBuffer<u32>,
            out: &mut UnifiedBuffer<Self>,
        ) -> Result<(), Error>;
    }

    macro_rules! word {
        ($w:ty, $passes:literal, $count:ident, $scatter:ident, $indexed:ident) => {
            impl Word for $w {
                const PASSES: u32 = $passes;
                unsafe fn count(
                    acc: &Accelerator,
                    runs: usize,
                    shift: u32,
                    keys: &UnifiedBuffer<$w>,
                    counts: &mut UnifiedBuffer<u32>,
                ) -> Result<(), Error> {
                    let run = super::RUN as u64;
                    // SAFETY: the caller's contract.
                    unsafe { k::$count::launch(acc, runs, run, shift, keys, counts) }
                }
                unsafe fn scatter(
                    acc: &Accelerator,
                    runs: usize,
                    shift: u32,
                    keys: &UnifiedBuffer<$w>,
                    index: Option<(&UnifiedBuffer<u32>, &mut UnifiedBuffer<u32>)>,
                    offsets: &UnifiedBuffer<u32>,
                    out: &mut UnifiedBuffer<$w>,
                ) -> Result<(), Error> {
                    let run = super::RUN as u64;
                    // SAFETY: the caller's contract: every offset plus the run's count of
                    // its digit is at most the key count.
                    unsafe {
                        match index {
                            None => k::$scatter::launch(acc, runs, run, shift, keys, offsets, out),
                            Some((index, out_index)) => k::$indexed::launch(
                                acc, runs, run, shift, keys, index, offsets, out, out_index,
                            ),
                        }
                    }
                }
            }
        };
    }

    word!(
        u32,
        4,
        radix_count_u32,
        radix_scatter_u32,
        radix_scatter_indexed_u32
    );
    word!(
        u64,
        8,
        radix_count_u64,
        radix_scatter_u64,
        radix_scatter_indexed_u64
    );

    /// What [`super::SortKey`] types provide: their word and the conversions.
    pub trait Key: Copy + bytemuck::Pod + Send + Sync {
        /// The unsigned word in the same order.
        type Word: Word;
        /// `Some` when the key is its own word (no conversion): sorts in place.
        fn as_word(keys: &mut UnifiedBuffer<Self>) -> Option<&mut UnifiedBuffer<Self::Word>>;
        /// The keys as words.
        fn to_words(
            acc: &Accelerator,
            keys: &UnifiedBuffer<Self>,
        ) -> Result<UnifiedBuffer<Self::Word>, Error>;
        /// Words back to keys.
        fn from_words(
            acc: &Accelerator,
            words: &UnifiedBuffer<Self::Word>,
            keys: &mut UnifiedBuffer<Self>,
        ) -> Result<(), Error>;
        /// The keys as words in the same order, converted in place (the kernels' mapping).
        #[cfg(feature = "cpu")]
        fn host_words(keys: &mut [Self]) -> &mut [Self::Word];
        /// Words converted back to keys in place.
        #[cfg(feature = "cpu")]
        fn host_keys(words: &mut [Self::Word]);
        /// Sorts keys in host memory (the CPU's path): as words in the same order, by `rdst`.
        #[cfg(feature = "cpu")]
        fn host_sort(keys: &mut [Self]) {
            let words = Self::host_words(keys);
            rdst::RadixSort::radix_sort_unstable(&mut *words);
            Self::host_keys(words);
        }
        /// Sorts keys and moves values with them in host memory (the CPU's path), stably:
        /// as words in the same order, by the host radix sort on `threads` threads, with
        /// scratch arrays as long as `keys`.
        #[cfg(feature = "cpu")]
        fn host_sort_pairs<V: Copy + Send + Sync>(
            keys: &mut [Self],
            values: &mut [V],
            (other_keys, other_values): (&mut [Self], &mut [V]),
            threads: usize,
        ) {
            let words = Self::host_words(keys);
            super::super::host_radix::sort_pairs(
                &mut *words,
                values,
                bytemuck::cast_slice_mut(other_keys),
                other_values,
                threads,
            );
            Self::host_keys(words);
        }
    }

    macro_rules! own_word {
        ($t:ty, $copy:ident) => {
            impl Key for $t {
                type Word = $t;
                fn as_word(keys: &mut UnifiedBuffer<$t>) -> Option<&mut UnifiedBuffer<$t>> {
                    Some(keys)
                }
                fn to_words(
                    acc: &Accelerator,
                    keys: &UnifiedBuffer<$t>,
                ) -> Result<UnifiedBuffer<$t>, Error> {
                    // A copy on the accelerator (through the host would move the data twice).
                    let mut words = acc.buffer_zeroed::<$t>(keys.len())?;
                    k::$copy::launch(acc, keys.len(), keys, &mut words)?;
                    Ok(words)
                }
                fn from_words(
                    acc: &Accelerator,
                    words: &UnifiedBuffer<$t>,
                    keys: &mut UnifiedBuffer<$t>,
                ) -> Result<(), Error> {
                    k::$copy::launch(acc, keys.len(), words, keys)
                }
                #[cfg(feature = "cpu")]
                fn host_words(keys: &mut [$t]) -> &mut [$t] {
                    keys
                }
                #[cfg(feature = "cpu")]
                fn host_keys(_words: &mut [$t]) {}
            }
        };
    }

    own_word!(u32, copy_u32);
    own_word!(u64, copy_u64);

    macro_rules! mapped_word {
        ($t:ty, $w:ty, $to:ident, $from:ident, |$b:ident| $to_word:expr, |$k:ident| $from_word:expr) => {
            impl Key for $t {
                type Word = $w;
                fn as_word(_keys: &mut UnifiedBuffer<$t>) -> Option<&mut UnifiedBuffer<$w>> {
                    None
                }
                fn to_words(
                    acc: &Accelerator,
                    keys: &UnifiedBuffer<$t>,
                ) -> Result<UnifiedBuffer<$w>, Error> {
                    let mut words = acc.buffer_zeroed::<$w>(keys.len())?;
                    k::$to::launch(acc, keys.len(), keys, &mut words)?;
                    Ok(words)
                }
                fn from_words(
                    acc: &Accelerator,
                    words: &UnifiedBuffer<$w>,
                    keys: &mut UnifiedBuffer<$t>,
                ) -> Result<(), Error> {
                    k::$from::launch(acc, keys.len(), words, keys)
                }
                #[cfg(feature = "cpu")]
                fn host_sort(keys: &mut [$t]) {
                    // rdst's own key for this type is the same order (its float key is the
                    // total_cmp bit flip, its signed key the sign flip): no mapping passes.
                    rdst::RadixSort::radix_sort_unstable(keys);
                }
                #[cfg(feature = "cpu")]
                fn host_words(keys: &mut [$t]) -> &mut [$w] {
                    // The kernels' mapping (`$to`, `$from`), on the bits in place.
                    let words: &mut [$w] = bytemuck::cast_slice_mut(keys);
                    for w in words.iter_mut() {
                        let $b = *w;
                        *w = $to_word;
                    }
                    words
                }
                #[cfg(feature = "cpu")]
                fn host_keys(words: &mut [$w]) {
                    for w in words.iter_mut() {
                        let $k = *w;
                        *w = $from_word;
                    }
                }
            }
        };
    }

    mapped_word!(i32, u32, i32_to_key, key_to_i32, |b| b ^ 0x8000_0000, |k| k
        ^ 0x8000_0000);
    mapped_word!(
        f32,
        u32,
        f32_to_key,
        key_to_f32,
        |b| if b >> 31 == 1 { !b } else { b | 0x8000_0000 },
        |k| if k >> 31 == 1 { k & 0x7fff_ffff } else { !k }
    );
    mapped_word!(
        i64,
        u64,
        i64_to_key,
        key_to_i64,
        |b| b ^ 0x8000_0000_0000_0000,
        |k| k ^ 0x8000_0000_0000_0000
    );
    mapped_word!(
        f64,
        u64,
        f64_to_key,
        key_to_f64,
        |b| if b >> 63 == 1 {
            !b
        } else {
            b | 0x8000_0000_0000_0000
        },
        |k| if k >> 63 == 1 {
            k & 0x7fff_ffff_ffff_ffff
        } else {
            !k
        }
    );

    /// What [`super::SortValue`] types provide: a gather by index.
    pub trait Value: Copy + bytemuck::Pod + Send + Sync {
        /// `out[i] = x[index[i]]`.
        fn gather(
            acc: &Accelerator,
            index: &UnifiedBuffer<u32>,
            x: &UnifiedBuffer<Self>,
            out: &mut UnifiedBuffer<Self>,
        ) -> Result<(), Error>;
    }

    macro_rules! value {
        ($t:ty, $gather:ident) => {
            impl Value for $t {
                fn gather(
                    acc: &Accelerator,
                    index: &UnifiedBuffer<u32>,
                    x: &UnifiedBuffer<$t>,
                    out: &mut UnifiedBuffer<$t>,
                ) -> Result<(), Error> {
                    k::$gather::launch(acc, out.len(), index, x, out)
                }
            }
        };
    }

    value!(f32, gather_f32);
    value!(f64, gather_f64);
    value!(i32, gather_i32);
    value!(u32, gather_u32);
    value!(i64, gather_i64);
    value!(u64, gather_u64);
}

/// Key types of [`sort`], [`sort_pairs`] and [`argsort`]: `u32 i32 f32 u64 i64 f64`.
pub trait SortKey: sealed::Key {}
impl SortKey for u32 {}
impl SortKey for i32 {}
impl SortKey for f32 {}
impl SortKey for u64 {}
impl SortKey for i64 {}
impl SortKey for f64 {}

/// Value types of [`sort_pairs`]: `f32 f64 i32 u32 i64 u64`.
pub trait SortValue: sealed::Value {}
impl SortValue for f32 {}
impl SortValue for f64 {}
impl SortValue for i32 {}
impl SortValue for u32 {}
impl SortValue for i64 {}
impl SortValue for u64 {}

use sealed::Word;

/// The radix passes over `words`, in place, carrying `index` along when given.
fn radix<W: Word>(
    acc: &Accelerator,
    words: &mut UnifiedBuffer<W>,
    mut index: Option<&mut UnifiedBuffer<u32>>,
) -> Result<(), Error> {
    let n = words.len();
    let runs = n.div_ceil(RUN);
    let mut other = acc.buffer_zeroed::<W>(n)?;
    let mut other_index = match index {
        Some(_) => Some(acc.buffer_zeroed::<u32>(n)?),
        None => None,
    };
    let mut counts = acc.buffer_zeroed::<u32>(runs * 256)?;
    let mut by_digit = acc.buffer_zeroed::<u32>(runs * 256)?;
    let mut scanned = acc.buffer_zeroed::<u32>(runs * 256)?;
    let mut offsets = acc.buffer_zeroed::<u32>(runs * 256)?;
    // An even number of passes: the keys end where they started.
    for pass in 0..W::PASSES {
        let shift = 8 * pass;
        let even = pass % 2 == 0;
        let (src, dst) = if even {
            (&*words, &mut other)
        } else {
            (&other, &mut *words)
        };
        let index_pair = match (index.as_deref_mut(), other_index.as_mut()) {
            (Some(a), Some(b)) => Some(if even { (&*a, b) } else { (&*b, a) }),
            _ => None,
        };
        // SAFETY: one item per run of RUN keys; counts holds 256 per run.
        unsafe { W::count(acc, runs, shift, src, &mut counts) }?;
        // Offsets: the digit-major order (all runs' digit 0, then digit 1, ..) scanned.
        transpose(acc, &counts, runs, 256, &mut by_digit)?;
        exclusive_scan(acc, &by_digit, &mut scanned)?;
        transpose(acc, &scanned, 256, runs, &mut offsets)?;
        // SAFETY: the offsets are the exclusive scan of all counts (which sum to n) in
        // digit-major order; the outputs hold n values.
        unsafe { W::scatter(acc, runs, shift, src, index_pair, &offsets, dst) }?;
    }
    Ok(())
}

fn check_len(operation: &str, n: usize) -> Result<(), Error> {
    if n as u64 > u64::from(u32::MAX) {
        return Err(Error::InvalidArgument {
            operation: operation.into(),
            reason: format!("{n} keys: at most {}", u32::MAX),
        });
    }
    Ok(())
}

/// Sorts `keys` in place, ascending (floats in `total_cmp` order). On the CPU this is the
/// `rdst` crate's parallel radix sort on the accelerator's threads (over the same unsigned
/// words as the kernels; equal words are equal keys, so stability cannot show); elsewhere the
/// library's kernels.
pub fn sort<K: SortKey>(acc: &Accelerator, keys: &mut UnifiedBuffer<K>) -> Result<(), Error> {
    let n = keys.len();
    check_len("sort", n)?;
    super::check_services(acc, "sort", &[("keys", keys.raw().service())])?;
    if n < 2 {
        return Ok(());
    }
    #[cfg(feature = "cpu")]
    if let Some(result) = super::on_host(acc, |_threads| {
        K::host_sort(&mut keys.write()?);
        Ok(())
    }) {
        return result;
    }
    if let Some(words) = K::as_word(keys) {
        return radix(acc, words, None);
    }
    let mut words = K::to_words(acc, keys)?;
    radix(acc, &mut words, None)?;
    K::from_words(acc, &words, keys)
}

/// Sorts `keys` and returns the stable sorting permutation (`index[i]` is the position in
/// the unsorted `keys` of the `i`-th smallest key).
fn sorted_index<K: SortKey>(
    acc: &Accelerator,
    keys: &mut UnifiedBuffer<K>,
) -> Result<UnifiedBuffer<u32>, Error> {
    let n = keys.len();
    let mut index = acc.buffer_zeroed::<u32>(n)?;
    if n == 0 {
        return Ok(index);
    }
    k::iota_u32::launch(acc, n, &mut index)?;
    if let Some(words) = K::as_word(keys) {
        radix(acc, words, Some(&mut index))?;
        return Ok(index);
    }
    let mut words = K::to_words(acc, keys)?;
    radix(acc, &mut words, Some(&mut index))?;
    K::from_words(acc, &words, keys)?;
    Ok(index)
}

/// Sorts `keys` in place and reorders `values` with them (`values[i]` stays with `keys[i]`);
/// stable: elements with equal keys keep their order. `values` must be as long as `keys`
/// ([`Error::InvalidArgument`] otherwise, both untouched).
pub fn sort_pairs<K: SortKey, V: SortValue>(
    acc: &Accelerator,
    keys: &mut UnifiedBuffer<K>,
    values: &mut UnifiedBuffer<V>,
) -> Result<(), Error> {
    let n = keys.len();
    if values.len() != n {
        return Err(Error::InvalidArgument {
            operation: "sort_pairs".into(),
            reason: format!("{n} keys but {} values", values.len()),
        });
    }
    check_len("sort_pairs", n)?;
    // Both checked before anything moves: an error must leave keys and values paired.
    super::check_services(
        acc,
        "sort_pairs",
        &[
            ("keys", keys.raw().service()),
            ("values", values.raw().service()),
        ],
    )?;
    if n < 2 {
        return Ok(());
    }
    #[cfg(feature = "cpu")]
    if acc.id().backend == crate::BackendKind::Cpu {
        // Scratch from the accelerator's pool: reused memory, no page faults.
        let mut other_keys = acc.buffer_zeroed::<K>(n)?;
        let mut other_values = acc.buffer_zeroed::<V>(n)?;
        if let Some(result) = super::on_host(acc, |threads| {
            let (mut k, mut v) = (keys.write()?, values.write()?);
            let (mut ok, mut ov) = (other_keys.write()?, other_values.write()?);
            K::host_sort_pairs(&mut k, &mut v, (&mut ok, &mut ov), threads);
            Ok(())
        }) {
            return result;
        }
    }
    let index = sorted_index(acc, keys)?;
    let mut sorted = acc.buffer_zeroed::<V>(n)?;
    V::gather(acc, &index, values, &mut sorted)?;
    std::mem::swap(values, &mut sorted);
    Ok(())
}

/// The stable sorting permutation of `keys`: `result[i]` is the index in `keys` of the
/// `i`-th smallest key (equal keys in their order). `keys` is not modified.
pub fn argsort<K: SortKey>(
    acc: &Accelerator,
    keys: &UnifiedBuffer<K>,
) -> Result<UnifiedBuffer<u32>, Error> {
    let n = keys.len();
    check_len("argsort", n)?;
    super::check_services(acc, "argsort", &[("keys", keys.raw().service())])?;
    let mut index = acc.buffer_zeroed::<u32>(n)?;
    if n == 0 {
        return Ok(index);
    }
    #[cfg(feature = "cpu")]
    if acc.id().backend == crate::BackendKind::Cpu {
        // Scratch from the accelerator's pool: reused memory, no page faults.
        let mut sorted = acc.buffer_zeroed::<K>(n)?;
        let mut other_keys = acc.buffer_zeroed::<K>(n)?;
        let mut other_index = acc.buffer_zeroed::<u32>(n)?;
        if let Some(result) = super::on_host(acc, |threads| {
            let (mut s, mut ix) = (sorted.write()?, index.write()?);
            s.copy_from_slice(&keys.read()?);
            for (i, slot) in ix.iter_mut().enumerate() {
                *slot = i as u32; // at most u32::MAX keys (checked above)
            }
            let (mut ok, mut oi) = (other_keys.write()?, other_index.write()?);
            K::host_sort_pairs(&mut s, &mut ix, (&mut ok, &mut oi), threads);
            Ok(())
        }) {
            return result.map(|()| index);
        }
    }
    let mut words = K::to_words(acc, keys)?;
    k::iota_u32::launch(acc, n, &mut index)?;
    radix(acc, &mut words, Some(&mut index))?;
    Ok(index)
}

/// [`sort`] of `u32` keys.
pub fn sort_u32(acc: &Accelerator, keys: &mut UnifiedBuffer<u32>) -> Result<(), Error> {
    sort(acc, keys)
}

/// [`sort`] of `i32` keys.
pub fn sort_i32(acc: &Accelerator, keys: &mut UnifiedBuffer<i32>) -> Result<(), Error> {
    sort(acc, keys)
}

/// [`sort`] of `f32` keys, in `f32::total_cmp` order.
pub fn sort_f32(acc: &Accelerator, keys: &mut UnifiedBuffer<f32>) -> Result<(), Error> {
    sort(acc, keys)
}

#[cfg(all(test, feature = "cpu"))]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail by panicking

    use super::*;
    use crate::{BackendKind, ComputeService};

    /// The radix passes (what other accelerators run for `sort`) on the CPU, 32- and 64-bit
    /// words, against std's sort.
    #[test]
    fn the_kernel_passes_sort_words() {
        let dc = ComputeService::new().unwrap();
        let acc = dc.accelerator(BackendKind::Cpu).unwrap();
        let n = 3 * RUN + 17;
        let wide: Vec<u64> = (0..n as u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17))
            .collect();
        let narrow: Vec<u32> = wide.iter().map(|&v| (v >> 40) as u32 % 1000).collect();
        let mut words = dc.buffer_from_slice(&wide).unwrap();
        radix(&acc, &mut words, None).unwrap();
        let mut want = wide.clone();
        want.sort_unstable();
        assert_eq!(words.to_vec().unwrap(), want);
        let mut words = dc.buffer_from_slice(&narrow).unwrap();
        radix(&acc, &mut words, None).unwrap();
        let mut want = narrow.clone();
        want.sort_unstable();
        assert_eq!(words.to_vec().unwrap(), want);
    }
}
