//! The kernel language's intrinsics, in one table: each entry is the host stand-in (the
//! function rustc type-checks a kernel against, which also runs when a kernel body is called
//! as plain Rust: a grid of one work item) and what `#[kernel]` lowers a call of it to.
//!
//! [`kernel_intrinsics!`](crate::kernel_intrinsics) hands the table to a macro: the facade
//! (`dotcompute::kernel`) defines the stand-ins from it, and this module the lookup
//! [`intrinsic`] that the macro uses, so that the two cannot drift apart. The stand-ins' types
//! (`SubgroupNumber`, `AtomicValue`, ...) are the facade's.

use crate::program::{AtomicOp, Axis, Builtin, SubgroupOp};

/// What a call of an intrinsic lowers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intrinsic {
    /// An id or size: [`crate::ExprKind::Builtin`].
    Builtin(Builtin),
    /// `atomic_*(&mut place, ...)`: [`crate::ExprKind::Atomic`] or a shared array's atomic.
    Atomic(AtomicOp),
    /// `let s = subgroup_*(...);`: [`crate::Stmt::Subgroup`].
    Subgroup(SubgroupOp),
    /// `barrier()`: [`crate::Stmt::Barrier`].
    Barrier,
    /// `let mut a = shared_array::<T, N>();`: an entry of [`crate::Kernel::shared`].
    SharedArray,
}

