//! # DotCompute
//!
//! Write a compute kernel once, as a plain Rust function, and run it on every core of the CPU
//! with SIMD (and, as their backends land, on GPUs), through one typed call.
//!
//! ```
//! use dotcompute::prelude::*;
//!
//! #[kernel]
//! fn saxpy(alpha: f32, x: &[f32], y: &mut [f32]) {
//!     let i = global_id();
//!     y[i] = alpha * x[i] + y[i];
//! }
//!
//! # fn main() -> Result<(), dotcompute::Error> {
//! let dc = ComputeService::new()?;
//! let acc = dc.best_accelerator()?;
//! let x = dc.buffer_from_slice(&[1.0f32, 2.0, 3.0, 4.0])?;
//! let mut y = dc.buffer_from_slice(&[10.0f32; 4])?;
//! saxpy::launch(&acc, x.len(), 2.0, &x, &mut y)?;
//! assert_eq!(y.to_vec()?, [12.0, 14.0, 16.0, 18.0]);
//! # Ok(())
//! # }
//! ```
//!
//! `#[kernel]` turns the function into a handle (`saxpy`) with a typed `launch`: rustc checks
//! the arguments, and Rust's borrow rules keep one buffer from being passed as both `&` and
//! `&mut`. The body runs once per work item of the grid (here `x.len()` items), each with its
//! own [`global_id()`](kernel::global_id).
//!
//! ## The kernel language
//!
//! A subset of Rust that every backend can run with the same meaning:
//!
//! - **Parameters**: `&[T]` (read-only buffer), `&mut [T]` (read-write buffer), `T` by value,
//!   where `T` is `f32 f64 i32 u32 i64 u64` (scalars may also be `usize`/`isize`, which are
//!   64-bit).
//! - **Ids**: [`global_id()`](kernel::global_id), `global_id_x/y/z()`, `global_size_x/y/z()`,
//!   and the group intrinsics `group_id_*`, `local_id_*`, `group_size_*`, `num_groups_*`;
//!   grids are 1-, 2- or 3-D and ids are 64-bit (`usize`). A grid's work-group size is set
//!   with [`Grid::with_group_size`] (else 64 x 1 x 1).
//! - **Work-groups** (see [Cooperative kernels](#cooperative-kernels)):
//!   [`shared_array::<T, N>()`](kernel::shared_array) declares an array one group shares
//!   (atomics work on its elements too), [`barrier()`](kernel::barrier) waits for the whole
//!   group, and subgroup operations ([`subgroup_add`](kernel::subgroup_add), `_min`, `_max`,
//!   `_inclusive_add`, `_exclusive_add`, `_broadcast`, `_shuffle`, `_shuffle_xor`, `_any`,
//!   `_all`, with `subgroup_size()` and `subgroup_lane()`) combine values across a subgroup
//!   (see [Subgroups](#subgroups)).
//! - **Arrays**: `let mut acc = [0.0f32; 4];` is an array of each work item (a literal length;
//!   indexed like a buffer and bounds checked), for register tiles.
//! - **Statements**: `let` / `let mut` (typed or inferred), assignment and compound assignment,
//!   `if` / `else if` / `else` (also as a value: `let v = if c { a } else { b };`),
//!   `for i in a..b` (also `..=` and `(a..b).step_by(k)`), `while`, `loop`, `break`,
//!   `continue`, early `return`, `panic!("...")`, `assert!(cond)`.
//! - **Expressions**: arithmetic, bitwise and shift operators, comparisons, `&&` `||` `!`, `as`
//!   casts, literals with or without suffixes, `buf[i]`, `buf.len()`, the float methods
//!   (`sqrt exp exp2 ln log2 log10 sin cos tan tanh sinh cosh asin acos atan atan2 powf powi abs
//!   min max clamp floor ceil round trunc mul_add hypot cbrt recip copysign exp_m1 ln_1p is_nan is_finite
//!   is_infinite to_bits`, `f32::from_bits` / `f64::from_bits`, and `let (s, c) = x.sin_cos();`), integer `min max abs clamp count_ones leading_zeros trailing_zeros
//!   rotate_left rotate_right wrapping_*`, and constants such as `std::f32::consts::PI` or
//!   `u32::MAX`.
//! - **Helpers**: calls to functions marked [`#[kernel_fn]`](kernel_fn) (scalars in, one scalar
//!   out), which must be in scope where the kernel is defined.
//! - **Atomics**: [`atomic_add(&mut buf[i], v)`](kernel::atomic_add) and friends, on 32- and
//!   64-bit integers (`atomic_add` and `atomic_exchange` also on floats).
//!
//! Anything else is a compile error at the construct that says what to write instead; there is
//! never a silent fallback.
//!
//! **Semantics are Rust's, in a release build**, on every backend: integer `+ - *` wrap, shift
//! amounts are masked, `as` casts saturate, `round` rounds half away from zero, float `min`/`max`
//! ignore NaN. Where Rust would panic (an index out of bounds, integer division by zero,
//! `MIN / -1`, `clamp` with bad bounds, `panic!`), the launch returns an [`Error`] naming the
//! kernel, the parameter and the index; the process, the thread pool and every buffer survive.
//! `#[kernel(unchecked)]` removes bounds checks and makes `launch` an `unsafe fn`.
//!
//! **Math functions are one library on every backend.** `x.exp()`, `x.ln()`, `x.powi(n)` and
//! their kin are not the device's functions (Vulkan lets drivers be thousands of ulp off and
//! has no `f64` ones at all): the kernel calls the functions of `dotcompute-math`, written in
//! this language and compiled into the kernel, within 1 ulp of the exact result, with C99's
//! special values; every backend runs the same operations in the same order, so that devices
//! whose `+ - * /` and `sqrt` round correctly and which keep subnormals compute the same bits:
//! the CPU, CUDA (its precise flags), and Vulkan devices such as lavapipe (the wgpu backend
//! marks every float operation exact there; Metal and DX12 get plain WGSL). The library has
//! every transcendental function of the language, for `f32` and `f64`. `#[kernel(fast_math)]`
//! opts a kernel into the devices' own functions (faster on GPUs, each with its vendor's error
//! bounds; Vulkan devices then refuse `f64` ones).
//!
//! **Work items must not race**: an element of a `&mut [T]` buffer that one work item writes
//! must not be read or written by another during the launch, except through atomics. GPUs
//! leave the result of a race unspecified; on the CPU the accesses are plain loads and stores
//! (so that loops vectorise), and a race there is a data race in Rust's sense, with undefined
//! behaviour. This is the one rule of the language that the compiler does not check.
//!
//! ```
//! use dotcompute::prelude::*;
//!
//! #[kernel_fn]
//! fn escape_time(cx: f64, cy: f64, max_iter: u32) -> u32 {
//!     let mut x = 0.0;
//!     let mut y = 0.0;
//!     let mut i = 0;
//!     while i < max_iter {
//!         if x * x + y * y > 4.0 {
//!             break;
//!         }
//!         let t = x * x - y * y + cx;
//!         y = 2.0 * x * y + cy;
//!         x = t;
//!         i += 1;
//!     }
//!     i
//! }
//!
//! #[kernel]
//! fn mandelbrot(width: u32, max_iter: u32, out: &mut [u32]) {
//!     let px = global_id_x();
//!     let py = global_id_y();
//!     let cx = -2.0 + 3.0 * px as f64 / width as f64;
//!     let cy = -1.5 + 3.0 * py as f64 / global_size_y() as f64;
//!     out[py * width as usize + px] = escape_time(cx, cy, max_iter);
//! }
//! # fn main() {}
//! ```
//!
//! ## Cooperative kernels
//!
//! The items of a work-group can share arrays and wait for each other: block reductions,
//! scans, tiles of a matrix. `let mut tile = shared_array::<f32, 256>();` at the top of the
//! body declares one array per group, zeroed when the group starts and indexed like a buffer
//! (checked: an index past its end is a fault that names the array). `barrier()` waits until
//! every item of the group has reached it; the group's writes before it are then visible to
//! the group.
//!
//! ```
//! use dotcompute::prelude::*;
//!
//! /// One sum per group of 256 items: a tree in shared memory.
//! #[kernel]
//! fn block_sum(x: &[f32], sums: &mut [f32]) {
//!     let mut tile = shared_array::<f32, 256>();
//!     let lid = local_id_x();
//!     tile[lid] = x[global_id()];
//!     barrier();
//!     let mut stride = group_size_x() / 2;
//!     while stride > 0 {
//!         if lid < stride {
//!             tile[lid] += tile[lid + stride];
//!         }
//!         barrier();
//!         stride /= 2;
//!     }
//!     if lid == 0 {
//!         sums[group_id_x()] = tile[0];
//!     }
//! }
//!
//! # fn main() -> Result<(), dotcompute::Error> {
//! let dc = ComputeService::new()?;
//! let acc = dc.best_accelerator()?;
//! let x = dc.buffer_from_slice(&vec![1.0f32; 1000])?;
//! let mut sums = dc.buffer_zeroed::<f32>(4)?;
//! block_sum::launch(&acc, Grid::d1(1000).with_group_size([256, 1, 1]), &x, &mut sums)?;
//! // The last group holds 232 items: its other slots stay zero.
//! assert_eq!(sums.to_vec()?, [256.0, 256.0, 256.0, 232.0]);
//! # Ok(())
//! # }
//! ```
//!
//! Every item of a group must reach each barrier, so `#[kernel]` rejects at compile time a
//! `barrier()` under a condition or in a loop that is not *uniform* across the group (one
//! computed from `global_id`, `local_id`, buffer or shared contents, or a variable assigned
//! under such a condition; parameters, group ids and sizes, buffer lengths, constants and
//! variables assigned only from them are uniform), after a `return`, or in a loop that items
//! leave with `break`/`continue`. Items beyond the grid's end (a grid that is not a multiple
//! of the group size) run no statement of the body but take part in every barrier; when such
//! items must help (a tiled transpose of a ragged matrix), launch a grid rounded up to whole
//! groups and compare the ids with the real sizes yourself. The CPU runs a group as loops
//! over its items between barriers (no thread ever waits; a value that crosses a barrier is
//! kept per item); wgpu and CUDA run groups as workgroups and blocks. Groups hold at most the
//! device's `max_group_size` items.
//!
//! ## Subgroups
//!
//! A subgroup (a warp on NVIDIA GPUs, a wave or SIMD group elsewhere) is a run of
//! [`subgroup_size()`](kernel::subgroup_size) consecutive items of a group, by linear local
//! id; `subgroup_lane()` is an item's place in it. Subgroup operations combine one value
//! from each item of the subgroup and give each item its result, without shared memory or
//! barriers:
//!
//! | operation | result for the item in lane `l` | order of float operations |
//! | --- | --- | --- |
//! | `subgroup_add(v)`, `subgroup_min(v)`, `subgroup_max(v)` | the sum (wrapping for integers), least, greatest `v` of the subgroup | butterfly: lane `l` combines with lane `l ^ 1`, then `l ^ 2`, `l ^ 4`, ... |
//! | `subgroup_inclusive_add(v)`, `subgroup_exclusive_add(v)` | the sum over lanes `0..=l`, `0..l` | Hillis-Steele: lanes `l >= d` add lane `l - d`, for `d = 1, 2, 4, ...` |
//! | `subgroup_broadcast(v, k)`, `subgroup_shuffle(v, k)` | `v` of lane `k % size` | - |
//! | `subgroup_shuffle_xor(v, m)` | `v` of lane `l ^ (m % size)` | - |
//! | `subgroup_any(b)`, `subgroup_all(b)` | whether `b` holds in any, every lane | - |
//!
//! The combination orders are part of the language, so a float sum has the same bits on every
//! backend for the same subgroup size. The size is the device's: 32 on NVIDIA GPUs, the
//! driver's on wgpu devices (8 on lavapipe), 16 on the CPU unless
//! [`CpuOptions::subgroup_size`] picks another power of two up to 64.
//! [`Capabilities::subgroup_size`] is the largest size a device may pick (some GPUs pick
//! smaller ones per kernel); `subgroup_size()` in a kernel is the one it runs with. Write
//! kernels for any size. Two details: the sign of a zero that `subgroup_min`/`max` return
//! when both zeros are present is unspecified, as for `min`/`max`; and float sums count
//! absent items as `-0.0`, the identity of IEEE addition (so the sign of a zero sum is kept).
//!
//! Like barriers, subgroup operations are reached by every item of the group (the same
//! uniformity rules, checked at compile time), their results are bound with `let`
//! (`let s = subgroup_add(x);`), and items beyond the grid's end contribute the operation's
//! identity (0, `-0.0` for float sums, the type's largest or smallest value, `false` for
//! `any`, `true` for `all`).
//! A kernel that uses them is launched with groups of a multiple of the subgroup size
//! (else [`Error::InvalidGrid`]), and is refused with [`Error::Unsupported`] on devices
//! without subgroups.
//!
//! ```
//! use dotcompute::prelude::*;
//!
//! /// One sum per group (of at most 256 items): a sum per subgroup, then the subgroups' sums.
//! #[kernel]
//! fn block_sum(x: &[f32], sums: &mut [f32]) {
//!     let mut partial = shared_array::<f32, 256>();
//!     let lid = local_id_x();
//!     let s = subgroup_add(x[global_id()]);
//!     if subgroup_lane() == 0 {
//!         partial[lid / subgroup_size()] = s;
//!     }
//!     barrier();
//!     if lid == 0 {
//!         let mut total = 0.0;
//!         for k in 0..group_size_x() / subgroup_size() {
//!             total += partial[k];
//!         }
//!         sums[group_id_x()] = total;
//!     }
//! }
//!
//! # fn main() -> Result<(), dotcompute::Error> {
//! let dc = ComputeService::new()?;
//! let acc = dc.best_accelerator()?;
//! let x = dc.buffer_from_slice(&vec![1.0f32; 1000])?;
//! let mut sums = dc.buffer_zeroed::<f32>(4)?;
//! block_sum::launch(&acc, Grid::d1(1000).with_group_size([256, 1, 1]), &x, &mut sums)?;
//! assert_eq!(sums.to_vec()?, [256.0, 256.0, 256.0, 232.0]);
//! # Ok(())
//! # }
//! ```
//!
//! ## Algorithms
//!
//! [`algorithms`] holds what users reach for before writing a kernel: so far deterministic
//! reductions ([`algorithms::sum`], `product`, `min`, `max`: the same bits on every
//! accelerator), [`algorithms::argmin`] / `argmax`, and deterministic prefix sums
//! ([`algorithms::inclusive_scan`], `exclusive_scan`), written in the kernel language as
//! cooperative kernels.
//!
//! ## Memory
//!
//! [`UnifiedBuffer`]s hold a host copy (and, on GPU backends, device copies) and move data
//! only when the other side needs it. They come from a per-service [`MemoryPool`] with size
//! classes (under 1.6% rounding waste above 4 KiB), reuse, a limit, a cache cap, trimming,
//! zeroed hand-out and statistics ([`ComputeService::host_pool`]).
//!
//! ## Backends
//!
//! | backend | feature | status |
//! | --- | --- | --- |
//! | CPU: AVX-512 / AVX2+FMA / NEON clones chosen at run time, rayon pool | `cpu` (default) | works |
//! | Vulkan / Metal / DX12 through wgpu: WGSL from the IR, asynchronous launches | `wgpu` | works on Vulkan (tested on Mesa's lavapipe); Metal, DX12 untested |
//! | NVIDIA GPUs through CUDA: CUDA C++ from the IR, NVRTC, CUBIN caches | `cuda` | not yet run on a GPU: every kernel compiles with NVRTC in CI; without a driver the backend reports itself unavailable |
//!
//! Launches on GPUs (wgpu, CUDA) are asynchronous; a kernel's fault belongs to its launch, also
//! when many threads launch at once (see [Faults and threads](#faults-and-threads)). Buffers move
//! only when needed; [`UnifiedBuffer::transfers`] counts the copies, and
//! [`Accelerator::memory_statistics`] shows a device's pool.
//!
//! ```
//! use dotcompute::prelude::*;
//!
//! #[kernel]
//! fn scale(k: f32, data: &mut [f32]) {
//!     let i = global_id();
//!     data[i] *= k;
//! }
//!
//! # fn main() -> Result<(), dotcompute::Error> {
//! let dc = ComputeService::new()?;
//! // A GPU if the `wgpu` feature found one, else the CPU.
//! let acc = dc.best_accelerator()?;
//! let mut data = dc.buffer_from_slice(&[1.0f32, 2.0, 3.0])?;
//! scale::launch(&acc, data.len(), 2.0, &mut data)?;
//! scale::launch(&acc, data.len(), 2.0, &mut data)?;
//! acc.synchronize()?; // a fault of either launch would be reported here
//! assert_eq!(data.to_vec()?, [4.0, 8.0, 12.0]);
//! // On a GPU: one upload before the first launch, one download for `to_vec`.
//! assert!(data.transfers().uploads <= 1);
//! # Ok(())
//! # }
//! ```
//!
//! Plugins implementing [`backend::BackendPlugin`] can add more; a failing plugin is reported
//! by [`ComputeService::backend_reports`] and skipped.
//!
//! ## Faults and threads
//!
//! A fault (an index out of bounds, an integer division by zero, a `panic!`) belongs to the
//! launch that caused it, also when many threads launch at once. On the CPU the launch returns
//! it; on a GPU, where launches are asynchronous, the host's reads of the buffers it wrote
//! report it (until they are written again), a later launch that reads one of them inherits
//! it, and [`Accelerator::synchronize`] returns it once. A read of anything else never
//! reports it:
//!
//! ```
//! use dotcompute::prelude::*;
//!
//! #[kernel]
//! fn divide(x: &[i32], d: i32, y: &mut [i32]) {
//!     let i = global_id();
//!     y[i] = x[i] / d;
//! }
//!
//! # fn main() -> Result<(), dotcompute::Error> {
//! let dc = ComputeService::new()?;
//! let acc = dc.best_accelerator()?;
//! let x = dc.buffer_from_slice(&[10, 20, 30])?;
//! std::thread::scope(|s| {
//!     // One thread's kernel faults ...
//!     let bad = s.spawn(|| {
//!         let mut y = dc.buffer_zeroed::<i32>(3)?;
//!         let launched = divide::launch(&acc, 3, &x, 0, &mut y); // Err on the CPU, Ok on a GPU
//!         launched.and_then(|()| y.to_vec().map(drop))
//!     });
//!     // ... and the other's results are its own, whatever the timing.
//!     let good = s.spawn(|| {
//!         let mut y = dc.buffer_zeroed::<i32>(3)?;
//!         divide::launch(&acc, 3, &x, 10, &mut y)?;
//!         y.to_vec()
//!     });
//!     let err = bad.join().unwrap().unwrap_err();
//!     assert!(err.to_string().contains("division or remainder by zero"), "{err}");
//!     assert_eq!(good.join().unwrap()?, [1, 2, 3]);
//!     Ok::<(), dotcompute::Error>(())
//! })?;
//! // The fault was reported where it belongs; on a GPU `synchronize` reports it too, once.
//! let _ = acc.synchronize();
//! acc.synchronize()?;
//! # Ok(())
//! # }
//! ```
//!
//! ## Errors and logs
//!
//! Every fallible call returns [`Error`]. Compilation, launches and discovery emit `tracing`
//! spans and events (target `dotcompute_core`, `dotcompute_cpu`, `dotcompute_wgpu`).

