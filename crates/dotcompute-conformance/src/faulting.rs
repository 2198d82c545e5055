//! Kernels that fault on purpose, for every backend's error-path tests: an out-of-bounds
//! read, integer division, a `panic!`.

use dotcompute::prelude::*;

/// Reads `src[i + offset]`: out of bounds for the last `offset` work items.
#[kernel]
pub fn shifted_copy(offset: usize, src: &[f32], dst: &mut [f32]) {
    let i = global_id();
    dst[i] = src[i + offset];
}

/// `a / b` per element: faults on a zero divisor or `MIN / -1`.
#[kernel]
pub fn divide(a: &[i32], b: &[i32], out: &mut [i32]) {
    let i = global_id();
    out[i] = a[i] / b[i];
}

/// Panics in work items at or past `limit`; the others write 1.
#[kernel]
pub fn explode(limit: u32, out: &mut [u32]) {
    let i = global_id();
    if i as u32 >= limit {
        panic!("work item beyond the limit");
    }
    out[i] = 1;
}

/// Stores 7 from its own index upwards until a store falls outside `out`: only the fault
/// ends the loop, as Rust's panic would.
#[kernel]
pub fn store_until_fault(out: &mut [u32]) {
    let mut i = global_id();
    loop {
        out[i] = 7;
        i += 1;
    }
}
