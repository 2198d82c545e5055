//! A readable, Rust-like listing of a kernel, for logs, errors and `dotcompute` tooling.

use crate::program::{
    BoundsChecks, Builtin, Expr, ExprKind, Function, Kernel, Literal, Local, MathFn, Stmt, UnaryOp,
};
use std::fmt::{self, Write};

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for func in &self.functions {
            Printer::new(self, &func.locals).function(f, func)?;
        }
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name, p.kind))
            .collect();
        let mode = match self.bounds_checks {
            BoundsChecks::Checked => "",
            BoundsChecks::Unchecked => "#[unchecked] ",
        };
        writeln!(f, "{mode}kernel {}({}) {{", self.name, params.join(", "))?;
        for a in &self.shared {
            writeln!(
                f,
                "    let mut {} = shared_array::<{}, {}>();",
                a.name, a.elem, a.len
            )?;
        }
        Printer::new(self, &self.locals).block(f, &self.body, 1)?;
        writeln!(f, "}}")
    }
}

struct Printer<'k> {
    kernel: &'k Kernel,
    locals: &'k [Local],
}

impl<'k> Printer<'k> {
    fn new(kernel: &'k Kernel, locals: &'k [Local]) -> Self {
        Printer { kernel, locals }
    }

    fn function(&self, f: &mut fmt::Formatter<'_>, func: &Function) -> fmt::Result {
        let params: Vec<String> = (0..func.param_count as usize)
            .map(|i| format!("{}: {}", self.local_name(i), func.locals[i].ty))
            .collect();
        writeln!(
            f,
            "fn {}({}) -> {} {{",
            func.name,
            params.join(", "),
            func.ret
        )?;
        self.block(f, &func.body, 1)?;
        writeln!(f, "}}")
    }

    fn local_name(&self, i: usize) -> String {
        match self.locals.get(i) {
            Some(l) => format!("{}_{i}", l.name),
            None => format!("?local{i}"),
        }
    }

    fn param_name(&self, i: u32) -> String {
        self.kernel
            .params
            .get(i as usize)
            .map_or_else(|| format!("?param{i}"), |p| p.name.clone())
    }

    fn shared_name(&self, i: u32) -> String {
        self.kernel
            .shared
            .get(i as usize)
            .map_or_else(|| format!("?shared{i}"), |a| a.name.clone())
    }

    /// A private array's name and length.
    fn private(&self, i: u32) -> (String, u32) {
        self.kernel
            .private
            .get(i as usize)
            .map_or_else(|| (format!("?private{i}"), 0), |a| (a.name.clone(), a.len))
    }

    fn block(&self, f: &mut fmt::Formatter<'_>, block: &[Stmt], depth: usize) -> fmt::Result {
        for s in block {
            self.stmt(f, s, depth)?;
        }
        Ok(())
    }

