//! Lowering: a kernel or helper body in the Rust subset, to HIR with type variables, then to IR.
//!
//! Every construct outside the kernel language is an error at its span that says what is not
//! supported and what to write instead.

mod arrays;
mod calls;
mod expressions;
mod statements;

use crate::hir::{Finisher, HExpr, HExprKind, HLocal, HStmt};
use crate::infer::{TyVar, Types};
use crate::signature::{HelperSignature, KernelParam};
use dotcompute_ir::ScalarType;
use dotcompute_ir::{
    Block, Function, FunctionId, Local, LocalId, ParamId, ParamKind, PrivateId, SharedArray,
    SharedId,
};
use proc_macro2::Span;
use std::collections::HashMap;
use syn::spanned::Spanned;

/// The helpers a body may call: path as written -> (id, signature).
pub type Helpers = HashMap<String, (FunctionId, HelperSignature)>;

/// The path of a call as a lookup key (`a::b::f`).
pub fn path_key(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

fn err(span: Span, msg: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(span, msg)
}

fn unsupported(span: Span, what: &str, instead: &str) -> syn::Error {
    err(
        span,
        format!("{what} is not supported in kernels; {instead}"),
    )
}

#[derive(Clone, Copy)]
enum Binding {
    Local(LocalId),
    Param(ParamId),
    Shared(SharedId),
    Private(PrivateId),
}

/// A lowered kernel body.
pub struct KernelBody {
    pub locals: Vec<Local>,
    pub body: Block,
    /// Shared arrays declared with `shared_array::<T, N>()`.
    pub shared: Vec<SharedArray>,
    /// Private arrays declared with `[v; N]`.
    pub private: Vec<SharedArray>,
    /// Where each `barrier()` is, in source order (for the uniformity check's errors).
    pub barriers: Vec<Span>,
}

/// Where the value of a block or an `if` goes.
#[derive(Clone, Copy)]
enum Tail {
    /// A statement: any value is discarded.
    Discard,
    /// The helper's return value.
    Return,
    /// Assigned to a local.
    Assign(LocalId),
}

struct Lowerer<'a> {
    types: Types,
    locals: Vec<HLocal>,
    scopes: Vec<Vec<(String, Binding)>>,
    params: &'a [KernelParam],
    helpers: &'a Helpers,
    /// The helper's return type, when lowering a helper.
    ret: Option<TyVar>,
    loop_depth: u32,
    /// Accept calls to helpers that are not known (checking a helper on its own).
    lenient_calls: bool,
    /// Locals that may be assigned: `mut`, or declared without a value.
    assignable: Vec<bool>,
    /// Shared arrays declared so far.
    shared: Vec<SharedArray>,
    /// Spans of the `barrier()` calls so far.
    barriers: Vec<Span>,
    /// Private arrays declared so far: name, element type, length.
    private: Vec<(String, TyVar, u32, Span)>,
    /// When typing a closure of `query!`: its free names (captured scalars), as locals of
    /// types their uses decide.
    captures: Option<Vec<(syn::Ident, LocalId)>>,
    /// The captures the current closure uses.
    capture_uses: Vec<LocalId>,
}

/// One element parameter of a `query!` closure.
pub struct ClosureParam<'a> {
    /// Its name.
    pub ident: &'a syn::Ident,
    /// `|mut x|`.
    pub mutable: bool,
    /// Its written type, if any (the first closure's are required).
    pub ty: Option<(ScalarType, Span)>,
}

/// One closure of a `query!` chain, as the macro read it.
pub struct ChainClosure<'a> {
    /// The element parameters: one, or one per zipped buffer until a `map` makes one value.
    pub params: Vec<ClosureParam<'a>>,
    /// The closure's written result type (`|x| -> T { .. }`), if any.
    pub declared_ret: Option<(ScalarType, Span)>,
    /// The body.
    pub body: &'a syn::Expr,
    /// What the closure does to the elements that flow through the chain.
    pub role: ClosureRole,
}

/// How a `query!` closure relates to the elements flowing through the chain.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ClosureRole {
    /// `map`: takes the elements, its value flows on.
    Map,
    /// `filter`: takes the elements, gives a `bool`; the elements flow on unchanged.
    Filter,
    /// A key (`min_by_key`, `sort_by_key`): takes the elements, gives a number; the elements
    /// flow on unchanged.
    Key,
    /// A combiner (`reduce`): takes two values of the one flowing element's type and gives
    /// one of that type.
    Combine,
}

