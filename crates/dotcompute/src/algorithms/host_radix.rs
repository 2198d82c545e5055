//! The CPU's stable sort of key-value pairs: an LSD radix sort of unsigned key words (8 bits
//! per pass) that moves each value with its key, on the current rayon pool.
//!
//! The kernels' route (carrying a 32-bit index through the passes and gathering the values at
//! the end) reads and writes more per pass and ends with a random gather; here keys and values
//! move together. A parallel pass: every part of the input (one per thread) counts its digits;
//! a digit's place starts after all smaller digits, and within a digit after the earlier parts
//! (so equal digits keep their order: stable); every part then writes its pairs to their
//! places, staged per digit. A pass whose digit is the same for every key moves nothing and is
//! skipped. [`sort_pairs`] says when the top digit goes first.

use rayon::prelude::*;

/// An unsigned key word: `u32` or `u64`.
pub trait RadixWord: Copy + Send + Sync {
    /// Bits in the word.
    const BITS: u32;
    /// The 8-bit digit at `shift`.
    fn digit(self, shift: u32) -> usize;
}

impl RadixWord for u32 {
    const BITS: u32 = 32;
    #[inline(always)]
    fn digit(self, shift: u32) -> usize {
        ((self >> shift) & 0xff) as usize
    }
}

impl RadixWord for u64 {
    const BITS: u32 = 64;
    #[inline(always)]
    fn digit(self, shift: u32) -> usize {
        ((self >> shift) & 0xff) as usize
    }
}

/// Parts of at least this many pairs: smaller inputs sort on fewer threads.
const MIN_PART: usize = 1 << 14;

/// Sorts `keys` ascending, moving `values[i]` with `keys[i]`; stable. `values` and the
/// scratch arrays `other_keys` and `other_values` are as long as `keys` (memory that has
/// been used before saves the page faults of fresh memory: the caller takes it from its
/// pool). Uses up to `threads` threads.
///
/// When the top digit spreads the keys (no bucket holds a quarter of them), one parallel
/// pass on the top digit splits the pairs into 256 buckets, and each bucket is then sorted on
/// its own by the lower digits (buckets in parallel; for spread keys a bucket is about n/256
/// pairs, which stays in the cache: one pass over memory instead of one per digit). Otherwise every digit is a parallel pass
/// over the whole input, least significant first.
pub fn sort_pairs<W: RadixWord, V: Copy + Send + Sync>(
    keys: &mut [W],
    values: &mut [V],
    other_keys: &mut [W],
    other_values: &mut [V],
    threads: usize,
) {
    let n = keys.len();
    debug_assert!(values.len() == n && other_keys.len() == n && other_values.len() == n);
    if n < 2 || values.len() != n || other_keys.len() != n || other_values.len() != n {
        return;
    }
    let parts = threads.clamp(1, n.div_ceil(MIN_PART).max(1));
    let top = W::BITS - 8;
    let counts = count_parts(keys, parts, top);
    let totals = digit_totals(&counts);
    if totals.iter().any(|&t| 4 * t > n) {
        let mut in_other = false;
        for shift in (0..W::BITS).step_by(8) {
            let moved = if in_other {
                pass(other_keys, other_values, keys, values, parts, shift, None)
            } else {
                pass(keys, values, other_keys, other_values, parts, shift, None)
            };
            in_other ^= moved;
        }
        if in_other {
            keys.copy_from_slice(other_keys);
            values.copy_from_slice(other_values);
        }
        return;
    }
    pass(
        keys,
        values,
        other_keys,
        other_values,
        parts,
        top,
        Some(counts),
    );
    // Bucket b of the others, with the same range of the caller's arrays as its scratch.
    let mut buckets = Vec::with_capacity(256);
    let (mut ok, mut ov, mut k, mut v) = (other_keys, other_values, keys, values);
    for &total in &totals {
        let (ok_b, ok_rest) = ok.split_at_mut(total);
        let (ov_b, ov_rest) = ov.split_at_mut(total);
        let (k_b, k_rest) = k.split_at_mut(total);
        let (v_b, v_rest) = v.split_at_mut(total);
        buckets.push((ok_b, ov_b, k_b, v_b));
        (ok, ov, k, v) = (ok_rest, ov_rest, k_rest, v_rest);
    }
    buckets
        .into_par_iter()
        .for_each(|(bucket_keys, bucket_values, keys, values)| {
            // The bucket ends in the caller's arrays: sorted there, or copied back.
            if !local_sort(bucket_keys, bucket_values, keys, values, top) {
                keys.copy_from_slice(bucket_keys);
                values.copy_from_slice(bucket_values);
            }
        });
}

