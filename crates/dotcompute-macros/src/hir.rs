//! The lowering's working form of a body: IR-shaped, but with type variables and spans, so
//! that inference can finish before the IR is built.

use crate::infer::{TyVar, Types};
use dotcompute_ir::{
    AtomicOp, BinaryOp, Block, Builtin, Expr, ExprKind, FunctionId, Literal, Local, LocalId,
    MathFn, ParamId, PrivateId, ScalarType, SharedId, Stmt, SubgroupOp, UnaryOp,
};
use proc_macro2::Span;

/// A literal as written; its value is read once its type is known.
#[derive(Clone, Debug)]
pub enum Lit {
    Bool(bool),
    /// Base-10 digits of an integer literal, possibly negated.
    Int {
        digits: String,
        negative: bool,
    },
    /// A float literal's text, possibly negated.
    Float {
        text: String,
        negative: bool,
    },
    /// An exact float constant (`f32::consts::PI`, `f64::MAX`, ...).
    FloatValue(f64),
    /// An exact integer constant (`u32::MAX`, ...).
    IntValue(i128),
}

#[derive(Clone, Debug)]
pub struct HExpr {
    pub kind: HExprKind,
    pub ty: TyVar,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum HExprKind {
    Lit(Lit),
    Local(LocalId),
    Param(ParamId),
    Load {
        buffer: ParamId,
        index: Box<HExpr>,
    },
    SharedLoad {
        array: SharedId,
        index: Box<HExpr>,
    },
    SharedAtomic {
        op: AtomicOp,
        array: SharedId,
        index: Box<HExpr>,
        args: Vec<HExpr>,
    },
    PrivateLoad {
        array: PrivateId,
        index: Box<HExpr>,
    },
    Len(ParamId),
    Builtin(Builtin),
    Unary {
        op: UnaryOp,
        operand: Box<HExpr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<HExpr>,
        rhs: Box<HExpr>,
    },
    Cast(Box<HExpr>),
    Math {
        func: MathFn,
        args: Vec<HExpr>,
    },
    Call {
        function: FunctionId,
        args: Vec<HExpr>,
    },
    Atomic {
        op: AtomicOp,
        buffer: ParamId,
        index: Box<HExpr>,
        args: Vec<HExpr>,
    },
}

#[derive(Clone, Debug)]
pub enum HStmt {
    Let {
        local: LocalId,
        init: Option<HExpr>,
    },
    Assign {
        local: LocalId,
        value: HExpr,
    },
    Store {
        buffer: ParamId,
        index: HExpr,
        value: HExpr,
    },
    If {
        cond: HExpr,
        then_body: Vec<HStmt>,
        else_body: Vec<HStmt>,
    },
    For {
        var: LocalId,
        start: HExpr,
        end: HExpr,
        inclusive: bool,
        step: Option<HExpr>,
        body: Vec<HStmt>,
    },
    While {
        cond: HExpr,
        body: Vec<HStmt>,
    },
    Loop {
        body: Vec<HStmt>,
    },
    Break,
    Continue,
    Return(Option<HExpr>),
    Trap(String),
    Eval(HExpr),
    Barrier,
    Subgroup {
        op: SubgroupOp,
        dest: LocalId,
        value: HExpr,
        lane: Option<HExpr>,
    },
    PrivateInit {
        array: PrivateId,
        value: HExpr,
    },
    PrivateStore {
        array: PrivateId,
        index: HExpr,
        value: HExpr,
    },
    SharedStore {
        array: SharedId,
        index: HExpr,
        value: HExpr,
    },
}

#[derive(Clone, Debug)]
pub struct HLocal {
    pub name: String,
    pub ty: TyVar,
    pub mutable: bool,
}

/// Turns HIR into IR once every type variable is settled.
pub struct Finisher<'t> {
    pub types: &'t mut Types,
}

