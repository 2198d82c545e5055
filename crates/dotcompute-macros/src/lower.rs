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
}

/// What `query!` needs to know of a closure: the type of its value and its captured scalars
/// with their types.
pub struct ClosureTypes {
    /// The type of the closure's value.
    pub ret: ScalarType,
    /// Free names of the body, in order of first use, with their types.
    pub captures: Vec<(syn::Ident, ScalarType)>,
}

/// Types a closure of `query!` whose parameter `param` has type `param_ty`: the kernel
/// language's rules applied to `body`, with free names taken as captured scalars. Calls to
/// `#[kernel_fn]`s cannot be typed here (they are not visible to this macro): a value that
/// depends on one needs `declared_ret`, the closure's `-> T`.
pub fn infer_closure(
    param: &syn::Ident,
    param_ty: ScalarType,
    body: &syn::Expr,
    declared_ret: Option<(ScalarType, Span)>,
) -> syn::Result<ClosureTypes> {
    let helpers = Helpers::new();
    let mut l = Lowerer::new(&[], &helpers, true);
    l.captures = Some(Vec::new());
    // The outermost scope holds the captures; the next the parameter.
    l.scopes.push(Vec::new());
    l.scopes.push(Vec::new());
    let v = l.types.known(param_ty, param.span());
    let local = l.new_local(&param.to_string(), v, false);
    l.bind(&param.to_string(), Binding::Local(local));
    let ret = match declared_ret {
        Some((t, span)) => l.types.known(t, span),
        None => l.types.unknown(body.span()),
    };
    l.ret = Some(ret);
    let block: syn::Block = syn::parse_quote!({ #body });
    l.block_stmts(&block, Tail::Return)?;
    let ret = l.types.resolve(ret).map_err(|_| {
        err(
            body.span(),
            "cannot infer the type of this closure's value (it depends on a `#[kernel_fn]`, which `query!` cannot see); write it: `|x: f32| -> f32 { .. }`",
        )
    })?;
    let mut captures = Vec::new();
    for (ident, local) in l.captures.take().unwrap_or_default() {
        let ty = l.locals[local.0 as usize].ty;
        let ty = l.types.resolve(ty).map_err(|_| {
            err(
                ident.span(),
                format!(
                    "cannot infer the type of the captured `{ident}` from its uses in this closure (a cast does not tell it); convert it before the query: `let {ident} = {ident} as f32;`"
                ),
            )
        })?;
        captures.push((ident, ty));
    }
    Ok(ClosureTypes { ret, captures })
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