/// Each part's digit counts at `shift` (parts of `keys.len() / parts`, rounded up).
fn count_parts<W: RadixWord>(keys: &[W], parts: usize, shift: u32) -> Vec<[usize; 256]> {
    let mut counts = vec![[0usize; 256]; parts];
    keys.par_chunks(keys.len().div_ceil(parts))
        .zip(counts.par_iter_mut())
        .for_each(|(part, count)| {
            for &key in part {
                count[key.digit(shift)] += 1;
            }
        });
    counts
}

/// All parts' counts per digit.
fn digit_totals(counts: &[[usize; 256]]) -> [usize; 256] {
    let mut totals = [0usize; 256];
    for count in counts {
        for (total, c) in totals.iter_mut().zip(count) {
            *total += c;
        }
    }
    totals
}

/// One parallel pass on the digit at `shift`, from `keys`/`values` to `dst_*`, with the
/// parts' `counts` when already known; `false` (nothing written) when every key has the same
/// digit.
fn pass<W: RadixWord, V: Copy + Send + Sync>(
    keys: &[W],
    values: &[V],
    dst_keys: &mut [W],
    dst_values: &mut [V],
    parts: usize,
    shift: u32,
    counts: Option<Vec<[usize; 256]>>,
) -> bool {
    let n = keys.len();
    let part_len = n.div_ceil(parts);
    let counts = counts.unwrap_or_else(|| count_parts(keys, parts, shift));
    if digit_totals(&counts).contains(&n) {
        return false;
    }
    // Starting places: digit-major, then part order.
    let mut place = 0;
    let mut starts = vec![[0usize; 256]; parts];
    for digit in 0..256 {
        for (start, count) in starts.iter_mut().zip(&counts) {
            start[digit] = place;
            place += count[digit];
        }
    }
    let dst_keys = Scatter::new(dst_keys);
    let dst_values = Scatter::new(dst_values);
    keys.par_chunks(part_len)
        .zip(values.par_chunks(part_len))
        .zip(starts.par_iter_mut())
        .for_each(|((part_keys, part_values), next)| {
            scatter_part(part_keys, part_values, shift, next, &dst_keys, &dst_values);
        });
    true
}

/// Sorts one bucket by the digits below `end` on this thread, with `other_*` (as long) as
/// scratch; `true` when the result ended in `other_*`, `false` when in `keys`/`values`.
fn local_sort<W: RadixWord, V: Copy>(
    keys: &mut [W],
    values: &mut [V],
    other_keys: &mut [W],
    other_values: &mut [V],
    end: u32,
) -> bool {
    let mut in_other = false;
    if keys.len() < 2 {
        return in_other;
    }
    // A digit's counts do not depend on the order: all digits' counts in one read.
    let digits = (end / 8) as usize;
    let mut counts = [[0usize; 256]; 7];
    for &key in keys.iter() {
        for (d, count) in counts[..digits].iter_mut().enumerate() {
            count[key.digit(8 * d as u32)] += 1;
        }
    }
    for (d, count) in counts[..digits].iter().enumerate() {
        if count.contains(&keys.len()) {
            continue;
        }
        let shift = 8 * d as u32;
        let (src_keys, src_values, dst_keys, dst_values) = if in_other {
            (&*other_keys, &*other_values, &mut *keys, &mut *values)
        } else {
            (&*keys, &*values, &mut *other_keys, &mut *other_values)
        };
        let mut next = [0usize; 256];
        let mut place = 0;
        for (slot, &c) in next.iter_mut().zip(count) {
            (*slot, place) = (place, place + c);
        }
        for (&key, &value) in src_keys.iter().zip(src_values) {
            let slot = &mut next[key.digit(shift)];
            dst_keys[*slot] = key;
            dst_values[*slot] = value;
            *slot += 1;
        }
        in_other = !in_other;
    }
    in_other
}

/// Pairs gathered per digit before they are written: a run of this many lands at once (a
/// store per element to 256 places at random thrashes the caches and the TLB).
const STAGED: usize = 16;