/// What `query!` needs to know of its chain: the element types, each closure's value type and
/// captured scalars, all typed together (a capture has one type in the whole chain).
pub struct ChainTypes {
    /// The sources' element types (the first closure's parameter types).
    pub inputs: Vec<ScalarType>,
    /// Per closure: the types of its parameters.
    pub params: Vec<Vec<ScalarType>>,
    /// Per closure: the type of its value.
    pub rets: Vec<ScalarType>,
    /// Per closure: the captures it uses, in the order of [`ChainTypes::captures`].
    pub uses: Vec<Vec<syn::Ident>>,
    /// Every free name of the chain (a captured scalar), in order of first use, with its
    /// type.
    pub captures: Vec<(syn::Ident, ScalarType)>,
}

/// Types a `query!` chain by the kernel language's rules: each closure's elements are the
/// value of the `map` before (a filter passes its elements on; the first closure takes one
/// element per source), free names are captured scalars shared by all closures. A capture's
/// type must follow from its uses (no literal defaults: `k > 3` alone does not say which
/// integer `k` is). Calls to `#[kernel_fn]`s cannot be typed here (they are not visible to
/// this macro): a value that depends on one needs its closure's `-> T`.
pub fn infer_chain(
    closures: &[ChainClosure<'_>],
    sources: &[Option<ScalarType>],
) -> syn::Result<ChainTypes> {
    let Some(first) = closures.first() else {
        return Err(err(
            Span::call_site(),
            "a chain without closures has nothing to type",
        ));
    };
    if first.params.len() != sources.len() {
        return Err(err(
            first.body.span(),
            format!(
                "the first closure takes one element per source (buffers, ranges, the position of `enumerate` first): {} here",
                sources.len()
            ),
        ));
    }
    let mut inputs = Vec::new();
    for (p, known) in first.params.iter().zip(sources) {
        let t = match (p.ty, known) {
            (Some((t, _)), _) => t,
            (None, Some(t)) => *t,
            (None, None) => {
                return Err(err(
                    p.ident.span(),
                    format!(
                        "write the element type of the query's first closure: `|{}: f32| ..` (the macro cannot see the buffer's type)",
                        p.ident
                    ),
                ));
            }
        };
        if let (Some((written, span)), Some(fixed)) = (p.ty, known)
            && written != *fixed
        {
            return Err(err(
                span,
                format!(
                    "positions and ranges give `{}`, not `{}`",
                    fixed.rust_name(),
                    written.rust_name()
                ),
            ));
        }
        inputs.push(t);
    }
    let helpers = Helpers::new();
    let mut l = Lowerer::new(&[], &helpers, true);
    l.captures = Some(Vec::new());
    // The outermost scope holds the captures; each closure gets its own scope inside it.
    l.scopes.push(Vec::new());
    let mut flowing: Vec<TyVar> = first
        .params
        .iter()
        .zip(&inputs)
        .map(|(p, t)| l.types.known(*t, p.ident.span()))
        .collect();
    let mut rets = Vec::new();
    let mut params = Vec::new();
    let mut uses = Vec::new();
    for c in closures {
        let receives = if c.role == ClosureRole::Combine {
            let [one] = flowing[..] else {
                return Err(err(
                    c.body.span(),
                    "zipped or enumerated elements need a `map` to one value before `reduce`",
                ));
            };
            vec![one, one]
        } else {
            flowing.clone()
        };
        if c.params.len() != receives.len() {
            return Err(err(
                c.body.span(),
                format!(
                    "this closure receives {} element(s) (what the stage before gives), not {}",
                    receives.len(),
                    c.params.len()
                ),
            ));
        }
        for (p, &v) in c.params.iter().zip(&receives) {
            if let Some((t, span)) = p.ty {
                if let Some(have) = l.types.known_now(v)
                    && have != t
                {
                    return Err(err(
                        span,
                        format!(
                            "this closure receives `{}` (what the stage before gives), not `{}`",
                            have.rust_name(),
                            t.rust_name()
                        ),
                    ));
                }
                l.types.require(v, t, span)?;
            }
        }
        l.capture_uses.clear();
        l.scopes.push(Vec::new());
        for (p, &v) in c.params.iter().zip(&receives) {
            let local = l.new_local(&p.ident.to_string(), v, p.mutable);
            l.bind(&p.ident.to_string(), Binding::Local(local));
        }
        let ret = match (c.declared_ret, c.role) {
            // A combiner gives what it takes.
            (declared, ClosureRole::Combine) => {
                if let Some((t, span)) = declared {
                    l.types.require(receives[0], t, span)?;
                }
                receives[0]
            }
            (Some((t, span)), _) => l.types.known(t, span),
            (None, _) => l.types.unknown(c.body.span()),
        };
        l.ret = Some(ret);
        let body = c.body;
        let block: syn::Block = syn::parse_quote!({ #body });
        l.block_stmts(&block, Tail::Return)?;
        l.scopes.pop();
        params.push(receives);
        match c.role {
            ClosureRole::Filter => {
                l.types
                    .require(ret, ScalarType::Bool, c.body.span())
                    .map_err(|_| err(c.body.span(), "a filter's closure gives a `bool`"))?;
            }
            ClosureRole::Map => flowing = vec![ret],
            ClosureRole::Key | ClosureRole::Combine => {}
        }
        rets.push(ret);
        uses.push(std::mem::take(&mut l.capture_uses));
    }
    // Captures first: an unknown value type usually comes from one.
    let mut captures = Vec::new();
    for (ident, local) in l.captures.take().unwrap_or_default() {
        let ty = l.locals[local.0 as usize].ty;
        let ty = l.types.known_now(ty).ok_or_else(|| {
            err(
                ident.span(),
                format!(
                    "cannot infer the type of the captured `{ident}` from its uses in the query (a cast does not tell it); write its type in the closure: `let {ident}: u32 = {ident};` (with its own type)"
                ),
            )
        })?;
        if ty == ScalarType::Bool {
            return Err(err(
                ident.span(),
                format!(
                    "the captured `{ident}` is a `bool`; kernel parameters are numbers: bind `let {ident} = {ident} as u32;` before the query and test `{ident} != 0` here"
                ),
            ));
        }
        captures.push((ident, local));
    }
    let captures: Vec<(syn::Ident, LocalId, ScalarType)> = captures
        .into_iter()
        .map(|(ident, local)| {
            let ty = l.locals[local.0 as usize].ty;
            let ty = l.types.known_now(ty).unwrap_or(ScalarType::U32);
            (ident, local, ty)
        })
        .collect();
    let rets = rets
        .into_iter()
        .zip(closures)
        .map(|(ret, c)| {
            l.types.resolve(ret).map_err(|_| {
                err(
                    c.body.span(),
                    "cannot infer the type of this closure's value; write it: `|x: f32| -> f32 { .. }`",
                )
            })
        })
        .collect::<syn::Result<Vec<_>>>()?;
    let uses = uses
        .into_iter()
        .map(|used| {
            captures
                .iter()
                .filter(|(_, local, _)| used.contains(local))
                .map(|(ident, _, _)| ident.clone())
                .collect()
        })
        .collect();
    let params = params
        .into_iter()
        .map(|vars| {
            vars.into_iter()
                .map(|v| l.types.resolve(v))
                .collect::<syn::Result<Vec<_>>>()
        })
        .collect::<syn::Result<Vec<_>>>()?;
    Ok(ChainTypes {
        inputs,
        params,
        rets,
        uses,
        captures: captures.into_iter().map(|(i, _, t)| (i, t)).collect(),
    })
}

/// Lowers a kernel body.
pub fn lower_kernel(
    block: &syn::Block,
    params: &[KernelParam],
    helpers: &Helpers,
) -> syn::Result<KernelBody> {
    let mut l = Lowerer::new(params, helpers, false);
    l.scopes.push(Vec::new());
    let mut body = Vec::new();
    for (i, p) in params.iter().enumerate() {
        let id = ParamId(i as u32);
        match p.ir.kind {
            // `mut x: T` becomes a local initialised from the parameter.
            ParamKind::Scalar(t) if p.mutable => {
                let ty = l.types.known(t, p.span);
                let local = l.new_local(&p.ident.to_string(), ty, true);
                body.push(HStmt::Let {
                    local,
                    init: Some(HExpr {
                        kind: HExprKind::Param(id),
                        ty,
                        span: p.span,
                    }),
                });
                l.bind(&p.ident.to_string(), Binding::Local(local));
            }
            _ => l.bind(&p.ident.to_string(), Binding::Param(id)),
        }
    }
    body.extend(l.block_stmts(block, Tail::Discard)?);
    let mut fin = Finisher {
        types: &mut l.types,
    };
    let ir_body = fin.block(&body)?;
    let locals = fin.locals(&l.locals)?;
    let private = l
        .private
        .iter()
        .map(|(name, ty, len, span)| {
            let array = SharedArray {
                name: name.clone(),
                elem: fin.types.resolve(*ty)?,
                len: *len,
            };
            if array.bytes() > dotcompute_ir::MAX_PRIVATE_ARRAY_BYTES {
                return Err(err(
                    *span,
                    format!(
                        "an array of a work item holds at most {} bytes (this one {}): it lives in registers or on the stack; use a shared array or a buffer for more",
                        dotcompute_ir::MAX_PRIVATE_ARRAY_BYTES,
                        array.bytes()
                    ),
                ));
            }
            Ok(array)
        })
        .collect::<syn::Result<Vec<_>>>()?;
    Ok(KernelBody {
        locals,
        body: ir_body,
        shared: l.shared,
        private,
        barriers: l.barriers,
    })
}

/// Lowers a helper. With `lenient_calls`, calls to unknown helpers are accepted (for checking
/// a helper where the helpers it calls are not visible) and the result is only for errors.
pub fn lower_helper(
    item: &syn::ItemFn,
    sig: &HelperSignature,
    helpers: &Helpers,
    lenient_calls: bool,
) -> syn::Result<Function> {
    let mut l = Lowerer::new(&[], helpers, lenient_calls);
    l.scopes.push(Vec::new());
    for (ident, ty, mutable) in &sig.params {
        let v = l.types.known(*ty, ident.span());
        let local = l.new_local(&ident.to_string(), v, *mutable);
        l.bind(&ident.to_string(), Binding::Local(local));
    }
    let ret = l.types.known(sig.ret, item.sig.output.span());
    l.ret = Some(ret);
    let body = l.block_stmts(&item.block, Tail::Return)?;
    if lenient_calls {
        // Only the errors matter; types of unknown calls stay open.
        return Ok(Function {
            name: item.sig.ident.to_string(),
            param_count: sig.params.len() as u32,
            ret: sig.ret,
            locals: vec![],
            body: vec![],
        });
    }
    let mut fin = Finisher {
        types: &mut l.types,
    };
    let ir_body = fin.block(&body)?;
    let locals = fin.locals(&l.locals)?;
    Ok(Function {
        name: item.sig.ident.to_string(),
        param_count: sig.params.len() as u32,
        ret: sig.ret,
        locals,
        body: ir_body,
    })
}

impl<'a> Lowerer<'a> {
    fn new(params: &'a [KernelParam], helpers: &'a Helpers, lenient_calls: bool) -> Self {
        Lowerer {
            types: Types::default(),
            locals: Vec::new(),
            scopes: Vec::new(),
            params,
            helpers,
            ret: None,
            loop_depth: 0,
            lenient_calls,
            assignable: Vec::new(),
            shared: Vec::new(),
            barriers: Vec::new(),
            private: Vec::new(),
            captures: None,
            capture_uses: Vec::new(),
        }
    }

    fn new_local(&mut self, name: &str, ty: TyVar, mutable: bool) -> LocalId {
        let id = LocalId(self.locals.len() as u32);
        self.locals.push(HLocal {
            name: name.to_string(),
            ty,
            mutable,
        });
        self.assignable.push(mutable);
        id
    }

    fn bind(&mut self, name: &str, b: Binding) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name.to_string(), b));
        }
    }

    /// A free name of a `query!` closure: a captured scalar, bound in the outermost scope.
    fn capture(&mut self, ident: &syn::Ident) -> Option<LocalId> {
        self.captures.as_ref()?;
        let ty = self.types.unknown(ident.span());
        let local = self.new_local(&ident.to_string(), ty, false);
        if let Some(outer) = self.scopes.first_mut() {
            outer.push((ident.to_string(), Binding::Local(local)));
        }
        if let Some(captures) = self.captures.as_mut() {
            captures.push((ident.clone(), local));
        }
        Some(local)
    }

    /// Notes a use of `local` when it is a captured scalar.
    fn note_use(&mut self, local: LocalId) {
        let captured = self
            .captures
            .as_ref()
            .is_some_and(|c| c.iter().any(|(_, id)| *id == local));
        if captured && !self.capture_uses.contains(&local) {
            self.capture_uses.push(local);
        }
    }

    fn lookup(&self, name: &str) -> Option<Binding> {
        self.scopes
            .iter()
            .rev()
            .find_map(|s| s.iter().rev().find(|(n, _)| n == name).map(|(_, b)| *b))
    }

    fn scoped<T>(&mut self, f: impl FnOnce(&mut Self) -> syn::Result<T>) -> syn::Result<T> {
        self.scopes.push(Vec::new());
        let r = f(self);
        self.scopes.pop();
        r
    }

    fn in_loop<T>(&mut self, f: impl FnOnce(&mut Self) -> syn::Result<T>) -> syn::Result<T> {
        self.loop_depth += 1;
        let r = f(self);
        self.loop_depth -= 1;
        r
    }

    fn mk(&mut self, kind: HExprKind, ty: TyVar, span: Span) -> HExpr {
        HExpr { kind, ty, span }
    }

    // ----- statements -------------------------------------------------------------------

    // ----- expressions ------------------------------------------------------------------
}

fn strip_parens(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => strip_parens(&p.expr),
        syn::Expr::Group(g) => strip_parens(&g.expr),
        other => other,
    }
}
