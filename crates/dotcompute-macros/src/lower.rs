//! Lowering: a kernel or helper body in the Rust subset, to HIR with type variables, then to IR.
//!
//! Every construct outside the kernel language is an error at its span that says what is not
//! supported and what to write instead.

use crate::hir::{Finisher, HExpr, HExprKind, HLocal, HStmt, Lit};
use crate::infer::{TyVar, Types};
use crate::intrinsics::{self, Constant};
use crate::signature::{HelperSignature, KernelParam, scalar_type};
use dotcompute_ir::{
    Access, AtomicOp, BinaryOp, Block, Function, FunctionId, Local, LocalId, MathFn, MathSignature,
    ParamId, ParamKind, PrivateId, ScalarType, SharedArray, SharedId, UnaryOp,
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

/// What an indexing expression reads or writes.
#[derive(Clone, Copy)]
enum Indexed {
    Buffer(ParamId),
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
    private: Vec<(String, TyVar, u32)>,
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
        .map(|(name, ty, len)| {
            Ok(SharedArray {
                name: name.clone(),
                elem: fin.types.resolve(*ty)?,
                len: *len,
            })
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

    fn block_stmts(&mut self, block: &syn::Block, tail: Tail) -> syn::Result<Vec<HStmt>> {
        self.scoped(|l| l.stmts(&block.stmts, tail, block.span()))
    }

    fn stmts(&mut self, stmts: &[syn::Stmt], tail: Tail, span: Span) -> syn::Result<Vec<HStmt>> {
        let mut out = Vec::new();
        for (i, stmt) in stmts.iter().enumerate() {
            let last = i + 1 == stmts.len();
            match stmt {
                syn::Stmt::Local(local) => self.let_stmt(local, &mut out)?,
                syn::Stmt::Item(item) => {
                    return Err(unsupported(
                        item.span(),
                        "an item inside a kernel",
                        "move it out of the kernel (functions as `#[kernel_fn]` helpers)",
                    ));
                }
                syn::Stmt::Expr(e, None) if last && !matches!(tail, Tail::Discard) => {
                    self.value_into(e, tail, &mut out)?
                }
                syn::Stmt::Expr(e, _) => self.expr_stmt(e, &mut out)?,
                syn::Stmt::Macro(m) => self.macro_stmt(&m.mac, &mut out)?,
            }
        }
        if let Tail::Assign(_) = tail
            && !matches!(stmts.last(), Some(syn::Stmt::Expr(_, None)))
        {
            return Err(err(span, "this block must end in a value"));
        }
        Ok(out)
    }

    fn let_stmt(&mut self, local: &syn::Local, out: &mut Vec<HStmt>) -> syn::Result<()> {
        if let Some(((sin_pat, cos_pat), receiver, span)) = sin_cos_pattern(local) {
            // `let (s, c) = x.sin_cos();` is `let t = x; let s = t.sin(); let c = t.cos();`
            // with t a hidden local (the language has no tuples; after inlining, a compiler
            // may share the two functions' common reduction). The names are bound after both
            // values exist, as Rust binds them.
            let argument = self.expr(&receiver)?;
            let ty = argument.ty;
            let hidden = self.new_local("__sin_cos", ty, false);
            out.push(HStmt::Let {
                local: hidden,
                init: Some(argument),
            });
            let mut bindings = Vec::new();
            for (pat, func) in [(sin_pat, MathFn::Sin), (cos_pat, MathFn::Cos)] {
                let operand = self.mk(HExprKind::Local(hidden), ty, span);
                let value = self.math(func, vec![operand], span)?;
                if let syn::Pat::Ident(p) = pat {
                    let id = self.new_local(&p.ident.to_string(), value.ty, p.mutability.is_some());
                    out.push(HStmt::Let {
                        local: id,
                        init: Some(value),
                    });
                    bindings.push((p.ident.to_string(), id));
                }
            }
            for (name, id) in bindings {
                self.bind(&name, Binding::Local(id));
            }
            return Ok(());
        }
        if let Some(init) = &local.init
            && let Some(call) = shared_array_call(&init.expr)
        {
            return self.shared_array(local, call);
        }
        if let Some(init) = &local.init
            && let syn::Expr::Repeat(r) = strip_parens(&init.expr)
        {
            return self.private_array(local, r, out);
        }
        let (pat, annotation) = match &local.pat {
            syn::Pat::Type(t) => (&*t.pat, Some(&*t.ty)),
            p => (p, None),
        };
        let (name, mutable) = match pat {
            syn::Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                (p.ident.to_string(), p.mutability.is_some())
            }
            syn::Pat::Wild(_) => {
                // `let _ = expr;` evaluates expr for its effect.
                if let Some(init) = &local.init {
                    let e = self.expr(&init.expr)?;
                    out.push(HStmt::Eval(e));
                }
                return Ok(());
            }
            other => {
                return Err(unsupported(
                    other.span(),
                    "this pattern",
                    "bind one name per `let` (`let x = ...;`)",
                ));
            }
        };
        let ty = match annotation {
            Some(t) => {
                let st = scalar_type(t).ok_or_else(|| {
                    err(
                        t.span(),
                        "kernel locals are scalars: `f32`, `f64`, `i32`, `u32`, `i64`, `u64`, `usize`, `isize` or `bool` (arrays come in a later version)",
                    )
                })?;
                self.types.known(st, t.span())
            }
            None => self.types.unknown(local.pat.span()),
        };
        let Some(init) = &local.init else {
            // `let x;`: assigned later, as in Rust.
            let id = self.new_local(&name, ty, true);
            out.push(HStmt::Let {
                local: id,
                init: None,
            });
            self.bind(&name, Binding::Local(id));
            return Ok(());
        };
        if let Some((_, diverge)) = &init.diverge {
            return Err(unsupported(
                diverge.span(),
                "`let ... else`",
                "use `if` to check the value",
            ));
        }
        if is_control_value(&init.expr) {
            // `let x = if c { a } else { b };` declares x, then assigns it in each branch. The
            // name is bound after the initialiser, which may use an older `x`.
            let id = self.new_local(&name, ty, true);
            out.push(HStmt::Let {
                local: id,
                init: None,
            });
            self.value_into(&init.expr, Tail::Assign(id), out)?;
            self.bind(&name, Binding::Local(id));
            return Ok(());
        }
        let value = self.expr(&init.expr)?;
        self.types.unify(ty, value.ty, init.expr.span())?;
        let id = self.new_local(&name, ty, mutable);
        out.push(HStmt::Let {
            local: id,
            init: Some(value),
        });
        self.bind(&name, Binding::Local(id));
        Ok(())
    }

    /// `let mut name = shared_array::<T, N>();`: declares a work-group shared array.
    fn shared_array(&mut self, local: &syn::Local, call: &syn::ExprCall) -> syn::Result<()> {
        let span = call.span();
        if self.ret.is_some() {
            return Err(err(
                span,
                "shared arrays are declared in the kernel body, not in helpers",
            ));
        }
        // The kernel's own block: the parameters' scope and the body's.
        if self.scopes.len() != 2 || self.loop_depth != 0 {
            return Err(err(
                span,
                "declare shared arrays at the top of the kernel body: there is one per work-group for the whole launch, not one per block or loop iteration",
            ));
        }
        let name = match &local.pat {
            syn::Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.to_string(),
            other => {
                return Err(err(
                    other.span(),
                    "bind a shared array to a name: `let mut tile = shared_array::<f32, 256>();`",
                ));
            }
        };
        if !call.args.is_empty() {
            return Err(err(
                span,
                "`shared_array` takes no arguments: the element type and length go in `::<T, N>`",
            ));
        }
        let generics = match &call.func.as_ref() {
            syn::Expr::Path(p) => p
                .path
                .segments
                .last()
                .map(|s| s.arguments.clone())
                .unwrap_or(syn::PathArguments::None),
            _ => syn::PathArguments::None,
        };
        let usage = "write `shared_array::<T, N>()` with T a buffer element type and N an integer literal (e.g. `shared_array::<f32, 256>()`)";
        let syn::PathArguments::AngleBracketed(args) = generics else {
            return Err(err(span, usage));
        };
        let args: Vec<&syn::GenericArgument> = args.args.iter().collect();
        let (elem, len) = match args.as_slice() {
            [
                syn::GenericArgument::Type(t),
                syn::GenericArgument::Const(n),
            ] => (t, n),
            // `N` written as a plain literal parses as a const argument; a path (a `const`
            // item) parses as a type and is not accepted: the length must be visible here.
            _ => return Err(err(span, usage)),
        };
        let elem_ty = scalar_type(elem)
            .filter(|t| t.is_buffer_element())
            .ok_or_else(|| err(elem.span(), usage))?;
        let len = match strip_parens(len) {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(i),
                ..
            }) => i.base10_parse::<u32>().ok().filter(|n| *n > 0),
            _ => None,
        }
        .ok_or_else(|| {
            err(
                len.span(),
                "the length of a shared array is an integer literal from 1 to u32::MAX",
            )
        })?;
        if self.shared.iter().any(|a| a.name == name) || self.params.iter().any(|p| p.ident == name)
        {
            return Err(err(
                local.pat.span(),
                format!("`{name}` is already declared; give each shared array its own name"),
            ));
        }
        let id = SharedId(self.shared.len() as u32);
        self.shared.push(SharedArray {
            name: name.clone(),
            elem: elem_ty,
            len,
        });
        self.bind(&name, Binding::Shared(id));
        Ok(())
    }

    /// `let mut acc = [value; N];`: a private array, one per work item.
    fn private_array(
        &mut self,
        local: &syn::Local,
        r: &syn::ExprRepeat,
        out: &mut Vec<HStmt>,
    ) -> syn::Result<()> {
        let span = r.span();
        if self.ret.is_some() {
            return Err(unsupported(
                span,
                "an array in a helper",
                "declare arrays in the kernel body (helpers take and return scalars)",
            ));
        }
        let (pat, annotation) = match &local.pat {
            syn::Pat::Type(t) => (&*t.pat, Some(&*t.ty)),
            p => (p, None),
        };
        let name = match pat {
            syn::Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.to_string(),
            other => {
                return Err(err(
                    other.span(),
                    "bind an array to a name: `let mut acc = [0.0f32; 8];`",
                ));
            }
        };
        let len = match strip_parens(&r.len) {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(i),
                ..
            }) => i.base10_parse::<u32>().ok().filter(|n| *n > 0),
            _ => None,
        }
        .ok_or_else(|| {
            err(
                r.len.span(),
                "the length of a kernel array is an integer literal from 1 to u32::MAX (`[0.0f32; 8]`)",
            )
        })?;
        let value = self.expr(&r.expr)?;
        if let Some(syn::Type::Array(a)) = annotation {
            let st = scalar_type(&a.elem)
                .ok_or_else(|| err(a.elem.span(), "array elements are scalars"))?;
            self.types.require(value.ty, st, a.elem.span())?;
        }
        // Arrays are per kernel in the IR: a name used twice gets a suffix.
        let taken = |n: &str, l: &Self| {
            l.private.iter().any(|(p, _, _)| p == n)
                || l.shared.iter().any(|a| a.name == n)
                || l.params.iter().any(|p| p.ident == n)
        };
        let mut ir_name = name.clone();
        let mut k = 1;
        while taken(&ir_name, self) {
            ir_name = format!("{name}_{k}");
            k += 1;
        }
        let id = PrivateId(self.private.len() as u32);
        self.private.push((ir_name, value.ty, len));
        out.push(HStmt::PrivateInit { array: id, value });
        self.bind(&name, Binding::Private(id));
        Ok(())
    }

    /// Lowers an expression whose value goes to `tail`.
    fn value_into(&mut self, e: &syn::Expr, tail: Tail, out: &mut Vec<HStmt>) -> syn::Result<()> {
        match e {
            syn::Expr::Paren(p) => self.value_into(&p.expr, tail, out),
            syn::Expr::Group(g) => self.value_into(&g.expr, tail, out),
            syn::Expr::Block(b) if b.label.is_none() => {
                let stmts = self.block_stmts(&b.block, tail)?;
                out.extend(stmts);
                Ok(())
            }
            syn::Expr::If(i) => {
                let Some((_, else_branch)) = &i.else_branch else {
                    return Err(err(
                        i.span(),
                        "an `if` used as a value needs an `else` branch",
                    ));
                };
                let cond = self.condition(&i.cond)?;
                let then_body = self.block_stmts(&i.then_branch, tail)?;
                let mut else_body = Vec::new();
                self.scoped(|l| l.value_into(else_branch, tail, &mut else_body))?;
                out.push(HStmt::If {
                    cond,
                    then_body,
                    else_body,
                });
                Ok(())
            }
            syn::Expr::Return(_) | syn::Expr::Break(_) | syn::Expr::Continue(_) => {
                self.expr_stmt(e, out)
            }
            syn::Expr::Macro(m) if is_trap_macro(&m.mac) => self.macro_stmt(&m.mac, out),
            _ => {
                let v = self.expr(e)?;
                match tail {
                    Tail::Discard => out.push(HStmt::Eval(v)),
                    Tail::Return => out.push(self.return_value(v, e.span())?),
                    Tail::Assign(id) => {
                        let ty = self.locals[id.0 as usize].ty;
                        self.types.unify(ty, v.ty, e.span())?;
                        out.push(HStmt::Assign {
                            local: id,
                            value: v,
                        });
                    }
                }
                Ok(())
            }
        }
    }

    fn return_value(&mut self, v: HExpr, span: Span) -> syn::Result<HStmt> {
        match self.ret {
            Some(ret) => {
                self.types.unify(ret, v.ty, span)?;
                Ok(HStmt::Return(Some(v)))
            }
            None => Err(err(
                span,
                "kernels cannot return a value; write results into a `&mut [T]` parameter",
            )),
        }
    }

    fn condition(&mut self, cond: &syn::Expr) -> syn::Result<HExpr> {
        if let syn::Expr::Let(l) = cond {
            return Err(unsupported(
                l.span(),
                "`if let` / `while let`",
                "compare values with `==` and `if`",
            ));
        }
        let c = self.expr(cond)?;
        self.types.require(c.ty, ScalarType::Bool, cond.span())?;
        Ok(c)
    }

    fn expr_stmt(&mut self, e: &syn::Expr, out: &mut Vec<HStmt>) -> syn::Result<()> {
        match e {
            syn::Expr::Paren(p) => self.expr_stmt(&p.expr, out),
            syn::Expr::Assign(a) => self.assign(&a.left, None, &a.right, out),
            syn::Expr::Binary(b) if compound_op(&b.op).is_some() => {
                self.assign(&b.left, compound_op(&b.op), &b.right, out)
            }
            syn::Expr::If(i) => {
                let cond = self.condition(&i.cond)?;
                let then_body = self.block_stmts(&i.then_branch, Tail::Discard)?;
                let else_body = match &i.else_branch {
                    Some((_, e)) => {
                        let mut v = Vec::new();
                        self.scoped(|l| l.expr_stmt(e, &mut v))?;
                        v
                    }
                    None => Vec::new(),
                };
                out.push(HStmt::If {
                    cond,
                    then_body,
                    else_body,
                });
                Ok(())
            }
            syn::Expr::Block(b) => {
                if let Some(label) = &b.label {
                    return Err(unsupported(label.span(), "a labeled block", "use a flag"));
                }
                let stmts = self.block_stmts(&b.block, Tail::Discard)?;
                out.extend(stmts);
                Ok(())
            }
            syn::Expr::While(w) => {
                if let Some(label) = &w.label {
                    return Err(unsupported(
                        label.span(),
                        "a loop label",
                        "restructure with a flag or a helper",
                    ));
                }
                let cond = self.condition(&w.cond)?;
                let body = self.in_loop(|l| l.block_stmts(&w.body, Tail::Discard))?;
                out.push(HStmt::While { cond, body });
                Ok(())
            }
            syn::Expr::Loop(lp) => {
                if let Some(label) = &lp.label {
                    return Err(unsupported(
                        label.span(),
                        "a loop label",
                        "restructure with a flag or a helper",
                    ));
                }
                let body = self.in_loop(|l| l.block_stmts(&lp.body, Tail::Discard))?;
                out.push(HStmt::Loop { body });
                Ok(())
            }
            syn::Expr::ForLoop(f) => self.for_loop(f, out),
            syn::Expr::Break(b) => {
                if let Some(label) = &b.label {
                    return Err(unsupported(
                        label.span(),
                        "`break` with a label",
                        "use a flag",
                    ));
                }
                if let Some(v) = &b.expr {
                    return Err(unsupported(
                        v.span(),
                        "`break` with a value",
                        "assign the value to a variable before `break`",
                    ));
                }
                if self.loop_depth == 0 {
                    return Err(err(b.span(), "`break` outside of a loop"));
                }
                out.push(HStmt::Break);
                Ok(())
            }
            syn::Expr::Continue(c) => {
                if let Some(label) = &c.label {
                    return Err(unsupported(
                        label.span(),
                        "`continue` with a label",
                        "use a flag",
                    ));
                }
                if self.loop_depth == 0 {
                    return Err(err(c.span(), "`continue` outside of a loop"));
                }
                out.push(HStmt::Continue);
                Ok(())
            }
            syn::Expr::Return(r) => {
                match (&r.expr, self.ret) {
                    (None, None) => out.push(HStmt::Return(None)),
                    (Some(v), _) => {
                        let v = self.expr(v)?;
                        out.push(self.return_value(v, r.span())?);
                    }
                    (None, Some(_)) => {
                        return Err(err(r.span(), "a helper must return a value"));
                    }
                }
                Ok(())
            }
            syn::Expr::Macro(m) => self.macro_stmt(&m.mac, out),
            syn::Expr::Call(c) if is_intrinsic_call(c, "barrier") => {
                if !c.args.is_empty() {
                    return Err(err(c.span(), "`barrier()` takes no arguments"));
                }
                if self.ret.is_some() {
                    return Err(err(
                        c.span(),
                        "`barrier()` belongs in the kernel body: a helper cannot wait for the work-group",
                    ));
                }
                self.barriers.push(c.span());
                out.push(HStmt::Barrier);
                Ok(())
            }
            other => {
                let v = self.expr(other)?;
                out.push(HStmt::Eval(v));
                Ok(())
            }
        }
    }

    fn assign(
        &mut self,
        place: &syn::Expr,
        op: Option<BinaryOp>,
        value: &syn::Expr,
        out: &mut Vec<HStmt>,
    ) -> syn::Result<()> {
        let span = place.span();
        match strip_parens(place) {
            syn::Expr::Path(p) => {
                let name = p.path.get_ident().map(|i| i.to_string()).ok_or_else(|| {
                    err(
                        p.span(),
                        "only local variables and buffer elements can be assigned",
                    )
                })?;
                let local = match self.lookup(&name) {
                    Some(Binding::Local(id)) => id,
                    Some(Binding::Param(_)) => {
                        return Err(err(
                            span,
                            format!(
                                "cannot assign to parameter `{name}`: declare it `mut {name}: T`, or index it if it is a buffer"
                            ),
                        ));
                    }
                    Some(Binding::Shared(_) | Binding::Private(_)) => {
                        return Err(err(
                            span,
                            format!(
                                "cannot assign a whole array: assign its elements (`{name}[i] = v`)"
                            ),
                        ));
                    }
                    None => return Err(err(span, format!("cannot find `{name}` in this kernel"))),
                };
                if !self.assignable[local.0 as usize] {
                    return Err(err(
                        span,
                        format!(
                            "cannot assign twice to immutable variable `{name}`: declare it `let mut {name}`"
                        ),
                    ));
                }
                let ty = self.locals[local.0 as usize].ty;
                let v = if let Some(op) = op {
                    let current = self.mk(HExprKind::Local(local), ty, span);
                    let rhs = self.expr(value)?;
                    self.binary(op, current, rhs, span)?
                } else if is_control_value(value) {
                    return self.value_into(value, Tail::Assign(local), out);
                } else {
                    self.expr(value)?
                };
                self.types.unify(ty, v.ty, value.span())?;
                out.push(HStmt::Assign { local, value: v });
                Ok(())
            }
            syn::Expr::Index(ix) => {
                let (target, elem_ty) = self.indexed_of(&ix.expr, true)?;
                if let Some(op) = op {
                    // buf[i] op= v: as in Rust, v first, then the place (its index once).
                    let rhs = self.expr(value)?;
                    let value_local = self.new_local("__value", rhs.ty, false);
                    let rhs_ty = rhs.ty;
                    out.push(HStmt::Let {
                        local: value_local,
                        init: Some(rhs),
                    });
                    let index = self.index(&ix.index)?;
                    let idx_local = self.new_local("__index", index.ty, false);
                    out.push(HStmt::Let {
                        local: idx_local,
                        init: Some(index.clone()),
                    });
                    let idx = self.mk(HExprKind::Local(idx_local), index.ty, span);
                    let current = self.mk(load(target, idx.clone()), elem_ty, span);
                    let rhs = self.mk(HExprKind::Local(value_local), rhs_ty, value.span());
                    let v = self.binary(op, current, rhs, span)?;
                    self.types.unify(elem_ty, v.ty, value.span())?;
                    out.push(store(target, idx, v));
                    return Ok(());
                }
                let index = self.index(&ix.index)?;
                let v = if is_control_value(value) {
                    // buf[i] = if c { a } else { b }: the value goes through a local.
                    let tmp = self.new_local("__value", elem_ty, true);
                    out.push(HStmt::Let {
                        local: tmp,
                        init: None,
                    });
                    self.value_into(value, Tail::Assign(tmp), out)?;
                    self.mk(HExprKind::Local(tmp), elem_ty, span)
                } else {
                    self.expr(value)?
                };
                self.types.unify(elem_ty, v.ty, value.span())?;
                out.push(store(target, index, v));
                Ok(())
            }
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => Err(unsupported(
                u.span(),
                "assigning through a reference",
                "assign local variables or buffer elements (`out[i] = v`)",
            )),
            other => Err(err(
                other.span(),
                "only local variables and buffer elements (`out[i]`) can be assigned in kernels",
            )),
        }
    }

    fn for_loop(&mut self, f: &syn::ExprForLoop, out: &mut Vec<HStmt>) -> syn::Result<()> {
        if let Some(label) = &f.label {
            return Err(unsupported(
                label.span(),
                "a loop label",
                "restructure with a flag or a helper",
            ));
        }
        let (name, mutable) = match &*f.pat {
            syn::Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                (p.ident.to_string(), p.mutability.is_some())
            }
            syn::Pat::Wild(_) => ("_".to_string(), false),
            other => {
                return Err(unsupported(
                    other.span(),
                    "this loop pattern",
                    "loop over a range with one variable (`for i in 0..n`)",
                ));
            }
        };
        let range_help = "iterate over a range: `a..b`, `a..=b` or `(a..b).step_by(k)`";
        let (range, step) = match strip_parens(&f.expr) {
            syn::Expr::MethodCall(m) if m.method == "step_by" && m.args.len() == 1 => {
                let step = self.expr(&m.args[0])?;
                self.types
                    .require(step.ty, ScalarType::U64, m.args[0].span())?;
                (strip_parens(&m.receiver), Some(step))
            }
            other => (other, None),
        };
        let syn::Expr::Range(r) = range else {
            return Err(unsupported(
                f.expr.span(),
                "iterating over this",
                range_help,
            ));
        };
        let (Some(start), Some(end)) = (&r.start, &r.end) else {
            return Err(unsupported(r.span(), "an open range", range_help));
        };
        let inclusive = matches!(r.limits, syn::RangeLimits::Closed(_));
        let start = self.expr(start)?;
        let end = self.expr(end)?;
        self.types.unify(start.ty, end.ty, r.span())?;
        self.types.require_int(start.ty, r.span())?;
        let var_ty = start.ty;
        let body = self.scoped(|l| {
            let var = l.new_local(&name, var_ty, mutable);
            l.bind(&name, Binding::Local(var));
            let body = l.in_loop(|l| l.block_stmts(&f.body, Tail::Discard))?;
            Ok((var, body))
        })?;
        out.push(HStmt::For {
            var: body.0,
            start,
            end,
            inclusive,
            step,
            body: body.1,
        });
        Ok(())
    }

    fn macro_stmt(&mut self, mac: &syn::Macro, out: &mut Vec<HStmt>) -> syn::Result<()> {
        let name = mac
            .path
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        let args = || -> syn::Result<Vec<syn::Expr>> {
            let parsed = mac.parse_body_with(
                syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
            )?;
            Ok(parsed.into_iter().collect())
        };
        match name.as_str() {
            "panic" | "unreachable" | "todo" | "unimplemented" => {
                let args = args()?;
                if let Some(extra) = args.get(1) {
                    return Err(formatted_message(extra.span()));
                }
                let message = match args.first() {
                    None => format!("explicit {name}!()"),
                    Some(e) => literal_message(e)?,
                };
                out.push(HStmt::Trap(message));
                Ok(())
            }
            "assert" => {
                let args = args()?;
                let Some(cond) = args.first() else {
                    return Err(err(mac.span(), "`assert!` needs a condition"));
                };
                if let Some(extra) = args.get(2) {
                    return Err(formatted_message(extra.span()));
                }
                let message = match args.get(1) {
                    Some(m) => literal_message(m)?,
                    None => format!(
                        "assertion failed: {}",
                        quote::ToTokens::to_token_stream(cond)
                    ),
                };
                let c = self.condition(cond)?;
                let not = HExpr {
                    ty: c.ty,
                    span: c.span,
                    kind: HExprKind::Unary {
                        op: UnaryOp::Not,
                        operand: Box::new(c),
                    },
                };
                out.push(HStmt::If {
                    cond: not,
                    then_body: vec![HStmt::Trap(message)],
                    else_body: vec![],
                });
                Ok(())
            }
            // Release-build semantics: debug assertions are compiled out.
            "debug_assert" | "debug_assert_eq" | "debug_assert_ne" => Ok(()),
            _ => Err(unsupported(
                mac.span(),
                &format!("the macro `{name}!`"),
                "kernels support `panic!`, `assert!` and `unreachable!` with a literal message",
            )),
        }
    }

    // ----- expressions ------------------------------------------------------------------

    fn expr(&mut self, e: &syn::Expr) -> syn::Result<HExpr> {
        let span = e.span();
        match e {
            syn::Expr::Lit(l) => self.literal(&l.lit, false),
            syn::Expr::Paren(p) => self.expr(&p.expr),
            syn::Expr::Group(g) => self.expr(&g.expr),
            syn::Expr::Path(p) => self.path_value(p),
            syn::Expr::Unary(u) => match u.op {
                syn::UnOp::Neg(_) => {
                    if let syn::Expr::Lit(l) = strip_parens(&u.expr) {
                        return self.literal(&l.lit, true);
                    }
                    let operand = self.expr(&u.expr)?;
                    let ty = operand.ty;
                    Ok(self.mk(
                        HExprKind::Unary {
                            op: UnaryOp::Neg,
                            operand: Box::new(operand),
                        },
                        ty,
                        span,
                    ))
                }
                syn::UnOp::Not(_) => {
                    let operand = self.expr(&u.expr)?;
                    let ty = operand.ty;
                    Ok(self.mk(
                        HExprKind::Unary {
                            op: UnaryOp::Not,
                            operand: Box::new(operand),
                        },
                        ty,
                        span,
                    ))
                }
                _ => Err(unsupported(
                    span,
                    "dereferencing",
                    "kernels have no references except buffers; index buffers with `buf[i]`",
                )),
            },
            syn::Expr::Binary(b) => {
                if compound_op(&b.op).is_some() {
                    return Err(unsupported(
                        span,
                        "a compound assignment inside an expression",
                        "write it as a statement",
                    ));
                }
                let op = binary_op(&b.op)
                    .ok_or_else(|| err(b.op.span(), "this operator is not supported in kernels"))?;
                let lhs = self.expr(&b.left)?;
                let rhs = self.expr(&b.right)?;
                self.binary(op, lhs, rhs, span)
            }
            syn::Expr::Cast(c) => {
                let to = scalar_type(&c.ty)
                    .ok_or_else(|| err(c.ty.span(), "kernels cast only between scalar types"))?;
                let operand = self.expr(&c.expr)?;
                let ty = self.types.known(to, c.ty.span());
                // As in rustc, an unsuffixed literal cast to a type of its kind takes that type
                // (`3_000_000_000 as u32` is a u32 literal, `0.1 as f32` an f32 one).
                if let Some(kind) = unsuffixed_literal(&c.expr)
                    && ((kind == LiteralKind::Int && to.is_int())
                        || (kind == LiteralKind::Float && to.is_float()))
                {
                    self.types.unify(operand.ty, ty, c.span())?;
                }
                Ok(self.mk(HExprKind::Cast(Box::new(operand)), ty, span))
            }
            syn::Expr::Index(ix) => {
                if let syn::Expr::Range(r) = &*ix.index {
                    return Err(unsupported(
                        r.span(),
                        "slicing a buffer",
                        "index single elements (`buf[i]`) and pass offsets as parameters",
                    ));
                }
                let (target, ty) = self.indexed_of(&ix.expr, false)?;
                let index = self.index(&ix.index)?;
                Ok(self.mk(load(target, index), ty, span))
            }
            syn::Expr::MethodCall(m) => self.method_call(m),
            syn::Expr::Call(c) => self.call(c),
            syn::Expr::If(_) | syn::Expr::Block(_) => Err(unsupported(
                span,
                "an `if` or block in this position",
                "bind it first: `let v = if c { a } else { b };`",
            )),
            syn::Expr::Closure(_) => Err(unsupported(
                span,
                "a closure",
                "write a `#[kernel_fn]` helper function instead",
            )),
            syn::Expr::Match(_) => Err(unsupported(
                span,
                "`match`",
                "use `if` / `else if` chains instead",
            )),
            syn::Expr::Reference(_) | syn::Expr::RawAddr(_) => Err(unsupported(
                span,
                "taking a reference",
                "kernels only use references as `atomic_*(&mut buf[i], v)` targets",
            )),
            syn::Expr::Struct(_) | syn::Expr::Tuple(_) => Err(unsupported(
                span,
                "a struct or tuple value",
                "use separate scalar variables (structs come in a later version)",
            )),
            syn::Expr::Array(_) | syn::Expr::Repeat(_) => Err(unsupported(
                span,
                "a local array",
                "use a buffer parameter (local arrays come in a later version)",
            )),
            syn::Expr::Field(_) => Err(unsupported(
                span,
                "field access",
                "use scalar variables and buffers",
            )),
            syn::Expr::Range(_) => Err(unsupported(
                span,
                "a range value",
                "use ranges only in `for` loops",
            )),
            syn::Expr::Try(_) => Err(unsupported(
                span,
                "the `?` operator",
                "kernels have no `Result`; check values with `if`",
            )),
            syn::Expr::Async(_) | syn::Expr::Await(_) => Err(unsupported(
                span,
                "async code",
                "kernels run synchronously on each work item",
            )),
            syn::Expr::Unsafe(_) => Err(unsupported(
                span,
                "an `unsafe` block",
                "kernels are checked code; use `#[kernel(unchecked)]` to drop bounds checks",
            )),
            syn::Expr::Macro(m) => Err(unsupported(
                m.span(),
                &format!(
                    "the macro `{}!` in an expression",
                    quote::ToTokens::to_token_stream(&m.mac.path)
                ),
                "only `panic!`, `assert!` and `unreachable!` statements are supported",
            )),
            syn::Expr::Let(_) => Err(unsupported(
                span,
                "`let` in a condition",
                "compare values with `==` and `if`",
            )),
            syn::Expr::Assign(_) => Err(unsupported(
                span,
                "an assignment used as a value",
                "write it as a statement",
            )),
            syn::Expr::While(_)
            | syn::Expr::Loop(_)
            | syn::Expr::ForLoop(_)
            | syn::Expr::Break(_)
            | syn::Expr::Continue(_)
            | syn::Expr::Return(_) => Err(unsupported(
                span,
                "control flow used as a value",
                "write it as a statement",
            )),
            _ => Err(unsupported(
                span,
                "this expression",
                "see the kernel language in the `dotcompute` docs",
            )),
        }
    }

    fn literal(&mut self, lit: &syn::Lit, negative: bool) -> syn::Result<HExpr> {
        let span = lit.span();
        let suffix_type = |suffix: &str| -> syn::Result<Option<ScalarType>> {
            if suffix.is_empty() {
                return Ok(None);
            }
            match ScalarType::from_rust_name(suffix) {
                Some(t) if t != ScalarType::Bool => Ok(Some(t)),
                _ => Err(err(
                    span,
                    format!("literal suffix `{suffix}` is not a kernel type"),
                )),
            }
        };
        match lit {
            syn::Lit::Int(i) => {
                let ty = match suffix_type(i.suffix())? {
                    Some(t) => self.types.known(t, span),
                    None => self.types.any_int(span),
                };
                Ok(self.mk(
                    HExprKind::Lit(Lit::Int {
                        digits: i.base10_digits().to_string(),
                        negative,
                    }),
                    ty,
                    span,
                ))
            }
            syn::Lit::Float(f) => {
                let ty = match suffix_type(f.suffix())? {
                    Some(t) if t.is_float() => self.types.known(t, span),
                    Some(_) => return Err(err(span, "a float literal needs a float suffix")),
                    None => self.types.any_float(span),
                };
                Ok(self.mk(
                    HExprKind::Lit(Lit::Float {
                        text: f.base10_digits().to_string(),
                        negative,
                    }),
                    ty,
                    span,
                ))
            }
            syn::Lit::Bool(b) if !negative => {
                let ty = self.types.known(ScalarType::Bool, span);
                Ok(self.mk(HExprKind::Lit(Lit::Bool(b.value)), ty, span))
            }
            _ => Err(unsupported(
                span,
                "this literal",
                "kernels use numeric and `bool` literals only",
            )),
        }
    }

    fn path_value(&mut self, p: &syn::ExprPath) -> syn::Result<HExpr> {
        let span = p.span();
        if p.qself.is_none()
            && let Some(ident) = p.path.get_ident()
        {
            let name = ident.to_string();
            return match self.lookup(&name) {
                Some(Binding::Local(id)) => {
                    let ty = self.locals[id.0 as usize].ty;
                    Ok(self.mk(HExprKind::Local(id), ty, span))
                }
                Some(Binding::Param(id)) => {
                    let param = &self.params[id.0 as usize];
                    match param.ir.kind {
                        ParamKind::Scalar(t) => {
                            let ty = self.types.known(t, span);
                            Ok(self.mk(HExprKind::Param(id), ty, span))
                        }
                        ParamKind::Buffer { .. } => Err(err(
                            span,
                            format!(
                                "buffer `{name}` can only be indexed (`{name}[i]`) or measured (`{name}.len()`) in a kernel"
                            ),
                        )),
                    }
                }
                Some(Binding::Shared(_) | Binding::Private(_)) => Err(err(
                    span,
                    format!("array `{name}` can only be indexed (`{name}[i]`) in a kernel"),
                )),
                None => Err(err(
                    span,
                    format!(
                        "cannot find `{name}` in this kernel: kernels see their parameters and locals only (pass constants as parameters, or write paths such as `std::f32::consts::PI`)"
                    ),
                )),
            };
        }
        let segments: Vec<String> = p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        match intrinsics::constant(&segments) {
            Some((t, c)) => {
                let ty = self.types.known(t, span);
                let lit = match c {
                    Constant::Int(v) => Lit::IntValue(v),
                    Constant::Float(v) => Lit::FloatValue(v),
                };
                Ok(self.mk(HExprKind::Lit(lit), ty, span))
            }
            None => Err(err(
                span,
                format!(
                    "`{}` is not available in kernels: kernels see their parameters, locals, and constants of the primitive types (`u32::MAX`, `std::f32::consts::PI`)",
                    segments.join("::")
                ),
            )),
        }
    }

    fn binary(&mut self, op: BinaryOp, lhs: HExpr, rhs: HExpr, span: Span) -> syn::Result<HExpr> {
        let ty = match op {
            BinaryOp::Shl | BinaryOp::Shr => {
                self.types.require_int(lhs.ty, span)?;
                self.types.require_int(rhs.ty, span)?;
                lhs.ty
            }
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => {
                self.types.unify(lhs.ty, rhs.ty, span)?;
                self.types.known(ScalarType::Bool, span)
            }
            BinaryOp::And | BinaryOp::Or => {
                self.types.require(lhs.ty, ScalarType::Bool, lhs.span)?;
                self.types.require(rhs.ty, ScalarType::Bool, rhs.span)?;
                lhs.ty
            }
            _ => {
                self.types.unify(lhs.ty, rhs.ty, span)?;
                lhs.ty
            }
        };
        Ok(self.mk(
            HExprKind::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            ty,
            span,
        ))
    }

    fn index(&mut self, e: &syn::Expr) -> syn::Result<HExpr> {
        let index = self.expr(e)?;
        self.types.require(index.ty, ScalarType::U64, e.span())?;
        Ok(index)
    }

    /// The buffer parameter or shared array an indexed expression names, with its element
    /// type.
    fn indexed_of(&mut self, e: &syn::Expr, write: bool) -> syn::Result<(Indexed, TyVar)> {
        let span = e.span();
        if let syn::Expr::Path(p) = strip_parens(e)
            && let Some(ident) = p.path.get_ident()
        {
            match self.lookup(&ident.to_string()) {
                Some(Binding::Shared(id)) => {
                    let elem = self.shared[id.0 as usize].elem;
                    return Ok((Indexed::Shared(id), self.types.known(elem, span)));
                }
                Some(Binding::Private(id)) => {
                    return Ok((Indexed::Private(id), self.private[id.0 as usize].1));
                }
                _ => {}
            }
        }
        let (buffer, elem) = self.buffer_of(e, write)?;
        Ok((Indexed::Buffer(buffer), self.types.known(elem, span)))
    }

    /// The buffer parameter an expression names.
    fn buffer_of(&mut self, e: &syn::Expr, write: bool) -> syn::Result<(ParamId, ScalarType)> {
        let span = e.span();
        let name = match strip_parens(e) {
            syn::Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
            _ => None,
        }
        .ok_or_else(|| err(span, "only buffer parameters can be indexed in kernels"))?;
        let Some(Binding::Param(id)) = self.lookup(&name) else {
            return Err(err(
                span,
                format!("`{name}` is not a buffer parameter; only buffers can be indexed"),
            ));
        };
        match self.params[id.0 as usize].ir.kind {
            ParamKind::Buffer { elem, access } => {
                if write && access == Access::Read {
                    return Err(err(
                        span,
                        format!(
                            "`{name}` is a read-only buffer (`&[{elem}]`); declare it `&mut [{elem}]` to write it"
                        ),
                    ));
                }
                Ok((id, elem))
            }
            ParamKind::Scalar(t) => Err(err(
                span,
                format!("`{name}` is a scalar `{t}`, not a buffer"),
            )),
        }
    }

    fn method_call(&mut self, m: &syn::ExprMethodCall) -> syn::Result<HExpr> {
        let span = m.span();
        if let Some(t) = &m.turbofish {
            return Err(unsupported(
                t.span(),
                "turbofish",
                "remove the type arguments",
            ));
        }
        let method = m.method.to_string();
        if method == "len" && m.args.is_empty() {
            let (buffer, _) = self.buffer_of(&m.receiver, false)?;
            let ty = self.types.known(ScalarType::U64, span);
            return Ok(self.mk(HExprKind::Len(buffer), ty, span));
        }
        let recv = self.expr(&m.receiver)?;
        let mut args = Vec::with_capacity(m.args.len());
        for a in &m.args {
            args.push(self.expr(a)?);
        }
        let arity = |n: usize| -> syn::Result<()> {
            if args.len() == n {
                Ok(())
            } else {
                Err(err(span, format!("`{method}` takes {n} argument(s)")))
            }
        };
        let wrapping = match method.as_str() {
            "wrapping_add" => Some(BinaryOp::Add),
            "wrapping_sub" => Some(BinaryOp::Sub),
            "wrapping_mul" => Some(BinaryOp::Mul),
            "wrapping_shl" => Some(BinaryOp::Shl),
            "wrapping_shr" => Some(BinaryOp::Shr),
            _ => None,
        };
        if let Some(op) = wrapping {
            arity(1)?;
            self.types.require_int(recv.ty, span)?;
            let rhs = args.remove(0);
            if matches!(op, BinaryOp::Shl | BinaryOp::Shr) {
                self.types.require(rhs.ty, ScalarType::U32, rhs.span)?;
            }
            return self.binary(op, recv, rhs, span);
        }
        if method == "wrapping_neg" {
            arity(0)?;
            self.types.require_int(recv.ty, span)?;
            let ty = recv.ty;
            return Ok(self.mk(
                HExprKind::Unary {
                    op: UnaryOp::Neg,
                    operand: Box::new(recv),
                },
                ty,
                span,
            ));
        }
        let func = MathFn::from_method_name(&method).ok_or_else(|| {
            unsupported(
                m.method.span(),
                &format!("the method `{method}`"),
                "kernels support the float math methods (`sqrt`, `exp`, `sin`, `powi`, `mul_add`, `min`, `clamp`, ...), integer `min`/`max`/`abs`/`count_ones`/`rotate_left`, the `wrapping_*` operations and `.len()` on buffers",
            )
        })?;
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(recv);
        all.extend(args);
        self.math(func, all, span)
    }

    fn math(&mut self, func: MathFn, args: Vec<HExpr>, span: Span) -> syn::Result<HExpr> {
        let name = func.method_name();
        let want = |n: usize| -> syn::Result<()> {
            if args.len() == n {
                Ok(())
            } else {
                Err(err(
                    span,
                    format!("`{name}` takes {} argument(s)", n.saturating_sub(1)),
                ))
            }
        };
        let recv = args
            .first()
            .map(|a| a.ty)
            .ok_or_else(|| err(span, "missing receiver"))?;
        let ty = match func.signature() {
            MathSignature::FloatUnary => {
                want(1)?;
                self.types.require_float(recv, span)?;
                recv
            }
            MathSignature::FloatBinary | MathSignature::FloatTernary => {
                want(if func.signature() == MathSignature::FloatBinary {
                    2
                } else {
                    3
                })?;
                self.types.require_float(recv, span)?;
                for a in &args[1..] {
                    self.types.unify(recv, a.ty, a.span)?;
                }
                recv
            }
            MathSignature::Powi => {
                want(2)?;
                self.types.require_float(recv, span)?;
                self.types
                    .require(args[1].ty, ScalarType::I32, args[1].span)?;
                recv
            }
            MathSignature::FloatPredicate => {
                want(1)?;
                self.types.require_float(recv, span)?;
                self.types.known(ScalarType::Bool, span)
            }
            MathSignature::Numeric { arity } => {
                want(arity)?;
                for a in &args[1..] {
                    self.types.unify(recv, a.ty, a.span)?;
                }
                recv
            }
            MathSignature::IntCount => {
                want(1)?;
                self.types.require_int(recv, span)?;
                self.types.known(ScalarType::U32, span)
            }
            MathSignature::IntRotate => {
                want(2)?;
                self.types.require_int(recv, span)?;
                self.types
                    .require(args[1].ty, ScalarType::U32, args[1].span)?;
                recv
            }
            MathSignature::ToBits => {
                want(1)?;
                self.types.require_float(recv, span)?;
                let bits = self
                    .types
                    .known_now(recv)
                    .and_then(ScalarType::float_bits_type)
                    .ok_or_else(|| {
                        err(
                            span,
                            "`to_bits` needs to know the float's type here: give it one (`1.0f32`, or a typed `let`)",
                        )
                    })?;
                self.types.known(bits, span)
            }
            MathSignature::FromBits => {
                want(1)?;
                let float = self
                    .types
                    .known_now(recv)
                    .and_then(ScalarType::float_from_bits_type)
                    .ok_or_else(|| {
                        err(
                            span,
                            "`from_bits` takes the bits as `u32` (`f32::from_bits`) or `u64` (`f64::from_bits`)",
                        )
                    })?;
                self.types.known(float, span)
            }
        };
        Ok(self.mk(HExprKind::Math { func, args }, ty, span))
    }

    fn call(&mut self, c: &syn::ExprCall) -> syn::Result<HExpr> {
        let span = c.span();
        let syn::Expr::Path(p) = &*c.func else {
            return Err(unsupported(
                c.func.span(),
                "calling this",
                "call `#[kernel_fn]` helpers and kernel intrinsics by name",
            ));
        };
        let segments: Vec<String> = p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        if let Some(name) = intrinsics::intrinsic_name(&segments) {
            if let Some(b) = intrinsics::builtin(name) {
                if !c.args.is_empty() {
                    return Err(err(span, format!("`{name}()` takes no arguments")));
                }
                if self.ret.is_some() {
                    return Err(err(
                        span,
                        format!(
                            "`{name}()` is only available in kernels; pass the id to the helper as an argument"
                        ),
                    ));
                }
                let ty = self.types.known(ScalarType::U64, span);
                return Ok(self.mk(HExprKind::Builtin(b), ty, span));
            }
            if let Some(op) = intrinsics::atomic(name) {
                return self.atomic(op, c);
            }
        }
        // `f32::sqrt(x)`, `f64::max(a, b)`: the math methods called as functions.
        if let [ty_name, method] = segments.as_slice()
            && let Some(t) = ScalarType::from_rust_name(ty_name)
        {
            let func = MathFn::from_method_name(method).ok_or_else(|| {
                err(
                    span,
                    format!("`{ty_name}::{method}` is not available in kernels"),
                )
            })?;
            let mut args = Vec::new();
            for a in &c.args {
                args.push(self.expr(a)?);
            }
            if let Some(first) = args.first() {
                // `f32::from_bits(u)` takes the bits; the other functions the float itself.
                let operand = if func == MathFn::FromBits {
                    t.float_bits_type().ok_or_else(|| {
                        err(
                            span,
                            format!("`{ty_name}::from_bits` is not a float's `from_bits`"),
                        )
                    })?
                } else {
                    t
                };
                self.types.require(first.ty, operand, first.span)?;
            }
            return self.math(func, args, span);
        }
        let key = path_key(&p.path);
        let mut args = Vec::new();
        for a in &c.args {
            args.push(self.expr(a)?);
        }
        match self.helpers.get(&key) {
            Some((id, sig)) => {
                if args.len() != sig.params.len() {
                    return Err(err(
                        span,
                        format!(
                            "`{key}` takes {} argument(s), {} given",
                            sig.params.len(),
                            args.len()
                        ),
                    ));
                }
                for (a, (_, t, _)) in args.iter().zip(&sig.params) {
                    self.types.require(a.ty, *t, a.span)?;
                }
                let ty = self.types.known(sig.ret, span);
                Ok(self.mk(
                    HExprKind::Call {
                        function: *id,
                        args,
                    },
                    ty,
                    span,
                ))
            }
            None if self.lenient_calls => {
                let ty = self.types.unknown(span);
                Ok(self.mk(
                    HExprKind::Call {
                        function: FunctionId(u32::MAX),
                        args,
                    },
                    ty,
                    span,
                ))
            }
            None => Err(err(
                span,
                format!("`{key}` is not a `#[kernel_fn]` helper in scope"),
            )),
        }
    }

    fn atomic(&mut self, op: AtomicOp, c: &syn::ExprCall) -> syn::Result<HExpr> {
        let span = c.span();
        let name = op.intrinsic_name();
        let usage = if op == AtomicOp::CompareExchange {
            format!("write `{name}(&mut buffer[index], current, new)`")
        } else {
            format!("write `{name}(&mut buffer[index], value)`")
        };
        if c.args.len() != 1 + op.operand_count() {
            return Err(err(span, format!("wrong number of arguments: {usage}")));
        }
        let target = match strip_parens(&c.args[0]) {
            syn::Expr::Reference(r) if r.mutability.is_some() => match strip_parens(&r.expr) {
                syn::Expr::Index(ix) => ix,
                _ => {
                    return Err(err(
                        c.args[0].span(),
                        format!("the target must be a buffer or shared array element: {usage}"),
                    ));
                }
            },
            _ => {
                return Err(err(
                    c.args[0].span(),
                    format!("the target must be `&mut buffer[index]`: {usage}"),
                ));
            }
        };
        let (target_kind, elem_ty) = self.indexed_of(&target.expr, true)?;
        if let Indexed::Private(_) = target_kind {
            return Err(err(
                c.args[0].span(),
                "an array of the work item is its own: update it with `acc[i] += v`, no atomic needed",
            ));
        }
        let elem = self.types.resolve(elem_ty)?;
        if !op.supports(elem) {
            return Err(err(
                span,
                format!(
                    "`{name}` is not available on `{elem}` elements (float atomics: `atomic_add` and `atomic_exchange`)"
                ),
            ));
        }
        let index = self.index(&target.index)?;
        let mut args = Vec::new();
        for a in c.args.iter().skip(1) {
            let v = self.expr(a)?;
            self.types.require(v.ty, elem, a.span())?;
            args.push(v);
        }
        let ty = self.types.known(elem, span);
        let kind = match target_kind {
            Indexed::Buffer(buffer) => HExprKind::Atomic {
                op,
                buffer,
                index: Box::new(index),
                args,
            },
            Indexed::Shared(array) => HExprKind::SharedAtomic {
                op,
                array,
                index: Box::new(index),
                args,
            },
            // Refused above.
            Indexed::Private(array) => HExprKind::PrivateLoad {
                array,
                index: Box::new(index),
            },
        };
        Ok(self.mk(kind, ty, span))
    }
}

