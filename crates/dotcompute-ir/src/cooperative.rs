//! The rules that make `barrier()` well defined: every work item of a group must reach each
//! barrier, the same number of times. Subgroup operations ([`Stmt::Subgroup`]) are
//! collective too, and held to the same rules (a *collective* below is either).
//!
//! A barrier is accepted only where control flow is *uniform* across the group: under
//! conditions and loop bounds computed from scalar parameters, buffer lengths, group ids and
//! sizes, the grid's size, constants, and locals assigned only such values in uniform control
//! flow. Anything derived from `global_id`, `local_id`, buffer or shared-array contents, or
//! atomics is not uniform. Besides, an item must not leave before a barrier: no `return`
//! may come before a barrier (in program order, or anywhere in a loop that holds one), and no
//! `break`/`continue` may leave a loop that holds one. The loop variable of such a loop is
//! never assigned. The backends rely on these rules: the CPU runs a group as loops over its
//! items between barriers, and the GPU emitters keep items beyond the grid's end alive.

use crate::program::{Builtin, Expr, ExprKind, Kernel, LocalId, Stmt, walk_stmts};
use std::fmt;

/// A barrier that not every item of a group is sure to reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BarrierError {
    /// Which barrier: its position among the kernel body's barriers, in source order.
    pub barrier: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

impl fmt::Display for BarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "barrier #{}: {} (help: {})",
            self.barrier + 1,
            self.message,
            self.help
        )
    }
}

/// Whether a statement is a collective (a barrier or a subgroup operation) or holds one:
/// such statements run once per group, the others once per work item.
pub fn holds_barrier(stmt: &Stmt) -> bool {
    let mut found = false;
    walk_stmts(std::slice::from_ref(stmt), &mut |s| {
        found |= matches!(s, Stmt::Barrier | Stmt::Subgroup { .. })
    });
    found
}

/// Checks the kernel body's barriers (see the module documentation).
pub fn check(kernel: &Kernel) -> Result<(), BarrierError> {
    let uniformity = Uniformity::of(kernel);
    let mut walk = BarrierWalk {
        uniform: &uniformity.locals,
        barriers: 0,
        returned: false,
        loop_vars: Vec::new(),
    };
    walk.block(&kernel.body, true)
}

/// Which values of a kernel body are the same in every item of a group.
#[derive(Clone, Debug)]
pub struct Uniformity {
    /// Per local of the kernel body: assigned only uniform values, in uniform control flow.
    locals: Vec<bool>,
}

impl Uniformity {
    /// The analysis of a kernel's body.
    pub fn of(kernel: &Kernel) -> Uniformity {
        let mut uniform = vec![true; kernel.locals.len()];
        // Marking a local non-uniform can make a condition, and so more locals,
        // non-uniform: iterate to the fixed point (each round only removes locals).
        loop {
            let before = uniform.clone();
            mark_locals(&kernel.body, true, &mut uniform);
            if before == uniform {
                break;
            }
        }
        Uniformity { locals: uniform }
    }

    /// Whether local `id` is uniform.
    pub fn local(&self, id: LocalId) -> bool {
        self.locals.get(id.0 as usize).copied().unwrap_or(false)
    }

    /// Whether an expression has the same value in every item of a group.
    pub fn expr(&self, e: &Expr) -> bool {
        is_uniform(e, &self.locals)
    }

    /// Whether a GPU runs a statement reached in uniform control flow in every invocation of
    /// the group (items beyond the grid and items that returned included): barriers, loop
    /// exits, control flow that stays uniform, and the assignments of uniform locals (which
    /// the uniform conditions after them read). Everything else runs only in live items.
    pub fn runs_everywhere(&self, s: &Stmt) -> bool {
        match s {
            Stmt::Let { local, .. } | Stmt::Assign { local, .. } => self.local(*local),
            Stmt::Barrier | Stmt::Subgroup { .. } | Stmt::Break | Stmt::Continue => true,
            _ => holds_barrier(s) || self.keeps_uniform(s),
        }
    }

