//! The radix sort's kernels (see [`sort`](super::sort)): one work item per run of
//! [`RUN`](super::sort::RUN) keys, in order, so that each pass is stable.

use crate::prelude::*;

macro_rules! radix_kernels {
    ($count:ident, $scatter:ident, $scatter_indexed:ident, $w:ty) => {
        /// `counts[run * 256 + d]`: how many keys of run `run` have digit `d` at `shift`.
        #[kernel(unchecked)]
        pub fn $count(run_len: u64, shift: u32, keys: &[$w], counts: &mut [u32]) {
            let run = global_id();
            let mut local = [0u32; 256];
            let start = run * run_len as usize;
            let end = (start + run_len as usize).min(keys.len());
            for i in start..end {
                let d = ((keys[i] >> shift) & 255) as usize;
                local[d] += 1;
            }
            for d in 0..256usize {
                counts[run * 256 + d] = local[d];
            }
        }

        /// Writes each key of run `run` to its place: `offsets[run * 256 + d]` is where the
        /// run's first key with digit `d` goes; later ones follow in order.
        #[kernel(unchecked)]
        pub fn $scatter(run_len: u64, shift: u32, keys: &[$w], offsets: &[u32], out: &mut [$w]) {
            let run = global_id();
            let mut next = [0u32; 256];
            for d in 0..256usize {
                next[d] = offsets[run * 256 + d];
            }
            let start = run * run_len as usize;
            let end = (start + run_len as usize).min(keys.len());
            for i in start..end {
                let k = keys[i];
                let d = ((k >> shift) & 255) as usize;
                out[next[d] as usize] = k;
                next[d] += 1;
            }
        }

        /// As the scatter above, moving each key's `u32` index along with it.
        #[kernel(unchecked)]
        pub fn $scatter_indexed(
            run_len: u64,
            shift: u32,
            keys: &[$w],
            index: &[u32],
            offsets: &[u32],
            out: &mut [$w],
            out_index: &mut [u32],
        ) {
            let run = global_id();
            let mut next = [0u32; 256];
            for d in 0..256usize {
                next[d] = offsets[run * 256 + d];
            }
            let start = run * run_len as usize;
            let end = (start + run_len as usize).min(keys.len());
            for i in start..end {
                let k = keys[i];
                let d = ((k >> shift) & 255) as usize;
                let at = next[d] as usize;
                out[at] = k;
                out_index[at] = index[i];
                next[d] += 1;
            }
        }
    };
}

radix_kernels!(
    radix_count_u32,
    radix_scatter_u32,
    radix_scatter_indexed_u32,
    u32
);
radix_kernels!(
    radix_count_u64,
    radix_scatter_u64,
    radix_scatter_indexed_u64,
    u64
);

/// `out[i] = x[i]`.
#[kernel]
pub fn copy_u32(x: &[u32], out: &mut [u32]) {
    let i = global_id();
    out[i] = x[i];
}

/// `out[i] = x[i]`.
#[kernel]
pub fn copy_u64(x: &[u64], out: &mut [u64]) {
    let i = global_id();
    out[i] = x[i];
}

/// `index[i] = i`.
#[kernel]
pub fn iota_u32(index: &mut [u32]) {
    let i = global_id();
    index[i] = i as u32;
}

macro_rules! gather_kernel {
    ($name:ident, $t:ty) => {
        /// `out[i] = x[index[i]]`.
        #[kernel]
        pub fn $name(index: &[u32], x: &[$t], out: &mut [$t]) {
            let i = global_id();
            out[i] = x[index[i] as usize];
        }
    };
}

gather_kernel!(gather_f32, f32);
gather_kernel!(gather_f64, f64);
gather_kernel!(gather_i32, i32);
gather_kernel!(gather_u32, u32);
gather_kernel!(gather_i64, i64);
gather_kernel!(gather_u64, u64);

/// `f64` bits as keys whose unsigned order is `f64::total_cmp`'s (as [`f32_to_key`]).
#[kernel]
pub fn f64_to_key(x: &[f64], keys: &mut [u64]) {
    let i = global_id();
    let b = x[i].to_bits();
    keys[i] = if b >> 63 == 1 {
        !b
    } else {
        b | 0x8000_0000_0000_0000
    };
}

/// The inverse of [`f64_to_key`].
#[kernel]
pub fn key_to_f64(keys: &[u64], x: &mut [f64]) {
    let i = global_id();
    let k = keys[i];
    let b = if k >> 63 == 1 {
        k & 0x7fff_ffff_ffff_ffff
    } else {
        !k
    };
    x[i] = f64::from_bits(b);
}

/// `i64` values as keys in the same unsigned order: the sign bit flipped.
#[kernel]
pub fn i64_to_key(x: &[i64], keys: &mut [u64]) {
    let i = global_id();
    keys[i] = (x[i] as u64) ^ 0x8000_0000_0000_0000;
}

/// The inverse of [`i64_to_key`].
#[kernel]
pub fn key_to_i64(keys: &[u64], x: &mut [i64]) {
    let i = global_id();
    x[i] = (keys[i] ^ 0x8000_0000_0000_0000) as i64;
}

/// `f32` bits as keys whose unsigned order is `f32::total_cmp`'s: negative values (sign
/// set) have all bits flipped, the others only the sign.
#[kernel]
pub fn f32_to_key(x: &[f32], keys: &mut [u32]) {
    let i = global_id();
    let b = x[i].to_bits();
    keys[i] = if b >> 31 == 1 { !b } else { b | 0x8000_0000 };
}

/// The inverse of [`f32_to_key`].
#[kernel]
pub fn key_to_f32(keys: &[u32], x: &mut [f32]) {
    let i = global_id();
    let k = keys[i];
    let b = if k >> 31 == 1 { k & 0x7fff_ffff } else { !k };
    x[i] = f32::from_bits(b);
}

/// `i32` values as keys in the same unsigned order: the sign bit flipped.
#[kernel]
pub fn i32_to_key(x: &[i32], keys: &mut [u32]) {
    let i = global_id();
    keys[i] = (x[i] as u32) ^ 0x8000_0000;
}

/// The inverse of [`i32_to_key`].
#[kernel]
pub fn key_to_i32(keys: &[u32], x: &mut [i32]) {
    let i = global_id();
    x[i] = (keys[i] ^ 0x8000_0000) as i32;
}

/// Every sort kernel.
pub fn all() -> Vec<&'static crate::KernelDefinition> {
    vec![
        radix_count_u32::definition(),
        radix_scatter_u32::definition(),
        radix_scatter_indexed_u32::definition(),
        radix_count_u64::definition(),
        radix_scatter_u64::definition(),
        radix_scatter_indexed_u64::definition(),
        iota_u32::definition(),
        copy_u32::definition(),
        copy_u64::definition(),
        gather_f32::definition(),
        gather_f64::definition(),
        gather_i32::definition(),
        gather_u32::definition(),
        gather_i64::definition(),
        gather_u64::definition(),
        f64_to_key::definition(),
        key_to_f64::definition(),
        i64_to_key::definition(),
        key_to_i64::definition(),
        f32_to_key::definition(),
        key_to_f32::definition(),
        i32_to_key::definition(),
        key_to_i32::definition(),
    ]
}
