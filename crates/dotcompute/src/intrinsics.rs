//! The intrinsics of the kernel language: work-item ids, grid sizes, atomics, and the
//! work-group's barrier and shared arrays.
//!
//! Inside a `#[kernel]` the macro gives these their meaning on every backend. Called from
//! ordinary Rust they behave as in a grid of one work item: ids are 0, sizes are 1, and an
//! atomic is a plain read-modify-write (the `&mut` target is already exclusive). That is also
//! what lets rustc type-check kernels as ordinary functions.

/// This work item's id along x (the same as [`global_id_x`]).
pub fn global_id() -> usize {
    0
}
/// This work item's id along x.
pub fn global_id_x() -> usize {
    0
}
/// This work item's id along y.
pub fn global_id_y() -> usize {
    0
}
/// This work item's id along z.
pub fn global_id_z() -> usize {
    0
}
/// The grid's size along x (the same as [`global_size_x`]).
pub fn global_size() -> usize {
    1
}
/// The grid's size along x.
pub fn global_size_x() -> usize {
    1
}
/// The grid's size along y.
pub fn global_size_y() -> usize {
    1
}
/// The grid's size along z.
pub fn global_size_z() -> usize {
    1
}
/// The id of this work item's group along x (`global_id_x() / group_size_x()`).
pub fn group_id_x() -> usize {
    0
}
/// The id of this work item's group along y.
pub fn group_id_y() -> usize {
    0
}
/// The id of this work item's group along z.
pub fn group_id_z() -> usize {
    0
}
/// This work item's id within its group along x (`global_id_x() % group_size_x()`).
pub fn local_id_x() -> usize {
    0
}
/// This work item's id within its group along y.
pub fn local_id_y() -> usize {
    0
}
/// This work item's id within its group along z.
pub fn local_id_z() -> usize {
    0
}
/// Work items per group along x (set with `Grid::with_group_size`, else the backend's choice).
pub fn group_size_x() -> usize {
    1
}
/// Work items per group along y.
pub fn group_size_y() -> usize {
    1
}
/// Work items per group along z.
pub fn group_size_z() -> usize {
    1
}

/// Groups along x (the grid's size divided by the group's, rounded up).
pub fn num_groups_x() -> usize {
    1
}
/// Groups along y.
pub fn num_groups_y() -> usize {
    1
}
/// Groups along z.
pub fn num_groups_z() -> usize {
    1
}

/// Waits until every work item of the group has reached this barrier; the group's writes
/// to shared arrays and buffers before it are then visible to the whole group.
///
/// Every item of a group must reach each barrier: `#[kernel]` rejects a barrier under a
/// condition or in a loop that is not uniform across the group, after a `return`, or in a
/// loop left with `break`/`continue`. Items beyond the grid's end (when the grid is not a
/// multiple of the group size) run no statement but take part in every barrier.
pub fn barrier() {}

/// A work-group shared array of `N` elements of `T`: one per group, zeroed when the group
/// starts, seen by every item of the group. Declare it at the top of a kernel body,
/// `let mut tile = shared_array::<f32, 256>();`, and index it like a buffer (accesses are
/// bounds checked unless the kernel is `unchecked`). Outside a kernel this is a zeroed array.
pub fn shared_array<T: Copy + Default, const N: usize>() -> [T; N] {
    [T::default(); N]
}

/// Element types with `atomic_add` and `atomic_exchange`: the six kernel scalar types.
pub trait AtomicValue: Copy {
    /// `self + v`, wrapping for integers.
    fn atomic_sum(self, v: Self) -> Self;
}

/// Integer element types, which have every atomic operation.
pub trait AtomicInteger: AtomicValue + Ord {
    /// `self - v`, wrapping.
    fn atomic_difference(self, v: Self) -> Self;
    /// Bitwise and.
    fn bit_and(self, v: Self) -> Self;
    /// Bitwise or.
    fn bit_or(self, v: Self) -> Self;
    /// Bitwise xor.
    fn bit_xor(self, v: Self) -> Self;
}

macro_rules! atomic_values {
    (ints: $($i:ty),*; floats: $($f:ty),*) => {
        $(
            impl AtomicValue for $i {
                fn atomic_sum(self, v: $i) -> $i { self.wrapping_add(v) }
            }
            impl AtomicInteger for $i {
                fn atomic_difference(self, v: $i) -> $i { self.wrapping_sub(v) }
                fn bit_and(self, v: $i) -> $i { self & v }
                fn bit_or(self, v: $i) -> $i { self | v }
                fn bit_xor(self, v: $i) -> $i { self ^ v }
            }
        )*
        $(
            impl AtomicValue for $f {
                fn atomic_sum(self, v: $f) -> $f { self + v }
            }
        )*
    };
}

atomic_values!(ints: i32, u32, i64, u64; floats: f32, f64);

fn update<T: Copy>(target: &mut T, new: T) -> T {
    std::mem::replace(target, new)
}

/// Atomically adds `value` to a buffer element; returns the old value.
/// Write `atomic_add(&mut buffer[i], value)`.
pub fn atomic_add<T: AtomicValue>(target: &mut T, value: T) -> T {
    let new = target.atomic_sum(value);
    update(target, new)
}
/// Atomically subtracts (wrapping); returns the old value.
pub fn atomic_sub<T: AtomicInteger>(target: &mut T, value: T) -> T {
    let new = target.atomic_difference(value);
    update(target, new)
}
/// Atomically stores the minimum; returns the old value.
pub fn atomic_min<T: AtomicInteger>(target: &mut T, value: T) -> T {
    let new = (*target).min(value);
    update(target, new)
}
/// Atomically stores the maximum; returns the old value.
pub fn atomic_max<T: AtomicInteger>(target: &mut T, value: T) -> T {
    let new = (*target).max(value);
    update(target, new)
}
/// Atomic bitwise and; returns the old value.
pub fn atomic_and<T: AtomicInteger>(target: &mut T, value: T) -> T {
    let new = target.bit_and(value);
    update(target, new)
}
/// Atomic bitwise or; returns the old value.
pub fn atomic_or<T: AtomicInteger>(target: &mut T, value: T) -> T {
    let new = target.bit_or(value);
    update(target, new)
}
/// Atomic bitwise xor; returns the old value.
pub fn atomic_xor<T: AtomicInteger>(target: &mut T, value: T) -> T {
    let new = target.bit_xor(value);
    update(target, new)
}
/// Atomically replaces the element; returns the old value.
pub fn atomic_exchange<T: AtomicValue>(target: &mut T, value: T) -> T {
    update(target, value)
}
/// Atomically stores `new` if the element equals `current`; returns the old value.
pub fn atomic_compare_exchange<T: AtomicInteger>(target: &mut T, current: T, new: T) -> T {
    let old = *target;
    if old == current {
        *target = new;
    }
    old
}
