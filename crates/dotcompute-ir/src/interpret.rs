//! An interpreter of the kernel IR: the language's meaning written once, in plain Rust, so
//! that it can be read as the specification and used as the reference every backend is
//! compared with.
//!
//! It runs a validated [`Kernel`] over a grid on host buffers, one work item after another:
//!
//! - Ordinary kernels run each item's body to its end, items in linear order (x fastest).
//! - Cooperative kernels run group by group. Statements that hold a collective (a barrier or
//!   a subgroup operation, which [`crate::cooperative`] allows only in control flow uniform
//!   over the group) run once for the group: their conditions and loop bounds are read in
//!   the group's first item, which is always in the grid. The statements between collectives
//!   run for each of the group's items in the grid that has not returned, one item's
//!   stretch after another, as the CPU backend runs them. Shared arrays are zeroed when a
//!   group starts; items beyond the grid, and items that returned, contribute the
//!   operation's identity to subgroup operations.
//!
//! Scalar semantics (wrapping, masked shifts, saturating casts, faults where Rust panics)
//! are in [`value`]. Every buffer, shared and private access is checked, also in
//! `#[kernel(unchecked)]` kernels (where an access out of bounds is undefined behaviour on
//! other backends). A launch stops at its first fault, which is returned.
//!
//! ```
//! use dotcompute_ir::interpret::{self, Arg, Launch};
//! use dotcompute_ir::*;
//!
//! // out[i] = i as f32 * 2.0
//! let i = Expr { ty: ScalarType::U64, kind: ExprKind::Builtin(Builtin::GlobalId(Axis::X)) };
//! let value = Expr {
//!     ty: ScalarType::F32,
//!     kind: ExprKind::Binary {
//!         op: BinaryOp::Mul,
//!         lhs: Box::new(Expr { ty: ScalarType::F32, kind: ExprKind::Cast(Box::new(i.clone())) }),
//!         rhs: Box::new(Expr::literal(ScalarType::F32, Literal::Float(2.0))),
//!     },
//! };
//! let kernel = Kernel {
//!     name: "twice".into(),
//!     params: vec![Param {
//!         name: "out".into(),
//!         kind: ParamKind::Buffer { elem: ScalarType::F32, access: Access::ReadWrite },
//!     }],
//!     locals: vec![],
//!     body: vec![Stmt::Store { buffer: ParamId(0), index: i, value }],
//!     functions: vec![],
//!     bounds_checks: BoundsChecks::Checked,
//!     shared: vec![],
//!     private: vec![],
//! };
//! let mut out = [0u8; 16];
//! interpret::run(&kernel, &Launch::linear(4), &mut [Arg::BufferMut(&mut out)])?;
//! assert_eq!(f32::from_ne_bytes([out[12], out[13], out[14], out[15]]), 6.0);
//! // A fifth item would store out of bounds: the launch faults, naming the buffer.
//! let err = interpret::run(&kernel, &Launch::linear(5), &mut [Arg::BufferMut(&mut out)]);
//! assert_eq!(err, Err(interpret::Fault::OutOfBounds { param: 0, index: 4, len: 4 }));
//! # Ok::<(), interpret::Fault>(())
//! ```

pub mod value;

use crate::cooperative::holds_barrier;
use crate::program::{
    AtomicOp, BinaryOp, Builtin, Expr, ExprKind, Kernel, LocalId, Stmt, SubgroupOp,
};
use crate::types::{Access, ParamKind, ScalarType};
use std::fmt;
pub use value::Value;

