//! The kernels of `join`: for each left key, where its equals lie among the right keys in
//! sorted order (two binary searches through the sort's permutation), then each left
//! element's pairs written at its offset. Keys compare by their order words (floats in
//! `total_cmp` order, signed integers with the sign bit flipped), so two keys are equal when
//! their bits are, and the searches agree with the radix sort's order.

use crate::prelude::*;

macro_rules! join_kernels {
    ($count:ident, $write:ident, $t:ty, $w:ty, $word:ident) => {
        /// Left element `i`: the first place `lower[i]` among the `m` right keys in sorted
        /// order (`right[order[p]]` for place `p`) whose key is not less than its key, and
        /// how many from there equal it.
        #[kernel]
        pub fn $count(
            m: u64,
            left: &[$t],
            right: &[$t],
            order: &[u32],
            lower: &mut [u64],
            counts: &mut [u64],
        ) {
            let i = global_id();
            let target: $w = $word(left[i]);
            let mut lo = 0u64;
            let mut hi = m;
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                let word: $w = $word(right[order[mid as usize] as usize]);
                if word < target {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            let first = lo;
            hi = m;
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                let word: $w = $word(right[order[mid as usize] as usize]);
                if word <= target {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            lower[i] = first;
            counts[i] = lo - first;
        }

        /// Left element `i`'s pairs from `offsets[i]`: its position, and the right
        /// positions of its equals in sorted order (ascending: the sort is stable).
        #[kernel]
        pub fn $write(
            lower: &[u64],
            counts: &[u64],
            offsets: &[u64],
            order: &[u32],
            left_out: &mut [u64],
            right_out: &mut [u64],
        ) {
            let i = global_id();
            let at = offsets[i];
            let first = lower[i];
            for j in 0..counts[i] {
                left_out[(at + j) as usize] = i as u64;
                right_out[(at + j) as usize] = order[(first + j) as usize] as u64;
            }
        }
    };
}

/// A key's order word: the key itself for unsigned integers.
#[kernel_fn]
fn word_u32(k: u32) -> u32 {
    k
}

/// A signed key's order word: the sign bit flipped.
#[kernel_fn]
fn word_i32(k: i32) -> u32 {
    (k as u32) ^ 0x8000_0000u32
}

/// A float key's order word, in `total_cmp` order: negatives (sign set) flipped whole,
/// the others with the sign bit set.
#[kernel_fn]
fn word_f32(k: f32) -> u32 {
    let bits = k.to_bits();
    if bits >> 31 != 0 {
        !bits
    } else {
        bits | 0x8000_0000u32
    }
}

/// [`word_u32`] for 64-bit keys.
#[kernel_fn]
fn word_u64(k: u64) -> u64 {
    k
}

/// [`word_i32`] for 64-bit keys.
#[kernel_fn]
fn word_i64(k: i64) -> u64 {
    (k as u64) ^ 0x8000_0000_0000_0000u64
}

/// [`word_f32`] for 64-bit keys.
#[kernel_fn]
fn word_f64(k: f64) -> u64 {
    let bits = k.to_bits();
    if bits >> 63 != 0 {
        !bits
    } else {
        bits | 0x8000_0000_0000_0000u64
    }
}

join_kernels!(join_count_u32, join_write_u32, u32, u32, word_u32);
join_kernels!(join_count_i32, join_write_i32, i32, u32, word_i32);
join_kernels!(join_count_f32, join_write_f32, f32, u32, word_f32);
join_kernels!(join_count_u64, join_write_u64, u64, u64, word_u64);
join_kernels!(join_count_i64, join_write_i64, i64, u64, word_i64);
join_kernels!(join_count_f64, join_write_f64, f64, u64, word_f64);

/// `left[k]` indexes the kept elements: their source positions instead.
#[kernel]
pub fn join_positions(positions: &[u64], left: &mut [u64]) {
    let k = global_id();
    left[k] = positions[left[k] as usize];
}

/// Every join kernel.
pub fn all() -> Vec<&'static crate::KernelDefinition> {
    vec![
        join_count_u32::definition(),
        join_write_u32::definition(),
        join_count_i32::definition(),
        join_write_i32::definition(),
        join_count_f32::definition(),
        join_write_f32::definition(),
        join_count_u64::definition(),
        join_write_u64::definition(),
        join_count_i64::definition(),
        join_write_i64::definition(),
        join_count_f64::definition(),
        join_write_f64::definition(),
        join_positions::definition(),
    ]
}