impl Finisher<'_> {
    pub fn locals(&mut self, locals: &[HLocal]) -> syn::Result<Vec<Local>> {
        locals
            .iter()
            .map(|l| {
                Ok(Local {
                    name: l.name.clone(),
                    ty: self.types.resolve(l.ty)?,
                    mutable: l.mutable,
                })
            })
            .collect()
    }

    pub fn block(&mut self, stmts: &[HStmt]) -> syn::Result<Block> {
        stmts.iter().map(|s| self.stmt(s)).collect()
    }

    fn stmt(&mut self, s: &HStmt) -> syn::Result<Stmt> {
        Ok(match s {
            HStmt::Let { local, init } => Stmt::Let {
                local: *local,
                init: init.as_ref().map(|e| self.expr(e)).transpose()?,
            },
            HStmt::Assign { local, value } => Stmt::Assign {
                local: *local,
                value: self.expr(value)?,
            },
            HStmt::Store {
                buffer,
                index,
                value,
            } => Stmt::Store {
                buffer: *buffer,
                index: self.expr(index)?,
                value: self.expr(value)?,
            },
            HStmt::SharedStore {
                array,
                index,
                value,
            } => Stmt::SharedStore {
                array: *array,
                index: self.expr(index)?,
                value: self.expr(value)?,
            },
            HStmt::Barrier => Stmt::Barrier,
            HStmt::Subgroup {
                op,
                dest,
                value,
                lane,
            } => Stmt::Subgroup {
                op: *op,
                dest: *dest,
                value: self.expr(value)?,
                lane: lane.as_ref().map(|l| self.expr(l)).transpose()?,
            },
            HStmt::PrivateInit { array, value } => Stmt::PrivateInit {
                array: *array,
                value: self.expr(value)?,
            },
            HStmt::PrivateStore {
                array,
                index,
                value,
            } => Stmt::PrivateStore {
                array: *array,
                index: self.expr(index)?,
                value: self.expr(value)?,
            },
            HStmt::If {
                cond,
                then_body,
                else_body,
            } => Stmt::If {
                cond: self.expr(cond)?,
                then_body: self.block(then_body)?,
                else_body: self.block(else_body)?,
            },
            HStmt::For {
                var,
                start,
                end,
                inclusive,
                step,
                body,
            } => Stmt::For {
                var: *var,
                start: self.expr(start)?,
                end: self.expr(end)?,
                inclusive: *inclusive,
                step: step.as_ref().map(|e| self.expr(e)).transpose()?,
                body: self.block(body)?,
            },
            HStmt::While { cond, body } => Stmt::While {
                cond: self.expr(cond)?,
                body: self.block(body)?,
            },
            HStmt::Loop { body } => Stmt::Loop {
                body: self.block(body)?,
            },
            HStmt::Break => Stmt::Break,
            HStmt::Continue => Stmt::Continue,
            HStmt::Return(v) => Stmt::Return(v.as_ref().map(|e| self.expr(e)).transpose()?),
            HStmt::Trap(message) => Stmt::Trap {
                message: message.clone(),
            },
            HStmt::Eval(e) => Stmt::Eval(self.expr(e)?),
        })
    }

    fn exprs(&mut self, es: &[HExpr]) -> syn::Result<Vec<Expr>> {
        es.iter().map(|e| self.expr(e)).collect()
    }

    pub fn expr(&mut self, e: &HExpr) -> syn::Result<Expr> {
        let ty = self.types.resolve(e.ty)?;
        let kind = match &e.kind {
            HExprKind::Lit(lit) => ExprKind::Literal(literal(lit, ty, e.span)?),
            HExprKind::Local(id) => ExprKind::Local(*id),
            HExprKind::Param(id) => ExprKind::Param(*id),
            HExprKind::Load { buffer, index } => ExprKind::Load {
                buffer: *buffer,
                index: Box::new(self.expr(index)?),
            },
            HExprKind::SharedAtomic {
                op,
                array,
                index,
                args,
            } => ExprKind::SharedAtomic {
                op: *op,
                array: *array,
                index: Box::new(self.expr(index)?),
                args: args
                    .iter()
                    .map(|a| self.expr(a))
                    .collect::<syn::Result<_>>()?,
            },
            HExprKind::PrivateLoad { array, index } => ExprKind::PrivateLoad {
                array: *array,
                index: Box::new(self.expr(index)?),
            },
            HExprKind::SharedLoad { array, index } => ExprKind::SharedLoad {
                array: *array,
                index: Box::new(self.expr(index)?),
            },
            HExprKind::Len(id) => ExprKind::Len(*id),
            HExprKind::Builtin(b) => ExprKind::Builtin(*b),
            HExprKind::Unary { op, operand } => ExprKind::Unary {
                op: *op,
                operand: Box::new(self.expr(operand)?),
            },
            HExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
                op: *op,
                lhs: Box::new(self.expr(lhs)?),
                rhs: Box::new(self.expr(rhs)?),
            },
            HExprKind::Cast(operand) => ExprKind::Cast(Box::new(self.expr(operand)?)),
            HExprKind::Math { func, args } => ExprKind::Math {
                func: *func,
                args: self.exprs(args)?,
            },
            HExprKind::Call { function, args } => ExprKind::Call {
                function: *function,
                args: self.exprs(args)?,
            },
            HExprKind::Atomic {
                op,
                buffer,
                index,
                args,
            } => ExprKind::Atomic {
                op: *op,
                buffer: *buffer,
                index: Box::new(self.expr(index)?),
                args: self.exprs(args)?,
            },
        };
        Ok(Expr { ty, kind })
    }
}

fn literal(lit: &Lit, ty: ScalarType, span: Span) -> syn::Result<Literal> {
    let err = |msg: String| syn::Error::new(span, msg);
    match lit {
        Lit::Bool(b) if ty == ScalarType::Bool => Ok(Literal::Bool(*b)),
        Lit::Int { digits, negative } if ty.is_int() => {
            let magnitude: i128 = digits
                .parse()
                .map_err(|_| err(format!("integer literal `{digits}` is too large")))?;
            let v = if *negative { -magnitude } else { magnitude };
            let (lo, hi) = ty.int_range().unwrap_or((0, 0));
            if v < lo || v > hi {
                return Err(err(format!("literal out of range for `{ty}`")));
            }
            Ok(Literal::Int(v))
        }
        Lit::IntValue(v) if ty.is_int() => Ok(Literal::Int(*v)),
        Lit::Float { text, negative } if ty.is_float() => {
            let v = if ty == ScalarType::F32 {
                text.parse::<f32>().map(f64::from)
            } else {
                text.parse::<f64>()
            }
            .map_err(|_| err(format!("invalid float literal `{text}`")))?;
            Ok(Literal::Float(if *negative { -v } else { v }))
        }
        Lit::FloatValue(v) if ty.is_float() => Ok(Literal::Float(if ty == ScalarType::F32 {
            f64::from(*v as f32)
        } else {
            *v
        })),
        _ => Err(err(format!("this literal cannot have type `{ty}`"))),
    }
}