/// A read of a buffer or shared array element.
fn load(target: Indexed, index: HExpr) -> HExprKind {
    match target {
        Indexed::Buffer(buffer) => HExprKind::Load {
            buffer,
            index: Box::new(index),
        },
        Indexed::Shared(array) => HExprKind::SharedLoad {
            array,
            index: Box::new(index),
        },
        Indexed::Private(array) => HExprKind::PrivateLoad {
            array,
            index: Box::new(index),
        },
    }
}

/// A write of a buffer or shared array element.
fn store(target: Indexed, index: HExpr, value: HExpr) -> HStmt {
    match target {
        Indexed::Buffer(buffer) => HStmt::Store {
            buffer,
            index,
            value,
        },
        Indexed::Shared(array) => HStmt::SharedStore {
            array,
            index,
            value,
        },
        Indexed::Private(array) => HStmt::PrivateStore {
            array,
            index,
            value,
        },
    }
}

/// `shared_array::<T, N>()` (or `kernel::shared_array`, `dotcompute::kernel::shared_array`).
fn shared_array_call(e: &syn::Expr) -> Option<&syn::ExprCall> {
    match strip_parens(e) {
        syn::Expr::Call(c) if is_intrinsic_call(c, "shared_array") => Some(c),
        _ => None,
    }
}

