//! The compaction kernels' template (exported for `define_compaction!`): per chunk of 4096
//! elements, lane `l` of 256 owns the 16 contiguous elements `16l .. 16l + 16`, as in the
//! scans. The first kernel counts each chunk's kept elements; after an exclusive scan of the
//! counts, the second writes each kept element at its chunk's offset plus the kept elements
//! before it (the lanes before, by a Hillis-Steele scan of the lane counts, then its own
//! lane's): the input's order, whatever the accelerator.

/// `$count(n, x, counts)` and `$scatter(n, x, offsets, out)` for elements of type `$t` kept
/// when `$keep` (an expression of `$v`) is true.
#[doc(hidden)]
#[macro_export]
macro_rules! __dotcompute_compact_kernels {
    ($count:ident, $scatter:ident, $t:ty, |$v:ident| $keep:expr) => {
        /// Each chunk's number of kept elements.
        #[$crate::kernel]
        pub fn $count(n: u64, x: &[$t], counts: &mut [u64]) {
            let mut lanes = shared_array::<u64, 256>();
            let lid = local_id_x();
            let start = group_id_x() * 4096 + 16 * lid;
            let end = (start + 16).min(n as usize);
            let mut kept = 0u64;
            for i in start..end {
                let $v = x[i];
                if $keep {
                    kept += 1;
                }
            }
            lanes[lid] = kept;
            barrier();
            for level in 0..8usize {
                let s = 128usize >> level;
                if lid < s {
                    lanes[lid] = lanes[lid] + lanes[lid + s];
                }
                barrier();
            }
            if lid == 0 {
                counts[group_id_x()] = lanes[0];
            }
        }

        /// Every kept element at its place: the chunk's offset, the lanes before, the
        /// lane's own kept elements before.
        #[$crate::kernel]
        pub fn $scatter(n: u64, x: &[$t], offsets: &[u64], out: &mut [$t]) {
            let mut lanes = shared_array::<u64, 256>();
            let lid = local_id_x();
            let start = group_id_x() * 4096 + 16 * lid;
            let end = (start + 16).min(n as usize);
            let mut kept = 0u64;
            for i in start..end {
                let $v = x[i];
                if $keep {
                    kept += 1;
                }
            }
            lanes[lid] = kept;
            barrier();
            for level in 0..8usize {
                let d = 1usize << level;
                let before = if lid >= d { lanes[lid - d] } else { 0 };
                barrier();
                if lid >= d {
                    lanes[lid] = before + lanes[lid];
                }
                barrier();
            }
            let lane_prefix = if lid > 0 { lanes[lid - 1] } else { 0 };
            let mut at = offsets[group_id_x()] + lane_prefix;
            for i in start..end {
                let $v = x[i];
                if $keep {
                    out[at as usize] = $v;
                    at += 1;
                }
            }
        }
    };
}