/// Why a launch stopped, as the backends report it (see `dotcompute::KernelFault`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A buffer access out of bounds.
    OutOfBounds {
        /// The buffer parameter.
        param: u32,
        /// The index used.
        index: u64,
        /// The buffer's length.
        len: u64,
    },
    /// A shared or private array access out of bounds (arrays numbered shared first, then
    /// private, as [`Kernel::array`] does).
    ArrayOutOfBounds {
        /// The array's number.
        array: u32,
        /// The index used.
        index: u64,
        /// The array's length.
        len: u64,
    },
    /// Integer division or remainder by zero.
    DivisionByZero,
    /// Integer `MIN / -1` or `MIN % -1`.
    DivisionOverflow,
    /// `clamp` with `min > max` or a NaN bound.
    InvalidClamp,
    /// `step_by(0)`.
    ZeroStep,
    /// `panic!` or a failed `assert!`.
    Panic {
        /// The message.
        message: String,
    },
    /// An argument that does not match its parameter: a scalar of another type, a buffer
    /// whose byte length is not a whole number of elements, a read-only buffer for a
    /// parameter the kernel writes, or a missing argument.
    ArgumentMismatch {
        /// The parameter.
        param: u32,
    },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::OutOfBounds { param, index, len } => write!(
                f,
                "index {index} is out of bounds for buffer #{param} of length {len}"
            ),
            Fault::ArrayOutOfBounds { array, index, len } => write!(
                f,
                "index {index} is out of bounds for array #{array} of length {len}"
            ),
            Fault::DivisionByZero => f.write_str("integer division or remainder by zero"),
            Fault::DivisionOverflow => {
                f.write_str("integer division or remainder overflowed (MIN / -1)")
            }
            Fault::InvalidClamp => f.write_str("`clamp` called with min > max or a NaN bound"),
            Fault::ZeroStep => f.write_str("`step_by(0)` in a loop"),
            Fault::Panic { message } => write!(f, "panicked: {message}"),
            Fault::ArgumentMismatch { param } => {
                write!(f, "argument #{param} does not match the kernel's signature")
            }
        }
    }
}

impl std::error::Error for Fault {}

/// One argument of a launch.
#[derive(Debug)]
pub enum Arg<'a> {
    /// A scalar parameter's value.
    Scalar(Value),
    /// A buffer the kernel only reads: its elements' bytes, in native order.
    Buffer(&'a [u8]),
    /// A buffer the kernel may write.
    BufferMut(&'a mut [u8]),
}

impl Arg<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Arg::Scalar(_) => &[],
            Arg::Buffer(b) => b,
            Arg::BufferMut(b) => b,
        }
    }
}

/// The shape of a launch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Launch {
    /// Work items along x, y and z.
    pub grid: [u64; 3],
    /// Items per group along each axis (each at least 1).
    pub group: [u64; 3],
    /// Items per subgroup: a power of two that divides the group's item count.
    pub subgroup_size: u64,
}

impl Launch {
    /// `n` items along x, in groups of 64 (a launch's default group size) and subgroups of
    /// 16 (the CPU backend's default).
    pub fn linear(n: u64) -> Launch {
        Launch {
            grid: [n, 1, 1],
            group: [64, 1, 1],
            subgroup_size: 16,
        }
    }
}

/// The value of `e` when it depends on nothing but literals (operators and casts over
/// literals, and the exact math functions), with the language's meaning; `None` when it reads
/// anything else, calls a transcendental function, or would fault (a division by zero stays for the launch to report). Emitters
/// fold constants with it so that a device compiler's constant evaluation, which may refuse
/// what Rust defines (WGSL rejects an overflowing `0u - 19u` or `1.0f / 0.0f`), never sees
/// an operation on constants.
pub fn constant_value(e: &Expr) -> Option<Value> {
    match &e.kind {
        ExprKind::Literal(lit) => Some(Value::literal(*lit, e.ty)),
        ExprKind::Unary { op, operand } => Some(value::unary(*op, constant_value(operand)?)),
        ExprKind::Binary { op, lhs, rhs } => {
            let l = constant_value(lhs)?;
            let r = constant_value(rhs)?;
            value::binary(*op, l, r).ok()
        }
        ExprKind::Cast(operand) => Some(constant_value(operand)?.cast(e.ty)),
        // The functions whose result IEEE or the language defines bit for bit (naga cannot
        // evaluate `abs` of an `f64` constant). A transcendental function is the device's
        // own in `fast_math` kernels, and stays for the device.
        ExprKind::Math { func, args } if func.is_exact() => {
            let values = args
                .iter()
                .map(constant_value)
                .collect::<Option<Vec<_>>>()?;
            value::math(*func, &values, e.ty).ok()
        }
        _ => None,
    }
}

