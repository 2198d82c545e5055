//! Cooperative kernels: work-groups that share arrays and wait at barriers.

use dotcompute::KernelDefinition;
use dotcompute::prelude::*;

/// Every cooperative kernel (for the emitters' validation tests).
pub fn all() -> Vec<&'static KernelDefinition> {
    vec![
        shared_wide_atomics::definition(),
        block_sum::definition(),
        group_scan::definition(),
        transpose_tiled::definition(),
        shared_out_of_bounds::definition(),
        tail_after_barrier::definition(),
        return_in_group_branch::definition(),
        block_reduce::definition(),
        histogram_shared::definition(),
        matmul_tiled_f32::definition(),
        matmul_naive_f32::definition(),
        matmul_register_tile::definition(),
        matmul_tiled_register_f32::definition(),
        private_across_barrier::definition(),
        private_out_of_bounds::definition(),
        return_then_uniform_loop::definition(),
        uniform_return_in_loop::definition(),
        dead_items_do_not_fault::definition(),
        group_census::definition(),
        shared_starts_zeroed::definition(),
    ]
}

/// One sum per group of 256 (or fewer) items: a tree in a shared array, halving the stride
/// in a loop whose barrier every item reaches. Items beyond the grid's end add nothing (their
/// slots stay zero).
#[kernel]
pub fn block_sum(x: &[f32], sums: &mut [f32]) {
    let mut tile = shared_array::<f32, 256>();
    let lid = local_id_x();
    tile[lid] = x[global_id_x()];
    barrier();
    let mut stride = group_size_x() / 2;
    while stride > 0 {
        if lid < stride {
            tile[lid] += tile[lid + stride];
        }
        barrier();
        stride /= 2;
    }
    if lid == 0 {
        sums[group_id_x()] = tile[0];
    }
}

/// An inclusive scan of each group (Hillis and Steele): `v` lives across a barrier, so each
/// item keeps its own.
#[kernel]
pub fn group_scan(x: &[u32], out: &mut [u32]) {
    let mut a = shared_array::<u32, 128>();
    let lid = local_id_x();
    a[lid] = x[global_id_x()];
    barrier();
    let mut offset = 1;
    while offset < group_size_x() {
        let v = if lid >= offset { a[lid - offset] } else { 0 };
        barrier();
        a[lid] += v;
        barrier();
        offset *= 2;
    }
    out[global_id_x()] = a[lid];
}

/// `t = aᵀ` for an `h x w` matrix through a 16 x 17 shared tile (16 x 16 groups; the grid is
/// rounded up to whole tiles and the kernel guards with the true sizes, so that items outside
/// the matrix still help).
#[kernel]
pub fn transpose_tiled(w: u64, h: u64, a: &[f32], t: &mut [f32]) {
    let mut tile = shared_array::<f32, 272>();
    let lx = local_id_x();
    let ly = local_id_y();
    let x = global_id_x();
    let y = global_id_y();
    let cols = w as usize;
    let rows = h as usize;
    if x < cols && y < rows {
        tile[ly * 17 + lx] = a[y * cols + x];
    }
    barrier();
    let ox = group_id_y() * 16 + lx;
    let oy = group_id_x() * 16 + ly;
    if ox < rows && oy < cols {
        t[oy * rows + ox] = tile[lx * 17 + ly];
    }
}

/// Reads one past the end of a shared array in the item with local id `bad`.
#[kernel]
pub fn shared_out_of_bounds(bad: u64, out: &mut [u32]) {
    let mut slots = shared_array::<u32, 64>();
    let lid = local_id_x();
    slots[lid] = lid as u32;
    barrier();
    let i = if lid as u64 == bad { 64 } else { lid };
    out[global_id_x()] = slots[i];
}

/// Items leave with `return` after the last barrier; the rest use what the group wrote.
#[kernel]
pub fn tail_after_barrier(out: &mut [u32]) {
    let mut seen = shared_array::<u32, 64>();
    let lid = local_id_x();
    seen[lid] = 1;
    barrier();
    if lid % 2 == 1 {
        return;
    }
    let mut count = 0u32;
    for k in 0..group_size_x() {
        count += seen[k];
    }
    out[global_id_x()] = count;
}

