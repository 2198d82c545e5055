//! The intrinsics of the kernel language: work-item ids, grid sizes, atomics, the
//! work-group's barrier and shared arrays, and subgroup operations.
//!
//! Inside a `#[kernel]` the macro gives these their meaning on every backend. Called from
//! ordinary Rust they behave as in a grid of one work item: ids are 0, sizes are 1, and an
//! atomic is a plain read-modify-write (the `&mut` target is already exclusive). That is also
//! what lets rustc type-check kernels as ordinary functions. A subgroup is then one item.

/// The number types subgroup sums, minima, maxima and scans work on (the kernel language's
/// integers and floats).
pub trait SubgroupNumber: Copy + sealed::Sealed {
    /// The identity of addition, what the exclusive sum of lane 0 is: 0, and `-0.0` for
    /// floats (`-0.0 + x` is `x` for every `x`, `+0.0` included).
    const ADD_IDENTITY: Self;
}

mod sealed {
    /// Only the kernel language's number types are [`super::SubgroupNumber`]s.
    pub trait Sealed {}
}

macro_rules! subgroup_numbers {
    ($($t:ty = $zero:expr),* $(,)?) => {$(
        impl sealed::Sealed for $t {}
        impl SubgroupNumber for $t {
            const ADD_IDENTITY: Self = $zero;
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
    f32 = -0.0,
    f64 = -0.0
);

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

/// Defines each intrinsic's host stand-in from the table (see
/// `dotcompute_ir::kernel_intrinsics!`, where the macro finds the same names).
macro_rules! host_stand_ins {
    ($(
        $(#[$meta:meta])*
        fn $name:ident $([$($generics:tt)*])? ($($params:tt)*) $(-> $ret:ty)? $body:block
            => $lowering:expr;
    )*) => {
        $(
            $(#[$meta])*
            pub fn $name $(<$($generics)*>)? ($($params)*) $(-> $ret)? $body
        )*
    };
}

dotcompute_ir::kernel_intrinsics!(host_stand_ins);