/// Runs `kernel` over `launch` with `args` (one per parameter, in order). Returns the first
/// fault, after which buffers hold what the items before it wrote.
pub fn run(kernel: &Kernel, launch: &Launch, args: &mut [Arg<'_>]) -> Result<(), Fault> {
    for (i, param) in kernel.params.iter().enumerate() {
        let mismatch = Fault::ArgumentMismatch { param: i as u32 };
        let fits = match (param.kind, args.get(i)) {
            (ParamKind::Scalar(t), Some(Arg::Scalar(v))) => v.ty() == t,
            (
                ParamKind::Buffer { elem, access },
                Some(arg @ (Arg::Buffer(_) | Arg::BufferMut(_))),
            ) => {
                arg.bytes().len() % elem.size_bytes() == 0
                    && (access == Access::Read || matches!(arg, Arg::BufferMut(_)))
            }
            _ => false,
        };
        if !fits {
            return Err(mismatch);
        }
    }
    if launch.grid.contains(&0) {
        return Ok(());
    }
    let group = launch.group.map(|g| g.max(1));
    let mut machine = Machine {
        kernel,
        args,
        launch: Launch { group, ..*launch },
        shared: Vec::new(),
    };
    if kernel.is_cooperative() {
        let groups = [0, 1, 2].map(|a| launch.grid[a].div_ceil(group[a]));
        for gz in 0..groups[2] {
            for gy in 0..groups[1] {
                for gx in 0..groups[0] {
                    machine.run_group([gx, gy, gz])?;
                }
            }
        }
    } else {
        let zeros = item_locals(kernel);
        let mut locals = zeros.clone();
        let mut item = machine.item([0; 3], 0);
        for z in 0..launch.grid[2] {
            for y in 0..launch.grid[1] {
                for x in 0..launch.grid[0] {
                    // Each item starts from zeroed locals and private arrays.
                    item.gid = [x, y, z];
                    locals.copy_from_slice(&zeros);
                    for (array, decl) in item.private.iter_mut().zip(&kernel.private) {
                        array.fill(Value::zero(decl.elem));
                    }
                    machine.block(&mut item, &mut locals, &kernel.body)?;
                }
            }
        }
    }
    Ok(())
}

/// How a statement ended.
enum Flow {
    Normal,
    Break,
    Continue,
    Return(Option<Value>),
}

/// A work item: its ids and its private arrays.
struct Item {
    gid: [u64; 3],
    /// Its lane in its subgroup.
    lane: u64,
    private: Vec<Vec<Value>>,
    /// Whether it lies in the grid (cooperative kernels keep the others for collectives).
    in_grid: bool,
    returned: bool,
}

struct Machine<'k, 'a, 'b> {
    kernel: &'k Kernel,
    args: &'b mut [Arg<'a>],
    launch: Launch,
    /// The current group's shared arrays.
    shared: Vec<Vec<Value>>,
}

/// Zeroed locals of the kernel body.
fn item_locals(kernel: &Kernel) -> Vec<Value> {
    kernel.locals.iter().map(|l| Value::zero(l.ty)).collect()
}