/// Whether a call names the kernel intrinsic `name` (plain, or through `kernel::`).
fn is_intrinsic_call(c: &syn::ExprCall, name: &str) -> bool {
    let syn::Expr::Path(p) = &*c.func else {
        return false;
    };
    let segments: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    intrinsics::intrinsic_name(&segments) == Some(name)
}

/// Whether an initialiser or assigned value needs statement lowering (an `if` or a block).
fn is_control_value(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::If(_) => true,
        syn::Expr::Block(b) => b.label.is_none(),
        syn::Expr::Paren(p) => is_control_value(&p.expr),
        _ => false,
    }
}

fn is_trap_macro(mac: &syn::Macro) -> bool {
    mac.path.get_ident().is_some_and(|i| {
        matches!(
            i.to_string().as_str(),
            "panic" | "unreachable" | "todo" | "unimplemented"
        )
    })
}

fn formatted_message(span: Span) -> syn::Error {
    unsupported(
        span,
        "a formatted panic message",
        "use a plain string literal (kernels cannot format values)",
    )
}

fn literal_message(e: &syn::Expr) -> syn::Result<String> {
    match e {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) if !s.value().contains(['{', '}']) => Ok(s.value()),
        other => Err(formatted_message(other.span())),
    }
}

#[derive(PartialEq, Eq)]
enum LiteralKind {
    Int,
    Float,
}

