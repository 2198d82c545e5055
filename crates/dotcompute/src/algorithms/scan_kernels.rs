//! The scan kernels (see [`scan`](super::scan) for the order they define): per chunk of
//! 4096 elements, lane `l` of 256 owns the 16 contiguous elements `16l .. 16l + 16`.
//! `*_totals` writes each chunk's total; `*_chunks` writes each element's prefix, starting
//! from the chunk's carry (the exclusive prefix of the chunk totals).
//!
//! Both sum each lane's segment from the identity (elements past the end count as the
//! identity) and scan the 256 lane totals by Hillis and Steele (`t[l] = t[l - d] + t[l]` for
//! lanes `l >= d`, `d = 1, 2, .., 128`) in a shared array. (No shared tile of the chunk: 32
//! KiB of 64-bit elements is more than many devices give a group.)

use crate::prelude::*;

macro_rules! scan_kernels {
    ($totals:ident, $chunks:ident, $t:ty, $identity:tt, |$a:ident, $b:ident| $add:expr) => {
        crate::__dotcompute_scan_kernels!((unchecked) $totals, $chunks, $t, $identity, [], |$a, $b| $add);
    };
}

/// The scan kernels' template, exported for `define_reduction!` (as the reduction's: `$mode`
/// `unchecked` or nothing; a custom scan passes its identity as a leading parameter).
#[doc(hidden)]
#[macro_export]
macro_rules! __dotcompute_scan_kernels {
    (($($mode:ident)?) $totals:ident, $chunks:ident, $t:ty, $identity:tt, [$($param:ident: $pty:ty),*], |$a:ident, $b:ident| $add:expr) => {
        /// Each chunk's total: the Hillis-Steele scan of its lane totals, at lane 255.
        #[$crate::kernel($($mode)?)]
        pub fn $totals($($param: $pty,)* n: u64, x: &[$t], totals: &mut [$t]) {
            let mut lanes = shared_array::<$t, 256>();
            let lid = local_id_x();
            let start = group_id_x() * 4096 + 16 * lid;
            // Each lane's own elements, one after another (bounds that differ per lane keep
            // this loop inside each item on the CPU: contiguous reads, not gathers).
            let end = (start + 16).min(n as usize);
            let mut $a: $t = $identity;
            for i in start..end {
                let $b = x[i];
                $a = $add;
            }
            lanes[lid] = $a;
            barrier();
            for level in 0..8usize {
                let d = 1usize << level;
                let before = if lid >= d { lanes[lid - d] } else { $identity };
                barrier();
                if lid >= d {
                    let $a = before;
                    let $b = lanes[lid];
                    lanes[lid] = $add;
                }
                barrier();
            }
            if lid == 0 {
                totals[group_id_x()] = lanes[255];
            }
        }

        /// Each element's prefix: lane `l` continues from the chunk's carry plus the lanes
        /// before it (`carry + exclusive lane prefix`), element by element; `exclusive`
        /// writes the value before adding the element.
        #[$crate::kernel($($mode)?)]
        pub fn $chunks(
            $($param: $pty,)*
            n: u64,
            exclusive: u32,
            x: &[$t],
            carries: &[$t],
            y: &mut [$t],
        ) {
            let mut lanes = shared_array::<$t, 256>();
            let lid = local_id_x();
            let start = group_id_x() * 4096 + 16 * lid;
            // Each lane's own elements, one after another (bounds that differ per lane keep
            // this loop inside each item on the CPU: contiguous reads, not gathers).
            let end = (start + 16).min(n as usize);
            let mut $a: $t = $identity;
            for i in start..end {
                let $b = x[i];
                $a = $add;
            }
            lanes[lid] = $a;
            barrier();
            for level in 0..8usize {
                let d = 1usize << level;
                let before = if lid >= d { lanes[lid - d] } else { $identity };
                barrier();
                if lid >= d {
                    let $a = before;
                    let $b = lanes[lid];
                    lanes[lid] = $add;
                }
                barrier();
            }
            // The lanes before this one, then the chunks before this one.
            let lane_prefix = if lid > 0 { lanes[lid - 1] } else { $identity };
            let $a = carries[group_id_x()];
            let $b = lane_prefix;
            let mut running: $t = $add;
            for i in start..end {
                let $a = running;
                let $b = x[i];
                let next: $t = $add;
                y[i] = if exclusive != 0 { running } else { next };
                running = next;
            }
        }
    };
}

scan_kernels!(scan_totals_f32, scan_chunks_f32, f32, (-0.0f32), |a, b| (a
    + b));
scan_kernels!(scan_totals_f64, scan_chunks_f64, f64, (-0.0f64), |a, b| (a
    + b));
scan_kernels!(scan_totals_i32, scan_chunks_i32, i32, 0i32, |a, b| a
    .wrapping_add(b));
scan_kernels!(scan_totals_u32, scan_chunks_u32, u32, 0u32, |a, b| a
    .wrapping_add(b));
scan_kernels!(scan_totals_i64, scan_chunks_i64, i64, 0i64, |a, b| a
    .wrapping_add(b));
scan_kernels!(scan_totals_u64, scan_chunks_u64, u64, 0u64, |a, b| a
    .wrapping_add(b));

/// Every scan kernel.
pub fn all() -> Vec<&'static crate::KernelDefinition> {
    vec![
        scan_totals_f32::definition(),
        scan_chunks_f32::definition(),
        scan_totals_f64::definition(),
        scan_chunks_f64::definition(),
        scan_totals_i32::definition(),
        scan_chunks_i32::definition(),
        scan_totals_u32::definition(),
        scan_chunks_u32::definition(),
        scan_totals_i64::definition(),
        scan_chunks_i64::definition(),
        scan_totals_u64::definition(),
        scan_chunks_u64::definition(),
    ]
}
