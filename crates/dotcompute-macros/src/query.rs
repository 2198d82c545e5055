//! `query!`: a chain of closures over a buffer becomes fused kernels at compile time.
//!
//! The macro reads `acc.query(&xs).map(|x: f32| ..).filter(|x| ..).sum()`, types each closure
//! by the kernel language's rules (the element type comes from the first closure's
//! annotation; free names are captured scalars, typed by their uses), and emits a module at
//! the call site with one `#[kernel_fn]` per closure and the kernels of the terminal, each
//! running the whole chain per element (fusion: no intermediate buffer). The host side calls
//! `dotcompute::query`'s drivers with the captured values.

use crate::lower::{ChainClosure, ClosureParam, ClosureRole, infer_chain};
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
    /// The operator as written (`map(|v: u32| 8 / v)`), for a fault's location; empty for
    /// the closures the macro adds.
    label: String,
}

/// Where the elements come from: a buffer, the element's position (`enumerate`), or a range
/// of indices (`acc.query(0..n)`).
enum Source<'a> {
    Buffer(&'a syn::Expr),
    /// A buffer whose element type the macro knows: an earlier stage's values.
    Typed(&'a syn::Expr, ScalarType),
    Index,
    Range(&'a syn::Expr),
}

impl Source<'_> {
    /// The element type the source itself fixes (`u64` for positions and ranges).
    fn known_type(&self) -> Option<ScalarType> {
        match self {
            Source::Buffer(_) => None,
            Source::Typed(_, t) => Some(*t),
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
    Average,
    /// `reduce(|| identity, |a, b| ..)`: the identity is evaluated on the host.
    Reduce,
    /// `position(p)`: where the first value satisfying `p` is, among the values.
    Position,
    /// `min_by_key(k)` (`max`: `max_by_key`).
    ExtremeByKey {
        max: bool,
    },
    Sort,
    SortByKey,
    /// `group_by_key(k).count()` (`.sum()`, `.min()`, `.max()`).
    Group(Aggregate),
    /// `distinct()`: the keys of `group_by_key(|v| v).count()`.
    Distinct,
    /// `scan()` (running sums) or `scan(|| identity, |a, b| ..)`; `exclusive_scan` alike.
    Scan {
        exclusive: bool,
    },
    /// `join(&right, |l| key, |r| key)`: the pairs of positions with equal keys.
    Join,
}

/// What `group_by_key(k)` computes per group.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Count,
    Sum,
    Min,
    Max,
}

/// An operator of the chain as written: a stage or a window.
enum Op<'a> {
    Stage(Box<Stage>),
    Window(WindowOp<'a>),
}

/// `skip(k)` or `take(k)`: a window of the elements (of the values a filter kept, after one:
/// a new stage over the collected values).
struct WindowOp<'a> {
    take: bool,
    count: &'a syn::Expr,
}

const OPERATORS: &str = "operators: `map`, `filter`, `take`, `skip`; terminals: `sum`, `count`, `collect`, `min`, `max`, `average`, `any`, `all`, `reduce`, `position`, `min_by_key`, `max_by_key`, `sort`, `sort_by_key`, `distinct`, `scan`, `exclusive_scan`, `join`, `group_by_key(k)` then `count`, `sum`, `min` or `max`";

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

/// The terminal as written: which, its closures, and `reduce`'s identity.
struct TerminalCall<'a> {
    terminal: Terminal,
    span: Span,
    /// `any`/`all`'s predicate (as the chain's last stage), `position`'s predicate, the key,
    /// or `reduce`'s (`scan`'s) combiner.
    closure: Option<Closure>,
    identity: Option<&'a syn::Expr>,
    /// `join`'s right buffer and its key (the left key is `closure`).
    join: Option<(&'a syn::Expr, Closure)>,
}

fn terminal_call(last: &syn::ExprMethodCall) -> syn::Result<TerminalCall<'_>> {
    let name = last.method.to_string();
    let span = last.method.span();
    let terminal = match name.as_str() {
        "sum" => Terminal::Sum,
        "count" => Terminal::Count,
        "collect" => Terminal::Collect,
        "min" => Terminal::Min,
        "max" => Terminal::Max,
        "any" => Terminal::Any,
        "all" => Terminal::All,
        "average" => Terminal::Average,
        "reduce" => Terminal::Reduce,
        "position" => Terminal::Position,
        "min_by_key" => Terminal::ExtremeByKey { max: false },
        "max_by_key" => Terminal::ExtremeByKey { max: true },
        "sort" => Terminal::Sort,
        "sort_by_key" => Terminal::SortByKey,
        "distinct" => Terminal::Distinct,
        "scan" => Terminal::Scan { exclusive: false },
        "exclusive_scan" => Terminal::Scan { exclusive: true },
        "join" => Terminal::Join,
        other => {
            return Err(err(
                span,
                format!("a query ends with a terminal, not `{other}`; {OPERATORS}"),
            ));
        }
    };
    let mut call = TerminalCall {
        terminal,
        span,
        closure: None,
        identity: None,
        join: None,
    };
    match terminal {
        Terminal::Any
        | Terminal::All
        | Terminal::Position
        | Terminal::ExtremeByKey { .. }
        | Terminal::SortByKey => {
            call.closure = Some(closure(&last.args, &name, span)?);
        }
        Terminal::Distinct => {
            // The values are their own keys; `distinct::<T>()` names T where no closure does.
            let ty = match &last.turbofish {
                None => None,
                Some(turbofish) => {
                    let (Some(syn::GenericArgument::Type(t)), 1) =
                        (turbofish.args.first(), turbofish.args.len())
                    else {
                        return Err(err(
                            turbofish.span(),
                            "`distinct::<T>()` names one element type",
                        ));
                    };
                    let ty = scalar_type(t)
                        .filter(|ty| *ty != ScalarType::Bool)
                        .ok_or_else(|| {
                            err(
                                t.span(),
                                "elements are numbers: `f32`, `f64`, `i32`, `u32`, `i64`, `u64`",
                            )
                        })?;
                    Some((ty, t.span()))
                }
            };
            if !last.args.is_empty() {
                return Err(err(last.args.span(), "`distinct` takes no arguments"));
            }
            call.closure = Some(Closure {
                params: vec![(format_ident!("__dc_distinct"), false, ty)],
                ret_ty: None,
                body: syn::parse_quote!(__dc_distinct),
                label: String::new(),
            });
        }
        Terminal::Join => {
            let usage = "`join` takes the right buffer and the two keys: `join(&right, |l: u32| l, |r: u32| r)`";
            let (Some(right), Some(left_key), Some(right_key), 3) = (
                last.args.first(),
                last.args.get(1),
                last.args.get(2),
                last.args.len(),
            ) else {
                return Err(err(span, usage));
            };
            let one = |e: &syn::Expr| {
                let mut one = syn::punctuated::Punctuated::new();
                one.push(e.clone());
                closure(&one, "join", e.span())
            };
            if matches!(
                unwrap_groups(right),
                syn::Expr::Closure(_) | syn::Expr::Range(_)
            ) {
                return Err(err(right.span(), usage));
            }
            call.closure = Some(one(left_key)?);
            call.join = Some((right, one(right_key)?));
        }
        Terminal::Reduce => {
            let usage = "`reduce` takes the identity and an associative combiner, as rayon's: `reduce(|| 0.0, |a, b| a + b)`";
            let (identity, combiner) = identity_and_combiner(last, usage)?;
            call.closure = Some(combiner);
            call.identity = Some(identity);
        }
        // Running sums without arguments; a custom combiner as `reduce`'s.
        Terminal::Scan { .. } if !last.args.is_empty() => {
            let usage = format!(
                "`{name}` takes nothing (running sums) or the identity and an associative combiner, as `reduce`: `{name}(|| 0.0, |a, b| a.max(b))`"
            );
            let (identity, combiner) = identity_and_combiner(last, &usage)?;
            call.closure = Some(combiner);
            call.identity = Some(identity);
        }
        _ => {
            if !last.args.is_empty() {
                return Err(err(last.args.span(), "this terminal takes no arguments"));
            }
        }
    }
    Ok(call)
}