/// The kind of an unsuffixed numeric literal, possibly negated or parenthesised.
fn unsuffixed_literal(e: &syn::Expr) -> Option<LiteralKind> {
    match strip_parens(e) {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) if i.suffix().is_empty() => Some(LiteralKind::Int),
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(f),
            ..
        }) if f.suffix().is_empty() => Some(LiteralKind::Float),
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => unsuffixed_literal(expr),
        _ => None,
    }
}

fn strip_parens(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => strip_parens(&p.expr),
        syn::Expr::Group(g) => strip_parens(&g.expr),
        other => other,
    }
}

fn compound_op(op: &syn::BinOp) -> Option<BinaryOp> {
    use syn::BinOp::*;
    Some(match op {
        AddAssign(_) => BinaryOp::Add,
        SubAssign(_) => BinaryOp::Sub,
        MulAssign(_) => BinaryOp::Mul,
        DivAssign(_) => BinaryOp::Div,
        RemAssign(_) => BinaryOp::Rem,
        BitXorAssign(_) => BinaryOp::BitXor,
        BitAndAssign(_) => BinaryOp::BitAnd,
        BitOrAssign(_) => BinaryOp::BitOr,
        ShlAssign(_) => BinaryOp::Shl,
        ShrAssign(_) => BinaryOp::Shr,
        _ => return None,
    })
}

