//! The histogram kernels: each item counts a contiguous run of the input into its group's
//! bins in shared memory, then the group adds its bins to the output with atomics. Counts are
//! integers, so the result does not depend on the order.

use crate::prelude::*;

/// The most bins a histogram has (its group's bins live in shared memory: 16 KiB).
pub const MAX_BINS: usize = 4096;

macro_rules! float_histogram {
    ($name:ident, $t:ty) => {
        /// Bins of equal width over `[lo, hi)`: `min(floor((v - lo) * scale), bins - 1)`.
        #[kernel(unchecked)]
        pub fn $name(
            per_item: u64,
            bins: u64,
            lo: $t,
            hi: $t,
            scale: $t,
            x: &[$t],
            counts: &mut [u32],
        ) {
            let mut local = shared_array::<u32, 4096>();
            let start = global_id() * per_item as usize;
            let end = (start + per_item as usize).min(x.len());
            let last = bins as usize - 1;
            for k in start..end {
                let v = x[k];
                // NaN fails both comparisons.
                if v >= lo && v < hi {
                    let b = (((v - lo) * scale) as usize).min(last);
                    atomic_add(&mut local[b], 1u32);
                }
            }
            barrier();
            let mut b = local_id_x();
            while b < bins as usize {
                let c = local[b];
                if c > 0 {
                    atomic_add(&mut counts[b], c);
                }
                b += group_size_x();
            }
        }
    };
}

macro_rules! int_histogram {
    ($name:ident, $t:ty) => {
        /// Bins of width `width` from `lo` over `[lo, hi)`: `(v - lo) / width`.
        #[kernel(unchecked)]
        pub fn $name(
            per_item: u64,
            bins: u64,
            lo: $t,
            hi: $t,
            width: u64,
            x: &[$t],
            counts: &mut [u32],
        ) {
            let mut local = shared_array::<u32, 4096>();
            let start = global_id() * per_item as usize;
            let end = (start + per_item as usize).min(x.len());
            let last = bins as usize - 1;
            for k in start..end {
                let v = x[k];
                if v >= lo && v < hi {
                    // The distance fits in u64 for every type (two's complement wraps back).
                    let d = (v as u64).wrapping_sub(lo as u64);
                    let b = ((d / width) as usize).min(last);
                    atomic_add(&mut local[b], 1u32);
                }
            }
            barrier();
            let mut b = local_id_x();
            while b < bins as usize {
                let c = local[b];
                if c > 0 {
                    atomic_add(&mut counts[b], c);
                }
                b += group_size_x();
            }
        }
    };
}

float_histogram!(histogram_f32, f32);
float_histogram!(histogram_f64, f64);
int_histogram!(histogram_i32, i32);
int_histogram!(histogram_u32, u32);
int_histogram!(histogram_i64, i64);
int_histogram!(histogram_u64, u64);

/// Every histogram kernel.
pub fn all() -> Vec<&'static crate::KernelDefinition> {
    vec![
        histogram_f32::definition(),
        histogram_f64::definition(),
        histogram_i32::definition(),
        histogram_u32::definition(),
        histogram_i64::definition(),
        histogram_u64::definition(),
    ]
}