/// Writes one part's pairs to their places (`next[digit]`: the next place of that digit),
/// staged per digit in runs of [`STAGED`].
fn scatter_part<W: RadixWord, V: Copy + Send + Sync>(
    keys: &[W],
    values: &[V],
    shift: u32,
    next: &mut [usize; 256],
    dst_keys: &Scatter<'_, W>,
    dst_values: &Scatter<'_, V>,
) {
    let (Some(&key0), Some(&value0)) = (keys.first(), values.first()) else {
        return;
    };
    let mut staged_keys = [[key0; STAGED]; 256];
    let mut staged_values = [[value0; STAGED]; 256];
    let mut filled = [0u8; 256];
    for (&key, &value) in keys.iter().zip(values) {
        let digit = key.digit(shift);
        let f = usize::from(filled[digit]);
        staged_keys[digit][f] = key;
        staged_values[digit][f] = value;
        if f + 1 == STAGED {
            // SAFETY: the places of the parts' digits are disjoint ranges covering 0..n (an
            // exclusive scan of all counts), and each part advances only its own range, by
            // the pairs it counted: no place is written twice.
            unsafe {
                dst_keys.write_run(next[digit], &staged_keys[digit]);
                dst_values.write_run(next[digit], &staged_values[digit]);
            }
            next[digit] += STAGED;
            filled[digit] = 0;
        } else {
            filled[digit] += 1;
        }
    }
    for digit in 0..256 {
        let f = usize::from(filled[digit]);
        // SAFETY: as above, for the last pairs of each digit.
        unsafe {
            dst_keys.write_run(next[digit], &staged_keys[digit][..f]);
            dst_values.write_run(next[digit], &staged_values[digit][..f]);
        }
        next[digit] += f;
    }
}

/// A slice that several threads write at distinct places.
struct Scatter<'a, T> {
    start: *mut T,
    len: usize,
    _slice: std::marker::PhantomData<&'a mut [T]>,
}

// SAFETY: a `Scatter` only writes through `write`, whose callers guarantee that no two
// threads write one place; the slice it came from is borrowed mutably for its life.
unsafe impl<T: Send> Send for Scatter<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Scatter<'_, T> {}

impl<'a, T> Scatter<'a, T> {
    fn new(slice: &'a mut [T]) -> Scatter<'a, T> {
        Scatter {
            start: slice.as_mut_ptr(),
            len: slice.len(),
            _slice: std::marker::PhantomData,
        }
    }

    /// Writes `run` from `place` on.
    ///
    /// # Safety
    ///
    /// No other thread writes or reads those places meanwhile.
    #[inline(always)]
    unsafe fn write_run(&self, place: usize, run: &[T])
    where
        T: Copy,
    {
        assert!(
            place <= self.len && run.len() <= self.len - place,
            "scatter run {place} + {} out of {}",
            run.len(),
            self.len
        );
        // SAFETY: the run is in bounds (checked) and, by the caller's promise, written by no
        // one else; the slice is borrowed mutably for 'a and cannot overlap `run` (a
        // separate staging array).
        unsafe {
            std::ptr::copy_nonoverlapping(run.as_ptr(), self.start.add(place), run.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against std's stable sort, on 1, 2 and 3 parts, with many equal keys (stability shows),
    /// with a digit shared by every key (skipped passes, the all-parallel route) and with
    /// spread top digits (the bucket route).
    #[test]
    fn sorts_pairs_stably() {
        for n in [0usize, 1, 2, 1000, 3 * MIN_PART + 7] {
            let keys: Vec<u64> = (0..n as u64)
                .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 50 << 20 | 0xab)
                .collect();
            let values: Vec<u32> = (0..n as u32).collect();
            let mut want: Vec<(u64, u32)> = keys.iter().copied().zip(values.clone()).collect();
            want.sort_by_key(|&(k, _)| k);
            for threads in [1, 2, 3] {
                let (mut k, mut v) = (keys.clone(), values.clone());
                let (mut ok, mut ov) = (vec![0; n], vec![0; n]);
                sort_pairs(&mut k, &mut v, &mut ok, &mut ov, threads);
                let got: Vec<(u64, u32)> = k.into_iter().zip(v).collect();
                assert!(got == want, "n = {n}, {threads} threads");
            }
            // Top digits spread (the bucket route), few distinct lower digits (stability).
            let mut spread: Vec<u32> = (0..n as u32)
                .map(|i| (i.wrapping_mul(0x9e37_79b9) & 0xff00_0000) | (i % 7) << 9)
                .collect();
            let mut v = values.clone();
            let mut want: Vec<(u32, u32)> = spread.iter().copied().zip(values.clone()).collect();
            want.sort_by_key(|&(k, _)| k);
            let (mut ok, mut ov) = (vec![0; n], vec![0; n]);
            sort_pairs(&mut spread, &mut v, &mut ok, &mut ov, 3);
            assert!(
                spread.into_iter().zip(v).eq(want),
                "spread u32 keys, n = {n}"
            );
            let mut narrow: Vec<u32> = keys.iter().map(|&k| (k >> 20) as u32).collect();
            let mut v = values.clone();
            let mut want: Vec<(u32, u32)> = narrow.iter().copied().zip(values.clone()).collect();
            want.sort_by_key(|&(k, _)| k);
            let (mut ok, mut ov) = (vec![0; n], vec![0; n]);
            sort_pairs(&mut narrow, &mut v, &mut ok, &mut ov, 2);
            assert!(narrow.into_iter().zip(v).eq(want), "u32 keys, n = {n}");
        }
    }
}
