//! The radix sort's kernels (see [`sort`](super::sort)): one work item per run of
//! [`RUN`](super::sort::RUN) keys, in order, so that each pass is stable.

use crate::prelude::*;

/// `counts[run * 256 + d]`: how many keys of run `run` have digit `d` at `shift`.
#[kernel(unchecked)]
pub fn radix_count_u32(run_len: u64, shift: u32, keys: &[u32], counts: &mut [u32]) {
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

/// Writes each key of run `run` to its place: `offsets[run * 256 + d]` is where the run's
/// first key with digit `d` goes; later ones follow in order.
#[kernel(unchecked)]
pub fn radix_scatter_u32(run_len: u64, shift: u32, keys: &[u32], offsets: &[u32], out: &mut [u32]) {
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
        f32_to_key::definition(),
        key_to_f32::definition(),
        i32_to_key::definition(),
        key_to_i32::definition(),
    ]
}