/// A `return` inside a statement that holds a barrier: the item also skips what follows
/// that statement.
#[kernel]
pub fn return_in_group_branch(out: &mut [u32]) {
    let mut seen = shared_array::<u32, 64>();
    let lid = local_id_x();
    seen[lid] = 1;
    if group_size_x() > 1 {
        barrier();
        if lid % 2 == 1 {
            return;
        }
        out[global_id()] = seen[lid + 1];
    }
    out[global_id()] += 10;
}

/// A sum in one launch per group: each item adds a contiguous chunk of `chunk` elements with
/// four accumulators (so that the additions overlap), then the group adds its items' sums by
/// a tree in shared memory and item 0 writes the group's sum. Groups of 256 items.
#[kernel]
pub fn block_reduce(chunk: u64, x: &[f32], sums: &mut [f32]) {
    let mut tile = shared_array::<f32, 256>();
    let lid = local_id_x();
    let start = global_id() * chunk as usize;
    let end = (start + chunk as usize).min(x.len());
    let mut s0 = 0.0f32;
    let mut s1 = 0.0f32;
    let mut s2 = 0.0f32;
    let mut s3 = 0.0f32;
    let mut k = start;
    while k + 4 <= end {
        s0 += x[k];
        s1 += x[k + 1];
        s2 += x[k + 2];
        s3 += x[k + 3];
        k += 4;
    }
    while k < end {
        s0 += x[k];
        k += 1;
    }
    tile[lid] = (s0 + s1) + (s2 + s3);
    barrier();
    let mut stride = group_size_x() / 2;
    while stride > 0 {
        if lid < stride {
            tile[lid] += tile[lid + stride];
        }
        barrier();
        stride /= 2;
    }
    if lid == 0 {
        sums[group_id_x()] = tile[0];
    }
}

/// 64-bit atomics on a shared array: each group adds its items' ids (`u64`) and takes the
/// least of their negations (`i64`), then item 0 adds the group's results to `sums`/`mins`.
#[kernel]
pub fn shared_wide_atomics(sums: &mut [u64], mins: &mut [i64]) {
    let mut sum = shared_array::<u64, 1>();
    let mut least = shared_array::<i64, 1>();
    let i = global_id();
    atomic_add(&mut sum[0], i as u64);
    atomic_min(&mut least[0], -(i as i64));
    barrier();
    if local_id_x() == 0 {
        atomic_add(&mut sums[0], sum[0]);
        atomic_min(&mut mins[0], least[0]);
    }
}

/// A histogram of `values` into `bins.len()` bins (at most 256): each item counts `per_item`
/// consecutive values into its group's shared bins with atomics; then the group adds its
/// bins to the global ones, one atomic per bin and group. Launch whole groups (a grid that is a
/// multiple of the group size): items beyond the grid would not add their share of the bins.
#[kernel]
pub fn histogram_shared(per_item: u64, values: &[u32], bins: &mut [u32]) {
    let mut counts = shared_array::<u32, 256>();
    let nbins = bins.len();
    let start = global_id() * per_item as usize;
    let end = (start + per_item as usize).min(values.len());
    for k in start..end {
        atomic_add(&mut counts[values[k] as usize % nbins], 1);
    }
    barrier();
    let mut b = local_id_x();
    while b < nbins {
        let c = counts[b];
        if c > 0 {
            atomic_add(&mut bins[b], c);
        }
        b += group_size_x();
    }
}