// The algorithms library's kernels are `#[kernel]`s in this crate: the macro's code names
// `::dotcompute`.
extern crate self as dotcompute;

pub mod algorithms;
mod intrinsics;
pub mod placement;
pub mod query;
mod service;

pub use dotcompute_core::backend;
/// The contract between generated CPU code and the CPU backend (for plugin authors).
pub use dotcompute_core::cpu_abi;
/// How devices that compute asynchronously track their launches (for plugin authors: a
/// [`backend::CompiledKernel`] receives the launch as a
/// [`TrackedLaunch`](launch_tracker::TrackedLaunch)).
pub use dotcompute_core::launch_tracker;
pub use dotcompute_core::pool::{MemoryPool, PoolConfig, PoolStatistics};
pub use dotcompute_core::{
    Accelerator, AcceleratorId, AcceleratorInfo, AcceleratorKind, BackendKind, BackendReport,
    BackendStatus, Capabilities, DeviceTimes, Error, Grid, HostRead, HostWrite, Kernel, KernelArg,
    KernelDefinition, KernelFault, KernelManager, KernelScalar, KernelStatistics, LaunchTimes,
    ParamInfo, RawBuffer, Residency, ScalarValue, TransferStatistics, UnifiedBuffer,
};
#[cfg(feature = "cpu")]
pub use dotcompute_cpu::{CpuError, CpuOptions, CpuPlugin};
#[cfg(feature = "cuda")]
pub use dotcompute_cuda::{CudaError, CudaPlugin};
/// The kernel IR: what every backend compiles (for tools and plugins).
pub use dotcompute_ir as ir;
pub use dotcompute_macros::{kernel, kernel_fn, query, query_kernels};
#[cfg(feature = "opencl")]
pub use dotcompute_opencl::{OpenClError, OpenClPlugin};
#[cfg(feature = "wgpu")]
pub use dotcompute_wgpu::{WgpuError, WgpuPlugin};
pub use service::{ComputeService, ComputeServiceBuilder};

