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

/// Every sort kernel.
pub fn all() -> Vec<&'static crate::KernelDefinition> {
    vec![
        radix_count_u32::definition(),
        radix_scatter_u32::definition(),
    ]
}