/// `c = a * b` for `n x n` `f32` matrices through 16 x 16 shared tiles: groups of 16 x 16,
/// a grid of `n x n` rounded up to whole tiles (items outside the matrix load zeros and store
/// nothing). Each item adds its products in the order of `k`, as the naive kernel does.
#[kernel]
pub fn matmul_tiled_f32(n: u64, a: &[f32], b: &[f32], c: &mut [f32]) {
    let mut ta = shared_array::<f32, 256>();
    let mut tb = shared_array::<f32, 256>();
    let size = n as usize;
    let tx = local_id_x();
    let ty = local_id_y();
    let col = global_id_x();
    let row = global_id_y();
    let mut sum = 0.0f32;
    for t in 0..(size + 15) / 16 {
        let ka = t * 16 + tx;
        let kb = t * 16 + ty;
        ta[ty * 16 + tx] = if row < size && ka < size {
            a[row * size + ka]
        } else {
            0.0
        };
        tb[ty * 16 + tx] = if kb < size && col < size {
            b[kb * size + col]
        } else {
            0.0
        };
        barrier();
        for k in 0..16 {
            sum += ta[ty * 16 + k] * tb[k * 16 + tx];
        }
        barrier();
    }
    if row < size && col < size {
        c[row * size + col] = sum;
    }
}

/// `c = a * b` for `n x n` `f32` matrices, one item per element (the grid is `n x n`).
#[kernel]
pub fn matmul_naive_f32(n: u64, a: &[f32], b: &[f32], c: &mut [f32]) {
    let size = n as usize;
    let col = global_id_x();
    let row = global_id_y();
    let mut sum = 0.0f32;
    for k in 0..size {
        sum += a[row * size + k] * b[k * size + col];
    }
    c[row * size + col] = sum;
}

/// `c = a * b` for `n x n` `f32` matrices (`n` a multiple of 4) with a register tile: item
/// `(x, y)` computes `c[y][4x .. 4x + 4]` in a private array.
#[kernel]
pub fn matmul_register_tile(n: u64, a: &[f32], b: &[f32], c: &mut [f32]) {
    let size = n as usize;
    let row = global_id_y();
    let col = global_id_x() * 4;
    let mut acc = [0.0f32; 4];
    for k in 0..size {
        let x = a[row * size + k];
        for j in 0..4 {
            acc[j] += x * b[k * size + col + j];
        }
    }
    for j in 0..4 {
        c[row * size + col + j] = acc[j];
    }
}

/// A private array that lives across a barrier: each item keeps three values, and the group
/// trades one of them through shared memory.
#[kernel]
pub fn private_across_barrier(out: &mut [u32]) {
    let mut slots = shared_array::<u32, 64>();
    let lid = local_id_x();
    let mut mine = [0u32; 3];
    for j in 0..3 {
        mine[j] = (lid * 10 + j) as u32;
    }
    slots[lid] = mine[2];
    barrier();
    let next = (lid + 1) % group_size_x();
    out[global_id_x()] = mine[0] + mine[1] + slots[next];
}

/// Reads one past the end of a private array in the item `bad`.
#[kernel]
pub fn private_out_of_bounds(bad: u64, out: &mut [u32]) {
    let acc = [1u32; 4];
    let i = if global_id() as u64 == bad { 4 } else { 0 };
    out[global_id()] = acc[i];
}

/// `c = a * b` for `n x n` `f32` matrices through shared tiles, with a 1 x 4 register tile
/// per item: groups of 16 x 16 items cover 16 rows and 64 columns of `c`, with a 16 x 16 tile
/// of `a` and a 16 x 64 tile of `b` in shared memory. The grid is `(n / 4, n)` rounded up
/// to whole groups.
#[kernel]
pub fn matmul_tiled_register_f32(n: u64, a: &[f32], b: &[f32], c: &mut [f32]) {
    let mut ta = shared_array::<f32, 256>();
    let mut tb = shared_array::<f32, 1024>();
    let size = n as usize;
    let tx = local_id_x();
    let ty = local_id_y();
    let row = group_id_y() * 16 + ty;
    let col0 = group_id_x() * 64;
    let mut acc = [0.0f32; 4];
    for t in 0..(size + 15) / 16 {
        let ka = t * 16 + tx;
        ta[ty * 16 + tx] = if row < size && ka < size {
            a[row * size + ka]
        } else {
            0.0
        };
        let kb = t * 16 + ty;
        for j in 0..4 {
            let cb = col0 + j * 16 + tx;
            tb[ty * 64 + j * 16 + tx] = if kb < size && cb < size {
                b[kb * size + cb]
            } else {
                0.0
            };
        }
        barrier();
        for k in 0..16 {
            let x = ta[ty * 16 + k];
            for j in 0..4 {
                acc[j] += x * tb[k * 64 + tx * 4 + j];
            }
        }
        barrier();
    }
    for j in 0..4 {
        let cc = col0 + tx * 4 + j;
        if row < size && cc < size {
            c[row * size + cc] = acc[j];
        }
    }
}