    /// Whether a statement reached in uniform control flow keeps control flow uniform inside
    /// it: an `if` on a uniform condition, a loop with uniform bounds that no item leaves
    /// on its own. (Statements that hold a barrier are such statements.)
    pub fn keeps_uniform(&self, s: &Stmt) -> bool {
        let u = &self.locals;
        match s {
            Stmt::If { cond, .. } => is_uniform(cond, u),
            Stmt::For {
                start,
                end,
                step,
                body,
                ..
            } => {
                is_uniform(start, u)
                    && is_uniform(end, u)
                    && step.as_ref().is_none_or(|s| is_uniform(s, u))
                    && !leaves_early(body, u)
            }
            Stmt::While { cond, body } => is_uniform(cond, u) && !leaves_early(body, u),
            Stmt::Loop { body } => !leaves_early(body, u),
            _ => false,
        }
    }
}

/// Whether an expression has the same value in every item of a group.
fn is_uniform(e: &Expr, uniform: &[bool]) -> bool {
    let mut ok = true;
    e.walk(&mut |e| {
        ok &= match &e.kind {
            ExprKind::Local(LocalId(i)) => uniform.get(*i as usize).copied().unwrap_or(false),
            ExprKind::Builtin(
                Builtin::GlobalId(_) | Builtin::LocalId(_) | Builtin::SubgroupLane,
            )
            | ExprKind::Load { .. }
            | ExprKind::SharedLoad { .. }
            | ExprKind::SharedAtomic { .. }
            | ExprKind::PrivateLoad { .. }
            | ExprKind::Atomic { .. } => false,
            // Helpers see only their arguments.
            ExprKind::Literal(_)
            | ExprKind::Param(_)
            | ExprKind::Len(_)
            | ExprKind::Builtin(_)
            | ExprKind::Unary { .. }
            | ExprKind::Binary { .. }
            | ExprKind::Cast(_)
            | ExprKind::Math { .. }
            | ExprKind::Call { .. } => true,
        }
    });
    ok
}

/// Marks the locals that a block may give different values in different items.
fn mark_locals(block: &[Stmt], ctx: bool, uniform: &mut [bool]) {
    for s in block {
        match s {
            Stmt::Let {
                local,
                init: Some(v),
            }
            | Stmt::Assign { local, value: v } => {
                if !(ctx && is_uniform(v, uniform)) {
                    uniform[local.0 as usize] = false;
                }
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                let inner = ctx && is_uniform(cond, uniform);
                mark_locals(then_body, inner, uniform);
                mark_locals(else_body, inner, uniform);
            }
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
                ..
            } => {
                let bounds = is_uniform(start, uniform)
                    && is_uniform(end, uniform)
                    && step.as_ref().is_none_or(|s| is_uniform(s, uniform));
                let inner = ctx && bounds && !leaves_early(body, uniform);
                if !inner {
                    uniform[var.0 as usize] = false;
                }
                mark_locals(body, inner, uniform);
            }
            Stmt::While { cond, body } => {
                let inner = ctx && is_uniform(cond, uniform) && !leaves_early(body, uniform);
                mark_locals(body, inner, uniform);
            }
            Stmt::Loop { body } => {
                let inner = ctx && !leaves_early(body, uniform);
                mark_locals(body, inner, uniform);
            }
            // A subgroup's result differs between subgroups (and lanes).
            Stmt::Subgroup { dest, .. } => uniform[dest.0 as usize] = false,
            Stmt::Let { init: None, .. }
            | Stmt::Store { .. }
            | Stmt::SharedStore { .. }
            | Stmt::PrivateInit { .. }
            | Stmt::PrivateStore { .. }
            | Stmt::Break
            | Stmt::Continue
            | Stmt::Return(_)
            | Stmt::Trap { .. }
            | Stmt::Eval(_)
            | Stmt::Barrier => {}
        }
    }
}