/// SIMD levels of the CPU backend (see [`CpuOptions::simd`]).
#[cfg(feature = "cpu")]
pub use dotcompute_core::cpu_abi::SimdLevel;

/// The intrinsics kernels use: work-item ids, grid sizes and atomics.
pub mod kernel {
    pub use crate::intrinsics::*;
}

/// Everything a program that writes and launches kernels needs.
pub mod prelude {
    pub use crate::kernel::*;
    pub use crate::{
        Accelerator, BackendKind, ComputeService, Error, Grid, Kernel, KernelArg, UnifiedBuffer,
        kernel, kernel_fn,
    };
}

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// What code generated by `#[kernel]` uses. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use dotcompute_core::cpu_abi;
    pub use dotcompute_core::{KernelArg, KernelDefinition, ParamInfo};
    pub use dotcompute_ir::{Access, BoundsChecks, KernelHash, ParamKind, ScalarType};
    pub use dotcompute_macros::kernel_with_fns;

    use crate::{Accelerator, Error, Grid};

    /// The typed launch of a checked kernel.
    #[inline]
    pub fn launch(
        accelerator: &Accelerator,
        def: &'static KernelDefinition,
        grid: Grid,
        args: &mut [KernelArg<'_>],
    ) -> Result<(), Error> {
        accelerator.launch(def, grid, args)
    }

    /// The typed launch of an unchecked kernel.
    ///
    /// # Safety
    ///
    /// Every access the kernel makes is in bounds.
    #[inline]
    pub unsafe fn launch_unchecked(
        accelerator: &Accelerator,
        def: &'static KernelDefinition,
        grid: Grid,
        args: &mut [KernelArg<'_>],
    ) -> Result<(), Error> {
        // SAFETY: forwarded from the caller.
        unsafe { accelerator.launch_unchecked(def, grid, args) }
    }
}