    fn stmt(&self, f: &mut fmt::Formatter<'_>, s: &Stmt, depth: usize) -> fmt::Result {
        let pad = "    ".repeat(depth);
        match s {
            Stmt::Let { local, init } => {
                let l = &self.locals[local.0 as usize];
                let m = if l.mutable { "mut " } else { "" };
                write!(
                    f,
                    "{pad}let {m}{}: {}",
                    self.local_name(local.0 as usize),
                    l.ty
                )?;
                if let Some(init) = init {
                    write!(f, " = {}", self.expr(init))?;
                }
                writeln!(f, ";")
            }
            Stmt::Assign { local, value } => writeln!(
                f,
                "{pad}{} = {};",
                self.local_name(local.0 as usize),
                self.expr(value)
            ),
            Stmt::Store {
                buffer,
                index,
                value,
            } => writeln!(
                f,
                "{pad}{}[{}] = {};",
                self.param_name(buffer.0),
                self.expr(index),
                self.expr(value)
            ),
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                writeln!(f, "{pad}if {} {{", self.expr(cond))?;
                self.block(f, then_body, depth + 1)?;
                if !else_body.is_empty() {
                    writeln!(f, "{pad}}} else {{")?;
                    self.block(f, else_body, depth + 1)?;
                }
                writeln!(f, "{pad}}}")
            }
            Stmt::For {
                var,
                start,
                end,
                inclusive,
                step,
                body,
            } => {
                let range = if *inclusive { "..=" } else { ".." };
                let mut header = format!("({}{range}{})", self.expr(start), self.expr(end));
                if let Some(step) = step {
                    let _ = write!(header, ".step_by({})", self.expr(step));
                }
                writeln!(
                    f,
                    "{pad}for {} in {header} {{",
                    self.local_name(var.0 as usize)
                )?;
                self.block(f, body, depth + 1)?;
                writeln!(f, "{pad}}}")
            }
            Stmt::While { cond, body } => {
                writeln!(f, "{pad}while {} {{", self.expr(cond))?;
                self.block(f, body, depth + 1)?;
                writeln!(f, "{pad}}}")
            }
            Stmt::Loop { body } => {
                writeln!(f, "{pad}loop {{")?;
                self.block(f, body, depth + 1)?;
                writeln!(f, "{pad}}}")
            }
            Stmt::Break => writeln!(f, "{pad}break;"),
            Stmt::Continue => writeln!(f, "{pad}continue;"),
            Stmt::Return(None) => writeln!(f, "{pad}return;"),
            Stmt::Return(Some(e)) => writeln!(f, "{pad}return {};", self.expr(e)),
            Stmt::Trap { message } => writeln!(f, "{pad}panic!({message:?});"),
            Stmt::Eval(e) => writeln!(f, "{pad}{};", self.expr(e)),
            Stmt::Subgroup {
                op,
                dest,
                value,
                lane,
            } => {
                write!(
                    f,
                    "{pad}{} = {}({}",
                    self.local_name(dest.0 as usize),
                    op.intrinsic_name(),
                    self.expr(value)
                )?;
                if let Some(l) = lane {
                    write!(f, ", {}", self.expr(l))?;
                }
                writeln!(f, ");")
            }
            Stmt::Barrier => writeln!(f, "{pad}barrier();"),
            Stmt::PrivateInit { array, value } => {
                let (name, len) = self.private(array.0);
                writeln!(f, "{pad}let mut {name} = [{}; {len}];", self.expr(value))
            }
            Stmt::PrivateStore {
                array,
                index,
                value,
            } => writeln!(
                f,
                "{pad}{}[{}] = {};",
                self.private(array.0).0,
                self.expr(index),
                self.expr(value)
            ),
            Stmt::SharedStore {
                array,
                index,
                value,
            } => writeln!(
                f,
                "{pad}{}[{}] = {};",
                self.shared_name(array.0),
                self.expr(index),
                self.expr(value)
            ),
        }
    }

    fn expr(&self, e: &Expr) -> String {
        match &e.kind {
            ExprKind::Literal(Literal::Bool(b)) => b.to_string(),
            ExprKind::Literal(Literal::Int(v)) => format!("{v}{}", e.ty),
            ExprKind::Literal(Literal::Float(v)) => format!("{v:?}{}", e.ty),
            ExprKind::Local(id) => self.local_name(id.0 as usize),
            ExprKind::Param(id) => self.param_name(id.0),
            ExprKind::Load { buffer, index } => {
                format!("{}[{}]", self.param_name(buffer.0), self.expr(index))
            }
            ExprKind::SharedAtomic {
                op,
                array,
                index,
                args,
            } => {
                let mut s = format!(
                    "{}(&mut {}[{}]",
                    op.intrinsic_name(),
                    self.shared_name(array.0),
                    self.expr(index)
                );
                for a in args {
                    let _ = write!(s, ", {}", self.expr(a));
                }
                s.push(')');
                s
            }
            ExprKind::SharedLoad { array, index } => {
                format!("{}[{}]", self.shared_name(array.0), self.expr(index))
            }
            ExprKind::PrivateLoad { array, index } => {
                format!("{}[{}]", self.private(array.0).0, self.expr(index))
            }
            ExprKind::Len(buffer) => format!("{}.len()", self.param_name(buffer.0)),
            ExprKind::Builtin(b) => {
                let (name, axis) = match b {
                    Builtin::SubgroupSize => return "subgroup_size()".into(),
                    Builtin::SubgroupLane => return "subgroup_lane()".into(),
                    Builtin::GlobalId(a) => ("global_id", a),
                    Builtin::GlobalSize(a) => ("global_size", a),
                    Builtin::GroupId(a) => ("group_id", a),
                    Builtin::LocalId(a) => ("local_id", a),
                    Builtin::GroupSize(a) => ("group_size", a),
                    Builtin::NumGroups(a) => ("num_groups", a),
                };
                format!("{name}_{}()", axis.letter())
            }
            ExprKind::Unary { op, operand } => {
                let sym = match op {
                    UnaryOp::Neg => "-",
                    UnaryOp::Not => "!",
                };
                format!("{sym}{}", self.expr(operand))
            }
            ExprKind::Binary { op, lhs, rhs } => {
                format!("({} {} {})", self.expr(lhs), op.symbol(), self.expr(rhs))
            }
            ExprKind::Cast(operand) => format!("({} as {})", self.expr(operand), e.ty),
            ExprKind::Math {
                func: MathFn::FromBits,
                args,
            } => {
                let bits = args.first().map(|a| self.expr(a)).unwrap_or_default();
                format!("{}::from_bits({bits})", e.ty)
            }
            ExprKind::Math { func, args } => {
                let rest: Vec<String> = args.iter().skip(1).map(|a| self.expr(a)).collect();
                let recv = args.first().map(|a| self.expr(a)).unwrap_or_default();
                format!("{recv}.{}({})", func.method_name(), rest.join(", "))
            }
            ExprKind::Call { function, args } => {
                let name = self
                    .kernel
                    .functions
                    .get(function.0 as usize)
                    .map_or("?function", |f| f.name.as_str());
                let args: Vec<String> = args.iter().map(|a| self.expr(a)).collect();
                format!("{name}({})", args.join(", "))
            }
            ExprKind::Atomic {
                op,
                buffer,
                index,
                args,
            } => {
                let mut s = format!(
                    "{}(&mut {}[{}]",
                    op.intrinsic_name(),
                    self.param_name(buffer.0),
                    self.expr(index)
                );
                for a in args {
                    let _ = write!(s, ", {}", self.expr(a));
                }
                s.push(')');
                s
            }
        }
    }
}