/// Item 0 of each group returns after the barrier; the others then run a loop whose bounds
/// are uniform (the CPU must not take them from item 0, which never computed them).
#[kernel]
pub fn return_then_uniform_loop(n: u32, out: &mut [u32]) {
    let mut seen = shared_array::<u32, 64>();
    seen[local_id_x()] = 1;
    barrier();
    if local_id_x() == 0 {
        return;
    }
    let mut k = 0u32;
    let mut total = 0u32;
    while k < n {
        total += seen[k as usize % 64];
        k += 1;
    }
    out[global_id()] = total;
}

/// Leaves a loop by a `return` under a uniform condition: every item of the group leaves
/// together.
#[kernel]
pub fn uniform_return_in_loop(n: u32, x: &[u32], out: &mut [u32]) {
    let mut t = shared_array::<u32, 64>();
    t[local_id_x()] = x[global_id()];
    barrier();
    let mut s = 0u32;
    loop {
        if s >= n {
            return;
        }
        out[global_id()] += t[(s % 64) as usize];
        s += 1;
    }
}

/// Every item returns (by a condition the analysis cannot call uniform) before a division
/// by zero that depends only on a parameter: no live item divides, so nothing faults.
#[kernel]
pub fn dead_items_do_not_fault(d: u32, out: &mut [u32]) {
    let mut t = shared_array::<u32, 64>();
    t[local_id_x()] = 1;
    barrier();
    if global_id() < 1_000_000 {
        return;
    }
    let q = 1000 / d;
    out[global_id()] = q + t[local_id_x()];
}

/// 3-D groups: each item writes the sum of the local ids its group's items in the grid wrote
/// to a shared array, and its group's linear number (from `group_id_*` and `num_groups_*`).
#[kernel]
pub fn group_census(out: &mut [u64]) {
    let mut ids = shared_array::<u64, 64>();
    let lid = local_id_x() + group_size_x() * (local_id_y() + group_size_y() * local_id_z());
    ids[lid] = lid as u64;
    barrier();
    let items = group_size_x() * group_size_y() * group_size_z();
    let mut total = 0u64;
    for k in 0..items {
        total += ids[k];
    }
    let at = global_id_x() + global_size_x() * (global_id_y() + global_size_y() * global_id_z());
    let group = group_id_x() + num_groups_x() * (group_id_y() + num_groups_y() * group_id_z());
    out[at] = total * 1_000_000 + group as u64;
}

/// Shared arrays start zeroed in every group: each item counts the nonzero elements of its
/// share of three arrays (plain `u32`, atomic `i32`, plain `u64`), then the group fills them
/// with other values, which a later group given the same memory would see if it were not
/// zeroed again.
#[kernel]
pub fn shared_starts_zeroed(nonzero: &mut [u32]) {
    let mut words = shared_array::<u32, 300>();
    let mut counters = shared_array::<i32, 300>();
    let mut wide = shared_array::<u64, 300>();
    let mut seen = 0u32;
    let mut k = local_id_x();
    while k < 300 {
        seen += (words[k] != 0) as u32 + (counters[k] != 0) as u32 + (wide[k] != 0) as u32;
        k += group_size_x();
    }
    barrier();
    k = local_id_x();
    while k < 300 {
        words[k] = 0xdead_beef;
        atomic_max(&mut counters[k], -5 - k as i32);
        wide[k] = u64::MAX - k as u64;
        k += group_size_x();
    }
    nonzero[global_id_x()] = seen;
}
