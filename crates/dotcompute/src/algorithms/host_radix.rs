//! The CPU's stable sort of key-value pairs: an LSD radix sort of unsigned key words (8 bits
//! per pass) that moves each value with its key, on the current rayon pool.
//!
//! The kernels' route (carrying a 32-bit index through the passes and gathering the values at
//! the end) reads and writes more per pass and ends with a random gather; here keys and values
//! move together. Each pass: every part of the input (one per thread) counts its digits; a
//! digit's place starts after all smaller digits, and within a digit after the earlier parts
//! (so equal digits keep their order: stable); every part then writes its pairs to their
//! places. A pass whose digit is the same for every key moves nothing and is skipped.

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
/// pool). Uses up to `threads` parts.
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
    let part_len = n.div_ceil(parts);
    // Which pair of arrays holds the data now: `false` the caller's, `true` the others.
    let mut in_other = false;
    let mut counts = vec![[0usize; 256]; parts];
    for shift in (0..W::BITS).step_by(8) {
        let (src_keys, src_values, dst_keys, dst_values) = if in_other {
            (&*other_keys, &*other_values, &mut *keys, &mut *values)
        } else {
            (&*keys, &*values, &mut *other_keys, &mut *other_values)
        };
        src_keys
            .par_chunks(part_len)
            .zip(counts.par_iter_mut())
            .for_each(|(part, count)| {
                *count = [0; 256];
                for &key in part {
                    count[key.digit(shift)] += 1;
                }
            });
        let mut totals = [0usize; 256];
        for count in &counts {
            for (total, c) in totals.iter_mut().zip(count) {
                *total += c;
            }
        }
        if totals.contains(&n) {
            continue; // one digit for every key: the order stays as it is
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
        src_keys
            .par_chunks(part_len)
            .zip(src_values.par_chunks(part_len))
            .zip(starts.par_iter_mut())
            .for_each(|((part_keys, part_values), next)| {
                scatter_part(part_keys, part_values, shift, next, &dst_keys, &dst_values);
            });
        in_other = !in_other;
    }
    if in_other {
        keys.copy_from_slice(other_keys);
        values.copy_from_slice(other_values);
    }
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

    /// Against std's stable sort, on 1, 2 and 3 parts, with many equal keys (stability shows)
    /// and with a digit shared by every key (skipped passes).
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