/// Whether some items may leave (`break`, `continue` or `return`) the loop whose body this is
/// while others stay: an exit under a condition that is not uniform.
fn leaves_early(body: &[Stmt], uniform: &[bool]) -> bool {
    fn exits(block: &[Stmt], ctx: bool, depth: u32, uniform: &[bool]) -> bool {
        block.iter().any(|s| match s {
            Stmt::Break | Stmt::Continue => depth == 0 && !ctx,
            Stmt::Return(_) => !ctx,
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                let inner = ctx && is_uniform(cond, uniform);
                exits(then_body, inner, depth, uniform) || exits(else_body, inner, depth, uniform)
            }
            Stmt::For { body, .. } | Stmt::While { body, .. } | Stmt::Loop { body } => {
                exits(body, ctx, depth + 1, uniform)
            }
            _ => false,
        })
    }
    exits(body, true, 0, uniform)
}

/// How errors name the first collective of a block: `` `barrier()` `` or the subgroup
/// operation's name.
fn collective_name(block: &[Stmt]) -> String {
    let mut name = None;
    walk_stmts(block, &mut |s| match s {
        Stmt::Barrier if name.is_none() => name = Some("`barrier()`".to_string()),
        Stmt::Subgroup { op, .. } if name.is_none() => {
            name = Some(format!("`{}`", op.intrinsic_name()))
        }
        _ => {}
    });
    name.unwrap_or_else(|| "`barrier()`".into())
}

struct BarrierWalk<'a> {
    uniform: &'a [bool],
    /// Barriers seen so far (the next one's number).
    barriers: usize,
    /// A `return` came before this point.
    returned: bool,
    /// The variables of the enclosing loops that hold a collective, with the number of each
    /// loop's first collective (where an error about the variable points) and its name.
    loop_vars: Vec<(LocalId, usize, String)>,
}

