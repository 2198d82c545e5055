//! The reduction kernels: one per operation and element type (the kernel language has no
//! generics), all of one shape, stamped by `reduce_kernel!`.
//!
//! A group of [`GROUP`](super::reduce::GROUP) items reduces one chunk of
//! [`CHUNK`](super::reduce::CHUNK) elements: item `l` combines elements `l`, `l + 256`, ...,
//! `l + 3840` of the chunk in that order, starting from the identity (elements past the end
//! are skipped, which is the same as combining the identity), then the group combines its
//! items' values by a tree in shared memory: `t[l] = t[l] op t[l + s]` for `s = 128, 64, ..,
//! 1`. Item 0 writes the chunk's value.

use crate::prelude::*;

/// `$name(n, x, out)`: `out[g]` is chunk `g` of `x[..n]` reduced. `op`: combined by an
/// operator; `method`: by a method (`wrapping_add`, `min`, ...).
macro_rules! reduce_kernel {
    ($name:ident, $t:ty, $identity:tt, op $op:tt) => {
        crate::__dotcompute_reduce_kernel!((unchecked) $name, $t, $identity, [], |acc, v| (acc $op v));
    };
    ($name:ident, $t:ty, $identity:tt, method $method:ident) => {
        crate::__dotcompute_reduce_kernel!((unchecked) $name, $t, $identity, [], |acc, v| acc.$method(v));
    };
}

/// The reduction kernel's template, exported for `define_reduction!`: `$mode` is
/// `unchecked` or nothing (checked); `$identity` is a literal or a name among the leading
/// `$param`s (a custom reduction passes its identity as a parameter).
#[doc(hidden)]
#[macro_export]
macro_rules! __dotcompute_reduce_kernel {
    (($($mode:ident)?) $name:ident, $t:ty, $identity:tt, [$($param:ident: $pty:ty),*], |$acc:ident, $v:ident| $combine:expr) => {
        /// One chunk of 4096 elements per group of 256 items (see
        /// `dotcompute::algorithms::reduce`).
        #[$crate::kernel($($mode)?)]
        pub fn $name($($param: $pty,)* n: u64, x: &[$t], out: &mut [$t]) {
            let mut tile = shared_array::<$t, 256>();
            let lid = local_id_x();
            let base = group_id_x() * 4096;
            let mut $acc: $t = $identity;
            // A whole chunk needs no guard (so its loads are contiguous, whole vectors on
            // the CPU); the last may be partial.
            if base + 4096 <= n as usize {
                for k in 0..16usize {
                    let $v = x[base + k * 256 + lid];
                    $acc = $combine;
                }
            } else {
                for k in 0..16usize {
                    let i = base + k * 256 + lid;
                    if i < n as usize {
                        let $v = x[i];
                        $acc = $combine;
                    }
                }
            }
            tile[lid] = $acc;
            barrier();
            for level in 0..8usize {
                let s = 128usize >> level;
                if lid < s {
                    let $acc = tile[lid];
                    let $v = tile[lid + s];
                    tile[lid] = $combine;
                }
                barrier();
            }
            if lid == 0 {
                out[group_id_x()] = tile[0];
            }
        }
    };
}

reduce_kernel!(sum_f32, f32, (-0.0f32), op+);
reduce_kernel!(sum_f64, f64, (-0.0f64), op+);
reduce_kernel!(sum_i32, i32, 0i32, method wrapping_add);
reduce_kernel!(sum_u32, u32, 0u32, method wrapping_add);
reduce_kernel!(sum_i64, i64, 0i64, method wrapping_add);
reduce_kernel!(sum_u64, u64, 0u64, method wrapping_add);

reduce_kernel!(product_f32, f32, 1.0f32, op *);
reduce_kernel!(product_f64, f64, 1.0f64, op *);
reduce_kernel!(product_i32, i32, 1i32, method wrapping_mul);
reduce_kernel!(product_u32, u32, 1u32, method wrapping_mul);
reduce_kernel!(product_i64, i64, 1i64, method wrapping_mul);
reduce_kernel!(product_u64, u64, 1u64, method wrapping_mul);

reduce_kernel!(min_f32, f32, (f32::INFINITY), method min);
reduce_kernel!(min_f64, f64, (f64::INFINITY), method min);
reduce_kernel!(min_i32, i32, (i32::MAX), method min);
reduce_kernel!(min_u32, u32, (u32::MAX), method min);
reduce_kernel!(min_i64, i64, (i64::MAX), method min);
reduce_kernel!(min_u64, u64, (u64::MAX), method min);

reduce_kernel!(max_f32, f32, (f32::NEG_INFINITY), method max);
reduce_kernel!(max_f64, f64, (f64::NEG_INFINITY), method max);
reduce_kernel!(max_i32, i32, (i32::MIN), method max);
reduce_kernel!(max_u32, u32, 0u32, method max);
reduce_kernel!(max_i64, i64, (i64::MIN), method max);
reduce_kernel!(max_u64, u64, 0u64, method max);

/// Every reduction kernel.
pub fn all() -> Vec<&'static crate::KernelDefinition> {
    vec![
        sum_f32::definition(),
        sum_f64::definition(),
        sum_i32::definition(),
        sum_u32::definition(),
        sum_i64::definition(),
        sum_u64::definition(),
        product_f32::definition(),
        product_f64::definition(),
        product_i32::definition(),
        product_u32::definition(),
        product_i64::definition(),
        product_u64::definition(),
        min_f32::definition(),
        min_f64::definition(),
        min_i32::definition(),
        min_u32::definition(),
        min_i64::definition(),
        min_u64::definition(),
        max_f32::definition(),
        max_f64::definition(),
        max_i32::definition(),
        max_u32::definition(),
        max_i64::definition(),
        max_u64::definition(),
    ]
}
