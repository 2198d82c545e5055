//! The `#[kernel]` and `#[kernel_fn]` attribute macros of DotCompute.
//!
//! Use them through the `dotcompute` crate (`dotcompute::kernel`, `dotcompute::kernel_fn`),
//! whose documentation describes the kernel language with tested examples. The macro parses a
//! Rust function in the kernel language, lowers it to the kernel IR (`dotcompute-ir`), checks
//! it, and replaces the function with a handle: a unit struct with a typed `launch` function
//! and a static `KernelDefinition` holding the serialized IR, its hash and native CPU code.

mod expand;
mod hir;
mod infer;
mod intrinsics;
mod lower;
mod math_library;
mod query;
mod scan;
mod signature;

use proc_macro::TokenStream;

/// Turns a function in the kernel language into a kernel that runs on every accelerator.
///
/// ```text
/// #[kernel]
/// fn saxpy(alpha: f32, x: &[f32], y: &mut [f32]) {
///     let i = global_id();
///     y[i] = alpha * x[i] + y[i];
/// }
/// // saxpy::launch(&accelerator, n, 2.0, &x, &mut y)?;
/// ```
///
/// `#[kernel(unchecked)]` drops bounds checks and makes `launch` an `unsafe fn`.
/// `#[kernel(fast_math)]` calls each device's own math functions instead of the math library
/// (`dotcompute-math`), trading the same bits everywhere for speed; both options combine
/// (`#[kernel(unchecked, fast_math)]`).
/// See the `dotcompute` crate for the language and examples.
#[proc_macro_attribute]
pub fn kernel(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::kernel_attribute(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Marks a helper function that kernels may call: scalars in, one scalar out.
///
/// The function stays an ordinary Rust function too. A kernel finds the helper by name where
/// the kernel is defined, so the helper, and every helper it calls, must be in scope there
/// (`use` it like any function). Helpers called by helpers are looked up there too: give
/// helpers distinct names, since a different `#[kernel_fn]` of the same name in scope at the
/// kernel would be the one compiled. Calling a function that is not a `#[kernel_fn]` is
/// reported by rustc as "cannot find macro `name`".
#[proc_macro_attribute]
pub fn kernel_fn(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::kernel_fn_attribute(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// One step of the helper-fetching chain of `#[kernel]` (an implementation detail).
#[doc(hidden)]
#[proc_macro]
pub fn kernel_with_fns(input: TokenStream) -> TokenStream {
    syn::parse::<expand::ChainState>(input)
        .and_then(expand::kernel_with_fns)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// A query over a buffer: a chain of closures fused into kernels at compile time (see
/// `dotcompute::query`).
///
/// ```text
/// let total: f32 = query!(acc.query(&xs).map(|x: f32| x * x).filter(|x| x > 1.0).sum())?;
/// ```
#[proc_macro]
pub fn query(input: TokenStream) -> TokenStream {
    query::expand_query(input.into(), query::Mode::Run)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// The kernels a `query!` chain compiles to, without running it (the same input): a
/// `Vec<&'static KernelDefinition>`, empty for a chain without operators.
#[proc_macro]
pub fn query_kernels(input: TokenStream) -> TokenStream {
    query::expand_query(input.into(), query::Mode::Kernels)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