impl Machine<'_, '_, '_> {
    fn item(&self, gid: [u64; 3], lane: u64) -> Item {
        Item {
            gid,
            lane,
            private: self
                .kernel
                .private
                .iter()
                .map(|a| vec![Value::zero(a.elem); a.len as usize])
                .collect(),
            in_grid: (0..3).all(|a| gid[a] < self.launch.grid[a]),
            returned: false,
        }
    }

    fn run_group(&mut self, group_id: [u64; 3]) -> Result<(), Fault> {
        let g = self.launch.group;
        self.shared = self
            .kernel
            .shared
            .iter()
            .map(|a| vec![Value::zero(a.elem); a.len as usize])
            .collect();
        let sg = self.launch.subgroup_size.max(1);
        let mut items = Vec::new();
        for lz in 0..g[2] {
            for ly in 0..g[1] {
                for lx in 0..g[0] {
                    let linear = lx + g[0] * (ly + g[1] * lz);
                    let gid = [
                        group_id[0] * g[0] + lx,
                        group_id[1] * g[1] + ly,
                        group_id[2] * g[2] + lz,
                    ];
                    items.push((self.item(gid, linear % sg), item_locals(self.kernel)));
                }
            }
        }
        self.group_block(&mut items, &self.kernel.body)
    }

    /// Runs a block of a cooperative kernel's body for a whole group.
    fn group_block(
        &mut self,
        items: &mut [(Item, Vec<Value>)],
        block: &[Stmt],
    ) -> Result<(), Fault> {
        let mut rest = block;
        while !rest.is_empty() {
            // A stretch of statements without collectives runs item by item.
            let stretch = rest.iter().take_while(|s| !holds_barrier(s)).count();
            if stretch > 0 {
                for (item, locals) in items.iter_mut() {
                    if item.in_grid && !item.returned {
                        // `break` and `continue` cannot leave a loop holding a collective,
                        // so only a return ends an item's stretch early.
                        if let Flow::Return(_) = self.block(item, locals, &rest[..stretch])? {
                            item.returned = true;
                        }
                    }
                }
                rest = &rest[stretch..];
                continue;
            }
            let stmt = &rest[0];
            rest = &rest[1..];
            self.collective(items, stmt)?;
        }
        Ok(())
    }

    /// A statement that holds a collective, run once for the group. Its conditions and
    /// bounds are uniform: they are read in the first item.
    fn collective(&mut self, items: &mut [(Item, Vec<Value>)], stmt: &Stmt) -> Result<(), Fault> {
        match stmt {
            Stmt::Barrier => Ok(()),
            Stmt::Subgroup {
                op,
                dest,
                value,
                lane,
            } => self.subgroup(items, *op, *dest, value, lane.as_ref()),
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                if self.uniform(items, cond)?.is_true() {
                    self.group_block(items, then_body)
                } else {
                    self.group_block(items, else_body)
                }
            }
            Stmt::For {
                var,
                start,
                end,
                inclusive,
                step,
                body,
            } => {
                let (from, to, step) = self.range_in(items, start, end, step.as_ref())?;
                let ty = self.kernel.locals[var.0 as usize].ty;
                let mut v = from;
                while v < to || (*inclusive && v == to) {
                    for (_, locals) in items.iter_mut() {
                        locals[var.0 as usize] = narrow(v, ty);
                    }
                    self.group_block(items, body)?;
                    v += step;
                }
                Ok(())
            }
            Stmt::While { cond, body } => {
                while self.uniform(items, cond)?.is_true() {
                    self.group_block(items, body)?;
                }
                Ok(())
            }
            Stmt::Loop { body } => loop {
                self.group_block(items, body)?;
            },
            // No other statement holds a block.
            other => {
                for (item, locals) in items.iter_mut() {
                    if item.in_grid && !item.returned {
                        self.block(item, locals, std::slice::from_ref(other))?;
                    }
                }
                Ok(())
            }
        }
    }

    /// A uniform value, read in the group's first item.
    fn uniform(&mut self, items: &mut [(Item, Vec<Value>)], e: &Expr) -> Result<Value, Fault> {
        match items.first_mut() {
            Some((item, locals)) => self.eval(item, locals, e),
            None => Ok(Value::Bool(false)),
        }
    }

    /// A loop's bounds and step as `i128`s, evaluated in the first item (start, end, step:
    /// Rust's order for `(start..end).step_by(step)`).
    fn range_in(
        &mut self,
        items: &mut [(Item, Vec<Value>)],
        start: &Expr,
        end: &Expr,
        step: Option<&Expr>,
    ) -> Result<(i128, i128, i128), Fault> {
        let from = self.uniform(items, start)?;
        let to = self.uniform(items, end)?;
        let step = match step {
            Some(s) => self.uniform(items, s)?.as_u64(),
            None => 1,
        };
        if step == 0 {
            return Err(Fault::ZeroStep);
        }
        Ok((wide(from), wide(to), i128::from(step)))
    }

    fn subgroup(
        &mut self,
        items: &mut [(Item, Vec<Value>)],
        op: SubgroupOp,
        dest: LocalId,
        value: &Expr,
        lane: Option<&Expr>,
    ) -> Result<(), Fault> {
        let identity = Value::literal(op.identity(value.ty), value.ty);
        let mut values = Vec::with_capacity(items.len());
        let mut lanes = Vec::with_capacity(items.len());
        for (item, locals) in items.iter_mut() {
            if item.in_grid && !item.returned {
                values.push(self.eval(item, locals, value)?);
                lanes.push(match lane {
                    Some(l) => self.eval(item, locals, l)?.as_u64(),
                    None => 0,
                });
            } else {
                values.push(identity);
                lanes.push(0);
            }
        }
        let size = (self.launch.subgroup_size.max(1) as usize).min(values.len().max(1));
        let combine = |x: Value, y: Value| -> Value {
            match op {
                SubgroupOp::Add | SubgroupOp::InclusiveAdd | SubgroupOp::ExclusiveAdd => {
                    value::binary(BinaryOp::Add, x, y).unwrap_or(x)
                }
                SubgroupOp::Min => value::atomic(AtomicOp::Min, x, y),
                SubgroupOp::Max => value::atomic(AtomicOp::Max, x, y),
                SubgroupOp::Any => Value::Bool(x.is_true() || y.is_true()),
                SubgroupOp::All => Value::Bool(x.is_true() && y.is_true()),
                SubgroupOp::Shuffle | SubgroupOp::ShuffleXor => x,
            }
        };
        let mut results = vec![identity; values.len()];
        for ((v, l), out) in values
            .chunks(size)
            .zip(lanes.chunks(size))
            .zip(results.chunks_mut(size))
        {
            let n = v.len();
            match op {
                SubgroupOp::Shuffle => {
                    for k in 0..n {
                        out[k] = v[(l[k] % n as u64) as usize];
                    }
                }
                SubgroupOp::ShuffleXor => {
                    for k in 0..n {
                        out[k] = v[(k ^ (l[k] % n as u64) as usize) % n];
                    }
                }
                _ => {
                    // The combination order every backend follows (see `SubgroupOp`):
                    // butterflies for reductions, Hillis-Steele steps for scans.
                    let mut cur = v.to_vec();
                    let mut d = 1;
                    while d < n {
                        let next: Vec<Value> = (0..n)
                            .map(|k| match op {
                                SubgroupOp::InclusiveAdd | SubgroupOp::ExclusiveAdd => {
                                    if k >= d {
                                        combine(cur[k - d], cur[k])
                                    } else {
                                        cur[k]
                                    }
                                }
                                _ => combine(cur[k], cur[k ^ d]),
                            })
                            .collect();
                        cur = next;
                        d *= 2;
                    }
                    if op == SubgroupOp::ExclusiveAdd {
                        out[0] = identity;
                        out[1..].copy_from_slice(&cur[..n - 1]);
                    } else {
                        out.copy_from_slice(&cur);
                    }
                }
            }
        }
        for ((item, locals), r) in items.iter_mut().zip(results) {
            if item.in_grid && !item.returned {
                locals[dest.0 as usize] = r;
            }
        }
        Ok(())
    }

    /// Runs a block for one item (or a helper function's body: `item` then only gives ids).
    fn block(
        &mut self,
        item: &mut Item,
        locals: &mut [Value],
        block: &[Stmt],
    ) -> Result<Flow, Fault> {
        for stmt in block {
            match self.stmt(item, locals, stmt)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn stmt(&mut self, item: &mut Item, locals: &mut [Value], stmt: &Stmt) -> Result<Flow, Fault> {
        match stmt {
            Stmt::Let { local, init } => {
                if let Some(init) = init {
                    locals[local.0 as usize] = self.eval(item, locals, init)?;
                }
            }
            Stmt::Assign { local, value } => {
                locals[local.0 as usize] = self.eval(item, locals, value)?;
            }
            Stmt::Store {
                buffer,
                index,
                value,
            } => {
                // Rust evaluates the value before the place.
                let v = self.eval(item, locals, value)?;
                let i = self.eval(item, locals, index)?.as_u64();
                let range = self.element(buffer.0, i)?;
                if let Some(Arg::BufferMut(bytes)) = self.args.get_mut(buffer.0 as usize) {
                    v.write_to(&mut bytes[range]);
                }
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                return if self.eval(item, locals, cond)?.is_true() {
                    self.block(item, locals, then_body)
                } else {
                    self.block(item, locals, else_body)
                };
            }
            Stmt::For {
                var,
                start,
                end,
                inclusive,
                step,
                body,
            } => {
                let from = wide(self.eval(item, locals, start)?);
                let to = wide(self.eval(item, locals, end)?);
                let step = match step {
                    Some(s) => self.eval(item, locals, s)?.as_u64(),
                    None => 1,
                };
                if step == 0 {
                    return Err(Fault::ZeroStep);
                }
                let ty = locals[var.0 as usize].ty();
                let mut v = from;
                // The loop counts apart from its variable, which the body may assign.
                while v < to || (*inclusive && v == to) {
                    locals[var.0 as usize] = narrow(v, ty);
                    match self.block(item, locals, body)? {
                        Flow::Break => break,
                        Flow::Return(r) => return Ok(Flow::Return(r)),
                        Flow::Normal | Flow::Continue => {}
                    }
                    v += i128::from(step);
                }
            }
            Stmt::While { cond, body } => {
                while self.eval(item, locals, cond)?.is_true() {
                    match self.block(item, locals, body)? {
                        Flow::Break => break,
                        Flow::Return(r) => return Ok(Flow::Return(r)),
                        Flow::Normal | Flow::Continue => {}
                    }
                }
            }
            Stmt::Loop { body } => loop {
                match self.block(item, locals, body)? {
                    Flow::Break => break,
                    Flow::Return(r) => return Ok(Flow::Return(r)),
                    Flow::Normal | Flow::Continue => {}
                }
            },
            Stmt::Break => return Ok(Flow::Break),
            Stmt::Continue => return Ok(Flow::Continue),
            Stmt::Return(value) => {
                let v = match value {
                    Some(e) => Some(self.eval(item, locals, e)?),
                    None => None,
                };
                return Ok(Flow::Return(v));
            }
            Stmt::Trap { message } => {
                return Err(Fault::Panic {
                    message: message.clone(),
                });
            }
            Stmt::Eval(e) => {
                self.eval(item, locals, e)?;
            }
            // Collectives run at group level (`collective`).
            Stmt::Barrier | Stmt::Subgroup { .. } => {}
            Stmt::PrivateInit { array, value } => {
                let v = self.eval(item, locals, value)?;
                if let Some(a) = item.private.get_mut(array.0 as usize) {
                    a.fill(v);
                }
            }
            Stmt::PrivateStore {
                array,
                index,
                value,
            } => {
                let v = self.eval(item, locals, value)?;
                let i = self.eval(item, locals, index)?.as_u64();
                let number = self.kernel.shared.len() as u32 + array.0;
                let a = item.private.get_mut(array.0 as usize);
                *array_slot(a, number, i)? = v;
            }
            Stmt::SharedStore {
                array,
                index,
                value,
            } => {
                let v = self.eval(item, locals, value)?;
                let i = self.eval(item, locals, index)?.as_u64();
                *array_slot(self.shared.get_mut(array.0 as usize), array.0, i)? = v;
            }
        }
        Ok(Flow::Normal)
    }

    /// The byte range of element `i` of buffer parameter `param`, checked.
    fn element(&self, param: u32, i: u64) -> Result<std::ops::Range<usize>, Fault> {
        let elem = self.kernel.params[param as usize]
            .scalar_type()
            .size_bytes();
        let bytes = self.args.get(param as usize).map_or(&[][..], Arg::bytes);
        let len = (bytes.len() / elem) as u64;
        if i >= len {
            return Err(Fault::OutOfBounds {
                param,
                index: i,
                len,
            });
        }
        let start = i as usize * elem;
        Ok(start..start + elem)
    }

    fn eval(&mut self, item: &mut Item, locals: &mut [Value], e: &Expr) -> Result<Value, Fault> {
        Ok(match &e.kind {
            ExprKind::Literal(lit) => Value::literal(*lit, e.ty),
            ExprKind::Local(id) => locals[id.0 as usize],
            ExprKind::Param(id) => match self.args.get(id.0 as usize) {
                Some(Arg::Scalar(v)) => *v,
                _ => return Err(Fault::ArgumentMismatch { param: id.0 }),
            },
            ExprKind::Load { buffer, index } => {
                let i = self.eval(item, locals, index)?.as_u64();
                let range = self.element(buffer.0, i)?;
                let elem = self.kernel.params[buffer.0 as usize].scalar_type();
                Value::read_from(elem, &self.args[buffer.0 as usize].bytes()[range])
            }
            ExprKind::Len(buffer) => {
                let elem = self.kernel.params[buffer.0 as usize].scalar_type();
                let bytes = self
                    .args
                    .get(buffer.0 as usize)
                    .map_or(0, |a| a.bytes().len());
                Value::U64((bytes / elem.size_bytes()) as u64)
            }
            ExprKind::Builtin(b) => Value::U64(self.builtin(item, *b)),
            ExprKind::Unary { op, operand } => value::unary(*op, self.eval(item, locals, operand)?),
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.eval(item, locals, lhs)?;
                match op {
                    // Short-circuiting: the right side runs only when it decides.
                    BinaryOp::And if !l.is_true() => l,
                    BinaryOp::Or if l.is_true() => l,
                    BinaryOp::And | BinaryOp::Or => self.eval(item, locals, rhs)?,
                    _ => {
                        let r = self.eval(item, locals, rhs)?;
                        value::binary(*op, l, r)?
                    }
                }
            }
            ExprKind::Cast(operand) => self.eval(item, locals, operand)?.cast(e.ty),
            ExprKind::Math { func, args } => {
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.eval(item, locals, a)?);
                }
                value::math(*func, &values, e.ty)?
            }
            ExprKind::Call { function, args } => {
                let f = &self.kernel.functions[function.0 as usize];
                let mut frame: Vec<Value> = f.locals.iter().map(|l| Value::zero(l.ty)).collect();
                for (k, a) in args.iter().enumerate() {
                    frame[k] = self.eval(item, locals, a)?;
                }
                match self.block(item, &mut frame, &f.body)? {
                    Flow::Return(Some(v)) => v,
                    // The validator makes every path of a helper end in a `return`.
                    _ => Value::zero(f.ret),
                }
            }
            ExprKind::Atomic {
                op,
                buffer,
                index,
                args,
            } => {
                // As in Rust, `&mut buf[i]` is checked before the operands are evaluated.
                let i = self.eval(item, locals, index)?.as_u64();
                let range = self.element(buffer.0, i)?;
                let mut operands = Vec::with_capacity(2);
                for a in args {
                    operands.push(self.eval(item, locals, a)?);
                }
                let elem = self.kernel.params[buffer.0 as usize].scalar_type();
                let Some(Arg::BufferMut(bytes)) = self.args.get_mut(buffer.0 as usize) else {
                    return Err(Fault::ArgumentMismatch { param: buffer.0 });
                };
                let slot = &mut bytes[range];
                let old = Value::read_from(elem, slot);
                if let Some(new) = rmw(*op, old, &operands) {
                    new.write_to(slot);
                }
                old
            }
            ExprKind::PrivateLoad { array, index } => {
                let i = self.eval(item, locals, index)?.as_u64();
                let number = self.kernel.shared.len() as u32 + array.0;
                *array_slot(item.private.get_mut(array.0 as usize), number, i)?
            }
            ExprKind::SharedLoad { array, index } => {
                let i = self.eval(item, locals, index)?.as_u64();
                *array_slot(self.shared.get_mut(array.0 as usize), array.0, i)?
            }
            ExprKind::SharedAtomic {
                op,
                array,
                index,
                args,
            } => {
                let i = self.eval(item, locals, index)?.as_u64();
                array_slot(self.shared.get_mut(array.0 as usize), array.0, i)?;
                let mut operands = Vec::with_capacity(2);
                for a in args {
                    operands.push(self.eval(item, locals, a)?);
                }
                let slot = array_slot(self.shared.get_mut(array.0 as usize), array.0, i)?;
                let old = *slot;
                if let Some(new) = rmw(*op, old, &operands) {
                    *slot = new;
                }
                old
            }
        })
    }

    fn builtin(&self, item: &Item, b: Builtin) -> u64 {
        let (grid, group) = (self.launch.grid, self.launch.group);
        match b {
            Builtin::GlobalId(a) => item.gid[a.index()],
            Builtin::GlobalSize(a) => grid[a.index()],
            Builtin::GroupId(a) => item.gid[a.index()] / group[a.index()],
            Builtin::LocalId(a) => item.gid[a.index()] % group[a.index()],
            Builtin::GroupSize(a) => group[a.index()],
            Builtin::NumGroups(a) => grid[a.index()].div_ceil(group[a.index()]),
            Builtin::SubgroupSize => self.launch.subgroup_size,
            Builtin::SubgroupLane => item.lane,
        }
    }
}