fn binary_op(op: &syn::BinOp) -> Option<BinaryOp> {
    use syn::BinOp::*;
    Some(match op {
        Add(_) => BinaryOp::Add,
        Sub(_) => BinaryOp::Sub,
        Mul(_) => BinaryOp::Mul,
        Div(_) => BinaryOp::Div,
        Rem(_) => BinaryOp::Rem,
        And(_) => BinaryOp::And,
        Or(_) => BinaryOp::Or,
        BitXor(_) => BinaryOp::BitXor,
        BitAnd(_) => BinaryOp::BitAnd,
        BitOr(_) => BinaryOp::BitOr,
        Shl(_) => BinaryOp::Shl,
        Shr(_) => BinaryOp::Shr,
        Eq(_) => BinaryOp::Eq,
        Lt(_) => BinaryOp::Lt,
        Le(_) => BinaryOp::Le,
        Ne(_) => BinaryOp::Ne,
        Ge(_) => BinaryOp::Ge,
        Gt(_) => BinaryOp::Gt,
        _ => return None,
    })
}

/// `let (a, b) = x.sin_cos();` (or `let (a, b): (T, T) = ...`): the two patterns (names or
/// `_`), the receiver and the call's span.
fn sin_cos_pattern(local: &syn::Local) -> Option<((syn::Pat, syn::Pat), syn::Expr, Span)> {
    // `let (s, c): (f32, f32) = ...` too: rustc checks the annotation on the original code.
    let pat = match &local.pat {
        syn::Pat::Type(t) => &*t.pat,
        p => p,
    };
    let syn::Pat::Tuple(tuple) = pat else {
        return None;
    };
    let init = local.init.as_ref()?;
    if init.diverge.is_some() {
        return None;
    }
    let syn::Expr::MethodCall(call) = &*init.expr else {
        return None;
    };
    if call.method != "sin_cos" || !call.args.is_empty() || call.turbofish.is_some() {
        return None;
    }
    let simple = |p: &syn::Pat| match p {
        syn::Pat::Ident(i) => i.by_ref.is_none() && i.subpat.is_none(),
        syn::Pat::Wild(_) => true,
        _ => false,
    };
    match tuple.elems.iter().collect::<Vec<_>>()[..] {
        [a, b] if simple(a) && simple(b) => Some((
            (a.clone(), b.clone()),
            (*call.receiver).clone(),
            call.method.span(),
        )),
        _ => None,
    }
}
