//! `query!`: a chain of closures over a buffer becomes fused kernels at compile time.
//!
//! The macro reads `acc.query(&xs).map(|x: f32| ..).filter(|x| ..).sum()`, types each closure
//! by the kernel language's rules (the element type comes from the first closure's
//! annotation; free names are captured scalars, typed by their uses), and emits a module at
//! the call site with one `#[kernel_fn]` per closure and the kernels of the terminal, each
//! running the whole chain per element (fusion: no intermediate buffer). The host side calls
//! `dotcompute::query`'s drivers with the captured values.

use crate::lower::{ChainClosure, ClosureParam, infer_chain};
use crate::signature::scalar_type;
use dotcompute_ir::ScalarType;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

/// One operator of the chain.
enum Stage {
    /// `map(|x| value)`.
    Map(Closure),
    /// `filter(|x| keep)`.
    Filter(Closure),
    /// Keeps the elements for which the closure is false (`all(p)` counts what fails `p`).
    Reject(Closure),
}

/// An element parameter as written: name, `mut`, type (with its span).
type WrittenParam = (syn::Ident, bool, Option<(ScalarType, Span)>);

struct Closure {
    /// The elements.
    params: Vec<WrittenParam>,
    ret_ty: Option<(ScalarType, Span)>,
    body: syn::Expr,
}

/// Where the elements come from: a buffer, the element's position (`enumerate`), or a range
/// of indices (`acc.query(0..n)`).
enum Source<'a> {
    Buffer(&'a syn::Expr),
    Index,
    Range(&'a syn::Expr),
}

impl Source<'_> {
    /// The element type the source itself fixes (`u64` for positions and ranges).
    fn known_type(&self) -> Option<ScalarType> {
        match self {
            Source::Buffer(_) => None,
            Source::Index | Source::Range(_) => Some(ScalarType::U64),
        }
    }
}

/// The terminal operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Terminal {
    Sum,
    Count,
    Collect,
    Min,
    Max,
    /// `count() > 0` of the chain with the predicate appended as a filter.
    Any,
    /// `count() == 0` of the chain with the negated predicate appended as a filter.
    All,
}

const OPERATORS: &str =
    "operators: `map`, `filter`; terminals: `sum`, `count`, `collect`, `min`, `max`, `any`, `all`";

fn err(span: Span, msg: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(span, msg)
}

/// What the expansion evaluates to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `query!`: runs the query.
    Run,
    /// `query_kernels!`: the kernels the query compiles to, without running it.
    Kernels,
}

