//! What `#[kernel]` and `#[kernel_fn]` expand to.
//!
//! A kernel that calls helpers cannot see their code (a macro sees only its own item), so the
//! expansion is a chain: `#[kernel_fn]` defines, next to the function, a `macro_rules!` macro of
//! the same name that hands the function's tokens to a callback. `#[kernel]` calls the first
//! helper's macro with `kernel_with_fns` as the callback; each step adds one helper and calls
//! the next, until every helper is known and the kernel expands with all of them. Helpers are
//! therefore found by name resolution at the kernel's definition: a helper (and every helper
//! it calls) must be in scope there.

use crate::lower::{self, Helpers, path_key};
use crate::math_library;
use crate::scan;
use crate::signature::{self, HelperSignature, KernelParam};
use dotcompute_ir::{
    Access, BoundsChecks, FunctionId, Kernel, KernelHash, ParamKind, ScalarType, emit,
};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use std::collections::HashMap;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{ItemFn, Token};

/// Options of `#[kernel(...)]`.
#[derive(Clone, Copy, Default)]
pub struct KernelOptions {
    /// `#[kernel(unchecked)]`: no bounds checks, `unsafe` launch.
    pub unchecked: bool,
    /// `#[kernel(fast_math)]`: the devices' own math functions instead of the math library.
    pub fast_math: bool,
}

pub fn parse_options(attr: TokenStream) -> syn::Result<KernelOptions> {
    let mut options = KernelOptions::default();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("unchecked") {
            options.unchecked = true;
            Ok(())
        } else if meta.path.is_ident("fast_math") {
            options.fast_math = true;
            Ok(())
        } else {
            Err(meta.error("unknown kernel option; the options are `unchecked` and `fast_math`"))
        }
    });
    syn::parse::Parser::parse2(parser, attr)?;
    Ok(options)
}

/// `#[kernel]`: expands at once, or starts fetching the helpers the kernel calls.
pub fn kernel_attribute(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = parse_options(attr.clone())?;
    let func: ItemFn = syn::parse2(item)?;
    let mut pending = scan::helper_calls(&func.block);
    if pending.is_empty() {
        return expand_kernel(options, &func, &[]);
    }
    let next = pending.remove(0);
    Ok(fetch(&attr, &func, &[], &pending, &next))
}