impl BarrierWalk<'_> {
    fn loop_var_error(&self, local: LocalId) -> BarrierError {
        let (barrier, name) = self
            .loop_vars
            .iter()
            .find(|(v, _, _)| *v == local)
            .map_or((self.barriers, "`barrier()`"), |(_, first, name)| {
                (*first, name.as_str())
            });
        BarrierError {
            barrier,
            message: format!("the variable of a loop that holds a {name} is assigned in the loop"),
            help: "use another variable: the loop variable steps the whole group at once".into(),
        }
    }

    fn error(&self, message: &str, help: &str) -> BarrierError {
        BarrierError {
            barrier: self.barriers,
            message: message.into(),
            help: help.into(),
        }
    }

    /// `ctx`: control flow here is uniform.
    fn block(&mut self, block: &[Stmt], ctx: bool) -> Result<(), BarrierError> {
        for s in block {
            self.stmt(s, ctx)?;
        }
        Ok(())
    }

    fn stmt(&mut self, s: &Stmt, ctx: bool) -> Result<(), BarrierError> {
        match s {
            Stmt::Subgroup { op, dest, .. } => {
                let name = op.intrinsic_name();
                if self.returned {
                    return Err(self.error(
                        &format!("items may have left with an earlier `return`, and every item of a group must reach each `{name}`"),
                        "instead of returning early, put the rest of the item's work under an `if`",
                    ));
                }
                if !ctx {
                    return Err(self.error(
                        &format!("this `{name}` is under a condition or in a loop that is not uniform across the work-group (it depends on `global_id`, `local_id`, buffer or shared contents, or on a value assigned under such a condition)"),
                        "call it where every item of the group reaches it, with the item's contribution computed before (`let v = if c { x } else { 0.0 };`)",
                    ));
                }
                if self.loop_vars.iter().any(|(v, _, _)| v == dest) {
                    return Err(self.loop_var_error(*dest));
                }
                self.barriers += 1;
                Ok(())
            }
            Stmt::Barrier => {
                if self.returned {
                    return Err(self.error(
                        "items may have left with an earlier `return`, and every item of a group must reach each `barrier()`",
                        "instead of returning early, put the rest of the item's work under an `if`",
                    ));
                }
                if !ctx {
                    return Err(self.error(
                        "this `barrier()` is under a condition or in a loop that is not uniform across the work-group (it depends on `global_id`, `local_id`, buffer or shared contents, or on a value assigned under such a condition)",
                        "call `barrier()` where every item of the group reaches it: outside the condition, or in a loop whose bounds come from parameters, group ids or sizes, buffer lengths and constants",
                    ));
                }
                self.barriers += 1;
                Ok(())
            }
            Stmt::Return(_) => {
                self.returned = true;
                Ok(())
            }
            Stmt::Assign { local, .. } if self.loop_vars.iter().any(|(v, _, _)| v == local) => {
                Err(self.loop_var_error(*local))
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                let inner = ctx && is_uniform(cond, self.uniform);
                self.block(then_body, inner)?;
                self.block(else_body, inner)
            }
            Stmt::For {
                var,
                start,
                end,
                step,
                body,
                ..
            } => {
                let bounds = is_uniform(start, self.uniform)
                    && is_uniform(end, self.uniform)
                    && step.as_ref().is_none_or(|s| is_uniform(s, self.uniform));
                self.loop_body(body, ctx && bounds, Some(*var))
            }
            Stmt::While { cond, body } => {
                let inner = ctx && is_uniform(cond, self.uniform);
                self.loop_body(body, inner, None)
            }
            Stmt::Loop { body } => self.loop_body(body, ctx, None),
            _ => Ok(()),
        }
    }

    fn loop_body(
        &mut self,
        body: &[Stmt],
        ctx: bool,
        var: Option<LocalId>,
    ) -> Result<(), BarrierError> {
        if !body.iter().any(holds_barrier) {
            // No barrier inside: only a `return`, and an assignment to the enclosing group
            // loop's variable, matter.
            let mut returns = false;
            let mut assigns = None;
            walk_stmts(body, &mut |s| {
                returns |= matches!(s, Stmt::Return(_));
                if let Stmt::Assign { local, .. } = s
                    && self.loop_vars.iter().any(|(v, _, _)| v == local)
                {
                    assigns = Some(*local);
                }
            });
            if let Some(local) = assigns {
                return Err(self.loop_var_error(local));
            }
            self.returned |= returns;
            return Ok(());
        }
        let mut exits = false;
        let mut returns = false;
        scan_exits(body, 0, &mut exits, &mut returns);
        let name = collective_name(body);
        if returns {
            return Err(self.error(
                &format!("this {name} is in a loop that holds a `return`: items that returned would miss it in the next iteration"),
                "instead of returning early, put the rest of the item's work under an `if`",
            ));
        }
        if exits {
            return Err(self.error(
                &format!("this {name} is in a loop that items leave with `break` or `continue`, so some could miss it"),
                "loop with `for` over uniform bounds or `while` on a uniform condition, without `break`/`continue`",
            ));
        }
        let first = self.barriers;
        self.loop_vars.extend(var.map(|v| (v, first, name)));
        let result = self.block(body, ctx);
        if var.is_some() {
            self.loop_vars.pop();
        }
        result
    }
}

/// Whether a loop body can leave its loop or iteration early: a `break` or `continue` for
/// this loop, or a `return`.
pub fn loop_exits_early(body: &[Stmt]) -> bool {
    let (mut exits, mut returns) = (false, false);
    scan_exits(body, 0, &mut exits, &mut returns);
    exits || returns
}

/// Whether a loop body has a `break`/`continue` for this loop, and whether it has a `return`.
fn scan_exits(block: &[Stmt], depth: u32, exits: &mut bool, returns: &mut bool) {
    for s in block {
        match s {
            Stmt::Break | Stmt::Continue => *exits |= depth == 0,
            Stmt::Return(_) => *returns = true,
            Stmt::If {
                then_body,
                else_body,
                ..
            } => {
                scan_exits(then_body, depth, exits, returns);
                scan_exits(else_body, depth, exits, returns);
            }
            Stmt::For { body, .. } | Stmt::While { body, .. } | Stmt::Loop { body } => {
                scan_exits(body, depth + 1, exits, returns)
            }
            _ => {}
        }
    }
}