/// Expands `query!(acc.query(&xs) .. .terminal())` (or `query_kernels!`).
pub fn expand_query(input: TokenStream, mode: Mode) -> syn::Result<TokenStream> {
    let expr: syn::Expr = syn::parse2(input)?;
    let syn::Expr::MethodCall(last) = &expr else {
        return Err(err(
            expr.span(),
            "`query!` takes a chain: `query!(acc.query(&xs).map(|x: f32| x * 2.0).sum())`",
        ));
    };
    let terminal = match last.method.to_string().as_str() {
        "sum" => Terminal::Sum,
        "count" => Terminal::Count,
        "collect" => Terminal::Collect,
        "min" => Terminal::Min,
        "max" => Terminal::Max,
        "any" => Terminal::Any,
        "all" => Terminal::All,
        other => {
            return Err(err(
                last.method.span(),
                format!("a query ends with a terminal, not `{other}`; {OPERATORS}"),
            ));
        }
    };
    // `any(p)` and `all(p)` take a predicate: it becomes the chain's last filter.
    let predicate = match terminal {
        Terminal::Any | Terminal::All => {
            let c = closure(&last.args, &last.method.to_string(), last.method.span())?;
            Some(if terminal == Terminal::All {
                Stage::Reject(c)
            } else {
                Stage::Filter(c)
            })
        }
        _ => {
            if !last.args.is_empty() {
                return Err(err(last.args.span(), "this terminal takes no arguments"));
            }
            None
        }
    };
    // Walk the receivers back to `.query(source)`; `zip(&b)` and `enumerate()` may follow it
    // directly.
    let mut stages = Vec::new();
    let mut joined: Vec<(Source<'_>, Span)> = Vec::new();
    let mut current = &*last.receiver;
    let (accelerator, first_source) = loop {
        let syn::Expr::MethodCall(call) = current else {
            return Err(err(
                current.span(),
                "a query starts with `accelerator.query(&buffer)` or `accelerator.query(0..n)`",
            ));
        };
        let name = call.method.to_string();
        match name.as_str() {
            "query" => {
                if call.args.len() != 1 {
                    return Err(err(
                        call.span(),
                        "`query` takes one buffer or a range: `acc.query(&xs)`, `acc.query(0..n)`",
                    ));
                }
                let source = match unwrap_groups(&call.args[0]) {
                    syn::Expr::Range(r) => {
                        if !matches!(r.limits, syn::RangeLimits::HalfOpen(_))
                            || r.start.is_none()
                            || r.end.is_none()
                        {
                            return Err(err(
                                r.span(),
                                "a query's range is half-open with both ends: `acc.query(a..b)`",
                            ));
                        }
                        Source::Range(&call.args[0])
                    }
                    _ => Source::Buffer(&call.args[0]),
                };
                break (&*call.receiver, source);
            }
            "zip" => {
                if call.args.len() != 1 {
                    return Err(err(call.span(), "`zip` takes one buffer: `.zip(&ys)`"));
                }
                if let syn::Expr::Range(r) = unwrap_groups(&call.args[0]) {
                    return Err(err(
                        r.span(),
                        "`zip` takes a buffer; a range comes first: `acc.query(0..n).zip(&xs)`",
                    ));
                }
                joined.push((Source::Buffer(&call.args[0]), call.method.span()));
            }
            "enumerate" => {
                if !call.args.is_empty() {
                    return Err(err(call.args.span(), "`enumerate` takes no arguments"));
                }
                joined.push((Source::Index, call.method.span()));
            }
            "map" | "filter" => {
                if let Some((_, span)) = joined.last() {
                    return Err(err(
                        *span,
                        "`zip` and `enumerate` come right after `query(..)`, before any operator",
                    ));
                }
                let closure = closure(&call.args, &name, call.method.span())?;
                stages.push(if name == "map" {
                    Stage::Map(closure)
                } else {
                    Stage::Filter(closure)
                });
            }
            other => {
                return Err(err(
                    call.method.span(),
                    format!("`{other}` is not a query operator; {OPERATORS}"),
                ));
            }
        }
        current = &call.receiver;
    };
    joined.reverse();
    // Element order: the position first (as Rust's `enumerate` gives it), then the sources in
    // the order written.
    let mut sources = Vec::new();
    if joined.iter().any(|(s, _)| matches!(s, Source::Index)) {
        sources.push(Source::Index);
    }
    let first_buffer = match first_source {
        Source::Buffer(b) => Some(b),
        _ => None,
    };
    sources.push(first_source);
    let mut enumerations = 0;
    for (source, span) in joined {
        match source {
            Source::Index => {
                enumerations += 1;
                if enumerations > 1 {
                    return Err(err(span, "a query enumerates once"));
                }
            }
            other => sources.push(other),
        }
    }
    if sources.len() > 3 {
        return Err(err(
            Span::call_site(),
            "a query takes at most three elements (buffers, ranges, positions)",
        ));
    }
    stages.reverse();
    stages.extend(predicate);
    if stages.is_empty() && matches!(&sources[..], [Source::Range(_)]) {
        // The indices themselves: an identity map gives the fused kernels a stage.
        stages.push(Stage::Map(Closure {
            params: vec![(format_ident!("__dc_index"), false, None)],
            ret_ty: None,
            body: syn::parse_quote!(__dc_index),
        }));
    }
    if stages.is_empty() {
        let plain_buffer = match (&sources[..], first_buffer) {
            ([Source::Buffer(_)], Some(b)) => Some(b),
            _ => None,
        };
        let Some(buffer) = plain_buffer else {
            return Err(err(
                last.method.span(),
                "zipped or enumerated elements need a `map` to one value before this terminal",
            ));
        };
        return Ok(match mode {
            Mode::Run => plain(terminal, accelerator, buffer),
            Mode::Kernels => {
                quote!(::std::vec::Vec::<&'static ::dotcompute::KernelDefinition>::new())
            }
        });
    }
    fused(
        terminal,
        last.method.span(),
        accelerator,
        &sources,
        &stages,
        mode,
    )
}

/// `e` without the parentheses and invisible groups around it.
fn unwrap_groups(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => unwrap_groups(&p.expr),
        syn::Expr::Group(g) => unwrap_groups(&g.expr),
        other => other,
    }
}

fn closure(
    args: &syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>,
    name: &str,
    span: Span,
) -> syn::Result<Closure> {
    let (Some(syn::Expr::Closure(c)), 1) = (args.first(), args.len()) else {
        return Err(err(
            span,
            format!("`{name}` takes one closure written here: `{name}(|x| ..)`"),
        ));
    };
    if c.inputs.is_empty() {
        return Err(err(c.span(), "query closures take their element: `|x| ..`"));
    }
    let numbers = "elements are numbers: `f32`, `f64`, `i32`, `u32`, `i64`, `u64`";
    let mut params = Vec::new();
    for input in &c.inputs {
        params.push(match input {
            syn::Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                (p.ident.clone(), p.mutability.is_some(), None)
            }
            syn::Pat::Type(t) => {
                let syn::Pat::Ident(p) = &*t.pat else {
                    return Err(err(t.pat.span(), "name the element: `|x: f32| ..`"));
                };
                let ty = scalar_type(&t.ty)
                    .filter(|ty| *ty != ScalarType::Bool)
                    .ok_or_else(|| err(t.ty.span(), numbers))?;
                (
                    p.ident.clone(),
                    p.mutability.is_some(),
                    Some((ty, t.ty.span())),
                )
            }
            other => return Err(err(other.span(), "name the element: `|x: f32| ..`")),
        });
    }
    let ret_ty = match &c.output {
        syn::ReturnType::Default => None,
        syn::ReturnType::Type(_, ty) => Some((
            scalar_type(ty).ok_or_else(|| err(ty.span(), "a closure returns a kernel scalar"))?,
            ty.span(),
        )),
    };
    Ok(Closure {
        params,
        ret_ty,
        body: (*c.body).clone(),
    })
}

