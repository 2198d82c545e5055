//! The validator: type rules, declaration before use, access modes and structure.
//!
//! The macro only produces valid IR, but IR also arrives from bytes and from tools, and every
//! emitter relies on these rules, so every kernel is validated before it is compiled.

use crate::error::IrError;
use crate::program::{
    AtomicOp, BinaryOp, Block, Expr, ExprKind, FunctionId, Kernel, Literal, Local, LocalId,
    MathSignature, ParamId, PrivateId, SharedId, Stmt, SubgroupOp, UnaryOp,
};
use crate::types::{Access, ParamKind, ScalarType};

/// Checks every rule of the IR; the error names the kernel, the function and the rule.
pub fn validate(kernel: &Kernel) -> Result<(), IrError> {
    let mut names = std::collections::HashSet::new();
    if !is_identifier(&kernel.name) {
        return Err(invalid(
            kernel,
            "kernel",
            format!("`{}` is not an identifier", kernel.name),
        ));
    }
    for f in &kernel.functions {
        if !is_identifier(&f.name) {
            return Err(invalid(
                kernel,
                "functions",
                format!("`{}` is not an identifier", f.name),
            ));
        }
    }
    for p in &kernel.params {
        if !is_identifier(&p.name) {
            return Err(invalid(
                kernel,
                "parameters",
                format!("`{}` is not an identifier", p.name),
            ));
        }
        if !names.insert(p.name.as_str()) {
            return Err(invalid(
                kernel,
                "parameters",
                format!("parameter `{}` is declared twice", p.name),
            ));
        }
        if let ParamKind::Buffer { elem, .. } = p.kind
            && !elem.is_buffer_element()
        {
            return Err(invalid(
                kernel,
                "parameters",
                format!("buffer `{}` has element type {elem}", p.name),
            ));
        }
    }
    let arrays = (kernel.shared.iter().map(|a| ("shared arrays", a)))
        .chain(kernel.private.iter().map(|a| ("private arrays", a)));
    for (location, a) in arrays {
        if !is_identifier(&a.name) {
            return Err(invalid(
                kernel,
                location,
                format!("`{}` is not an identifier", a.name),
            ));
        }
        if !names.insert(a.name.as_str()) {
            return Err(invalid(
                kernel,
                location,
                format!("`{}` is declared twice", a.name),
            ));
        }
        if !a.elem.is_buffer_element() || a.len == 0 {
            return Err(invalid(
                kernel,
                location,
                format!(
                    "`{}` must hold at least one element of a buffer element type, not {} x {}",
                    a.name, a.len, a.elem
                ),
            ));
        }
    }
    for a in &kernel.private {
        if a.bytes() > crate::program::MAX_PRIVATE_ARRAY_BYTES {
            return Err(invalid(
                kernel,
                "private arrays",
                format!(
                    "`{}` holds {} bytes, more than the {} a work item's array may",
                    a.name,
                    a.bytes(),
                    crate::program::MAX_PRIVATE_ARRAY_BYTES
                ),
            ));
        }
    }
    for (i, f) in kernel.functions.iter().enumerate() {
        if f.param_count as usize > f.locals.len() {
            return Err(invalid(
                kernel,
                &format!("function `{}`", f.name),
                "has more parameters than locals".into(),
            ));
        }
        let mut c = Checker::new(kernel, format!("function `{}`", f.name), &f.locals, i);
        c.ret = Some(f.ret);
        for id in 0..f.param_count {
            c.declared[id as usize] = true;
            c.ever_declared[id as usize] = true;
        }
        c.block(&f.body)?;
    }
    let mut c = Checker::new(
        kernel,
        "kernel body".to_string(),
        &kernel.locals,
        kernel.functions.len(),
    );
    c.block(&kernel.body)?;
    crate::cooperative::check(kernel).map_err(|e| invalid(kernel, "kernel body", e.to_string()))
}