/// Calls `$callback!` with the table of intrinsics: entries
/// `/// docs fn name [generics] (params) -> ret { host body } => lowering;`, where the
/// lowering is an [`Intrinsic`] expression (written with the names this module imports).
#[macro_export]
macro_rules! kernel_intrinsics {
    ($callback:ident) => {
        $callback! {
            /// This work item's id along x (the same as [`global_id_x`]).
            fn global_id() -> usize { 0 } => Intrinsic::Builtin(Builtin::GlobalId(Axis::X));
            /// This work item's id along x.
            fn global_id_x() -> usize { 0 } => Intrinsic::Builtin(Builtin::GlobalId(Axis::X));
            /// This work item's id along y.
            fn global_id_y() -> usize { 0 } => Intrinsic::Builtin(Builtin::GlobalId(Axis::Y));
            /// This work item's id along z.
            fn global_id_z() -> usize { 0 } => Intrinsic::Builtin(Builtin::GlobalId(Axis::Z));
            /// The grid's size along x (the same as [`global_size_x`]).
            fn global_size() -> usize { 1 } => Intrinsic::Builtin(Builtin::GlobalSize(Axis::X));
            /// The grid's size along x.
            fn global_size_x() -> usize { 1 } => Intrinsic::Builtin(Builtin::GlobalSize(Axis::X));
            /// The grid's size along y.
            fn global_size_y() -> usize { 1 } => Intrinsic::Builtin(Builtin::GlobalSize(Axis::Y));
            /// The grid's size along z.
            fn global_size_z() -> usize { 1 } => Intrinsic::Builtin(Builtin::GlobalSize(Axis::Z));
            /// The id of this work item's group along x (`global_id_x() / group_size_x()`).
            fn group_id_x() -> usize { 0 } => Intrinsic::Builtin(Builtin::GroupId(Axis::X));
            /// The id of this work item's group along y.
            fn group_id_y() -> usize { 0 } => Intrinsic::Builtin(Builtin::GroupId(Axis::Y));
            /// The id of this work item's group along z.
            fn group_id_z() -> usize { 0 } => Intrinsic::Builtin(Builtin::GroupId(Axis::Z));
            /// This work item's id within its group along x (`global_id_x() % group_size_x()`).
            fn local_id_x() -> usize { 0 } => Intrinsic::Builtin(Builtin::LocalId(Axis::X));
            /// This work item's id within its group along y.
            fn local_id_y() -> usize { 0 } => Intrinsic::Builtin(Builtin::LocalId(Axis::Y));
            /// This work item's id within its group along z.
            fn local_id_z() -> usize { 0 } => Intrinsic::Builtin(Builtin::LocalId(Axis::Z));
            /// Work items per group along x (set with `Grid::with_group_size`, else the
            /// backend's choice).
            fn group_size_x() -> usize { 1 } => Intrinsic::Builtin(Builtin::GroupSize(Axis::X));
            /// Work items per group along y.
            fn group_size_y() -> usize { 1 } => Intrinsic::Builtin(Builtin::GroupSize(Axis::Y));
            /// Work items per group along z.
            fn group_size_z() -> usize { 1 } => Intrinsic::Builtin(Builtin::GroupSize(Axis::Z));
            /// Groups along x (the grid's size divided by the group's, rounded up).
            fn num_groups_x() -> usize { 1 } => Intrinsic::Builtin(Builtin::NumGroups(Axis::X));
            /// Groups along y.
            fn num_groups_y() -> usize { 1 } => Intrinsic::Builtin(Builtin::NumGroups(Axis::Y));
            /// Groups along z.
            fn num_groups_z() -> usize { 1 } => Intrinsic::Builtin(Builtin::NumGroups(Axis::Z));

            /// Waits until every work item of the group has reached this barrier; the group's
            /// writes to shared arrays and buffers before it are then visible to the whole
            /// group.
            ///
            /// Every item of a group must reach each barrier: `#[kernel]` rejects a barrier
            /// under a condition or in a loop that is not uniform across the group, after a
            /// `return`, or in a loop left with `break`/`continue`. Items beyond the grid's end
            /// (when the grid is not a multiple of the group size) run no statement but take
            /// part in every barrier.
            fn barrier() {} => Intrinsic::Barrier;
            /// A work-group shared array of `N` elements of `T`: one per group, zeroed when
            /// the group starts, seen by every item of the group. Declare it at the top of a
            /// kernel body, `let mut tile = shared_array::<f32, 256>();`, and index it like a
            /// buffer (accesses are bounds checked unless the kernel is `unchecked`). Outside a
            /// kernel this is a zeroed array.
            fn shared_array[T: Copy + Default, const N: usize]() -> [T; N] {
                [T::default(); N]
            } => Intrinsic::SharedArray;

            /// Atomically adds `value` to a buffer element; returns the old value.
            /// Write `atomic_add(&mut buffer[i], value)`.
            fn atomic_add[T: AtomicValue](target: &mut T, value: T) -> T {
                let new = target.atomic_sum(value);
                ::std::mem::replace(target, new)
            } => Intrinsic::Atomic(AtomicOp::Add);
            /// Atomically subtracts (wrapping); returns the old value.
            fn atomic_sub[T: AtomicInteger](target: &mut T, value: T) -> T {
                let new = target.atomic_difference(value);
                ::std::mem::replace(target, new)
            } => Intrinsic::Atomic(AtomicOp::Sub);
            /// Atomically stores the minimum; returns the old value.
            fn atomic_min[T: AtomicInteger](target: &mut T, value: T) -> T {
                let new = (*target).min(value);
                ::std::mem::replace(target, new)
            } => Intrinsic::Atomic(AtomicOp::Min);
            /// Atomically stores the maximum; returns the old value.
            fn atomic_max[T: AtomicInteger](target: &mut T, value: T) -> T {
                let new = (*target).max(value);
                ::std::mem::replace(target, new)
            } => Intrinsic::Atomic(AtomicOp::Max);
            /// Atomic bitwise and; returns the old value.
            fn atomic_and[T: AtomicInteger](target: &mut T, value: T) -> T {
                let new = target.bit_and(value);
                ::std::mem::replace(target, new)
            } => Intrinsic::Atomic(AtomicOp::And);
            /// Atomic bitwise or; returns the old value.
            fn atomic_or[T: AtomicInteger](target: &mut T, value: T) -> T {
                let new = target.bit_or(value);
                ::std::mem::replace(target, new)
            } => Intrinsic::Atomic(AtomicOp::Or);
            /// Atomic bitwise xor; returns the old value.
            fn atomic_xor[T: AtomicInteger](target: &mut T, value: T) -> T {
                let new = target.bit_xor(value);
                ::std::mem::replace(target, new)
            } => Intrinsic::Atomic(AtomicOp::Xor);
            /// Atomically replaces the element; returns the old value.
            fn atomic_exchange[T: AtomicValue](target: &mut T, value: T) -> T {
                ::std::mem::replace(target, value)
            } => Intrinsic::Atomic(AtomicOp::Exchange);
            /// Atomically stores `new` if the element equals `current`; returns the old value.
            fn atomic_compare_exchange[T: AtomicInteger](target: &mut T, current: T, new: T) -> T {
                let old = *target;
                if old == current {
                    *target = new;
                }
                old
            } => Intrinsic::Atomic(AtomicOp::CompareExchange);

            /// Items per subgroup on the device running the kernel: a power of two (32 on
            /// NVIDIA GPUs, the driver's choice on wgpu devices, 16 on the CPU unless
            /// `CpuOptions::subgroup_size` says otherwise). Subgroups are runs of this many
            /// consecutive items of a group, by linear local id
            /// (`local_id_x + group_size_x * (local_id_y + group_size_y * local_id_z)`).
            fn subgroup_size() -> usize { 1 } => Intrinsic::Builtin(Builtin::SubgroupSize);
            /// This item's lane in its subgroup: its linear local id modulo
            /// [`subgroup_size`].
            fn subgroup_lane() -> usize { 0 } => Intrinsic::Builtin(Builtin::SubgroupLane);
            /// The sum of `value` over the subgroup, in every lane (wrapping for integers).
            ///
            /// Like [`barrier`], every item of the group must reach a subgroup operation, so
            /// the rules of barriers apply (uniform control flow, no earlier `return`), and its
            /// result must be bound: `let s = subgroup_add(x);`. Items beyond the grid count
            /// as 0 here, `-0.0` for floats (each operation's identity: see the crate docs). Floats are added by
            /// a fixed butterfly (lane l adds lane l ^ 1, then l ^ 2, ...), so every backend
            /// gives the same bits for the same subgroup size. Kernels using subgroups launch
            /// groups whose size is a multiple of the device's subgroup size
            /// (`Capabilities::subgroup_size`).
            fn subgroup_add[T: SubgroupNumber](value: T) -> T { value }
                => Intrinsic::Subgroup(SubgroupOp::Add);
            /// The least `value` of the subgroup, in every lane (floats by the language's
            /// `min`).
            fn subgroup_min[T: SubgroupNumber](value: T) -> T { value }
                => Intrinsic::Subgroup(SubgroupOp::Min);
            /// The greatest `value` of the subgroup, in every lane (floats by the language's
            /// `max`).
            fn subgroup_max[T: SubgroupNumber](value: T) -> T { value }
                => Intrinsic::Subgroup(SubgroupOp::Max);
            /// The sum of `value` over lanes `0..=subgroup_lane()` (floats in the order of a
            /// Hillis-Steele scan: lane l adds lane l - 1, then l - 2, l - 4, ...).
            fn subgroup_inclusive_add[T: SubgroupNumber](value: T) -> T { value }
                => Intrinsic::Subgroup(SubgroupOp::InclusiveAdd);
            /// The sum of `value` over lanes `0..subgroup_lane()` (0 in lane 0): the inclusive
            /// sum of the lane below.
            fn subgroup_exclusive_add[T: SubgroupNumber](value: T) -> T {
                let _ = value;
                T::ADD_IDENTITY
            } => Intrinsic::Subgroup(SubgroupOp::ExclusiveAdd);
            /// `value` of lane `lane % subgroup_size()`, for every item (the same lane
            /// everywhere broadcasts it).
            fn subgroup_shuffle[T: Copy](value: T, lane: usize) -> T {
                let _ = lane;
                value
            } => Intrinsic::Subgroup(SubgroupOp::Shuffle);
            /// `value` of lane `lane % subgroup_size()`, meant for a lane that every item
            /// names (a broadcast); the same operation as [`subgroup_shuffle`].
            fn subgroup_broadcast[T: Copy](value: T, lane: usize) -> T {
                let _ = lane;
                value
            } => Intrinsic::Subgroup(SubgroupOp::Shuffle);
            /// `value` of lane `subgroup_lane() ^ (mask % subgroup_size())`: the exchange
            /// pattern of butterfly reductions.
            fn subgroup_shuffle_xor[T: Copy](value: T, mask: usize) -> T {
                let _ = mask;
                value
            } => Intrinsic::Subgroup(SubgroupOp::ShuffleXor);
            /// Whether `value` is true in any lane of the subgroup.
            fn subgroup_any(value: bool) -> bool { value } => Intrinsic::Subgroup(SubgroupOp::Any);
            /// Whether `value` is true in every lane of the subgroup.
            fn subgroup_all(value: bool) -> bool { value } => Intrinsic::Subgroup(SubgroupOp::All);
        }
    };
}