/// Calls the macro of helper `next`, passing the state of the chain.
fn fetch(
    attr: &TokenStream,
    func: &ItemFn,
    helpers: &[(String, ItemFn)],
    pending: &[syn::Path],
    next: &syn::Path,
) -> TokenStream {
    let key = path_key(next);
    let helpers = helpers.iter().map(|(k, f)| quote! { (#k) { #f } });
    let pending = pending.iter().map(|p| quote! { (#p) });
    quote! {
        #next! {
            [::dotcompute::__private::kernel_with_fns]
            @attr (#attr)
            @item { #func }
            @helpers [ #(#helpers)* ]
            @pending [ #(#pending)* ]
            @fetching (#key)
        }
    }
}

/// The state passed along the chain, plus the helper just fetched.
pub struct ChainState {
    attr: TokenStream,
    item: ItemFn,
    helpers: Vec<(String, ItemFn)>,
    pending: Vec<syn::Path>,
    fetching: String,
    fetched: ItemFn,
}

fn keyword(input: ParseStream<'_>, name: &str) -> syn::Result<()> {
    input.parse::<Token![@]>()?;
    let ident: syn::Ident = input.parse()?;
    if ident == name {
        Ok(())
    } else {
        Err(syn::Error::new(ident.span(), format!("expected `@{name}`")))
    }
}

impl Parse for ChainState {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        keyword(input, "attr")?;
        let attr;
        syn::parenthesized!(attr in input);
        let attr: TokenStream = attr.parse()?;
        keyword(input, "item")?;
        let item;
        syn::braced!(item in input);
        let item: ItemFn = item.parse()?;
        keyword(input, "helpers")?;
        let list;
        syn::bracketed!(list in input);
        let mut helpers = Vec::new();
        while !list.is_empty() {
            let key;
            syn::parenthesized!(key in list);
            let key: syn::LitStr = key.parse()?;
            let body;
            syn::braced!(body in list);
            helpers.push((key.value(), body.parse::<ItemFn>()?));
        }
        keyword(input, "pending")?;
        let list;
        syn::bracketed!(list in input);
        let mut pending = Vec::new();
        while !list.is_empty() {
            let path;
            syn::parenthesized!(path in list);
            pending.push(path.parse::<syn::Path>()?);
        }
        keyword(input, "fetching")?;
        let fetching;
        syn::parenthesized!(fetching in input);
        let fetching: syn::LitStr = fetching.parse()?;
        keyword(input, "function")?;
        let fetched;
        syn::braced!(fetched in input);
        let fetched: ItemFn = fetched.parse()?;
        Ok(ChainState {
            attr,
            item,
            helpers,
            pending,
            fetching: fetching.value(),
            fetched,
        })
    }
}

/// One step of the chain: records the fetched helper, then fetches the next or expands.
pub fn kernel_with_fns(state: ChainState) -> syn::Result<TokenStream> {
    let ChainState {
        attr,
        item,
        mut helpers,
        mut pending,
        fetching,
        fetched,
    } = state;
    for callee in scan::helper_calls(&fetched.block) {
        let key = path_key(&callee);
        let known = key == fetching
            || helpers.iter().any(|(k, _)| *k == key)
            || pending.iter().any(|p| path_key(p) == key);
        if !known {
            pending.push(callee);
        }
    }
    helpers.push((fetching, fetched));
    if pending.is_empty() {
        let options = parse_options(attr)?;
        return expand_kernel(options, &item, &helpers);
    }
    let next = pending.remove(0);
    Ok(fetch(&attr, &item, &helpers, &pending, &next))
}

/// Orders the helpers a kernel reaches so that callees come before callers.
fn order_helpers(
    kernel: &ItemFn,
    available: &[(String, ItemFn)],
) -> syn::Result<Vec<(String, ItemFn, HelperSignature)>> {
    let by_key: HashMap<&str, &ItemFn> = available.iter().map(|(k, f)| (k.as_str(), f)).collect();
    #[derive(PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    let mut marks: HashMap<String, Mark> = HashMap::new();
    let mut order = Vec::new();
    fn visit(
        key: &str,
        by_key: &HashMap<&str, &ItemFn>,
        marks: &mut HashMap<String, Mark>,
        order: &mut Vec<(String, ItemFn, HelperSignature)>,
    ) -> syn::Result<()> {
        let Some(f) = by_key.get(key) else {
            return Ok(());
        };
        match marks.get(key) {
            Some(Mark::Done) => return Ok(()),
            Some(Mark::Visiting) => {
                return Err(syn::Error::new(
                    f.sig.ident.span(),
                    format!(
                        "`{key}` calls itself (directly or through other helpers); recursion is not supported in kernels"
                    ),
                ));
            }
            None => {}
        }
        marks.insert(key.to_string(), Mark::Visiting);
        for callee in scan::helper_calls(&f.block) {
            visit(&path_key(&callee), by_key, marks, order)?;
        }
        marks.insert(key.to_string(), Mark::Done);
        let sig = signature::helper_signature(&f.sig)?;
        order.push((key.to_string(), (*f).clone(), sig));
        Ok(())
    }
    for callee in scan::helper_calls(&kernel.block) {
        visit(&path_key(&callee), &by_key, &mut marks, &mut order)?;
    }
    Ok(order)
}

/// Splits a kernel's attributes: docs and `cfg` go on the handle, lint levels on the type-check
/// copy; anything else is an error.
fn split_attributes(func: &ItemFn) -> syn::Result<(Vec<&syn::Attribute>, Vec<&syn::Attribute>)> {
    let mut handle = Vec::new();
    let mut lints = Vec::new();
    for a in &func.attrs {
        let path = a.path();
        if path.is_ident("doc") || path.is_ident("cfg") {
            handle.push(a);
        } else if ["allow", "warn", "deny", "expect"]
            .iter()
            .any(|l| path.is_ident(l))
        {
            lints.push(a);
        } else {
            return Err(syn::Error::new(
                a.span(),
                "this attribute is not supported on a kernel (docs, `cfg` and lint levels are)",
            ));
        }
    }
    Ok((handle, lints))
}

/// The full expansion of a kernel whose helpers are all known.
pub fn expand_kernel(
    options: KernelOptions,
    func: &ItemFn,
    available: &[(String, ItemFn)],
) -> syn::Result<TokenStream> {
    let (handle_attrs, lint_attrs) = split_attributes(func)?;
    let params = signature::kernel_params(&func.sig)?;
    let ordered = order_helpers(func, available)?;
    let mut helpers: Helpers = HashMap::new();
    for (i, (key, _, sig)) in ordered.iter().enumerate() {
        helpers.insert(key.clone(), (FunctionId(i as u32), sig.clone()));
    }
    let mut functions = Vec::with_capacity(ordered.len());
    for (_, item, sig) in &ordered {
        functions.push(lower::lower_helper(item, sig, &helpers, false)?);
    }
    let lowered = lower::lower_kernel(&func.block, &params, &helpers)?;
    let mut kernel = Kernel {
        name: func.sig.ident.to_string(),
        params: params.iter().map(|p| p.ir.clone()).collect(),
        locals: lowered.locals,
        body: lowered.body,
        shared: lowered.shared,
        private: lowered.private,
        functions,
        bounds_checks: if options.unchecked {
            BoundsChecks::Unchecked
        } else {
            BoundsChecks::Checked
        },
    };
    // Barriers every item of a group reaches: the IR validator checks this too, but here the
    // error can point at the barrier.
    if let Err(e) = dotcompute_ir::cooperative::check(&kernel) {
        let span = lowered
            .barriers
            .get(e.barrier)
            .copied()
            .unwrap_or_else(|| func.sig.ident.span());
        return Err(syn::Error::new(
            span,
            format!("{}\nhelp: {}", e.message, e.help),
        ));
    }
    let internal = |what: String| {
        syn::Error::new(
            func.sig.ident.span(),
            format!("DotCompute internal error ({what}); please report this kernel"),
        )
    };
    let library_functions = if options.fast_math {
        0
    } else {
        math_library::link(&mut kernel).map_err(|e| internal(format!("the math library: {e}")))?
    };
    dotcompute_ir::validate(&kernel).map_err(|e| internal(e.to_string()))?;
    let cpu_options = emit::rust::RustOptions {
        library_functions,
        ..emit::rust::RustOptions::for_kernel(&kernel.name)
    };
    let cpu_code: TokenStream = emit::rust::emit(&kernel, &cpu_options)
        .parse()
        .map_err(|e| internal(format!("generated CPU code does not parse: {e}")))?;
    Ok(handle(
        func,
        &params,
        &kernel,
        options,
        &handle_attrs,
        &lint_attrs,
        cpu_code,
        &cpu_options.module,
    ))
}

fn scalar_tokens(t: ScalarType) -> TokenStream {
    let variant = format_ident!("{}", format!("{t:?}"));
    quote! { ::dotcompute::__private::ScalarType::#variant }
}

#[allow(clippy::too_many_arguments)]
fn handle(
    func: &ItemFn,
    params: &[KernelParam],
    kernel: &Kernel,
    options: KernelOptions,
    handle_attrs: &[&syn::Attribute],
    lint_attrs: &[&syn::Attribute],
    cpu_code: TokenStream,
    cpu_module: &str,
) -> TokenStream {
    let name = &func.sig.ident;
    let name_str = name.to_string();
    let vis = &func.vis;
    let cpu_module = format_ident!("{}", cpu_module);
    let taken = |n: &str| params.iter().any(|p| p.ident == n);
    let acc = if taken("accelerator") {
        format_ident!("__accelerator")
    } else {
        format_ident!("accelerator")
    };
    let grid = if taken("grid") {
        format_ident!("__grid")
    } else {
        format_ident!("grid")
    };

    let mut launch_params = Vec::new();
    let mut launch_args = Vec::new();
    let mut param_infos = Vec::new();
    for p in params {
        let ident = &p.ident;
        let ty = &p.rust_ty;
        let pname = ident.to_string();
        match p.ir.kind {
            ParamKind::Scalar(t) => {
                let ir_ty = format_ident!("{}", t.rust_name());
                launch_params.push(quote_spanned! {p.span=> #ident: #ty });
                launch_args
                    .push(quote! { ::dotcompute::__private::KernelArg::scalar(#ident as #ir_ty) });
                let st = scalar_tokens(t);
                param_infos.push(quote! {
                    ::dotcompute::__private::ParamInfo { name: #pname, kind: ::dotcompute::__private::ParamKind::Scalar(#st) }
                });
            }
            ParamKind::Buffer { elem, access } => {
                let st = scalar_tokens(elem);
                let (param, arg, access_tokens) = match access {
                    Access::Read => (
                        quote_spanned! {p.span=> #ident: &::dotcompute::UnifiedBuffer<#ty> },
                        quote! { ::dotcompute::__private::KernelArg::buffer(#ident) },
                        quote! { ::dotcompute::__private::Access::Read },
                    ),
                    Access::ReadWrite => (
                        quote_spanned! {p.span=> #ident: &mut ::dotcompute::UnifiedBuffer<#ty> },
                        quote! { ::dotcompute::__private::KernelArg::buffer_mut(#ident) },
                        quote! { ::dotcompute::__private::Access::ReadWrite },
                    ),
                };
                launch_params.push(param);
                launch_args.push(arg);
                param_infos.push(quote! {
                    ::dotcompute::__private::ParamInfo {
                        name: #pname,
                        kind: ::dotcompute::__private::ParamKind::Buffer { elem: #st, access: #access_tokens },
                    }
                });
            }
        }
    }

    let bytes = syn::LitByteStr::new(&kernel.to_bytes(), Span::call_site());
    let hash = KernelHash::of(kernel).0;
    let checks = if options.unchecked {
        quote! { ::dotcompute::__private::BoundsChecks::Unchecked }
    } else {
        quote! { ::dotcompute::__private::BoundsChecks::Checked }
    };
    let signature_doc = format!(
        "`{}({})`",
        name_str,
        kernel
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name, p.kind))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let launch_doc = format!(
        "Launches the kernel {signature_doc} on `{acc}` over `{grid}` (a length, `(x, y)` or `(x, y, z)`).\n\n\
         Buffers are passed as `&UnifiedBuffer` for `&[T]` parameters and `&mut UnifiedBuffer` for `&mut [T]` ones. \
         On the CPU the launch completes before it returns; on GPUs it is asynchronous, and reading a written buffer waits for it.\n\n\
         # Errors\n\nAn invalid grid, a buffer of another `ComputeService`, a kernel the accelerator cannot run, \
         or a fault in the kernel (an out-of-bounds access, an integer division by zero, a `panic!`), named in the error."
    );

    let launch = if options.unchecked {
        quote! {
            #[doc = #launch_doc]
            ///
            /// # Safety
            ///
            /// The kernel is `#[kernel(unchecked)]`: its buffer accesses are not checked, so
            /// every access it makes for this grid and these arguments must be in bounds.
            #[allow(clippy::unnecessary_cast, clippy::too_many_arguments, unsafe_code)]
            #vis unsafe fn launch(
                #acc: &::dotcompute::Accelerator,
                #grid: impl ::core::convert::Into<::dotcompute::Grid>,
                #(#launch_params),*
            ) -> ::core::result::Result<(), ::dotcompute::Error> {
                // SAFETY: the caller guarantees every access is in bounds (see # Safety).
                unsafe {
                    ::dotcompute::__private::launch_unchecked(#acc, Self::definition(), #grid.into(), &mut [#(#launch_args),*])
                }
            }
        }
    } else {
        quote! {
            #[doc = #launch_doc]
            #[allow(clippy::unnecessary_cast, clippy::too_many_arguments)]
            #vis fn launch(
                #acc: &::dotcompute::Accelerator,
                #grid: impl ::core::convert::Into<::dotcompute::Grid>,
                #(#launch_params),*
            ) -> ::core::result::Result<(), ::dotcompute::Error> {
                ::dotcompute::__private::launch(#acc, Self::definition(), #grid.into(), &mut [#(#launch_args),*])
            }
        }
    };

    let inputs = &func.sig.inputs;
    let block = &func.block;
    let definition_doc = format!(
        "The definition of the kernel {signature_doc}: its IR (`definition().ir()`), hash and CPU code."
    );
    quote! {
        #(#handle_attrs)*
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        #vis struct #name;

        #cpu_code

        // rustc type-checks the kernel as written, so type errors read as they do in Rust.
        #[allow(dead_code, unused, non_snake_case, clippy::all, clippy::panic)]
        #(#lint_attrs)*
        const _: () = {
            fn #name(#inputs) #block
        };

        impl #name {
            #launch

            #[doc = #definition_doc]
            #[allow(unsafe_code)]
            #vis fn definition() -> &'static ::dotcompute::KernelDefinition {
                // SAFETY: the IR bytes, hash, parameters, mode and CPU entry point were all
                // generated from this one kernel by this macro.
                static DEFINITION: ::dotcompute::KernelDefinition = unsafe {
                    ::dotcompute::KernelDefinition::new(
                        #name_str,
                        &[#(#param_infos),*],
                        ::dotcompute::__private::KernelHash([#(#hash),*]),
                        #checks,
                        #bytes,
                        ::core::option::Option::Some(#cpu_module::run),
                    )
                };
                &DEFINITION
            }
        }

        impl ::dotcompute::Kernel for #name {
            fn definition(&self) -> &'static ::dotcompute::KernelDefinition {
                #name::definition()
            }
        }
    }
}

/// `#[kernel_fn]`: the function unchanged, plus the macro that hands its code to kernels.
pub fn kernel_fn_attribute(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    if !attr.is_empty() {
        return Err(syn::Error::new(
            attr.span(),
            "`#[kernel_fn]` takes no arguments",
        ));
    }
    let func: ItemFn = syn::parse2(item)?;
    // Check the helper on its own now, so that errors point at it even before a kernel uses it.
    let check = signature::helper_signature(&func.sig)
        .and_then(|sig| lower::lower_helper(&func, &sig, &HashMap::new(), true).map(|_| ()));
    let errors = check.err().map(|e| e.to_compile_error());
    let name = &func.sig.ident;
    let mac = format_ident!("__dotcompute_kernel_fn_{}", name);
    let use_vis = match &func.vis {
        syn::Visibility::Public(_) => quote! { pub(crate) },
        other => quote! { #other },
    };
    Ok(quote! {
        #func
        #errors
        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! #mac {
            ([$($callback:tt)*] $($state:tt)*) => {
                $($callback)*! { $($state)* @function { #func } }
            };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        #use_vis use #mac as #name;
    })
}