/// `[A-Za-z_][A-Za-z0-9_]*`: names are pasted into generated source.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn invalid(kernel: &Kernel, location: &str, message: String) -> IrError {
    IrError::Invalid {
        kernel: kernel.name.clone(),
        location: location.to_string(),
        message,
    }
}

struct Checker<'k> {
    kernel: &'k Kernel,
    location: String,
    locals: &'k [Local],
    /// Declared and in scope.
    declared: Vec<bool>,
    /// Declared anywhere so far: each local is declared once in a body (analyses such as the
    /// affine one rely on a local having one definition).
    ever_declared: Vec<bool>,
    loop_depth: u32,
    /// `None` in the kernel body; a helper's return type otherwise.
    ret: Option<ScalarType>,
    /// Functions with an index below this may be called (no recursion).
    callable: usize,
}

type Check = Result<(), IrError>;

impl<'k> Checker<'k> {
    fn new(kernel: &'k Kernel, location: String, locals: &'k [Local], callable: usize) -> Self {
        Checker {
            kernel,
            location,
            locals,
            declared: vec![false; locals.len()],
            ever_declared: vec![false; locals.len()],
            loop_depth: 0,
            ret: None,
            callable,
        }
    }

    fn err(&self, message: impl Into<String>) -> IrError {
        invalid(self.kernel, &self.location, message.into())
    }

