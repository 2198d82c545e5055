//! Calls: the math methods, `#[kernel_fn]` helpers, index intrinsics and atomics.

use super::arrays::Indexed;
use super::{Lowerer, err, path_key, strip_parens, unsupported};
use crate::hir::{HExpr, HExprKind};
use crate::intrinsics::{self};
use dotcompute_ir::{AtomicOp, BinaryOp, FunctionId, MathFn, MathSignature, ScalarType, UnaryOp};
use proc_macro2::Span;
use syn::spanned::Spanned;

impl Lowerer<'_> {
    pub(super) fn method_call(&mut self, m: &syn::ExprMethodCall) -> syn::Result<HExpr> {
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

    pub(super) fn math(
        &mut self,
        func: MathFn,
        args: Vec<HExpr>,
        span: Span,
    ) -> syn::Result<HExpr> {
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

    pub(super) fn call(&mut self, c: &syn::ExprCall) -> syn::Result<HExpr> {
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
            if intrinsics::subgroup(name).is_some() {
                return Err(err(
                    span,
                    format!(
                        "`{name}` is a statement of its own: every item of the group must reach it, so it cannot sit inside an expression\nhelp: bind its result first: `let s = {name}(...);`"
                    ),
                ));
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

    pub(super) fn atomic(&mut self, op: AtomicOp, c: &syn::ExprCall) -> syn::Result<HExpr> {
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

/// Whether a call names the kernel intrinsic `name` (plain, or through `kernel::`).
pub(super) fn is_intrinsic_call(c: &syn::ExprCall, name: &str) -> bool {
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
