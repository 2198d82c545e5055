//! Statements: blocks, `let`, assignments, control flow, `for` loops, and the statement
//! macros (`panic!`, `assert!`).

use super::arrays::{load, shared_array_call, store};
use super::calls::is_intrinsic_call;
use super::{Binding, Lowerer, Tail, err, strip_parens, unsupported};
use crate::hir::{HExpr, HExprKind, HStmt};
use crate::intrinsics;
use crate::signature::scalar_type;
use dotcompute_ir::{BinaryOp, LocalId, MathFn, ScalarType, SubgroupOp, UnaryOp};
use proc_macro2::Span;
use syn::spanned::Spanned;

impl Lowerer<'_> {
    pub(super) fn block_stmts(
        &mut self,
        block: &syn::Block,
        tail: Tail,
    ) -> syn::Result<Vec<HStmt>> {
        self.scoped(|l| l.stmts(&block.stmts, tail, block.span()))
    }

    pub(super) fn stmts(
        &mut self,
        stmts: &[syn::Stmt],
        tail: Tail,
        span: Span,
    ) -> syn::Result<Vec<HStmt>> {
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

    pub(super) fn let_stmt(&mut self, local: &syn::Local, out: &mut Vec<HStmt>) -> syn::Result<()> {
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
        if let Some((op, call)) = subgroup_call(&init.expr) {
            // `let s = subgroup_add(v);`: declared, then given its value by the operation.
            let id = self.new_local(&name, ty, true);
            out.push(HStmt::Let {
                local: id,
                init: None,
            });
            self.subgroup(op, call, id, out)?;
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

    /// Lowers an expression whose value goes to `tail`.
    pub(super) fn value_into(
        &mut self,
        e: &syn::Expr,
        tail: Tail,
        out: &mut Vec<HStmt>,
    ) -> syn::Result<()> {
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

    pub(super) fn return_value(&mut self, v: HExpr, span: Span) -> syn::Result<HStmt> {
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

    pub(super) fn condition(&mut self, cond: &syn::Expr) -> syn::Result<HExpr> {
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

    pub(super) fn expr_stmt(&mut self, e: &syn::Expr, out: &mut Vec<HStmt>) -> syn::Result<()> {
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

    /// A subgroup operation whose result goes to `dest`: its operands are bound to hidden
    /// locals first (the IR wants locals or literals there: every item of the group, also
    /// items beyond the grid, evaluates them in the collective).
    fn subgroup(
        &mut self,
        op: SubgroupOp,
        c: &syn::ExprCall,
        dest: LocalId,
        out: &mut Vec<HStmt>,
    ) -> syn::Result<()> {
        let name = op.intrinsic_name();
        let span = c.span();
        if self.ret.is_some() {
            return Err(err(
                span,
                format!(
                    "`{name}` belongs in the kernel body: a helper cannot cooperate with the subgroup"
                ),
            ));
        }
        let arity = if op.takes_lane() { 2 } else { 1 };
        if c.args.len() != arity {
            let what = if op.takes_lane() {
                "a value and a lane"
            } else {
                "one value"
            };
            return Err(err(span, format!("`{name}` takes {what}")));
        }
        let value = self.expr(&c.args[0])?;
        let vt = value.ty;
        let dest_ty = self.locals[dest.0 as usize].ty;
        if matches!(op, SubgroupOp::Any | SubgroupOp::All) {
            let b = self.types.known(ScalarType::Bool, span);
            self.types.unify(vt, b, c.args[0].span())?;
        } else if !op.takes_lane() && self.types.known_now(vt) == Some(ScalarType::Bool) {
            return Err(err(
                c.args[0].span(),
                format!(
                    "`{name}` combines numbers, not `bool`s\nhelp: `subgroup_any` and `subgroup_all` combine `bool`s"
                ),
            ));
        }
        self.types.unify(dest_ty, vt, span)?;
        let hidden = self.new_local("__subgroup_value", vt, false);
        out.push(HStmt::Let {
            local: hidden,
            init: Some(value),
        });
        let value = self.mk(HExprKind::Local(hidden), vt, span);
        let lane = if op.takes_lane() {
            let l = self.expr(&c.args[1])?;
            let u = self.types.known(ScalarType::U64, span);
            self.types.unify(l.ty, u, c.args[1].span())?;
            let hidden = self.new_local("__subgroup_lane", u, false);
            out.push(HStmt::Let {
                local: hidden,
                init: Some(l),
            });
            Some(self.mk(HExprKind::Local(hidden), u, span))
        } else {
            None
        };
        // The uniformity check numbers collectives (barriers and these) in source order.
        self.barriers.push(span);
        out.push(HStmt::Subgroup {
            op,
            dest,
            value,
            lane,
        });
        Ok(())
    }

    pub(super) fn assign(
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
                if op.is_none()
                    && let Some((sg, call)) = subgroup_call(value)
                {
                    return self.subgroup(sg, call, local, out);
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

    pub(super) fn for_loop(
        &mut self,
        f: &syn::ExprForLoop,
        out: &mut Vec<HStmt>,
    ) -> syn::Result<()> {
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

    pub(super) fn macro_stmt(&mut self, mac: &syn::Macro, out: &mut Vec<HStmt>) -> syn::Result<()> {
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
}

/// Whether an initialiser or assigned value needs statement lowering (an `if` or a block).
pub(super) fn is_control_value(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::If(_) => true,
        syn::Expr::Block(b) => b.label.is_none(),
        syn::Expr::Paren(p) => is_control_value(&p.expr),
        _ => false,
    }
}

pub(super) fn is_trap_macro(mac: &syn::Macro) -> bool {
    mac.path.get_ident().is_some_and(|i| {
        matches!(
            i.to_string().as_str(),
            "panic" | "unreachable" | "todo" | "unimplemented"
        )
    })
}

pub(super) fn formatted_message(span: Span) -> syn::Error {
    unsupported(
        span,
        "a formatted panic message",
        "use a plain string literal (kernels cannot format values)",
    )
}

pub(super) fn literal_message(e: &syn::Expr) -> syn::Result<String> {
    match e {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) if !s.value().contains(['{', '}']) => Ok(s.value()),
        other => Err(formatted_message(other.span())),
    }
}

pub(super) fn compound_op(op: &syn::BinOp) -> Option<BinaryOp> {
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

/// `let (a, b) = x.sin_cos();` (or `let (a, b): (T, T) = ...`): the two patterns (names or
/// `_`), the receiver and the call's span.
pub(super) fn sin_cos_pattern(
    local: &syn::Local,
) -> Option<((syn::Pat, syn::Pat), syn::Expr, Span)> {
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

/// `subgroup_add(v)` (or another subgroup operation), possibly in parentheses.
pub(super) fn subgroup_call(e: &syn::Expr) -> Option<(SubgroupOp, &syn::ExprCall)> {
    let syn::Expr::Call(c) = strip_parens(e) else {
        return None;
    };
    let syn::Expr::Path(p) = &*c.func else {
        return None;
    };
    let segments: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let name = intrinsics::intrinsic_name(&segments)?;
    intrinsics::subgroup(name).map(|op| (op, c))
}