    fn local(&self, id: LocalId) -> Result<&'k Local, IrError> {
        self.locals
            .get(id.0 as usize)
            .ok_or_else(|| self.err(format!("local #{} does not exist", id.0)))
    }

    fn declared_local(&self, id: LocalId) -> Result<&'k Local, IrError> {
        let local = self.local(id)?;
        if !self.declared[id.0 as usize] {
            return Err(self.err(format!(
                "local `{}` (#{}) is used before its declaration",
                local.name, id.0
            )));
        }
        Ok(local)
    }

    fn declare(&mut self, id: LocalId, scope: &mut Vec<LocalId>) -> Check {
        let local = self.local(id)?;
        if self.ever_declared[id.0 as usize] {
            return Err(self.err(format!(
                "local `{}` (#{}) is declared twice",
                local.name, id.0
            )));
        }
        if !is_identifier(&local.name) {
            return Err(self.err(format!("local `{}` is not an identifier", local.name)));
        }
        self.declared[id.0 as usize] = true;
        self.ever_declared[id.0 as usize] = true;
        scope.push(id);
        Ok(())
    }

    fn param(&self, id: ParamId) -> Result<&'k crate::program::Param, IrError> {
        self.kernel
            .param(id)
            .ok_or_else(|| self.err(format!("parameter #{} does not exist", id.0)))
    }

    fn buffer(&self, id: ParamId, write: bool) -> Result<ScalarType, IrError> {
        if self.ret.is_some() {
            return Err(self.err("helper functions cannot access buffers"));
        }
        let p = self.param(id)?;
        match p.kind {
            ParamKind::Buffer { elem, access } => {
                if write && access == Access::Read {
                    Err(self.err(format!(
                        "buffer `{}` is read-only (`&[{elem}]`) and cannot be written",
                        p.name
                    )))
                } else {
                    Ok(elem)
                }
            }
            ParamKind::Scalar(_) => Err(self.err(format!("`{}` is not a buffer", p.name))),
        }
    }

    fn shared(&self, id: SharedId) -> Result<ScalarType, IrError> {
        if self.ret.is_some() {
            return Err(self.err("helper functions cannot access shared arrays"));
        }
        self.kernel
            .shared
            .get(id.0 as usize)
            .map(|a| a.elem)
            .ok_or_else(|| self.err(format!("shared array #{} does not exist", id.0)))
    }

    fn private(&self, id: PrivateId) -> Result<ScalarType, IrError> {
        if self.ret.is_some() {
            return Err(self.err("helper functions cannot access the kernel's arrays"));
        }
        self.kernel
            .private
            .get(id.0 as usize)
            .map(|a| a.elem)
            .ok_or_else(|| self.err(format!("private array #{} does not exist", id.0)))
    }

    fn block(&mut self, block: &Block) -> Check {
        let mut scope = Vec::new();
        let result = block.iter().try_for_each(|s| self.stmt(s, &mut scope));
        for id in scope {
            self.declared[id.0 as usize] = false;
        }
        result
    }

    fn expect(&self, e: &Expr, ty: ScalarType, what: &str) -> Check {
        self.expr(e)?;
        if e.ty != ty {
            return Err(self.err(format!("{what} must be {ty}, found {}", e.ty)));
        }
        Ok(())
    }

    fn stmt(&mut self, stmt: &Stmt, scope: &mut Vec<LocalId>) -> Check {
        match stmt {
            Stmt::Let { local, init } => {
                if let Some(init) = init {
                    let ty = self.local(*local)?.ty;
                    self.expect(init, ty, "the initial value")?;
                }
                self.declare(*local, scope)
            }
            Stmt::Assign { local, value } => {
                let l = self.declared_local(*local)?;
                if !l.mutable {
                    // A `let x;` declared without a value may be assigned once, as in Rust;
                    // the macro marks such locals mutable, so this is a real violation.
                    return Err(self.err(format!("local `{}` is not mutable", l.name)));
                }
                self.expect(value, l.ty, "the assigned value")
            }
            Stmt::Store {
                buffer,
                index,
                value,
            } => {
                let elem = self.buffer(*buffer, true)?;
                self.expect(index, ScalarType::U64, "a buffer index")?;
                self.expect(value, elem, "the stored value")
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                self.expect(cond, ScalarType::Bool, "a condition")?;
                self.block(then_body)?;
                self.block(else_body)
            }
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
                ..
            } => {
                let ty = self.local(*var)?.ty;
                if !ty.is_int() {
                    return Err(self.err(format!("a loop variable must be an integer, not {ty}")));
                }
                self.expect(start, ty, "a range start")?;
                self.expect(end, ty, "a range end")?;
                if let Some(step) = step {
                    self.expect(step, ScalarType::U64, "a step")?;
                }
                let mut loop_scope = Vec::new();
                self.declare(*var, &mut loop_scope)?;
                self.loop_depth += 1;
                let result = self.block(body);
                self.loop_depth -= 1;
                self.declared[var.0 as usize] = false;
                result
            }
            Stmt::While { cond, body } => {
                self.expect(cond, ScalarType::Bool, "a condition")?;
                self.loop_body(body)
            }
            Stmt::Loop { body } => self.loop_body(body),
            Stmt::Break | Stmt::Continue => {
                if self.loop_depth == 0 {
                    Err(self.err("`break` or `continue` outside a loop"))
                } else {
                    Ok(())
                }
            }
            Stmt::Return(value) => match (self.ret, value) {
                (None, None) => Ok(()),
                (None, Some(_)) => Err(self.err("a kernel cannot return a value")),
                (Some(ty), Some(v)) => self.expect(v, ty, "the returned value"),
                (Some(ty), None) => Err(self.err(format!("a helper must return a {ty}"))),
            },
            Stmt::Trap { .. } => Ok(()),
            Stmt::Eval(e) => self.expr(e),
            Stmt::Barrier => {
                if self.ret.is_some() {
                    Err(self.err("`barrier()` belongs in the kernel body, not in a helper"))
                } else {
                    Ok(())
                }
            }
            Stmt::Subgroup {
                op,
                dest,
                value,
                lane,
            } => {
                let name = op.intrinsic_name();
                if self.ret.is_some() {
                    return Err(self.err(format!(
                        "`{name}` belongs in the kernel body, not in a helper"
                    )));
                }
                let l = self.declared_local(*dest)?;
                if !l.mutable {
                    return Err(self.err(format!("local `{}` is not mutable", l.name)));
                }
                let ty = l.ty;
                let operand = match op {
                    SubgroupOp::Any | SubgroupOp::All => ScalarType::Bool,
                    _ => ty,
                };
                if ty != operand {
                    return Err(self.err(format!("`{name}` gives a bool, not {ty}")));
                }
                if ty == ScalarType::Bool
                    && !matches!(op, SubgroupOp::Any | SubgroupOp::All)
                    && !op.takes_lane()
                {
                    return Err(self.err(format!("`{name}` takes a number, not a bool")));
                }
                // Every item evaluates these in the collective, also items beyond the grid:
                // nothing that could fault or differ in effect.
                let plain = |e: &Expr| matches!(e.kind, ExprKind::Local(_) | ExprKind::Literal(_));
                if !plain(value) || lane.as_ref().is_some_and(|l| !plain(l)) {
                    return Err(self.err(format!(
                        "the operands of `{name}` must be locals or literals"
                    )));
                }
                self.expect(value, operand, "a subgroup operand")?;
                match (lane, op.takes_lane()) {
                    (Some(l), true) => self.expect(l, ScalarType::U64, "a lane"),
                    (None, false) => Ok(()),
                    (Some(_), false) => Err(self.err(format!("`{name}` takes no lane"))),
                    (None, true) => Err(self.err(format!("`{name}` needs a lane"))),
                }
            }
            Stmt::PrivateInit { array, value } => {
                let elem = self.private(*array)?;
                self.expect(value, elem, "the initial value")
            }
            Stmt::PrivateStore {
                array,
                index,
                value,
            } => {
                let elem = self.private(*array)?;
                self.expect(index, ScalarType::U64, "an array index")?;
                self.expect(value, elem, "the stored value")
            }
            Stmt::SharedStore {
                array,
                index,
                value,
            } => {
                let elem = self.shared(*array)?;
                self.expect(index, ScalarType::U64, "a shared array index")?;
                self.expect(value, elem, "the stored value")
            }
        }
    }

    fn loop_body(&mut self, body: &Block) -> Check {
        self.loop_depth += 1;
        let result = self.block(body);
        self.loop_depth -= 1;
        result
    }

    fn expr(&self, e: &Expr) -> Check {
        let ty = e.ty;
        match &e.kind {
            ExprKind::Literal(lit) => self.literal(*lit, ty),
            ExprKind::Local(id) => {
                let l = self.declared_local(*id)?;
                self.same(ty, l.ty, "a local's value")
            }
            ExprKind::Param(id) => {
                if self.ret.is_some() {
                    return Err(self.err("helper functions cannot read kernel parameters"));
                }
                let p = self.param(*id)?;
                match p.kind {
                    ParamKind::Scalar(t) => self.same(ty, t, "a parameter's value"),
                    ParamKind::Buffer { .. } => Err(self.err(format!(
                        "buffer `{}` used as a value; index it or call `.len()`",
                        p.name
                    ))),
                }
            }
            ExprKind::Load { buffer, index } => {
                let elem = self.buffer(*buffer, false)?;
                self.expect(index, ScalarType::U64, "a buffer index")?;
                self.same(ty, elem, "a loaded element")
            }
            ExprKind::SharedAtomic {
                op,
                array,
                index,
                args,
            } => {
                let elem = self.shared(*array)?;
                self.expect(index, ScalarType::U64, "a shared array index")?;
                self.atomic(*op, elem, args, ty)
            }
            ExprKind::PrivateLoad { array, index } => {
                let elem = self.private(*array)?;
                self.expect(index, ScalarType::U64, "an array index")?;
                self.same(ty, elem, "a loaded element")
            }
            ExprKind::SharedLoad { array, index } => {
                let elem = self.shared(*array)?;
                self.expect(index, ScalarType::U64, "a shared array index")?;
                self.same(ty, elem, "a loaded element")
            }
            ExprKind::Len(buffer) => {
                self.buffer(*buffer, false)?;
                self.same(ty, ScalarType::U64, "a length")
            }
            ExprKind::Builtin(b) => {
                if self.ret.is_some() {
                    return Err(self.err(format!(
                        "helper functions cannot use grid intrinsics ({b:?}); pass the value as an argument"
                    )));
                }
                self.same(ty, ScalarType::U64, "an index intrinsic")
            }
            ExprKind::Unary { op, operand } => {
                self.expr(operand)?;
                self.same(ty, operand.ty, "a unary operation")?;
                match op {
                    // Unsigned integers negate with wrapping (`wrapping_neg`).
                    UnaryOp::Neg if !ty.is_numeric() => {
                        Err(self.err(format!("cannot negate a value of type {ty}")))
                    }
                    UnaryOp::Not if ty.is_float() => {
                        Err(self.err(format!("cannot apply `!` to {ty}")))
                    }
                    _ => Ok(()),
                }
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, ty),
            ExprKind::Cast(operand) => {
                self.expr(operand)?;
                let from = operand.ty;
                let ok = match (from, ty) {
                    (a, b) if a == b => true,
                    (ScalarType::Bool, t) => t.is_int(),
                    (a, b) => a.is_numeric() && b.is_numeric(),
                };
                if ok {
                    Ok(())
                } else {
                    Err(self.err(format!("cannot cast {from} as {ty}")))
                }
            }
            ExprKind::Math { func, args } => {
                args.iter().try_for_each(|a| self.expr(a))?;
                let recv = args.first().map(|a| a.ty);
                let arity = |n: usize| {
                    if args.len() == n {
                        Ok(())
                    } else {
                        Err(self.err(format!(
                            "`{}` takes {} operand(s), found {}",
                            func.method_name(),
                            n,
                            args.len()
                        )))
                    }
                };
                let all_same = |t: ScalarType| args.iter().all(|a| a.ty == t);
                let bad = || {
                    self.err(format!(
                        "`{}` is not defined for these operand types ({})",
                        func.method_name(),
                        args.iter()
                            .map(|a| a.ty.rust_name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                };
                let recv = recv.ok_or_else(bad)?;
                let (ok, result) = match func.signature() {
                    MathSignature::FloatUnary => {
                        arity(1)?;
                        (recv.is_float(), recv)
                    }
                    MathSignature::FloatBinary => {
                        arity(2)?;
                        (recv.is_float() && all_same(recv), recv)
                    }
                    MathSignature::FloatTernary => {
                        arity(3)?;
                        (recv.is_float() && all_same(recv), recv)
                    }
                    MathSignature::Powi => {
                        arity(2)?;
                        (recv.is_float() && args[1].ty == ScalarType::I32, recv)
                    }
                    MathSignature::FloatPredicate => {
                        arity(1)?;
                        (recv.is_float(), ScalarType::Bool)
                    }
                    MathSignature::Numeric { arity: n } => {
                        arity(n)?;
                        let abs_ok = *func != crate::program::MathFn::Abs || recv.is_signed();
                        (recv.is_numeric() && all_same(recv) && abs_ok, recv)
                    }
                    MathSignature::IntCount => {
                        arity(1)?;
                        (recv.is_int(), ScalarType::U32)
                    }
                    MathSignature::IntRotate => {
                        arity(2)?;
                        (recv.is_int() && args[1].ty == ScalarType::U32, recv)
                    }
                    MathSignature::ToBits => {
                        arity(1)?;
                        let bits = recv.float_bits_type();
                        (bits.is_some(), bits.unwrap_or(recv))
                    }
                    MathSignature::FromBits => {
                        arity(1)?;
                        let float = recv.float_from_bits_type();
                        (float.is_some(), float.unwrap_or(recv))
                    }
                };
                if !ok {
                    return Err(bad());
                }
                self.same(ty, result, "a math function's result")
            }
            ExprKind::Call { function, args } => {
                let FunctionId(idx) = *function;
                if idx as usize >= self.callable {
                    return Err(self.err(format!(
                        "call to function #{idx}, which is not defined before this one (recursion is not supported)"
                    )));
                }
                let f = &self.kernel.functions[idx as usize];
                if args.len() != f.param_count as usize {
                    return Err(self.err(format!(
                        "`{}` takes {} argument(s), found {}",
                        f.name,
                        f.param_count,
                        args.len()
                    )));
                }
                for (a, p) in args.iter().zip(&f.locals) {
                    self.expect(a, p.ty, &format!("argument `{}` of `{}`", p.name, f.name))?;
                }
                self.same(ty, f.ret, "a call's result")
            }
            ExprKind::Atomic {
                op,
                buffer,
                index,
                args,
            } => {
                let elem = self.buffer(*buffer, true)?;
                self.expect(index, ScalarType::U64, "a buffer index")?;
                self.atomic(*op, elem, args, ty)
            }
        }
    }

    /// An atomic's operation, operands and result on an element of type `elem` (in a buffer
    /// or a shared array).
    fn atomic(&self, op: AtomicOp, elem: ScalarType, args: &[Expr], ty: ScalarType) -> Check {
        if !op.supports(elem) {
            return Err(self.err(format!(
                "`{}` is not defined on {elem} elements",
                op.intrinsic_name()
            )));
        }
        if args.len() != op.operand_count() {
            return Err(self.err(format!(
                "`{}` takes {} operand(s)",
                op.intrinsic_name(),
                op.operand_count()
            )));
        }
        args.iter()
            .try_for_each(|a| self.expect(a, elem, "an atomic operand"))?;
        self.same(ty, elem, "an atomic's result")
    }

    fn binary(&self, op: BinaryOp, lhs: &Expr, rhs: &Expr, ty: ScalarType) -> Check {
        self.expr(lhs)?;
        self.expr(rhs)?;
        let (l, r) = (lhs.ty, rhs.ty);
        let mismatch = || self.err(format!("`{}` is not defined for {l} and {r}", op.symbol()));
        match op {
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => {
                if l != r || !l.is_numeric() {
                    return Err(mismatch());
                }
                self.same(ty, l, "an arithmetic result")
            }
            BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor => {
                if l != r || l.is_float() {
                    return Err(mismatch());
                }
                self.same(ty, l, "a bitwise result")
            }
            BinaryOp::Shl | BinaryOp::Shr => {
                if !l.is_int() || !r.is_int() {
                    return Err(mismatch());
                }
                self.same(ty, l, "a shift result")
            }
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => {
                if l != r {
                    return Err(mismatch());
                }
                self.same(ty, ScalarType::Bool, "a comparison")
            }
            BinaryOp::And | BinaryOp::Or => {
                if l != ScalarType::Bool || r != ScalarType::Bool {
                    return Err(mismatch());
                }
                self.same(ty, ScalarType::Bool, "a logical result")
            }
        }
    }

    fn literal(&self, lit: Literal, ty: ScalarType) -> Check {
        match lit {
            Literal::Bool(_) if ty == ScalarType::Bool => Ok(()),
            Literal::Int(v) => match ty.int_range() {
                Some((lo, hi)) if (lo..=hi).contains(&v) => Ok(()),
                Some(_) => Err(self.err(format!("literal {v} does not fit in {ty}"))),
                None => Err(self.err(format!("integer literal {v} typed {ty}"))),
            },
            Literal::Float(_) if ty == ScalarType::F64 => Ok(()),
            Literal::Float(v) if ty == ScalarType::F32 => {
                if v.is_nan() || (v as f32) as f64 == v {
                    Ok(())
                } else {
                    Err(self.err(format!("literal {v} is not exactly an f32")))
                }
            }
            other => Err(self.err(format!("literal {other:?} typed {ty}"))),
        }
    }

    fn same(&self, found: ScalarType, expected: ScalarType, what: &str) -> Check {
        if found == expected {
            Ok(())
        } else {
            Err(self.err(format!("{what} is {expected} but is typed {found}")))
        }
    }
}
