//! The kernels of [`argmin`](super::argmin) and [`argmax`](super::argmax): the reduction
//! kernels' shape (see `reduce_kernels`) over (value, index) pairs. The first pass reads the
//! input, whose indices are the positions; later passes read the pairs the previous one
//! wrote. The choice between two pairs prefers the better value and, between equal values,
//! the lower index, so every order of combination gives the same pair: these need no fixed
//! order, but use the reductions' anyway.

use crate::prelude::*;

/// `$first(n, x, vals, idxs)` and `$next(n, x, ix, vals, idxs)`: one chunk of 4096 pairs per
/// group of 256 items, as the reductions; they differ only in where an element's index
/// comes from (`@kernel` is their one body).
macro_rules! arg_kernels {
    ($first:ident, $next:ident, $t:ty, $identity:tt,
     |$a:ident, $ia:ident, $b:ident, $ib:ident| $better:expr) => {
        arg_kernels!(@kernel
            /// The first pass: pairs (x[i], i).
            $first, $t, $identity, (), |i| (i as u64),
            |$a, $ia, $b, $ib| $better);
        arg_kernels!(@kernel
            /// Later passes: the pairs (x[i], ix[i]) of the previous pass.
            $next, $t, $identity, (ix: &[u64],), |i| ix[i],
            |$a, $ia, $b, $ib| $better);
    };
    (@kernel #[$doc:meta] $name:ident, $t:ty, $identity:tt, ($($index_param:tt)*),
     |$i:ident| $index:expr, |$a:ident, $ia:ident, $b:ident, $ib:ident| $better:expr) => {
        #[$doc]
        #[kernel(unchecked)]
        pub fn $name(n: u64, x: &[$t], $($index_param)* vals: &mut [$t], idxs: &mut [u64]) {
            let mut tv = shared_array::<$t, 256>();
            let mut ti = shared_array::<u64, 256>();
            let lid = local_id_x();
            let base = group_id_x() * 4096;
            let mut $a: $t = $identity;
            let mut $ia = u64::MAX;
            for k in 0..16usize {
                let $i = base + k * 256 + lid;
                if $i < n as usize {
                    let $b = x[$i];
                    let $ib = $index;
                    if $better {
                        $a = $b;
                        $ia = $ib;
                    }
                }
            }
            tv[lid] = $a;
            ti[lid] = $ia;
            barrier();
            for level in 0..8usize {
                let s = 128usize >> level;
                if lid < s {
                    let $a = tv[lid];
                    let $ia = ti[lid];
                    let $b = tv[lid + s];
                    let $ib = ti[lid + s];
                    if $better {
                        tv[lid] = $b;
                        ti[lid] = $ib;
                    }
                }
                barrier();
            }
            if lid == 0 {
                vals[group_id_x()] = tv[0];
                idxs[group_id_x()] = ti[0];
            }
        }
    };
}

// The choice: b wins over a with a better value, or an equal one at a lower index; for
// floats a NaN loses to every number, and among NaNs the lower index wins. The identity
// never wins: a NaN (floats) or the value nothing beats, at index u64::MAX.
arg_kernels!(
    argmin_f32,
    argmin_next_f32,
    f32,
    (f32::NAN),
    |a, ia, b, ib| (b < a) || (b == a && ib < ia) || (a.is_nan() && (!b.is_nan() || ib < ia))
);
arg_kernels!(
    argmin_f64,
    argmin_next_f64,
    f64,
    (f64::NAN),
    |a, ia, b, ib| (b < a) || (b == a && ib < ia) || (a.is_nan() && (!b.is_nan() || ib < ia))
);
arg_kernels!(
    argmax_f32,
    argmax_next_f32,
    f32,
    (f32::NAN),
    |a, ia, b, ib| (b > a) || (b == a && ib < ia) || (a.is_nan() && (!b.is_nan() || ib < ia))
);
arg_kernels!(
    argmax_f64,
    argmax_next_f64,
    f64,
    (f64::NAN),
    |a, ia, b, ib| (b > a) || (b == a && ib < ia) || (a.is_nan() && (!b.is_nan() || ib < ia))
);
arg_kernels!(
    argmin_i32,
    argmin_next_i32,
    i32,
    (i32::MAX),
    |a, ia, b, ib| (b < a) || (b == a && ib < ia)
);
arg_kernels!(
    argmin_u32,
    argmin_next_u32,
    u32,
    (u32::MAX),
    |a, ia, b, ib| (b < a) || (b == a && ib < ia)
);
arg_kernels!(
    argmin_i64,
    argmin_next_i64,
    i64,
    (i64::MAX),
    |a, ia, b, ib| (b < a) || (b == a && ib < ia)
);
arg_kernels!(
    argmin_u64,
    argmin_next_u64,
    u64,
    (u64::MAX),
    |a, ia, b, ib| (b < a) || (b == a && ib < ia)
);
arg_kernels!(
    argmax_i32,
    argmax_next_i32,
    i32,
    (i32::MIN),
    |a, ia, b, ib| (b > a) || (b == a && ib < ia)
);
arg_kernels!(argmax_u32, argmax_next_u32, u32, 0u32, |a, ia, b, ib| (b
    > a)
    || (b == a && ib < ia));
arg_kernels!(
    argmax_i64,
    argmax_next_i64,
    i64,
    (i64::MIN),
    |a, ia, b, ib| (b > a) || (b == a && ib < ia)
);
arg_kernels!(argmax_u64, argmax_next_u64, u64, 0u64, |a, ia, b, ib| (b
    > a)
    || (b == a && ib < ia));

/// Every argmin/argmax kernel.
pub fn all() -> Vec<&'static crate::KernelDefinition> {
    vec![
        argmin_f32::definition(),
        argmin_next_f32::definition(),
        argmin_f64::definition(),
        argmin_next_f64::definition(),
        argmin_i32::definition(),
        argmin_next_i32::definition(),
        argmin_u32::definition(),
        argmin_next_u32::definition(),
        argmin_i64::definition(),
        argmin_next_i64::definition(),
        argmin_u64::definition(),
        argmin_next_u64::definition(),
        argmax_f32::definition(),
        argmax_next_f32::definition(),
        argmax_f64::definition(),
        argmax_next_f64::definition(),
        argmax_i32::definition(),
        argmax_next_i32::definition(),
        argmax_u32::definition(),
        argmax_next_u32::definition(),
        argmax_i64::definition(),
        argmax_next_i64::definition(),
        argmax_u64::definition(),
        argmax_next_u64::definition(),
    ]
}