/// What an atomic stores, given the element's old value and its operands (`None`: nothing,
/// a compare-exchange that found another value).
fn rmw(op: AtomicOp, old: Value, operands: &[Value]) -> Option<Value> {
    let v = operands.first().copied().unwrap_or(old);
    if op == AtomicOp::CompareExchange {
        let new = operands.get(1).copied().unwrap_or(old);
        return old.same_bits(v).then_some(new);
    }
    Some(value::atomic(op, old, v))
}

/// Element `i` of an array (number `number` in faults), checked.
fn array_slot(array: Option<&mut Vec<Value>>, number: u32, i: u64) -> Result<&mut Value, Fault> {
    let array = array.ok_or(Fault::ArrayOutOfBounds {
        array: number,
        index: i,
        len: 0,
    })?;
    let len = array.len() as u64;
    usize::try_from(i)
        .ok()
        .and_then(|i| array.get_mut(i))
        .ok_or(Fault::ArrayOutOfBounds {
            array: number,
            index: i,
            len,
        })
}

/// An integer loop bound as an `i128`, wide enough that counting past `MAX` cannot wrap.
fn wide(v: Value) -> i128 {
    match v {
        Value::I32(x) => x.into(),
        Value::U32(x) => x.into(),
        Value::I64(x) => x.into(),
        Value::U64(x) => x.into(),
        other => i128::from(other.as_u64()),
    }
}

/// A loop counter as a value of the loop variable's type (it lies in the type's range).
fn narrow(v: i128, ty: ScalarType) -> Value {
    match ty {
        ScalarType::I32 => Value::I32(v as i32),
        ScalarType::U32 => Value::U32(v as u32),
        ScalarType::I64 => Value::I64(v as i64),
        _ => Value::U64(v as u64),
    }
}
