//! Expressions: operators, literals, casts, paths and constants.

use super::arrays::load;
use super::statements::compound_op;
use super::{Binding, Lowerer, err, strip_parens, unsupported};
use crate::hir::{HExpr, HExprKind, Lit};
use crate::intrinsics::{self, Constant};
use crate::signature::scalar_type;
use dotcompute_ir::{BinaryOp, ParamKind, ScalarType, UnaryOp};
use proc_macro2::Span;
use syn::spanned::Spanned;

impl Lowerer<'_> {
    pub(super) fn expr(&mut self, e: &syn::Expr) -> syn::Result<HExpr> {
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

    pub(super) fn literal(&mut self, lit: &syn::Lit, negative: bool) -> syn::Result<HExpr> {
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

    pub(super) fn path_value(&mut self, p: &syn::ExprPath) -> syn::Result<HExpr> {
        let span = p.span();
        if p.qself.is_none()
            && let Some(ident) = p.path.get_ident()
        {
            let name = ident.to_string();
            let binding = match self.lookup(&name) {
                None => self.capture(ident).map(Binding::Local),
                found => found,
            };
            return match binding {
                Some(Binding::Local(id)) => {
                    self.note_use(id);
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

    pub(super) fn binary(
        &mut self,
        op: BinaryOp,
        lhs: HExpr,
        rhs: HExpr,
        span: Span,
    ) -> syn::Result<HExpr> {
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

    pub(super) fn index(&mut self, e: &syn::Expr) -> syn::Result<HExpr> {
        let index = self.expr(e)?;
        self.types.require(index.ty, ScalarType::U64, e.span())?;
        Ok(index)
    }
}

#[derive(PartialEq, Eq)]
pub(super) enum LiteralKind {
    Int,
    Float,
}

/// The kind of an unsuffixed numeric literal, possibly negated or parenthesised.
pub(super) fn unsuffixed_literal(e: &syn::Expr) -> Option<LiteralKind> {
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

pub(super) fn binary_op(op: &syn::BinOp) -> Option<BinaryOp> {
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