/// `reduce`'s (`scan`'s) two arguments: a closure making the identity, and the combiner.
fn identity_and_combiner<'a>(
    last: &'a syn::ExprMethodCall,
    usage: &str,
) -> syn::Result<(&'a syn::Expr, Closure)> {
    let span = last.method.span();
    let (Some(identity), Some(combine), 2) = (last.args.first(), last.args.get(1), last.args.len())
    else {
        return Err(err(span, usage));
    };
    match identity {
        syn::Expr::Closure(c) if !c.inputs.is_empty() => {
            return Err(err(c.inputs.span(), usage));
        }
        // Rayon's identity is a function that makes it, not the value.
        syn::Expr::Lit(_) | syn::Expr::Unary(_) => {
            return Err(err(identity.span(), usage));
        }
        _ => {}
    }
    let syn::Expr::Closure(c) = combine else {
        return Err(err(combine.span(), usage));
    };
    if c.inputs.len() != 2 {
        return Err(err(c.inputs.span(), usage));
    }
    let mut one = syn::punctuated::Punctuated::new();
    one.push(combine.clone());
    Ok((identity, closure(&one, &last.method.to_string(), span)?))
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
    let mut call = terminal_call(last)?;
    let mut receiver = &*last.receiver;
    // `group_by_key(k).sum()`: the aggregate ends the chain, the key belongs to it.
    if let syn::Expr::MethodCall(group) = receiver
        && group.method == "group_by_key"
    {
        let aggregate = match call.terminal {
            Terminal::Count => Aggregate::Count,
            Terminal::Sum => Aggregate::Sum,
            Terminal::Min => Aggregate::Min,
            Terminal::Max => Aggregate::Max,
            _ => {
                return Err(err(
                    call.span,
                    "`group_by_key(k)` is followed by the groups' aggregate: `count()`, `sum()`, `min()` or `max()`",
                ));
            }
        };
        call = TerminalCall {
            terminal: Terminal::Group(aggregate),
            span: group.method.span(),
            closure: Some(closure(&group.args, "group_by_key", group.method.span())?),
            identity: None,
            join: None,
        };
        receiver = &group.receiver;
    }
    // `any(p)` and `all(p)` take a predicate: it becomes the chain's last filter.
    let predicate = match call.terminal {
        Terminal::Any => call.closure.take().map(Stage::Filter),
        Terminal::All => call.closure.take().map(Stage::Reject),
        _ => None,
    };
    // Walk the receivers back to `.query(source)`; `zip(&b)` and `enumerate()` may follow it
    // directly.
    let mut ops = Vec::new();
    let mut joined: Vec<(Source<'_>, Span)> = Vec::new();
    let mut current = receiver;
    let (accelerator, first_source) = loop {
        let syn::Expr::MethodCall(call) = current else {
            return Err(err(
                current.span(),
                "a query starts with `accelerator.query(&buffer)` or `accelerator.query(0..n)`",
            ));
        };
        let name = call.method.to_string();
        if matches!(name.as_str(), "map" | "filter" | "take" | "skip")
            && let Some((_, span)) = joined.last()
        {
            return Err(err(
                *span,
                "`zip` and `enumerate` come right after `query(..)`, before any operator",
            ));
        }
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
            "take" | "skip" => {
                let (Some(count), 1) = (call.args.first(), call.args.len()) else {
                    return Err(err(
                        call.span(),
                        format!("`{name}` takes a number of elements: `.{name}(10)`"),
                    ));
                };
                ops.push(Op::Window(WindowOp {
                    take: name == "take",
                    count,
                }));
            }
            "map" | "filter" => {
                let closure = closure(&call.args, &name, call.method.span())?;
                ops.push(Op::Stage(Box::new(if name == "map" {
                    Stage::Map(closure)
                } else {
                    Stage::Filter(closure)
                })));
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
    ops.reverse();
    ops.extend(predicate.map(|stage| Op::Stage(Box::new(stage))));
    expand_ops(&call, accelerator, sources, ops, (1, mode))
}

/// The chain's operators over `sources`: one fused stage, or, where `take`/`skip` follow a
/// filter, the values up to there collected (an order-preserving compaction) and the rest
/// of the chain run over them.
fn expand_ops(
    call: &TerminalCall<'_>,
    accelerator: &syn::Expr,
    sources: Vec<Source<'_>>,
    mut ops: Vec<Op<'_>>,
    (stage, mode): (u32, Mode),
) -> syn::Result<TokenStream> {
    let is_filter = |op: &Op<'_>| matches!(op, Op::Stage(stage) if matches!(**stage, Stage::Filter(_) | Stage::Reject(_)));
    let split = ops.iter().position(is_filter).and_then(|f| {
        ops[f..]
            .iter()
            .position(|op| matches!(op, Op::Window(_)))
            .map(|w| f + w)
    });
    let Some(split) = split else {
        return expand_stage(call, accelerator, sources, partition(ops), stage, mode);
    };
    let rest = ops.split_off(split);
    let (stages, windows) = partition(ops);
    // The collected values' type names the next stage's elements.
    let known: Vec<Option<ScalarType>> = sources.iter().map(Source::known_type).collect();
    let typed = type_chain(&stages, None, &known, "")?;
    let window_span = match &rest[0] {
        Op::Window(w) => w.count.span(),
        Op::Stage(_) => call.span,
    };
    let values = match typed.output[..] {
        [t] if t != ScalarType::Bool => t,
        _ => {
            return Err(err(
                window_span,
                "`take`/`skip` after a filter count the values the filter kept, which need to be one number: `map` them to one first",
            ));
        }
    };
    let collect = TerminalCall {
        terminal: Terminal::Collect,
        span: call.span,
        closure: None,
        identity: None,
        join: None,
    };
    let stage_acc: syn::Expr = syn::parse_quote!(__dc_stage_acc);
    let first = expand_stage(
        &collect,
        &stage_acc,
        sources,
        (stages, windows),
        stage,
        mode,
    )?;
    let collected: syn::Expr = syn::parse_quote!(&__dc_stage);
    let second = expand_ops(
        call,
        &stage_acc,
        vec![Source::Typed(&collected, values)],
        rest,
        (stage + 1, mode),
    )?;
    Ok(match mode {
        Mode::Run => quote! {{
            let __dc_stage_acc = &(#accelerator);
            (|| {
                let __dc_stage = #first?;
                #second
            })()
        }},
        Mode::Kernels => quote! {{
            let mut __dc_all: ::std::vec::Vec<&'static ::dotcompute::KernelDefinition> = #first;
            __dc_all.extend(#second);
            __dc_all
        }},
    })
}

/// A stage's operators apart: the closures, and the windows (all before any filter).
fn partition(ops: Vec<Op<'_>>) -> (Vec<Stage>, Vec<WindowOp<'_>>) {
    let mut stages = Vec::new();
    let mut windows = Vec::new();
    for op in ops {
        match op {
            Op::Stage(stage) => stages.push(*stage),
            Op::Window(window) => windows.push(window),
        }
    }
    (stages, windows)
}

/// One fused stage: `stages` over `sources`, `windows` (before any filter) cutting the
/// elements, then the terminal.
fn expand_stage(
    call: &TerminalCall<'_>,
    accelerator: &syn::Expr,
    sources: Vec<Source<'_>>,
    (mut stages, windows): (Vec<Stage>, Vec<WindowOp<'_>>),
    stage: u32,
    mode: Mode,
) -> syn::Result<TokenStream> {
    let first_buffer = match sources[..] {
        [Source::Buffer(b) | Source::Typed(b, _)] => Some(b),
        _ => None,
    };
    if stages.is_empty() && matches!(&sources[..], [Source::Range(_)]) {
        // The indices themselves: an identity map gives the fused kernels a stage.
        stages.push(Stage::Map(Closure {
            params: vec![(format_ident!("__dc_index"), false, None)],
            ret_ty: None,
            body: syn::parse_quote!(__dc_index),
            label: String::new(),
        }));
    }
    if stages.is_empty()
        && matches!(call.terminal, Terminal::Reduce | Terminal::Scan { .. })
        && let Some(c) = &call.closure
    {
        // The combiner takes two elements where a first closure takes one: an identity map
        // of the type it names starts the chain.
        if sources.len() != 1 {
            return Err(err(
                call.span,
                "zipped or enumerated elements need a `map` to one value before a combiner",
            ));
        }
        let known = sources[0].known_type().map(|t| (t, Span::call_site()));
        let Some(ty) = c.params.iter().find_map(|(_, _, ty)| *ty).or(known) else {
            return Err(err(
                c.body.span(),
                "write the element type of the combiner: `|a: f32, b| ..` (the macro cannot see the buffer's type)",
            ));
        };
        stages.push(Stage::Map(Closure {
            params: vec![(format_ident!("__dc_element"), false, Some(ty))],
            ret_ty: None,
            body: syn::parse_quote!(__dc_element),
            label: String::new(),
        }));
    }
    if call.terminal == Terminal::Join {
        if sources.iter().any(|s| matches!(s, Source::Typed(..))) {
            return Err(err(
                call.span,
                "`join` gives positions in its sources, which `take`/`skip` after a filter renumber: put the window before the filter",
            ));
        }
        // The buffer itself: no positions to collect.
        if let (Some(left), [Source::Buffer(_)], true, true) = (
            first_buffer,
            &sources[..],
            stages.is_empty(),
            windows.is_empty(),
        ) {
            return join_query(call, accelerator, left, mode);
        }
    }
    if stages.is_empty() && call.terminal == Terminal::Distinct && sources.len() > 1 {
        return Err(err(
            call.span,
            "zipped or enumerated elements need a `map` to one value before `distinct`",
        ));
    }
    if stages.is_empty()
        && call.terminal == Terminal::Distinct
        && call
            .closure
            .as_ref()
            .is_some_and(|c| c.params[0].2.is_none())
        && !matches!(&sources[..], [Source::Range(_) | Source::Typed(..)])
    {
        return Err(err(
            call.span,
            "`distinct` of a buffer needs its element type (the macro cannot see the buffer's): `.distinct::<u32>()`",
        ));
    }
    // Terminals with closures type them with the chain (the closure names the element type).
    if stages.is_empty() && call.closure.is_none() {
        let Some(buffer) = first_buffer else {
            return Err(err(
                call.span,
                "zipped or enumerated elements need a `map` to one value before this terminal",
            ));
        };
        return Ok(match mode {
            Mode::Run => plain(call.terminal, accelerator, buffer, &windows),
            Mode::Kernels => {
                quote!(::std::vec::Vec::<&'static ::dotcompute::KernelDefinition>::new())
            }
        });
    }
    fused(
        call,
        accelerator,
        &sources,
        (&stages, &windows),
        stage,
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
    let text = written(c);
    Ok(Closure {
        params,
        ret_ty,
        body: (*c.body).clone(),
        label: if name == "join" {
            format!("join(.., {text}, ..)")
        } else {
            format!("{name}({text})")
        },
    })
}

/// A closure as a reader would write it (`|v: u32| 8 / v`), on one line: the tokens'
/// own spelling (`| v : u32 |`) reads poorly, and a span's source text is out of reach of
/// a stable macro for more than one token.
fn written(c: &syn::ExprClosure) -> String {
    let file = syn::File {
        shebang: None,
        attrs: Vec::new(),
        items: vec![syn::parse_quote!(const _: () = #c;)],
    };
    let text = prettyplease::unparse(&file);
    let text = text.trim();
    let text = text.strip_prefix("const _: () = ").unwrap_or(text);
    let text = text.strip_suffix(';').unwrap_or(text);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The window of `take`/`skip` over `len` elements, as a `dotcompute::query::Window`.
fn window_expr(windows: &[WindowOp<'_>], len: TokenStream) -> TokenStream {
    let ops = windows.iter().map(|w| {
        let count = w.count;
        if w.take {
            quote!(.take(#count))
        } else {
            quote!(.skip(#count))
        }
    });
    quote!(::dotcompute::query::Window::new(#len) #(#ops)*)
}

/// A chain without closures: the library's own operations (on a copy of the window when
/// `take`/`skip` cut one).
fn plain(
    terminal: Terminal,
    accelerator: &syn::Expr,
    source: &syn::Expr,
    windows: &[WindowOp<'_>],
) -> TokenStream {
    let (lets, buffer) = if windows.is_empty() {
        (quote!(let __dc_b = __dc_src;), quote!(__dc_b))
    } else {
        let window = window_expr(windows, quote!(__dc_src.len()));
        (
            quote! {
                let __dc_copy = ::dotcompute::query::window_copy(__dc_acc, __dc_src, #window)?;
                let __dc_b = &__dc_copy;
            },
            quote!(__dc_b),
        )
    };
    let op = match terminal {
        Terminal::Sum => quote!(::dotcompute::algorithms::sum(__dc_acc, #buffer)),
        Terminal::Count => {
            quote!(::core::result::Result::<usize, ::dotcompute::Error>::Ok(#buffer.len()))
        }
        // The window's copy is the result already.
        Terminal::Collect if !windows.is_empty() => {
            quote!(::core::result::Result::<_, ::dotcompute::Error>::Ok(
                __dc_copy
            ))
        }
        Terminal::Collect => quote!(::dotcompute::query::copy(__dc_acc, #buffer)),
        Terminal::Min => quote!(::dotcompute::query::extreme(__dc_acc, #buffer, false)),
        Terminal::Max => quote!(::dotcompute::query::extreme(__dc_acc, #buffer, true)),
        Terminal::Average => quote!(::dotcompute::query::average_of(__dc_acc, #buffer)),
        Terminal::Sort => quote!(::dotcompute::query::sorted_copy(__dc_acc, #buffer)),
        Terminal::Scan { exclusive } => {
            quote!(::dotcompute::query::scanned_copy(__dc_acc, #buffer, #exclusive))
        }
        // Never emitted: these take closures, which make the chain fused.
        Terminal::Any
        | Terminal::All
        | Terminal::Reduce
        | Terminal::Position
        | Terminal::ExtremeByKey { .. }
        | Terminal::SortByKey
        | Terminal::Group(_)
        | Terminal::Distinct
        | Terminal::Join => {
            quote!(::core::compile_error!("this terminal takes a closure"))
        }
    };
    quote! {{
        let __dc_target = &(#accelerator);
        (|| {
            let __dc_src = #source;
            let __dc_acc: &::dotcompute::Accelerator = ::dotcompute::placement::QueryTarget::place(
                __dc_target,
                &[],
                &|| ::std::vec![::dotcompute::placement::footprint(__dc_src)],
                1,
            )?;
            #lets
            #op
        })()
    }}
}

fn rust_type(t: ScalarType) -> TokenStream {
    let ident = format_ident!("{}", t.rust_name());
    quote!(#ident)
}

/// One closure's helper call.
#[derive(Clone)]
struct Call {
    name: syn::Ident,
    filter: bool,
    /// Keep the elements the helper rejects.
    negate: bool,
    captures: Vec<syn::Ident>,
}

impl Call {
    /// The helper called on `args`, then its captures.
    fn invoke(&self, args: &[TokenStream]) -> TokenStream {
        let (name, own) = (&self.name, &self.captures);
        quote!(#name(#(#args,)* #(#own),*))
    }
}

/// The chain, typed: each closure's helper and what flows out of it.
struct Typed {
    /// One `#[kernel_fn]` per closure.
    helpers: Vec<TokenStream>,
    /// Per stage: the helper's name, whether it filters (and keeps what it rejects), and
    /// the captures it takes.
    calls: Vec<Call>,
    /// The terminal's closure (a predicate, key or combiner), and its value's type.
    terminal: Option<(Call, ScalarType)>,
    captures: Vec<(syn::Ident, ScalarType)>,
    /// The sources' element types.
    inputs: Vec<ScalarType>,
    /// What reaches the terminal: one value's type, or the zipped elements' when no `map`
    /// made one value.
    output: Vec<ScalarType>,
}

/// `prefix` starts the helpers' names (a join's right key is typed apart from the left's).
fn type_chain(
    stages: &[Stage],
    terminal: Option<(&Closure, ClosureRole)>,
    known: &[Option<ScalarType>],
    prefix: &str,
) -> syn::Result<Typed> {
    let mut written: Vec<(&Closure, ClosureRole, bool)> = stages
        .iter()
        .map(|stage| match stage {
            Stage::Map(c) => (c, ClosureRole::Map, false),
            Stage::Filter(c) => (c, ClosureRole::Filter, false),
            Stage::Reject(c) => (c, ClosureRole::Filter, true),
        })
        .collect();
    written.extend(terminal.map(|(c, role)| (c, role, false)));
    let closures: Vec<ChainClosure<'_>> = written
        .iter()
        .map(|(c, role, _)| ChainClosure {
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
            role: *role,
        })
        .collect();
    let types = infer_chain(&closures, known)?;
    let mut output = types.inputs.clone();
    let mut helpers = Vec::new();
    let mut calls = Vec::new();
    for (i, (c, (closure, role, negate))) in closures.iter().zip(&written).enumerate() {
        let ret_type = types.rets[i];
        // Reserved names: a user's helper called `map_1` stays the user's.
        let kind = match role {
            ClosureRole::Map => "map",
            ClosureRole::Filter => "filter",
            ClosureRole::Key => "key",
            ClosureRole::Combine => "combine",
        };
        let name = format_ident!("__dc_{}{}_{}", prefix, kind, i + 1);
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
            filter: *role == ClosureRole::Filter,
            negate: *negate,
            captures: own.clone(),
        });
        if *role == ClosureRole::Map {
            output = vec![ret_type];
        }
    }
    let terminal = if terminal.is_some() {
        let ret = types.rets[calls.len() - 1];
        calls.pop().map(|call| (call, ret))
    } else {
        None
    };
    Ok(Typed {
        helpers,
        calls,
        terminal,
        captures: types.captures,
        inputs: types.inputs,
        output,
    })
}

/// `calls` applied to the loaded elements (`__dc_v0_0`, one per source), then `action` on
/// the value that reaches the end (`__dc_value`; the first zipped element when no `map` made
/// one value), skipped for elements a filter removes (later stages do not run on them).
fn apply_calls(sources: usize, calls: &[Call], action: TokenStream) -> TokenStream {
    chain_calls(sources, calls, action, false)
}

/// `apply_calls`, with each call preceded, when `marked`, by a store of its number (from 1)
/// to the element's mark `__dc_marks[__dc_i]` (the locate kernel's).
fn chain_calls(sources: usize, calls: &[Call], action: TokenStream, marked: bool) -> TokenStream {
    enum Piece {
        Let(TokenStream),
        If(TokenStream),
    }
    let mut values: Vec<TokenStream> = (0..sources)
        .map(|j| {
            let v = format_ident!("__dc_v0_{}", j);
            quote!(#v)
        })
        .collect();
    let mut pieces = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        let invoke = call.invoke(&values);
        if marked {
            let number = i as u32 + 1;
            pieces.push(Piece::Let(quote!(__dc_marks[__dc_i] = #number;)));
        }
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

/// What every kernel of one query shares: its captured scalars and sources as parameters,
/// and the host's arguments for them.
struct Parts<'a> {
    capture_params: Vec<TokenStream>,
    capture_args: Vec<TokenStream>,
    /// Buffers and range starts (positions need none), after the window's first element
    /// when `take`/`skip` cut one.
    source_params: Vec<TokenStream>,
    source_args: Vec<TokenStream>,
    sources: &'a [Source<'a>],
    window: bool,
}

impl Parts<'_> {
    /// Loads element `index` of the window (of the whole sources without one) from every
    /// source (`__dc_v0_j`): from buffer `__dc_xj`, the position itself, or range start
    /// `__dc_xj` plus the position.
    fn loads(&self, index: TokenStream) -> TokenStream {
        let index = if self.window {
            quote!((#index + __dc_first as usize))
        } else {
            index
        };
        let lines = self.sources.iter().enumerate().map(|(j, source)| {
            let v = format_ident!("__dc_v0_{}", j);
            let x = format_ident!("__dc_x{}", j);
            match source {
                Source::Buffer(_) | Source::Typed(..) => quote!(let #v = #x[#index];),
                Source::Index => quote!(let #v = (#index) as u64;),
                Source::Range(_) => quote!(let #v = #x + (#index) as u64;),
            }
        });
        quote!(#(#lines)*)
    }
}

/// The value type a terminal needs one of (`what` names the terminal in the error).
fn one_value(typed: &Typed, span: Span) -> syn::Result<ScalarType> {
    match typed.output[..] {
        [t] => Ok(t),
        _ => Err(err(
            span,
            "zipped or enumerated elements need a `map` to one value before this terminal",
        )),
    }
}

/// The terminal's key closure and its type, which must be a number.
fn numeric_key(typed: &Typed, span: Span) -> syn::Result<(&Call, ScalarType)> {
    let (key, key_type) = typed
        .terminal
        .as_ref()
        .ok_or_else(|| err(span, "this terminal needs its key"))?;
    if *key_type == ScalarType::Bool {
        return Err(err(
            span,
            "a key is a number; this key is a `bool` (map it: `b as u32`)",
        ));
    }
    Ok((key, *key_type))
}

/// Whether `t` is a float type.
fn is_float(t: ScalarType) -> bool {
    matches!(t, ScalarType::F32 | ScalarType::F64)
}

/// A fused stage's locate kernel (`query_locate`: one item per element of the window runs
/// the chain, marking each closure before it runs; see `dotcompute::query::locate_fault`),
/// and the host expression that turns the stage's error `__dc_error` into a located one.
struct Locate {
    kernel: TokenStream,
    handle: TokenStream,
    /// Whether the result holds buffers, which the query waits for (so that their kernels'
    /// faults are the query's, located).
    buffers: bool,
}

/// The locate kernel of a stage whose chain is `calls` (and the terminal's per-element
/// closure, `key`), with the operators' labels in the same order.
fn locate_kernel(
    parts: &Parts<'_>,
    calls: &[Call],
    key: Option<&Call>,
    labels: Vec<String>,
    stage: u32,
) -> Locate {
    let mut calls = calls.to_vec();
    calls.extend(key.map(|key| Call {
        filter: false,
        negate: false,
        ..key.clone()
    }));
    let chain = chain_calls(parts.sources.len(), &calls, quote!(), true);
    // Item `i` runs element `__dc_base + i`; its mark is `__dc_marks[i]`.
    let load = parts.loads(quote!((__dc_base as usize + __dc_i)));
    let (capture_params, source_params) = (&parts.capture_params, &parts.source_params);
    let kernel = quote! {
        #[::dotcompute::kernel]
        pub fn query_locate(#(#capture_params,)* #(#source_params,)* __dc_base: u64, __dc_marks: &mut [u32]) {
            let __dc_i = global_id();
            #load
            #chain
            __dc_marks[__dc_i] = 0u32;
        }
    };
    let (capture_args, source_args) = (&parts.capture_args, &parts.source_args);
    let first = if parts.window {
        quote!(__dc_first)
    } else {
        quote!(0u64)
    };
    let handle = quote! {
        ::dotcompute::query::locate_fault(
            __dc_acc,
            __dc_error,
            (::dotcompute::query::zip_len(__dc_lens).unwrap_or(0), #first, #stage),
            &[#(#labels),*],
            |__dc_base, __dc_grid, __dc_marks| {
                __dotcompute_query::query_locate::launch(__dc_acc, __dc_grid #(, #capture_args)* #(, #source_args)*, __dc_base, __dc_marks)
            },
        )
    };
    Locate {
        kernel,
        handle,
        buffers: false,
    }
}

fn fused(
    call: &TerminalCall<'_>,
    accelerator: &syn::Expr,
    sources: &[Source<'_>],
    (stages, windows): (&[Stage], &[WindowOp<'_>]),
    stage: u32,
    mode: Mode,
) -> syn::Result<TokenStream> {
    let terminal = call.terminal;
    let span = call.span;
    let known: Vec<Option<ScalarType>> = sources.iter().map(Source::known_type).collect();
    let role = match terminal {
        Terminal::Position => ClosureRole::Filter,
        Terminal::ExtremeByKey { .. }
        | Terminal::SortByKey
        | Terminal::Group(_)
        | Terminal::Distinct
        | Terminal::Join => ClosureRole::Key,
        _ => ClosureRole::Combine,
    };
    let typed = type_chain(stages, call.closure.as_ref().map(|c| (c, role)), &known, "")?;
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
    let window = !windows.is_empty();
    let mut source_params = Vec::new();
    let mut source_args = Vec::new();
    if window {
        source_params.push(quote!(__dc_first: u64));
        source_args.push(quote!(__dc_first));
    }
    let mut host_lets = Vec::new();
    let mut lens = Vec::new();
    let mut footprints = Vec::new();
    for (j, (source, t)) in sources.iter().zip(&typed.inputs).enumerate() {
        let x = format_ident!("__dc_x{}", j);
        let s = format_ident!("__dc_s{}", j);
        let t = rust_type(*t);
        match source {
            Source::Buffer(expr) | Source::Typed(expr, _) => {
                source_params.push(quote!(#x: &[#t]));
                host_lets.push(quote!(let #s = #expr;));
                source_args.push(quote!(#s));
                lens.push(quote!(#s.len()));
                footprints.push(quote!(::dotcompute::placement::footprint(#s)));
            }
            Source::Index => {}
            Source::Range(expr) => {
                source_params.push(quote!(#x: u64));
                host_lets.push(quote!(let #s = ::dotcompute::query::range(#expr)?;));
                source_args.push(quote!(#s.0));
                lens.push(quote!(#s.1));
                footprints.push(quote!(::dotcompute::placement::range_footprint(#s.1)));
            }
        }
    }
    let parts = Parts {
        capture_params,
        capture_args,
        source_params,
        source_args,
        sources,
        window,
    };
    // The terminal's closure runs per element unless it combines values.
    let key = (role != ClosureRole::Combine)
        .then_some(typed.terminal.as_ref())
        .flatten()
        .map(|(key, _)| key);
    let mut labels: Vec<String> = stages
        .iter()
        .map(|stage| match stage {
            Stage::Map(c) | Stage::Filter(c) | Stage::Reject(c) => c.label.clone(),
        })
        .collect();
    labels.extend(key.and(call.closure.as_ref()).map(|c| c.label.clone()));
    let mut locate = locate_kernel(&parts, &typed.calls, key, labels, stage);
    locate.buffers = matches!(
        terminal,
        Terminal::Collect
            | Terminal::Sort
            | Terminal::SortByKey
            | Terminal::Group(_)
            | Terminal::Distinct
            | Terminal::Scan { .. }
            | Terminal::Join
    );
    let locate = Some(locate);
    let n_sources = typed.inputs.len();
    let chain = |action: TokenStream| apply_calls(n_sources, &typed.calls, action);
    let has_filter = typed.calls.iter().any(|call| call.filter);
    let module = format_ident!("__dotcompute_query");
    let capture_args = &parts.capture_args;
    let source_args = &parts.source_args;
    // A launch of a chunked kernel: `|grid, n, out| ..`, with `extra` arguments after the
    // sources.
    let launch_chunks = |kernel: &str, extra: &[TokenStream]| {
        let kernel = format_ident!("{}", kernel);
        let params: Vec<TokenStream> = extra.iter().map(|e| quote!(#e)).collect();
        quote! {
            |__dc_grid, __dc_n, #(#params,)* __dc_out| {
                #module::#kernel::launch(__dc_acc, __dc_grid #(, #capture_args)*, __dc_n #(, #source_args)* #(, #params)*, __dc_out)
            }
        }
    };
    let count_kernel = || {
        reduce_kernel(
            &parts,
            quote!(query_count),
            &[],
            &quote!(u64),
            &quote!(0u64),
            &|a, b| add(false, a, b),
            &chain(quote!(__dc_acc += 1u64;)),
        )
    };
    // A counting pass for the drivers that need to know how many values reach the end:
    // needed only when a filter removes some.
    let filtered_count = |kernels: &mut Vec<TokenStream>, names: &mut Vec<&str>| {
        if has_filter {
            kernels.push(count_kernel());
            names.push("query_count");
            let count = launch_chunks("query_count", &[]);
            quote!(::dotcompute::query::count_pass(#count))
        } else {
            quote!(::dotcompute::query::no_count())
        }
    };
    let mut kernels = Vec::new();
    let mut names = Vec::new();
    let run = match terminal {
        Terminal::Join => {
            // The kept elements' source positions (an order-preserving compaction), the
            // left keys at those positions, the right keys, then the library's join; its
            // left positions, which index the kept elements, become source positions.
            let (left_key, key_type) = numeric_key(&typed, span)?;
            let Some((right, right_key)) = &call.join else {
                return Err(err(span, "`join` needs the right buffer and both keys"));
            };
            let right_side = buffer_key_kernel("right", right_key, &quote!(__dc_r), span)?;
            join_key_types(key_type, right_side.key_type, span)?;
            let t_key = rust_type(key_type);
            let first = window.then(|| quote!(+ __dc_first));
            let unwindow = window.then(|| quote!(-__dc_first));
            kernels.push(compact_kernels(
                &parts,
                [quote!(query_collect_count), quote!(query_collect_write)],
                &quote!(u64),
                &chain(quote!(__dc_kept += 1u64;)),
                &chain(quote! {
                    __dc_out[__dc_at as usize] = __dc_i as u64 #first;
                    __dc_at += 1u64;
                }),
            ));
            // The positions are of kept elements: the filters need not run again.
            let mut with_key: Vec<Call> =
                typed.calls.iter().filter(|c| !c.filter).cloned().collect();
            let mut as_map = left_key.clone();
            as_map.filter = false;
            with_key.push(as_map);
            let load = parts.loads(quote!(__dc_i));
            let key_chain =
                apply_calls(n_sources, &with_key, quote!(__dc_out[__dc_p] = __dc_value;));
            let (capture_params, source_params) = (&parts.capture_params, &parts.source_params);
            kernels.push(quote! {
                #[::dotcompute::kernel]
                pub fn query_join_left_keys(
                    #(#capture_params,)*
                    #(#source_params,)*
                    __dc_positions: &[u64],
                    __dc_out: &mut [#t_key],
                ) {
                    let __dc_p = global_id();
                    let __dc_i = (__dc_positions[__dc_p] #unwindow) as usize;
                    #load
                    #key_chain
                }
            });
            kernels.push(right_side.kernel);
            names.extend([
                "query_collect_count",
                "query_collect_write",
                "query_join_left_keys",
                "query_join_right_keys",
            ]);
            host_lets.push(quote!(let __dc_r = #right;));
            footprints.push(quote!(::dotcompute::placement::footprint(__dc_r)));
            let right_keys = right_side.launch;
            let mut helpers = typed.helpers.clone();
            helpers.extend(right_side.helpers);
            return finish(
                accelerator,
                mode,
                &helpers,
                (host_lets, lens, window_lets(windows), footprints, locate),
                kernels,
                names,
                quote! {
                    ::dotcompute::query::join_kept(
                        __dc_acc,
                        __dc_lens,
                        __dc_r.len(),
                        |__dc_grid, __dc_n, __dc_counts| {
                            #module::query_collect_count::launch(__dc_acc, __dc_grid #(, #capture_args)*, __dc_n #(, #source_args)*, __dc_counts)
                        },
                        |__dc_grid, __dc_n, __dc_offsets, __dc_out| {
                            #module::query_collect_write::launch(__dc_acc, __dc_grid #(, #capture_args)*, __dc_n #(, #source_args)*, __dc_offsets, __dc_out)
                        },
                        |__dc_n, __dc_positions, __dc_out| {
                            #module::query_join_left_keys::launch(__dc_acc, __dc_n #(, #capture_args)* #(, #source_args)*, __dc_positions, __dc_out)
                        },
                        #right_keys,
                    )
                },
            );
        }
        Terminal::Sum | Terminal::Average => {
            let out_type = one_value(&typed, span)?;
            if terminal == Terminal::Average && !is_float(out_type) {
                return Err(err(
                    span,
                    format!(
                        "`average` of `{}` values: map them to a float first (`.map(|v| v as f64)`)",
                        out_type.rust_name()
                    ),
                ));
            }
            let t_out = rust_type(out_type);
            let (identity, float) = sum_tokens(out_type)?;
            let step = add(float, quote!(__dc_acc), quote!(__dc_value));
            kernels.push(reduce_kernel(
                &parts,
                quote!(query_sum),
                &[],
                &t_out,
                &identity,
                &|a, b| add(float, a, b),
                &chain(quote!(__dc_acc = #step;)),
            ));
            names.push("query_sum");
            let pass = launch_chunks("query_sum", &[]);
            if terminal == Terminal::Sum {
                quote!(::dotcompute::query::sum(__dc_acc, __dc_lens, #pass))
            } else {
                let count = filtered_count(&mut kernels, &mut names);
                quote!(::dotcompute::query::average(__dc_acc, __dc_lens, #count, #pass))
            }
        }
        Terminal::Count | Terminal::Any | Terminal::All => {
            kernels.push(count_kernel());
            names.push("query_count");
            let pass = launch_chunks("query_count", &[]);
            let count = quote!(::dotcompute::query::count(__dc_acc, __dc_lens, #pass));
            match terminal {
                Terminal::Any => quote!(#count.map(|__dc_kept| __dc_kept > 0)),
                Terminal::All => quote!(#count.map(|__dc_failed| __dc_failed == 0)),
                _ => count,
            }
        }
        Terminal::Min | Terminal::Max => {
            let out_type = one_value(&typed, span)?;
            let t_out = rust_type(out_type);
            let max = terminal == Terminal::Max;
            let identity = extreme_identity(out_type, max)?;
            let method = if max { quote!(max) } else { quote!(min) };
            kernels.push(reduce_kernel(
                &parts,
                quote!(query_extreme),
                &[],
                &t_out,
                &identity,
                &|a, b| quote!(#a.#method(#b)),
                &chain(quote!(__dc_acc = __dc_acc.#method(__dc_value);)),
            ));
            names.push("query_extreme");
            // Whether anything reaches the end (`min` of nothing is `None`): without a
            // filter, whether there are elements at all.
            let count = filtered_count(&mut kernels, &mut names);
            let pass = launch_chunks("query_extreme", &[]);
            quote!(::dotcompute::query::extreme_by(__dc_acc, __dc_lens, #max, #count, #pass))
        }
        Terminal::Reduce => {
            let out_type = one_value(&typed, span)?;
            let t_out = rust_type(out_type);
            let (combine, _) = typed
                .terminal
                .as_ref()
                .ok_or_else(|| err(span, "`reduce` needs its combiner"))?;
            let combine_with = |a: TokenStream, b: TokenStream| combine.invoke(&[a, b]);
            let step = combine_with(quote!(__dc_acc), quote!(__dc_value));
            let identity_param = [quote!(__dc_identity: #t_out)];
            kernels.push(reduce_kernel(
                &parts,
                quote!(query_reduce),
                &identity_param,
                &t_out,
                &quote!(__dc_identity),
                &combine_with,
                &chain(quote!(__dc_acc = #step;)),
            ));
            // The later passes reduce the chunk values, in the library's order, with the
            // combiner.
            let chunk_values: syn::Expr = syn::parse_quote!(__dc_x0);
            let chunk_sources = [Source::Buffer(&chunk_values)];
            let chunks = Parts {
                capture_params: parts.capture_params.clone(),
                capture_args: parts.capture_args.clone(),
                source_params: vec![quote!(__dc_x0: &[#t_out])],
                source_args: Vec::new(),
                sources: &chunk_sources,
                window: false,
            };
            kernels.push(reduce_kernel(
                &chunks,
                quote!(query_reduce_chunks),
                &identity_param,
                &t_out,
                &quote!(__dc_identity),
                &combine_with,
                &quote! {
                    let __dc_value = __dc_v0_0;
                    __dc_acc = #step;
                },
            ));
            names.push("query_reduce");
            names.push("query_reduce_chunks");
            let identity = call
                .identity
                .ok_or_else(|| err(span, "`reduce` needs its identity"))?;
            let first = launch_chunks("query_reduce", &[quote!(__dc_identity)]);
            quote! {{
                let __dc_identity: #t_out = (#identity)();
                ::dotcompute::query::reduce(
                    __dc_acc,
                    __dc_lens,
                    __dc_identity,
                    #first,
                    |__dc_grid, __dc_n, __dc_x, __dc_out| {
                        #module::query_reduce_chunks::launch(__dc_acc, __dc_grid #(, #capture_args)*, __dc_n, __dc_x, __dc_identity, __dc_out)
                    },
                )
            }}
        }
        Terminal::Position => {
            let (predicate, _) = typed
                .terminal
                .as_ref()
                .ok_or_else(|| err(span, "`position` needs its predicate"))?;
            let mut with_predicate = typed.calls.clone();
            with_predicate.push(predicate.clone());
            kernels.push(reduce_kernel(
                &parts,
                quote!(query_find),
                &[],
                &quote!(u64),
                &quote!((u64::MAX)),
                &|a, b| quote!(#a.min(#b)),
                &apply_calls(
                    n_sources,
                    &with_predicate,
                    quote!(__dc_acc = __dc_acc.min(__dc_i as u64);),
                ),
            ));
            names.push("query_find");
            // Among the values, the first match's position counts the values before it:
            // with a filter, not every element is one.
            let count = filtered_count(&mut kernels, &mut names);
            let find = launch_chunks("query_find", &[]);
            quote!(::dotcompute::query::position(__dc_acc, __dc_lens, #count, #find))
        }
        Terminal::ExtremeByKey { max } => {
            let out_type = one_value(&typed, span)?;
            let t_out = rust_type(out_type);
            let (key, key_type) = numeric_key(&typed, span)?;
            let t_key = rust_type(key_type);
            let mut with_key = typed.calls.clone();
            let mut as_map = key.clone();
            as_map.filter = false;
            with_key.push(as_map);
            let identity = extreme_identity(key_type, max)?;
            let method = if max { quote!(max) } else { quote!(min) };
            kernels.push(reduce_kernel(
                &parts,
                quote!(query_extreme_key),
                &[],
                &t_key,
                &identity,
                &|a, b| quote!(#a.#method(#b)),
                &apply_calls(
                    n_sources,
                    &with_key,
                    quote!(__dc_acc = __dc_acc.#method(__dc_value);),
                ),
            ));
            // The first element with the least key (the last with the greatest, as Rust's
            // `max_by_key`): the least index, or the greatest index plus one (0: none).
            let (find_identity, find_step, find_combine) = if max {
                (
                    quote!(0u64),
                    quote!(__dc_acc = __dc_acc.max(__dc_i as u64 + 1);),
                    quote!(max),
                )
            } else {
                (
                    quote!((u64::MAX)),
                    quote!(__dc_acc = __dc_acc.min(__dc_i as u64);),
                    quote!(min),
                )
            };
            let target_param = [quote!(__dc_target: #t_key)];
            kernels.push(reduce_kernel(
                &parts,
                quote!(query_find_key),
                &target_param,
                &quote!(u64),
                &find_identity,
                &|a, b| quote!(#a.#find_combine(#b)),
                &apply_calls(
                    n_sources,
                    &with_key,
                    quote! {
                        if __dc_value == __dc_target {
                            #find_step
                        }
                    },
                ),
            ));
            kernels.push(value_at_kernel(
                &parts,
                &t_out,
                &chain(quote!(__dc_out[0] = __dc_value;)),
            ));
            names.extend(["query_extreme_key", "query_find_key", "query_value_at"]);
            let extreme = launch_chunks("query_extreme_key", &[]);
            let find = launch_chunks("query_find_key", &[quote!(__dc_target)]);
            quote! {
                ::dotcompute::query::extreme_by_key(
                    __dc_acc,
                    __dc_lens,
                    #max,
                    #extreme,
                    #find,
                    |__dc_at, __dc_out| {
                        #module::query_value_at::launch(__dc_acc, 1usize #(, #capture_args)*, __dc_at #(, #source_args)*, __dc_out)
                    },
                )
            }
        }
        Terminal::Collect
        | Terminal::Sort
        | Terminal::SortByKey
        | Terminal::Group(_)
        | Terminal::Distinct
        | Terminal::Scan { .. } => {
            let out_type = one_value(&typed, span)?;
            if out_type == ScalarType::Bool {
                return Err(err(
                    span,
                    "this terminal makes a buffer of numbers; this query's values are `bool` (map them: `.map(|b| b as u32)`)",
                ));
            }
            let key = match terminal {
                Terminal::SortByKey | Terminal::Group(_) | Terminal::Distinct => {
                    Some(numeric_key(&typed, span)?)
                }
                _ => None,
            };
            // Counting groups needs the keys alone: the collect computes them.
            let keys_only = matches!(
                terminal,
                Terminal::Group(Aggregate::Count) | Terminal::Distinct
            );
            let mut collect_calls = typed.calls.clone();
            let mut collect_type = out_type;
            if let (true, Some((key, key_type))) = (keys_only, key) {
                collect_calls.push(key.clone());
                collect_type = key_type;
            }
            let chain = |action: TokenStream| apply_calls(n_sources, &collect_calls, action);
            let t_out = rust_type(collect_type);
            if let Terminal::Scan { exclusive } = terminal {
                let scan = scan_terminal(&parts, &typed, out_type, call.identity)?;
                if !has_filter {
                    // Every element has a value: the chain runs inside both passes.
                    kernels.push(scan_kernels(
                        &parts,
                        [quote!(query_scan_totals), quote!(query_scan_write)],
                        &scan,
                        &chain,
                    ));
                    names.extend(["query_scan_totals", "query_scan_write"]);
                }
                kernels.extend(scan.chunk_kernels.clone());
                names.extend(scan.chunk_names.iter().copied());
                let ScanTerminal {
                    identity_value,
                    extra_args,
                    carries,
                    ..
                } = &scan;
                let run = if has_filter {
                    // The kept values first, in order (a compaction), then their scan.
                    let collect = collect_tokens(&parts, &mut kernels, &mut names, &t_out, &chain);
                    let scan_values = scan.values(quote!(&__dc_values), exclusive);
                    quote! {{
                        let __dc_identity: #t_out = #identity_value;
                        let __dc_values = #collect?;
                        #scan_values
                    }}
                } else {
                    let fused = quote! {{
                        let __dc_identity: #t_out = #identity_value;
                        ::dotcompute::query::scan(
                            __dc_acc,
                            __dc_lens,
                            __dc_identity,
                            |__dc_grid, __dc_n, __dc_out| {
                                #module::query_scan_totals::launch(__dc_acc, __dc_grid #(, #capture_args)*, __dc_n #(, #source_args)* #(, #extra_args)*, __dc_out)
                            },
                            |__dc_totals| #carries,
                            |__dc_grid, __dc_n, __dc_carries, __dc_out| {
                                #module::query_scan_write::launch(__dc_acc, __dc_grid #(, #capture_args)*, __dc_n #(, #source_args)* #(, #extra_args)*, #exclusive as u32, __dc_carries, __dc_out)
                            },
                        )
                    }};
                    if scan.chunk_kernels.is_empty() {
                        // Running sums: on the CPU, the values, then the library's host scan
                        // (one sweep, SIMD), which the cooperative kernels do not match there.
                        let values = map_tokens(&parts, &mut kernels, &mut names, &t_out, &chain);
                        quote! {
                            ::dotcompute::query::running_sums(
                                __dc_acc,
                                #exclusive,
                                || #values,
                                || #fused,
                            )
                        }
                    } else {
                        fused
                    }
                };
                return finish(
                    accelerator,
                    mode,
                    &typed.helpers,
                    (host_lets, lens, window_lets(windows), footprints, locate),
                    kernels,
                    names,
                    run,
                );
            }
            let collect = if !has_filter {
                map_tokens(&parts, &mut kernels, &mut names, &t_out, &chain)
            } else {
                collect_tokens(&parts, &mut kernels, &mut names, &t_out, &chain)
            };
            if matches!(terminal, Terminal::Collect | Terminal::Sort) {
                return finish(
                    accelerator,
                    mode,
                    &typed.helpers,
                    (host_lets, lens, window_lets(windows), footprints, locate),
                    kernels,
                    names,
                    if terminal == Terminal::Sort {
                        quote!(::dotcompute::query::sort(__dc_acc, #collect))
                    } else {
                        collect
                    },
                );
            }
            let Some((key, key_type)) = key else {
                return Err(err(span, "this terminal needs its key"));
            };
            let t_key = rust_type(key_type);
            let group_launches = quote! {
                |__dc_grid, __dc_n, __dc_keys, __dc_counts| {
                    #module::query_group_count::launch(__dc_acc, __dc_grid, __dc_n, __dc_keys, __dc_counts)
                },
                |__dc_grid, __dc_n, __dc_keys, __dc_offsets, __dc_out| {
                    #module::query_group_write::launch(__dc_acc, __dc_grid, __dc_n, __dc_keys, __dc_offsets, __dc_out)
                },
                |__dc_groups, __dc_n, __dc_starts, __dc_keys, __dc_values, __dc_out_keys, __dc_out| {
                    #module::query_group_fold::launch(__dc_acc, __dc_groups, __dc_groups as u64, __dc_n, __dc_starts, __dc_keys, __dc_values, __dc_out_keys, __dc_out)
                },
            };
            if keys_only {
                kernels.push(group_kernels(key_type, key_type, Aggregate::Count)?);
                names.extend(["query_group_count", "query_group_write", "query_group_fold"]);
                return finish(
                    accelerator,
                    mode,
                    &typed.helpers,
                    (host_lets, lens, window_lets(windows), footprints, locate),
                    kernels,
                    names,
                    if terminal == Terminal::Distinct {
                        quote! {
                            ::dotcompute::query::group_count(__dc_acc, #collect, #group_launches)
                                .map(|__dc_groups| __dc_groups.keys)
                        }
                    } else {
                        quote!(::dotcompute::query::group_count(__dc_acc, #collect, #group_launches))
                    },
                );
            }
            // The values' keys, by one item per collected value.
            let key_value = key.invoke(&[quote!(__dc_x[__dc_i])]);
            let capture_params = &parts.capture_params;
            kernels.push(quote! {
                #[::dotcompute::kernel]
                pub fn query_keys(#(#capture_params,)* __dc_x: &[#t_out], __dc_out: &mut [#t_key]) {
                    let __dc_i = global_id();
                    __dc_out[__dc_i] = #key_value;
                }
            });
            names.push("query_keys");
            let keys = quote! {
                |__dc_n, __dc_x, __dc_out| {
                    #module::query_keys::launch(__dc_acc, __dc_n #(, #capture_args)*, __dc_x, __dc_out)
                }
            };
            match terminal {
                Terminal::Group(aggregate) => {
                    kernels.push(group_kernels(key_type, out_type, aggregate)?);
                    names.extend(["query_group_count", "query_group_write", "query_group_fold"]);
                    quote! {
                        ::dotcompute::query::group_by_key(__dc_acc, #collect, #keys, #group_launches)
                    }
                }
                _ => quote!(::dotcompute::query::sort_by_key(__dc_acc, #collect, #keys)),
            }
        }
    };
    finish(
        accelerator,
        mode,
        &typed.helpers,
        (host_lets, lens, window_lets(windows), footprints, locate),
        kernels,
        names,
        run,
    )
}

/// `collect()` of a chain without filters: one item per element writes its value (the
/// `query_map` kernel), and the driver's call.
fn map_tokens(
    parts: &Parts<'_>,
    kernels: &mut Vec<TokenStream>,
    names: &mut Vec<&str>,
    t_out: &TokenStream,
    chain: &dyn Fn(TokenStream) -> TokenStream,
) -> TokenStream {
    let module = format_ident!("__dotcompute_query");
    let (capture_args, source_args) = (&parts.capture_args, &parts.source_args);
    let load = parts.loads(quote!(__dc_i));
    let chain = chain(quote!(__dc_out[__dc_i] = __dc_value;));
    let (capture_params, source_params) = (&parts.capture_params, &parts.source_params);
    kernels.push(quote! {
        #[::dotcompute::kernel]
        pub fn query_map(#(#capture_params,)* #(#source_params,)* __dc_out: &mut [#t_out]) {
            let __dc_i = global_id();
            #load
            #chain
        }
    });
    names.push("query_map");
    quote! {
        ::dotcompute::query::map(__dc_acc, __dc_lens, |__dc_n, __dc_out| {
            #module::query_map::launch(__dc_acc, __dc_n #(, #capture_args)* #(, #source_args)*, __dc_out)
        })
    }
}

/// `collect()` of a chain with a filter: the order-preserving compaction's two kernels
/// (`chain` runs the chain to an action on each kept value), and the driver's call.
fn collect_tokens(
    parts: &Parts<'_>,
    kernels: &mut Vec<TokenStream>,
    names: &mut Vec<&str>,
    t_out: &TokenStream,
    chain: &dyn Fn(TokenStream) -> TokenStream,
) -> TokenStream {
    let module = format_ident!("__dotcompute_query");
    let (capture_args, source_args) = (&parts.capture_args, &parts.source_args);
    let count_chain = chain(quote!(__dc_kept += 1u64;));
    let write_chain = chain(quote! {
        __dc_out[__dc_at as usize] = __dc_value;
        __dc_at += 1u64;
    });
    kernels.push(compact_kernels(
        parts,
        [quote!(query_collect_count), quote!(query_collect_write)],
        t_out,
        &count_chain,
        &write_chain,
    ));
    names.extend(["query_collect_count", "query_collect_write"]);
    quote! {
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
    }
}

/// What `scan()` / `scan(|| identity, combine)` needs beyond the chain: the combiner and
/// identity in the kernels and on the host, and the scan of the chunk totals (the library's
/// for running sums; two kernels of the combiner over a plain buffer otherwise).
struct ScanTerminal {
    t_out: TokenStream,
    /// The identity inside kernels: a literal, or the `__dc_identity` parameter.
    identity: TokenStream,
    /// `__dc_identity`'s value on the host.
    identity_value: TokenStream,
    /// The kernels' parameters after the sources (the identity's, for a combiner), and the
    /// host's arguments for them.
    extra_params: Vec<TokenStream>,
    extra_args: Vec<TokenStream>,
    /// `combine(a, b)`: a helper call, or `+` (wrapping for integers).
    combine: Box<dyn Fn(TokenStream, TokenStream) -> TokenStream>,
    /// The kernels scanning a plain buffer, for a combiner (none for running sums), and the
    /// captures they take (the combiner's: the query's, in its order).
    chunk_kernels: Vec<TokenStream>,
    chunk_capture_args: Vec<TokenStream>,
    chunk_names: Vec<&'static str>,
    /// The exclusive scan of `__dc_totals` into a new buffer.
    carries: TokenStream,
}

impl ScanTerminal {
    /// The scan of the values in `buffer` (a `&UnifiedBuffer`) into a new buffer.
    fn values(&self, buffer: TokenStream, exclusive: bool) -> TokenStream {
        if self.chunk_kernels.is_empty() {
            return quote!(::dotcompute::query::scanned_copy(__dc_acc, #buffer, #exclusive));
        }
        let module = format_ident!("__dotcompute_query");
        let capture_args = &self.chunk_capture_args;
        quote! {
            ::dotcompute::query::scan_values(
                __dc_acc,
                #buffer,
                #exclusive,
                __dc_identity,
                |__dc_grid, __dc_n, __dc_x, __dc_out| {
                    #module::query_scan_chunk_totals::launch(__dc_acc, __dc_grid #(, #capture_args)*, __dc_n, __dc_x, __dc_identity, __dc_out)
                },
                |__dc_grid, __dc_n, __dc_exclusive, __dc_x, __dc_carries, __dc_out| {
                    #module::query_scan_chunk_write::launch(__dc_acc, __dc_grid #(, #capture_args)*, __dc_n, __dc_x, __dc_identity, __dc_exclusive as u32, __dc_carries, __dc_out)
                },
            )
        }
    }
}

/// The scan terminal of a chain whose values are `out`: running sums, or the combiner of
/// `typed.terminal` with the identity `identity` makes.
fn scan_terminal(
    parts: &Parts<'_>,
    typed: &Typed,
    out: ScalarType,
    identity: Option<&syn::Expr>,
) -> syn::Result<ScanTerminal> {
    let t_out = rust_type(out);
    let Some((combiner, _)) = typed.terminal.clone() else {
        let (zero, float) = sum_tokens(out)?;
        return Ok(ScanTerminal {
            t_out,
            identity: zero.clone(),
            identity_value: zero,
            extra_params: Vec::new(),
            extra_args: Vec::new(),
            combine: Box::new(move |a, b| add(float, a, b)),
            chunk_kernels: Vec::new(),
            chunk_capture_args: Vec::new(),
            chunk_names: Vec::new(),
            carries: quote!(::dotcompute::query::scanned_copy(
                __dc_acc,
                __dc_totals,
                true
            )),
        });
    };
    let identity = identity.ok_or_else(|| err(Span::call_site(), "`scan` needs its identity"))?;
    let combine: Box<dyn Fn(TokenStream, TokenStream) -> TokenStream> =
        Box::new(move |a, b| combiner.invoke(&[a, b]));
    // The chunk totals as a plain buffer's elements, scanned with the combiner.
    let chunk_values: syn::Expr = syn::parse_quote!(__dc_x0);
    let chunk_sources = [Source::Buffer(&chunk_values)];
    let chunks = Parts {
        capture_params: parts.capture_params.clone(),
        capture_args: parts.capture_args.clone(),
        source_params: vec![quote!(__dc_x0: &[#t_out])],
        source_args: Vec::new(),
        sources: &chunk_sources,
        window: false,
    };
    let mut scan = ScanTerminal {
        t_out: t_out.clone(),
        identity: quote!(__dc_identity),
        identity_value: quote!((#identity)()),
        extra_params: vec![quote!(__dc_identity: #t_out)],
        extra_args: vec![quote!(__dc_identity)],
        combine,
        chunk_kernels: Vec::new(),
        chunk_capture_args: parts.capture_args.clone(),
        chunk_names: vec!["query_scan_chunk_totals", "query_scan_chunk_write"],
        carries: TokenStream::new(),
    };
    let plain = |action: TokenStream| quote!(let __dc_value = __dc_v0_0; #action);
    scan.chunk_kernels = vec![scan_kernels(
        &chunks,
        [
            quote!(query_scan_chunk_totals),
            quote!(query_scan_chunk_write),
        ],
        &scan,
        &plain,
    )];
    scan.carries = scan.values(quote!(__dc_totals), true);
    Ok(scan)
}

/// One side's key kernel of a join over a plain buffer (`buffer`, a host name): the key
/// closure typed by itself, with its own captures.
struct SideKey {
    key_type: ScalarType,
    helpers: Vec<TokenStream>,
    kernel: TokenStream,
    /// `|n, out| ..` launching it.
    launch: TokenStream,
}

fn buffer_key_kernel(
    side: &str,
    key: &Closure,
    buffer: &TokenStream,
    span: Span,
) -> syn::Result<SideKey> {
    let module = format_ident!("__dotcompute_query");
    let typed = type_chain(
        &[],
        Some((key, ClosureRole::Key)),
        &[None],
        &format!("{side}_"),
    )?;
    let (call, key_type) = numeric_key(&typed, span)?;
    let t_in = rust_type(typed.inputs[0]);
    let t_key = rust_type(key_type);
    let name = format_ident!("query_join_{}_keys", side);
    let capture_params = typed.captures.iter().map(|(ident, ty)| {
        let ty = rust_type(*ty);
        quote!(#ident: #ty)
    });
    let capture_args: Vec<TokenStream> = typed
        .captures
        .iter()
        .map(|(ident, ty)| {
            let ty = rust_type(*ty);
            quote!(::dotcompute::query::capture::<#ty, _>(#ident))
        })
        .collect();
    let key_value = call.invoke(&[quote!(__dc_x[__dc_i])]);
    Ok(SideKey {
        key_type,
        kernel: quote! {
            #[::dotcompute::kernel]
            pub fn #name(#(#capture_params,)* __dc_x: &[#t_in], __dc_out: &mut [#t_key]) {
                let __dc_i = global_id();
                __dc_out[__dc_i] = #key_value;
            }
        },
        launch: quote! {
            |__dc_n, __dc_out| {
                #module::#name::launch(__dc_acc, __dc_n #(, #capture_args)*, #buffer, __dc_out)
            }
        },
        helpers: typed.helpers,
    })
}

/// The error for join keys of two types.
fn join_key_types(left: ScalarType, right: ScalarType, span: Span) -> syn::Result<()> {
    if left == right {
        return Ok(());
    }
    Err(err(
        span,
        format!(
            "the keys of a join have one type; the left key is `{}`, the right `{}`",
            left.rust_name(),
            right.rust_name()
        ),
    ))
}

/// `acc.query(&left).join(&right, |l| key, |r| key)`: a key kernel for each side (each
/// closure typed by itself, with its own captures), then the library's search and write
/// kernels for the key type.
fn join_query(
    call: &TerminalCall<'_>,
    accelerator: &syn::Expr,
    left: &syn::Expr,
    mode: Mode,
) -> syn::Result<TokenStream> {
    let span = call.span;
    let (Some(left_key), Some((right, right_key))) = (&call.closure, &call.join) else {
        return Err(err(span, "`join` needs the right buffer and both keys"));
    };
    let mut helpers = Vec::new();
    let mut kernels = Vec::new();
    let mut launches = Vec::new();
    let mut key_types = Vec::new();
    let sides = [
        ("left", left_key, quote!(__dc_l)),
        ("right", right_key, quote!(__dc_r)),
    ];
    for (side, key, buffer) in sides {
        let side_key = buffer_key_kernel(side, key, &buffer, span)?;
        key_types.push(side_key.key_type);
        kernels.push(side_key.kernel);
        launches.push(side_key.launch);
        helpers.extend(side_key.helpers);
    }
    join_key_types(key_types[0], key_types[1], span)?;
    let [left_keys, right_keys] = [&launches[0], &launches[1]];
    finish(
        accelerator,
        mode,
        &helpers,
        (
            vec![quote!(let __dc_l = #left;), quote!(let __dc_r = #right;)],
            vec![quote!(__dc_l.len()), quote!(__dc_r.len())],
            quote!(),
            vec![
                quote!(::dotcompute::placement::footprint(__dc_l)),
                quote!(::dotcompute::placement::footprint(__dc_r)),
            ],
            None,
        ),
        kernels,
        vec!["query_join_left_keys", "query_join_right_keys"],
        quote! {
            ::dotcompute::query::join(
                __dc_acc,
                [__dc_lens[0], __dc_lens[1]],
                #left_keys,
                #right_keys,
            )
        },
    )
}

/// The host's window of the sources after their lengths are checked (`__dc_first` and the
/// window's length as `__dc_lens`), when `take`/`skip` cut one.
fn window_lets(windows: &[WindowOp<'_>]) -> TokenStream {
    if windows.is_empty() {
        return quote!();
    }
    let w = window_expr(windows, quote!(__dc_n));
    quote! {
        let __dc_n = ::dotcompute::query::zip_len(__dc_lens)?;
        let __dc_window = #w;
        let __dc_first = __dc_window.first();
        let __dc_lens: &[usize] = &[__dc_window.len()];
    }
}

/// The expansion: the module of helpers and kernels, then the host code that runs them
/// (`host`: the sources' bindings, their lengths, the window, the input buffers'
/// footprints for placement), or their definitions.
fn finish(
    accelerator: &syn::Expr,
    mode: Mode,
    helpers: &[TokenStream],
    host: (
        Vec<TokenStream>,
        Vec<TokenStream>,
        TokenStream,
        Vec<TokenStream>,
        Option<Locate>,
    ),
    mut kernels: Vec<TokenStream>,
    names: Vec<&str>,
    run: TokenStream,
) -> syn::Result<TokenStream> {
    let (host_lets, lens, window_lets, footprints, locate) = host;
    let launches = names.len();
    let module = format_ident!("__dotcompute_query");
    let names: Vec<syn::Ident> = names.into_iter().map(|n| format_ident!("{}", n)).collect();
    let has_locate = locate.is_some();
    // A fault is located on the error path only.
    let run = match locate {
        Some(locate) => {
            let handle = locate.handle;
            kernels.push(locate.kernel);
            let run = if locate.buffers {
                quote!((#run).and_then(::dotcompute::query::settled))
            } else {
                run
            };
            quote! {
                match #run {
                    ::std::result::Result::Err(__dc_error) => ::std::result::Result::Err(#handle),
                    __dc_done => __dc_done,
                }
            }
        }
        None => run,
    };
    let evaluate = match mode {
        Mode::Run => quote! {
            let __dc_target = &(#accelerator);
            // A closure, so that a bad range can return its error from here.
            (|| {
                #(#host_lets)*
                let __dc_acc: &::dotcompute::Accelerator = ::dotcompute::placement::QueryTarget::place(
                    __dc_target,
                    &[#(#module::#names::definition()),*],
                    &|| ::std::vec![#(#footprints),*],
                    #launches,
                )?;
                let __dc_lens: &[usize] = &[#(#lens),*];
                #window_lets
                #run
            })()
        },
        Mode::Kernels => {
            // The locate kernel runs only after a fault, but compiles like the others.
            let locate = has_locate.then(|| quote!(#module::query_locate::definition()));
            quote!(::std::vec![#(#module::#names::definition(),)* #locate])
        }
    };
    Ok(quote! {{
        #[allow(non_snake_case, unused_imports, unused_parens, unused_braces, unused_variables, unused_mut, clippy::all)]
        mod #module {
            use super::*;
            use ::dotcompute::prelude::*;
            #(#helpers)*
            #(#kernels)*
        }
        #evaluate
    }})
}

/// The kernels of `group_by_key(k).aggregate()` over values sorted by their keys (of type
/// `key`): where each group starts (an order-preserving compaction of the positions whose
/// key differs from the one before; keys compare by their bits), then one item per group
/// folding its values in their order.
fn group_kernels(
    key: ScalarType,
    value: ScalarType,
    aggregate: Aggregate,
) -> syn::Result<TokenStream> {
    let t_key = rust_type(key);
    let t_value = rust_type(value);
    let bits = |e: TokenStream| {
        if is_float(key) {
            quote!(#e.to_bits())
        } else {
            e
        }
    };
    let (this, before) = (
        bits(quote!(__dc_keys[__dc_i])),
        bits(quote!(__dc_keys[__dc_before])),
    );
    let starts = quote! {
        let __dc_before = if __dc_i > 0 { __dc_i - 1 } else { 0 };
        let __dc_starts_group = __dc_i == 0 || #this != #before;
    };
    let count_chain = quote! {
        #starts
        if __dc_starts_group {
            __dc_kept += 1u64;
        }
    };
    let write_chain = quote! {
        #starts
        if __dc_starts_group {
            __dc_out[__dc_at as usize] = __dc_i as u64;
            __dc_at += 1u64;
        }
    };
    let boundaries = Parts {
        capture_params: Vec::new(),
        capture_args: Vec::new(),
        source_params: vec![quote!(__dc_keys: &[#t_key])],
        source_args: Vec::new(),
        sources: &[],
        window: false,
    };
    let compaction = compact_kernels(
        &boundaries,
        [quote!(query_group_count), quote!(query_group_write)],
        &quote!(u64),
        &count_chain,
        &write_chain,
    );
    let (t_out, identity, step) = match aggregate {
        Aggregate::Count => (quote!(u64), quote!(0u64), quote!(__dc_acc + 1u64)),
        Aggregate::Sum => {
            let (identity, float) = sum_tokens(value)?;
            (
                t_value.clone(),
                identity,
                add(float, quote!(__dc_acc), quote!(__dc_values[__dc_i])),
            )
        }
        Aggregate::Min | Aggregate::Max => {
            let max = aggregate == Aggregate::Max;
            let method = if max { quote!(max) } else { quote!(min) };
            (
                t_value.clone(),
                extreme_identity(value, max)?,
                quote!(__dc_acc.#method(__dc_values[__dc_i])),
            )
        }
    };
    Ok(quote! {
        #compaction

        #[::dotcompute::kernel]
        pub fn query_group_fold(
            __dc_groups: u64,
            __dc_n: u64,
            __dc_starts: &[u64],
            __dc_keys: &[#t_key],
            __dc_values: &[#t_value],
            __dc_out_keys: &mut [#t_key],
            __dc_out: &mut [#t_out],
        ) {
            let __dc_g = global_id();
            let __dc_start = __dc_starts[__dc_g] as usize;
            let __dc_end = if __dc_g + 1 < __dc_groups as usize {
                __dc_starts[__dc_g + 1] as usize
            } else {
                __dc_n as usize
            };
            let mut __dc_acc: #t_out = #identity;
            for __dc_i in __dc_start..__dc_end {
                __dc_acc = #step;
            }
            __dc_out_keys[__dc_g] = __dc_keys[__dc_start];
            __dc_out[__dc_g] = __dc_acc;
        }
    })
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

/// The first pass of a reduction in the library's order: a group of 256 items per chunk of
/// 4096 elements, item `l` taking elements `l, l + 256, ..` (index `__dc_i` within the
/// window) through `chain`, then the halving tree (as `algorithms::reduce`). `extra`
/// parameters follow the sources.
fn reduce_kernel(
    parts: &Parts<'_>,
    name: TokenStream,
    extra: &[TokenStream],
    t_out: &TokenStream,
    identity: &TokenStream,
    combine: &dyn Fn(TokenStream, TokenStream) -> TokenStream,
    chain: &TokenStream,
) -> TokenStream {
    let combine = combine(
        quote!(__dc_tile[__dc_lid]),
        quote!(__dc_tile[__dc_lid + __dc_s]),
    );
    // The whole chunks' loads name the index as it is (contiguous: whole vectors on the CPU);
    // a chain that uses the index gets it bound (kept out of the others' loops).
    let whole = parts.loads(quote!(__dc_base + __dc_k * 256 + __dc_lid));
    let index = chain
        .clone()
        .into_iter()
        .any(|t| uses_index(&t))
        .then(|| quote!(let __dc_i = __dc_base + __dc_k * 256 + __dc_lid;));
    let guarded = parts.loads(quote!(__dc_i));
    let (capture_params, source_params) = (&parts.capture_params, &parts.source_params);
    quote! {
        #[::dotcompute::kernel]
        pub fn #name(#(#capture_params,)* __dc_n: u64, #(#source_params,)* #(#extra,)* __dc_out: &mut [#t_out]) {
            let mut __dc_tile = shared_array::<#t_out, 256>();
            let __dc_lid = local_id_x();
            let __dc_base = group_id_x() * 4096;
            let mut __dc_acc: #t_out = #identity;
            // A whole chunk needs no guard; the last may be partial.
            if __dc_base + 4096 <= __dc_n as usize {
                for __dc_k in 0..16usize {
                    #whole
                    #index
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

/// The two passes of a scan in the library's order (see `algorithms::scan`): lane `l` of a
/// chunk's 256 owns elements `16l .. 16l + 16` (of the window), adds its values from the
/// identity, and the lanes' totals are scanned by Hillis and Steele; `totals` writes each
/// chunk's total, `write` each value's prefix, from the chunk's carry. `chain` runs the
/// chain to an action on each value (every element has one: no filter).
fn scan_kernels(
    parts: &Parts<'_>,
    [totals_name, write_name]: [TokenStream; 2],
    scan: &ScanTerminal,
    chain: &dyn Fn(TokenStream) -> TokenStream,
) -> TokenStream {
    let (t_out, identity, extra) = (&scan.t_out, &scan.identity, &scan.extra_params);
    let combine = &scan.combine;
    let load = parts.loads(quote!(__dc_i));
    let (capture_params, source_params) = (&parts.capture_params, &parts.source_params);
    let add_value = combine(quote!(__dc_acc), quote!(__dc_value));
    let total_step = chain(quote!(__dc_acc = #add_value;));
    let next = combine(quote!(__dc_running), quote!(__dc_value));
    let write_step = chain(quote! {
        let __dc_next: #t_out = #next;
        __dc_out[__dc_i] = if __dc_exclusive != 0 { __dc_running } else { __dc_next };
        __dc_running = __dc_next;
    });
    let lanes_step = combine(quote!(__dc_before), quote!(__dc_lanes[__dc_lid]));
    let start = combine(quote!(__dc_carries[group_id_x()]), quote!(__dc_lane_prefix));
    // Both kernels start alike: each lane's total, then the scan of the lane totals.
    let lane_totals = quote! {
        let mut __dc_lanes = shared_array::<#t_out, 256>();
        let __dc_lid = local_id_x();
        let __dc_start = group_id_x() * 4096 + 16 * __dc_lid;
        let __dc_end = (__dc_start + 16).min(__dc_n as usize);
        let mut __dc_acc: #t_out = #identity;
        for __dc_i in __dc_start..__dc_end {
            #load
            #total_step
        }
        __dc_lanes[__dc_lid] = __dc_acc;
        barrier();
        for __dc_level in 0..8usize {
            let __dc_d = 1usize << __dc_level;
            let __dc_before = if __dc_lid >= __dc_d { __dc_lanes[__dc_lid - __dc_d] } else { #identity };
            barrier();
            if __dc_lid >= __dc_d {
                __dc_lanes[__dc_lid] = #lanes_step;
            }
            barrier();
        }
    };
    quote! {
        #[::dotcompute::kernel]
        pub fn #totals_name(#(#capture_params,)* __dc_n: u64, #(#source_params,)* #(#extra,)* __dc_out: &mut [#t_out]) {
            #lane_totals
            if __dc_lid == 0 {
                __dc_out[group_id_x()] = __dc_lanes[255];
            }
        }

        #[::dotcompute::kernel]
        pub fn #write_name(
            #(#capture_params,)*
            __dc_n: u64,
            #(#source_params,)*
            #(#extra,)*
            __dc_exclusive: u32,
            __dc_carries: &[#t_out],
            __dc_out: &mut [#t_out],
        ) {
            #lane_totals
            // The chunks before this one, then the lanes before this one.
            let __dc_lane_prefix = if __dc_lid > 0 { __dc_lanes[__dc_lid - 1] } else { #identity };
            let mut __dc_running: #t_out = #start;
            for __dc_i in __dc_start..__dc_end {
                #load
                #write_step
            }
        }
    }
}

/// Whether a token tree mentions `__dc_i` (inside groups too).
fn uses_index(tree: &proc_macro2::TokenTree) -> bool {
    match tree {
        proc_macro2::TokenTree::Ident(i) => i == "__dc_i",
        proc_macro2::TokenTree::Group(g) => g.stream().into_iter().any(|t| uses_index(&t)),
        _ => false,
    }
}

/// One item runs the chain on element `__dc_at` of the window and writes the value that
/// reaches the end (the caller knows that one does).
fn value_at_kernel(parts: &Parts<'_>, t_out: &TokenStream, chain: &TokenStream) -> TokenStream {
    let load = parts.loads(quote!(__dc_i));
    let (capture_params, source_params) = (&parts.capture_params, &parts.source_params);
    quote! {
        #[::dotcompute::kernel]
        pub fn query_value_at(#(#capture_params,)* __dc_at: u64, #(#source_params,)* __dc_out: &mut [#t_out]) {
            let __dc_i = __dc_at as usize;
            #load
            #chain
        }
    }
}

/// The order-preserving compaction of the chain's kept values (as `define_compaction!`):
/// lane `l` of a chunk owns elements `16l .. 16l + 16`.
fn compact_kernels(
    parts: &Parts<'_>,
    [count_name, write_name]: [TokenStream; 2],
    t_out: &TokenStream,
    count_chain: &TokenStream,
    write_chain: &TokenStream,
) -> TokenStream {
    let load = parts.loads(quote!(__dc_i));
    let (capture_params, source_params) = (&parts.capture_params, &parts.source_params);
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
        pub fn #count_name(#(#capture_params,)* __dc_n: u64, #(#source_params,)* __dc_counts: &mut [u64]) {
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
        pub fn #write_name(
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
