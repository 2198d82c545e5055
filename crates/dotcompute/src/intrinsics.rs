//! The intrinsics of the kernel language: work-item ids, grid sizes, atomics, the
//! work-group's barrier and shared arrays, and subgroup operations.
//!
//! Inside a `#[kernel]` the macro gives these their meaning on every backend. Called from
//! ordinary Rust they behave as in a grid of one work item: ids are 0, sizes are 1, and an
//! atomic is a plain read-modify-write (the `&mut` target is already exclusive). That is also
//! what lets rustc type-check kernels as ordinary functions. A subgroup is then one item.

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

/// The number types subgroup sums, minima, maxima and scans work on (the kernel language's
/// integers and floats).
pub trait SubgroupNumber: Copy + sealed::Sealed {
    /// Zero: what the exclusive sum of lane 0 is.
    const ZERO: Self;
}

mod sealed {
    /// Only the kernel language's number types are [`super::SubgroupNumber`]s.
    pub trait Sealed {}
}

macro_rules! subgroup_numbers {
    ($($t:ty = $zero:expr),* $(,)?) => {$(
        impl sealed::Sealed for $t {}
        impl SubgroupNumber for $t {
            const ZERO: Self = $zero;
        }
    )*};
}
subgroup_numbers!(
    i32 = 0,
    u32 = 0,
    i64 = 0,
    u64 = 0,
    isize = 0,
    usize = 0,
    f32 = 0.0,
    f64 = 0.0
);

/// Items per subgroup on the device running the kernel: a power of two (32 on NVIDIA GPUs,
/// the driver's choice on wgpu devices, 16 on the CPU unless `CpuOptions::subgroup_size`
/// says otherwise). Subgroups are runs of this many consecutive items of a group, by linear
/// local id (`local_id_x + group_size_x * (local_id_y + group_size_y * local_id_z)`).
pub fn subgroup_size() -> usize {
    1
}

/// This item's lane in its subgroup: its linear local id modulo [`subgroup_size`].
pub fn subgroup_lane() -> usize {
    0
}

/// The sum of `value` over the subgroup, in every lane (wrapping for integers).
///
/// Like [`barrier`], every item of the group must reach a subgroup operation, so the rules
/// of barriers apply (uniform control flow, no earlier `return`), and its result must be
/// bound: `let s = subgroup_add(x);`. Items beyond the grid and items that returned count as
/// 0 here (each operation's identity: see the crate docs). Floats are added by a fixed
/// butterfly (lane l adds lane l ^ 1, then l ^ 2, ...), so every backend gives the same bits
/// for the same subgroup size. Kernels using subgroups launch groups whose size is a
/// multiple of the device's subgroup size (`Capabilities::subgroup_size`).
pub fn subgroup_add<T: SubgroupNumber>(value: T) -> T {
    value
}

/// The least `value` of the subgroup, in every lane (floats by the language's `min`).
pub fn subgroup_min<T: SubgroupNumber>(value: T) -> T {
    value
}

/// The greatest `value` of the subgroup, in every lane (floats by the language's `max`).
pub fn subgroup_max<T: SubgroupNumber>(value: T) -> T {
    value
}

/// The sum of `value` over lanes `0..=subgroup_lane()` (floats in the order of a
/// Hillis-Steele scan: lane l adds lane l - 1, then l - 2, l - 4, ...).
pub fn subgroup_inclusive_add<T: SubgroupNumber>(value: T) -> T {
    value
}

/// The sum of `value` over lanes `0..subgroup_lane()` (0 in lane 0): the inclusive sum of
/// the lane below.
pub fn subgroup_exclusive_add<T: SubgroupNumber>(_value: T) -> T {
    T::ZERO
}

/// `value` of lane `lane % subgroup_size()`, for every item (the same lane everywhere
/// broadcasts it).
pub fn subgroup_shuffle<T: Copy>(value: T, _lane: usize) -> T {
    value
}

/// `value` of lane `lane % subgroup_size()`, meant for a lane that every item names (a
/// broadcast); the same operation as [`subgroup_shuffle`].
pub fn subgroup_broadcast<T: Copy>(value: T, _lane: usize) -> T {
    value
}

/// `value` of lane `subgroup_lane() ^ (mask % subgroup_size())`: the exchange pattern of
/// butterfly reductions.
pub fn subgroup_shuffle_xor<T: Copy>(value: T, _mask: usize) -> T {
    value
}

/// Whether `value` is true in any lane of the subgroup.
pub fn subgroup_any(value: bool) -> bool {
    value
}

/// Whether `value` is true in every lane of the subgroup.
pub fn subgroup_all(value: bool) -> bool {
    value
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