/// A chain without closures: the library's own operations.
fn plain(terminal: Terminal, accelerator: &syn::Expr, source: &syn::Expr) -> TokenStream {
    match terminal {
        Terminal::Sum => quote!(::dotcompute::algorithms::sum(&(#accelerator), #source)),
        Terminal::Count => {
            quote!(::core::result::Result::<usize, ::dotcompute::Error>::Ok((#source).len()))
        }
        Terminal::Collect => quote!(::dotcompute::query::copy(&(#accelerator), #source)),
        Terminal::Min => quote!(::dotcompute::query::extreme(&(#accelerator), #source, false)),
        Terminal::Max => quote!(::dotcompute::query::extreme(&(#accelerator), #source, true)),
        // Never emitted: a predicate always makes a stage.
        Terminal::Any | Terminal::All => {
            quote!(::core::compile_error!("`any`/`all` need a predicate"))
        }
    }
}

fn rust_type(t: ScalarType) -> TokenStream {
    let ident = format_ident!("{}", t.rust_name());
    quote!(#ident)
}

/// One stage's helper call.
struct Call {
    name: syn::Ident,
    filter: bool,
    /// Keep the elements the helper rejects.
    negate: bool,
    captures: Vec<syn::Ident>,
}

/// The chain, typed: each closure's helper and what flows out of it.
struct Typed {
    /// One `#[kernel_fn]` per closure.
    helpers: Vec<TokenStream>,
    /// Per stage: the helper's name, whether it filters (and keeps what it rejects), and
    /// the captures it takes.
    calls: Vec<Call>,
    captures: Vec<(syn::Ident, ScalarType)>,
    /// The sources' element types.
    inputs: Vec<ScalarType>,
    /// What reaches the terminal: one value's type, or the zipped elements' when no `map`
    /// made one value.
    output: Vec<ScalarType>,
}

fn type_chain(stages: &[Stage], known: &[Option<ScalarType>]) -> syn::Result<Typed> {
    let closures: Vec<ChainClosure<'_>> = stages
        .iter()
        .map(|stage| {
            let (c, filter) = match stage {
                Stage::Map(c) => (c, false),
                Stage::Filter(c) | Stage::Reject(c) => (c, true),
            };
            ChainClosure {
                params: c
                    .params
                    .iter()
                    .map(|(ident, mutable, ty)| ClosureParam {
                        ident,
                        mutable: *mutable,
                        ty: *ty,
                    })
                    .collect(),
                declared_ret: c.ret_ty,
                body: &c.body,
                filter,
            }
        })
        .collect();
    let types = infer_chain(&closures, known)?;
    let mut output = types.inputs.clone();
    let mut helpers = Vec::new();
    let mut calls = Vec::new();
    for (i, (c, closure)) in closures.iter().zip(stages).enumerate() {
        let (closure, negate) = match closure {
            Stage::Map(c) | Stage::Filter(c) => (c, false),
            Stage::Reject(c) => (c, true),
        };
        let ret_type = types.rets[i];
        // Reserved names: a user's helper called `map_1` stays the user's.
        let name = format_ident!("__dc_{}_{}", if c.filter { "filter" } else { "map" }, i + 1);
        let params = c.params.iter().zip(&types.params[i]).map(|(p, t)| {
            let ident = p.ident;
            let mutability = p.mutable.then(|| quote!(mut));
            let ty = rust_type(*t);
            quote!(#mutability #ident: #ty)
        });
        let ret = rust_type(ret_type);
        let own = &types.uses[i];
        let capture_params = own.iter().map(|ident| {
            let ty = types
                .captures
                .iter()
                .find(|(c, _)| c == ident)
                .map(|(_, t)| rust_type(*t));
            quote!(#ident: #ty)
        });
        // A closure's block is the helper's body as it is (no braces around braces).
        let body = match &closure.body {
            syn::Expr::Block(b) if b.label.is_none() => {
                let b = &b.block;
                quote!(#b)
            }
            other => quote!({ #other }),
        };
        helpers.push(quote_spanned! {closure.body.span()=>
            #[::dotcompute::kernel_fn]
            pub fn #name(#(#params,)* #(#capture_params),*) -> #ret #body
        });
        calls.push(Call {
            name,
            filter: c.filter,
            negate,
            captures: own.clone(),
        });
        if !c.filter {
            output = vec![ret_type];
        }
    }
    Ok(Typed {
        helpers,
        calls,
        captures: types.captures,
        inputs: types.inputs,
        output,
    })
}

/// The chain applied to the loaded elements (`__dc_v0_0`, one per source), then `action` on
/// the value that reaches the end (`__dc_value`; the first zipped element when no `map` made
/// one value), skipped for elements a filter removes (later stages do not run on them).
fn apply_chain(typed: &Typed, action: TokenStream) -> TokenStream {
    enum Piece {
        Let(TokenStream),
        If(TokenStream),
    }
    let mut values: Vec<TokenStream> = (0..typed.inputs.len())
        .map(|j| {
            let v = format_ident!("__dc_v0_{}", j);
            quote!(#v)
        })
        .collect();
    let mut pieces = Vec::new();
    for (i, call) in typed.calls.iter().enumerate() {
        let (name, own) = (&call.name, &call.captures);
        let invoke = quote!(#name(#(#values,)* #(#own),*));
        if call.filter {
            pieces.push(Piece::If(if call.negate {
                quote!(!#invoke)
            } else {
                invoke
            }));
        } else {
            let v = format_ident!("__dc_v{}", i + 1);
            pieces.push(Piece::Let(quote!(let #v = #invoke;)));
            values = vec![quote!(#v)];
        }
    }
    let value = &values[0];
    let mut code = quote! {
        let __dc_value = #value;
        #action
    };
    for piece in pieces.into_iter().rev() {
        code = match piece {
            Piece::Let(line) => quote!(#line #code),
            Piece::If(cond) => quote!(if #cond { #code }),
        };
    }
    code
}

/// Loads element `index` of every source (`__dc_v0_j`): from buffer `__dc_xj`, the position
/// itself, or range start `__dc_xj` plus the position.
fn loads(sources: &[Source<'_>], index: TokenStream) -> TokenStream {
    let lines = sources.iter().enumerate().map(|(j, source)| {
        let v = format_ident!("__dc_v0_{}", j);
        let x = format_ident!("__dc_x{}", j);
        match source {
            Source::Buffer(_) => quote!(let #v = #x[#index];),
            Source::Index => quote!(let #v = (#index) as u64;),
            Source::Range(_) => quote!(let #v = #x + (#index) as u64;),
        }
    });
    quote!(#(#lines)*)
}

fn fused(
    terminal: Terminal,
    terminal_span: Span,
    accelerator: &syn::Expr,
    sources: &[Source<'_>],
    stages: &[Stage],
    mode: Mode,
) -> syn::Result<TokenStream> {
    let known: Vec<Option<ScalarType>> = sources.iter().map(Source::known_type).collect();
    let typed = type_chain(stages, &known)?;
    let one_value = typed.output.len() == 1;
    let needs_value = matches!(
        terminal,
        Terminal::Sum | Terminal::Min | Terminal::Max | Terminal::Collect
    );
    if needs_value && !one_value {
        return Err(err(
            terminal_span,
            "zipped or enumerated elements need a `map` to one value before this terminal",
        ));
    }
    let out_type = typed.output[0];
    let t_out = rust_type(out_type);
    let helpers = &typed.helpers;
    let capture_params: Vec<TokenStream> = typed
        .captures
        .iter()
        .map(|(ident, ty)| {
            let ty = rust_type(*ty);
            quote!(#ident: #ty)
        })
        .collect();
    // Captured values as the parameters' types (`usize` passes as the language's `u64`).
    let capture_args: Vec<TokenStream> = typed
        .captures
        .iter()
        .map(|(ident, ty)| {
            let ty = rust_type(*ty);
            quote!(::dotcompute::query::capture::<#ty, _>(#ident))
        })
        .collect();
    // The kernels' source parameters (buffers, range starts; positions need none), and what
    // the host passes for them.
    let mut source_params = Vec::new();
    let mut source_args = Vec::new();
    let mut host_lets = Vec::new();
    let mut lens = Vec::new();
    for (j, (source, t)) in sources.iter().zip(&typed.inputs).enumerate() {
        let x = format_ident!("__dc_x{}", j);
        let s = format_ident!("__dc_s{}", j);
        let t = rust_type(*t);
        match source {
            Source::Buffer(expr) => {
                source_params.push(quote!(#x: &[#t]));
                host_lets.push(quote!(let #s = #expr;));
                source_args.push(quote!(#s));
                lens.push(quote!(#s.len()));
            }
            Source::Index => {}
            Source::Range(expr) => {
                source_params.push(quote!(#x: u64));
                host_lets.push(quote!(let #s = ::dotcompute::query::range(#expr)?;));
                source_args.push(quote!(#s.0));
                lens.push(quote!(#s.1));
            }
        }
    }
    let n = sources;
    let has_filter = typed.calls.iter().any(|call| call.filter);
    let module = format_ident!("__dotcompute_query");
    let reduce = |name: TokenStream,
                  t_out: &TokenStream,
                  identity: &TokenStream,
                  combine: &dyn Fn(TokenStream, TokenStream) -> TokenStream,
                  action: TokenStream| {
        reduce_kernel(
            name,
            &capture_params,
            &source_params,
            n,
            t_out,
            identity,
            combine,
            &apply_chain(&typed, action),
        )
    };
    let launch_grid = |kernel: &str| {
        let kernel = format_ident!("{}", kernel);
        quote! {
            |__dc_grid, __dc_n, __dc_out| {
                #module::#kernel::launch(__dc_acc, __dc_grid #(, #capture_args)*, __dc_n #(, #source_args)*, __dc_out)
            }
        }
    };
    let (kernels, run, names) = match terminal {
        Terminal::Sum => {
            let (identity, float) = sum_tokens(out_type)?;
            let step = add(float, quote!(__dc_acc), quote!(__dc_value));
            let kernel = reduce(
                quote!(query_sum),
                &t_out,
                &identity,
                &|a, b| add(float, a, b),
                quote!(__dc_acc = #step;),
            );
            let pass = launch_grid("query_sum");
            let run = quote!(::dotcompute::query::sum(__dc_acc, __dc_lens, #pass));
            (kernel, run, vec![format_ident!("query_sum")])
        }
        Terminal::Count | Terminal::Any | Terminal::All => {
            let kernel = reduce(
                quote!(query_count),
                &quote!(u64),
                &quote!(0u64),
                &|a, b| add(false, a, b),
                quote!(__dc_acc += 1u64;),
            );
            let pass = launch_grid("query_count");
            let count = quote!(::dotcompute::query::count(__dc_acc, __dc_lens, #pass));
            let run = match terminal {
                Terminal::Any => quote!(#count.map(|__dc_kept| __dc_kept > 0)),
                Terminal::All => quote!(#count.map(|__dc_failed| __dc_failed == 0)),
                _ => count,
            };
            (kernel, run, vec![format_ident!("query_count")])
        }
        Terminal::Min | Terminal::Max => {
            let max = terminal == Terminal::Max;
            let identity = extreme_identity(out_type, max)?;
            let method = if max { quote!(max) } else { quote!(min) };
            let mut kernels = reduce(
                quote!(query_extreme),
                &t_out,
                &identity,
                &|a, b| quote!(#a.#method(#b)),
                quote!(__dc_acc = __dc_acc.#method(__dc_value);),
            );
            // Whether anything reaches the end (`min` of nothing is `None`): without a
            // filter, whether there are elements at all.
            let count = if has_filter {
                kernels.extend(reduce(
                    quote!(query_count),
                    &quote!(u64),
                    &quote!(0u64),
                    &|a, b| add(false, a, b),
                    quote!(__dc_acc += 1u64;),
                ));
                let count = launch_grid("query_count");
                quote!(::dotcompute::query::count_pass(#count))
            } else {
                quote!(::dotcompute::query::no_count())
            };
            let pass = launch_grid("query_extreme");
            let run =
                quote!(::dotcompute::query::extreme_by(__dc_acc, __dc_lens, #max, #count, #pass));
            let mut names = vec![format_ident!("query_extreme")];
            if has_filter {
                names.push(format_ident!("query_count"));
            }
            (kernels, run, names)
        }
        Terminal::Collect if out_type == ScalarType::Bool => {
            return Err(err(
                Span::call_site(),
                "`collect` makes a buffer of numbers; this query's values are `bool` (map them: `.map(|b| b as u32)`)",
            ));
        }
        Terminal::Collect if !has_filter => {
            // Every element stays: one item per element writes its value.
            let chain = apply_chain(&typed, quote!(__dc_out[__dc_i] = __dc_value;));
            let load = loads(n, quote!(__dc_i));
            let kernel = quote! {
                #[::dotcompute::kernel]
                pub fn query_map(#(#capture_params,)* #(#source_params,)* __dc_out: &mut [#t_out]) {
                    let __dc_i = global_id();
                    #load
                    #chain
                }
            };
            let run = quote! {
                ::dotcompute::query::map(__dc_acc, __dc_lens, |__dc_n, __dc_out| {
                    #module::query_map::launch(__dc_acc, __dc_n #(, #capture_args)* #(, #source_args)*, __dc_out)
                })
            };
            (kernel, run, vec![format_ident!("query_map")])
        }
        Terminal::Collect => {
            let count_chain = apply_chain(&typed, quote!(__dc_kept += 1u64;));
            let write_chain = apply_chain(
                &typed,
                quote! {
                    __dc_out[__dc_at as usize] = __dc_value;
                    __dc_at += 1u64;
                },
            );
            let kernels = compact_kernels(
                &capture_params,
                &source_params,
                n,
                &t_out,
                &count_chain,
                &write_chain,
            );
            let run = quote! {
                ::dotcompute::query::collect(
                    __dc_acc,
                    __dc_lens,
                    |__dc_grid, __dc_n, __dc_counts| {
                        #module::query_collect_count::launch(__dc_acc, __dc_grid #(, #capture_args)*, __dc_n #(, #source_args)*, __dc_counts)
                    },
                    |__dc_grid, __dc_n, __dc_offsets, __dc_out| {
                        #module::query_collect_write::launch(__dc_acc, __dc_grid #(, #capture_args)*, __dc_n #(, #source_args)*, __dc_offsets, __dc_out)
                    },
                )
            };
            (
                kernels,
                run,
                vec![
                    format_ident!("query_collect_count"),
                    format_ident!("query_collect_write"),
                ],
            )
        }
    };
    let evaluate = match mode {
        Mode::Run => quote! {
            let __dc_acc: &::dotcompute::Accelerator = &(#accelerator);
            // A closure, so that a bad range can return its error from here.
            (|| {
                #(#host_lets)*
                let __dc_lens: &[usize] = &[#(#lens),*];
                #run
            })()
        },
        Mode::Kernels => {
            quote!(::std::vec![#(#module::#names::definition()),*])
        }
    };
    Ok(quote! {{
        #[allow(non_snake_case, unused_imports, unused_parens, unused_braces, unused_variables, unused_mut, clippy::all)]
        mod #module {
            use super::*;
            use ::dotcompute::prelude::*;
            #(#helpers)*
            #kernels
        }
        #evaluate
    }})
}

/// The sum's identity for the output type, and whether it adds floats (`+`) or wraps.
fn sum_tokens(t: ScalarType) -> syn::Result<(TokenStream, bool)> {
    Ok(match t {
        ScalarType::F32 => (quote!((-0.0f32)), true),
        ScalarType::F64 => (quote!((-0.0f64)), true),
        ScalarType::Bool => {
            return Err(err(
                Span::call_site(),
                "`sum` adds numbers; this query's values are `bool`",
            ));
        }
        _ => {
            let zero = syn::LitInt::new(&format!("0{}", t.rust_name()), Span::call_site());
            (quote!(#zero), false)
        }
    })
}

/// The identity of `min` (`max` when `max`): the type's largest (smallest) value, infinite
/// for floats, as `algorithms::min`/`max`.
fn extreme_identity(t: ScalarType, max: bool) -> syn::Result<TokenStream> {
    if t == ScalarType::Bool {
        return Err(err(
            Span::call_site(),
            "`min` and `max` compare numbers; this query's values are `bool`",
        ));
    }
    let ty = rust_type(t);
    let float = matches!(t, ScalarType::F32 | ScalarType::F64);
    Ok(match (float, max) {
        (true, false) => quote!((#ty::INFINITY)),
        (true, true) => quote!((#ty::NEG_INFINITY)),
        (false, false) => quote!((#ty::MAX)),
        (false, true) => quote!((#ty::MIN)),
    })
}

/// `a + b` (floats) or `a.wrapping_add(b)`.
fn add(float: bool, a: TokenStream, b: TokenStream) -> TokenStream {
    if float {
        quote!((#a + #b))
    } else {
        quote!(#a.wrapping_add(#b))
    }
}

/// The first pass of a sum or count in the reduction's order: a group of 256 items per chunk
/// of 4096 elements, item `l` taking elements `l, l + 256, ..` through the chain, then the
/// halving tree (as `algorithms::reduce`).
#[allow(clippy::too_many_arguments)]
fn reduce_kernel(
    name: TokenStream,
    capture_params: &[TokenStream],
    source_params: &[TokenStream],
    sources: &[Source<'_>],
    t_out: &TokenStream,
    identity: &TokenStream,
    combine: &dyn Fn(TokenStream, TokenStream) -> TokenStream,
    chain: &TokenStream,
) -> TokenStream {
    let combine = combine(
        quote!(__dc_tile[__dc_lid]),
        quote!(__dc_tile[__dc_lid + __dc_s]),
    );
    let whole = loads(sources, quote!(__dc_base + __dc_k * 256 + __dc_lid));
    let guarded = loads(sources, quote!(__dc_i));
    quote! {
        #[::dotcompute::kernel]
        pub fn #name(#(#capture_params,)* __dc_n: u64, #(#source_params,)* __dc_out: &mut [#t_out]) {
            let mut __dc_tile = shared_array::<#t_out, 256>();
            let __dc_lid = local_id_x();
            let __dc_base = group_id_x() * 4096;
            let mut __dc_acc: #t_out = #identity;
            // A whole chunk needs no guard (its loads are whole vectors on the CPU); the
            // last may be partial.
            if __dc_base + 4096 <= __dc_n as usize {
                for __dc_k in 0..16usize {
                    #whole
                    #chain
                }
            } else {
                for __dc_k in 0..16usize {
                    let __dc_i = __dc_base + __dc_k * 256 + __dc_lid;
                    if __dc_i < __dc_n as usize {
                        #guarded
                        #chain
                    }
                }
            }
            __dc_tile[__dc_lid] = __dc_acc;
            barrier();
            for __dc_level in 0..8usize {
                let __dc_s = 128usize >> __dc_level;
                if __dc_lid < __dc_s {
                    __dc_tile[__dc_lid] = #combine;
                }
                barrier();
            }
            if __dc_lid == 0 {
                __dc_out[group_id_x()] = __dc_tile[0];
            }
        }
    }
}

/// The order-preserving compaction of the chain's kept values (as `define_compaction!`):
/// lane `l` of a chunk owns elements `16l .. 16l + 16`.
fn compact_kernels(
    capture_params: &[TokenStream],
    source_params: &[TokenStream],
    sources: &[Source<'_>],
    t_out: &TokenStream,
    count_chain: &TokenStream,
    write_chain: &TokenStream,
) -> TokenStream {
    let load = loads(sources, quote!(__dc_i));
    // Both kernels start alike: each lane counts its kept elements into the shared array.
    let lane_counts = quote! {
        let mut __dc_lanes = shared_array::<u64, 256>();
        let __dc_lid = local_id_x();
        let __dc_start = group_id_x() * 4096 + 16 * __dc_lid;
        let __dc_end = (__dc_start + 16).min(__dc_n as usize);
        let mut __dc_kept = 0u64;
        for __dc_i in __dc_start..__dc_end {
            #load
            #count_chain
        }
        __dc_lanes[__dc_lid] = __dc_kept;
        barrier();
    };
    quote! {
        #[::dotcompute::kernel]
        pub fn query_collect_count(#(#capture_params,)* __dc_n: u64, #(#source_params,)* __dc_counts: &mut [u64]) {
            #lane_counts
            for __dc_level in 0..8usize {
                let __dc_s = 128usize >> __dc_level;
                if __dc_lid < __dc_s {
                    __dc_lanes[__dc_lid] = __dc_lanes[__dc_lid] + __dc_lanes[__dc_lid + __dc_s];
                }
                barrier();
            }
            if __dc_lid == 0 {
                __dc_counts[group_id_x()] = __dc_lanes[0];
            }
        }

        #[::dotcompute::kernel]
        pub fn query_collect_write(
            #(#capture_params,)*
            __dc_n: u64,
            #(#source_params,)*
            __dc_offsets: &[u64],
            __dc_out: &mut [#t_out],
        ) {
            #lane_counts
            for __dc_level in 0..8usize {
                let __dc_d = 1usize << __dc_level;
                let __dc_before = if __dc_lid >= __dc_d { __dc_lanes[__dc_lid - __dc_d] } else { 0 };
                barrier();
                if __dc_lid >= __dc_d {
                    __dc_lanes[__dc_lid] = __dc_before + __dc_lanes[__dc_lid];
                }
                barrier();
            }
            let __dc_prefix = if __dc_lid > 0 { __dc_lanes[__dc_lid - 1] } else { 0 };
            let mut __dc_at = __dc_offsets[group_id_x()] + __dc_prefix;
            for __dc_i in __dc_start..__dc_end {
                #load
                #write_chain
            }
        }
    }
}