/// Builds [`intrinsic`] from the table (the stand-ins are the facade's business).
macro_rules! lookup {
    ($(
        $(#[$meta:meta])*
        fn $name:ident $([$($generics:tt)*])? ($($params:tt)*) $(-> $ret:ty)? $body:block
            => $lowering:expr;
    )*) => {
        /// The intrinsic `name` names, if any.
        pub fn intrinsic(name: &str) -> Option<Intrinsic> {
            match name {
                $(stringify!($name) => Some($lowering),)*
                _ => None,
            }
        }

        /// Every intrinsic's name, in the table's order.
        pub const NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}

kernel_intrinsics!(lookup);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_named_as_in_the_table() {
        for name in NAMES {
            match intrinsic(name) {
                Some(Intrinsic::Atomic(op)) => assert_eq!(op.intrinsic_name(), *name),
                Some(Intrinsic::Subgroup(op)) if *name != "subgroup_broadcast" => {
                    assert_eq!(op.intrinsic_name(), *name)
                }
                Some(_) => {}
                None => panic!("{name} is in NAMES but not found"),
            }
        }
        assert_eq!(intrinsic("global_id_w"), None);
        assert_eq!(
            intrinsic("subgroup_broadcast"),
            Some(Intrinsic::Subgroup(SubgroupOp::Shuffle))
        );
    }
}
