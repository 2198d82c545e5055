//! Random kernels for differential testing (issue #14): a generator of valid IR kernels and
//! of their inputs, each determined by one seed, so that any disagreement reproduces from
//! its number.
//!
//! A kernel reads six input buffers (one per numeric type, edge values among the elements:
//! 0, -0.0, subnormals, NaN, infinities, MIN, MAX), two scalars, and writes six output buffers
//! (`SLOTS` elements per work item) and two accumulators through integer atomics. Its body is
//! nested control flow: `let`s and assignments of expressions of every type (arithmetic,
//! casts, shifts, comparisons, the math functions that are exact in IEEE or defined bit for
//! bit by the language), `if`/`else`, counted `for` loops (inclusive or not, with or without
//! `step_by`), `while` and `loop` with counters, `break`, `continue`, early `return`, and a
//! few operations that can fault (an unguarded divisor, an index out of bounds).
//!
//! What it leaves out, and why:
//! - Transcendental functions (`exp`, `sin`, ...): kernels get the math library linked in by
//!   the `#[kernel]` macro, which a generator working on the IR at run time cannot call; the
//!   library's bits are checked by the conformance case `math_library`.
//! - `to_bits` of a computed float: a NaN's sign and payload are not defined by Rust, and a
//!   computed NaN's bits would flow into integers. `to_bits` and `copysign`'s sign source
//!   take values loaded from the inputs, whose NaNs are quiet and fixed.
//! - `min`/`max` of floats: of `0.0` and `-0.0`, Rust may return either.
//! - Atomics whose old value is used, float atomics, and different operations on one
//!   element: all depend on the order in which items run.
//! - Cooperative kernels (barriers, shared arrays, subgroups): left for later.

use crate::random::Rng;
use dotcompute::ir::interpret::Value;
use dotcompute::ir::{
    Access, AtomicOp, BinaryOp, BoundsChecks, Builtin, Expr, ExprKind, Kernel, Literal, Local,
    LocalId, MathFn, Param, ParamId, ParamKind, ScalarType, Stmt, UnaryOp,
};

/// Output elements per work item in each output buffer.
pub const SLOTS: u64 = 4;
/// Elements of each accumulator buffer.
pub const ACCUMULATORS: u64 = 8;
/// The numeric types, in the order of the input and output buffers.
pub const TYPES: [ScalarType; 6] = [
    ScalarType::I32,
    ScalarType::U32,
    ScalarType::I64,
    ScalarType::U64,
    ScalarType::F32,
    ScalarType::F64,
];
/// Extra elements of each input buffer beyond one per item (loads read `gid + k`, `k < 4`).
const INPUT_SLACK: u64 = 4;
/// Parameter index of the first output buffer.
const FIRST_OUTPUT: u32 = 6;
/// Parameter index of the `u32` accumulator; the `i32` one follows.
const ACC_U32: u32 = 12;
/// Parameter index of the `u32` scalar; the `f32` one follows.
const SCALAR_U32: u32 = 14;

/// One buffer's elements.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// `i32` elements.
    I32(Vec<i32>),
    /// `u32` elements.
    U32(Vec<u32>),
    /// `i64` elements.
    I64(Vec<i64>),
    /// `u64` elements.
    U64(Vec<u64>),
    /// `f32` elements.
    F32(Vec<f32>),
    /// `f64` elements.
    F64(Vec<f64>),
}

impl Data {
    /// The elements' bytes, as the interpreter takes them.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Data::I32(v) => bytemuck::cast_slice(v).to_vec(),
            Data::U32(v) => bytemuck::cast_slice(v).to_vec(),
            Data::I64(v) => bytemuck::cast_slice(v).to_vec(),
            Data::U64(v) => bytemuck::cast_slice(v).to_vec(),
            Data::F32(v) => bytemuck::cast_slice(v).to_vec(),
            Data::F64(v) => bytemuck::cast_slice(v).to_vec(),
        }
    }

    /// The element type.
    pub fn elem(&self) -> ScalarType {
        match self {
            Data::I32(_) => ScalarType::I32,
            Data::U32(_) => ScalarType::U32,
            Data::I64(_) => ScalarType::I64,
            Data::U64(_) => ScalarType::U64,
            Data::F32(_) => ScalarType::F32,
            Data::F64(_) => ScalarType::F64,
        }
    }

    /// `self` with the element type's bytes replaced by `bytes` (which must be as long).
    pub fn with_bytes(&self, bytes: &[u8]) -> Data {
        fn cast<T: bytemuck::Pod>(bytes: &[u8]) -> Vec<T> {
            bytes
                .chunks_exact(size_of::<T>())
                .map(bytemuck::pod_read_unaligned)
                .collect()
        }
        match self {
            Data::I32(_) => Data::I32(cast(bytes)),
            Data::U32(_) => Data::U32(cast(bytes)),
            Data::I64(_) => Data::I64(cast(bytes)),
            Data::U64(_) => Data::U64(cast(bytes)),
            Data::F32(_) => Data::F32(cast(bytes)),
            Data::F64(_) => Data::F64(cast(bytes)),
        }
    }
}

/// A generated kernel with the launch's inputs.
#[derive(Clone, Debug)]
pub struct RandomKernel {
    /// The seed it was generated from.
    pub seed: u64,
    /// The kernel (valid: [`dotcompute::ir::validate`] accepts it).
    pub kernel: Kernel,
    /// Work items of the (one-dimensional) launch.
    pub items: u64,
    /// The buffers' initial contents, one per buffer parameter, in parameter order.
    pub buffers: Vec<Data>,
    /// The `u32` scalar argument.
    pub scalar_u32: u32,
    /// The `f32` scalar argument.
    pub scalar_f32: f32,
}

impl RandomKernel {
    /// The scalar arguments as the interpreter takes them, in parameter order.
    pub fn scalars(&self) -> [Value; 2] {
        [Value::U32(self.scalar_u32), Value::F32(self.scalar_f32)]
    }
}

/// The kernel and inputs of `seed`.
pub fn generate(seed: u64) -> RandomKernel {
    let mut rng = Rng::new(seed ^ 0x005e_ed0f_d07c);
    let items = 1 + rng.next_u64() % 150;
    let mut params = Vec::new();
    for (prefix, access) in [("in", Access::Read), ("out", Access::ReadWrite)] {
        for t in TYPES {
            params.push(Param {
                name: format!("{prefix}_{t}"),
                kind: ParamKind::Buffer { elem: t, access },
            });
        }
    }
    for t in [ScalarType::U32, ScalarType::I32] {
        params.push(Param {
            name: format!("acc_{t}"),
            kind: ParamKind::Buffer {
                elem: t,
                access: Access::ReadWrite,
            },
        });
    }
    params.push(Param {
        name: "s_u32".into(),
        kind: ParamKind::Scalar(ScalarType::U32),
    });
    params.push(Param {
        name: "s_f32".into(),
        kind: ParamKind::Scalar(ScalarType::F32),
    });
    let mut buffers = Vec::new();
    for t in TYPES {
        buffers.push(random_data(&mut rng, t, (items + INPUT_SLACK) as usize));
    }
    for t in TYPES {
        buffers.push(random_data(&mut rng, t, (items * SLOTS) as usize));
    }
    buffers.push(Data::U32(
        (0..ACCUMULATORS).map(|_| rng.next_u64() as u32).collect(),
    ));
    buffers.push(Data::I32(
        (0..ACCUMULATORS).map(|_| rng.next_u64() as i32).collect(),
    ));
    let scalar_u32 = edge_or_random_u64(&mut rng, ScalarType::U32) as u32;
    let scalar_f32 = random_f32(&mut rng);
    let mut g = Generator {
        rng,
        locals: Vec::new(),
        scopes: vec![Vec::new()],
        loop_depth: 0,
        statements: 0,
        max_statements: 0,
    };
    g.max_statements = 6 + (g.rng.next_u64() % 30) as u32;
    let mut body = Vec::new();
    while g.statements < g.max_statements {
        let s = g.statement(3);
        body.push(s);
    }
    let kernel = Kernel {
        name: format!("random_{seed}"),
        params,
        locals: g.locals,
        body,
        functions: Vec::new(),
        bounds_checks: BoundsChecks::Checked,
        shared: Vec::new(),
        private: Vec::new(),
    };
    RandomKernel {
        seed,
        kernel,
        items,
        buffers,
        scalar_u32,
        scalar_f32,
    }
}

fn edge_or_random_u64(rng: &mut Rng, t: ScalarType) -> u64 {
    let edges: &[i128] = match t {
        ScalarType::I32 => &[
            0,
            1,
            -1,
            i32::MIN as i128,
            i32::MAX as i128,
            7,
            -8,
            31,
            32,
            33,
        ],
        ScalarType::U32 => &[0, 1, u32::MAX as i128, 31, 32, 33, 0x8000_0000, 3],
        ScalarType::I64 => &[0, 1, -1, i64::MIN as i128, i64::MAX as i128, 63, 64, -65],
        _ => &[0, 1, u64::MAX as i128, 63, 64, 65, 1 << 63, 3],
    };
    match rng.next_u64() % 4 {
        0 => edges[(rng.next_u64() % edges.len() as u64) as usize] as u64,
        1 => rng.next_u64() % 100,
        2 => (rng.next_u64() % 100).wrapping_neg(),
        _ => rng.next_u64(),
    }
}

const F32_EDGES: [f32; 14] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    f32::MIN_POSITIVE,
    1e-40,
    f32::MAX,
    f32::MIN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NAN,
    3.0,
    0.1,
];
const F64_EDGES: [f64; 14] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    f64::MIN_POSITIVE,
    1e-310,
    f64::MAX,
    f64::MIN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    3.0,
    0.1,
];

/// A quiet NaN for a signalling one (devices may quiet them on a load).
fn quiet32(v: f32) -> f32 {
    if v.is_nan() {
        f32::from_bits(v.to_bits() | 0x0040_0000)
    } else {
        v
    }
}

fn quiet64(v: f64) -> f64 {
    if v.is_nan() {
        f64::from_bits(v.to_bits() | 0x0008_0000_0000_0000)
    } else {
        v
    }
}

fn random_f32(rng: &mut Rng) -> f32 {
    match rng.next_u64() % 3 {
        0 => F32_EDGES[(rng.next_u64() % F32_EDGES.len() as u64) as usize],
        1 => rng.f32_in(-100.0, 100.0),
        _ => quiet32(f32::from_bits(rng.next_u64() as u32)),
    }
}

fn random_f64(rng: &mut Rng) -> f64 {
    match rng.next_u64() % 3 {
        0 => F64_EDGES[(rng.next_u64() % F64_EDGES.len() as u64) as usize],
        1 => rng.f64_in(-100.0, 100.0),
        _ => quiet64(f64::from_bits(rng.next_u64())),
    }
}

fn random_data(rng: &mut Rng, t: ScalarType, n: usize) -> Data {
    match t {
        ScalarType::I32 => Data::I32((0..n).map(|_| edge_or_random_u64(rng, t) as i32).collect()),
        ScalarType::U32 => Data::U32((0..n).map(|_| edge_or_random_u64(rng, t) as u32).collect()),
        ScalarType::I64 => Data::I64((0..n).map(|_| edge_or_random_u64(rng, t) as i64).collect()),
        ScalarType::U64 => Data::U64((0..n).map(|_| edge_or_random_u64(rng, t)).collect()),
        ScalarType::F32 => Data::F32((0..n).map(|_| random_f32(rng)).collect()),
        _ => Data::F64((0..n).map(|_| random_f64(rng)).collect()),
    }
}

struct Generator {
    rng: Rng,
    locals: Vec<Local>,
    /// The locals visible at this point, innermost scope last.
    scopes: Vec<Vec<LocalId>>,
    loop_depth: u32,
    statements: u32,
    max_statements: u32,
}

fn lit(ty: ScalarType, l: Literal) -> Expr {
    Expr::literal(ty, l)
}

fn int(ty: ScalarType, v: i128) -> Expr {
    lit(ty, Literal::Int(v))
}

fn bin(op: BinaryOp, ty: ScalarType, lhs: Expr, rhs: Expr) -> Expr {
    Expr {
        ty,
        kind: ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
    }
}

fn math(func: MathFn, ty: ScalarType, args: Vec<Expr>) -> Expr {
    Expr {
        ty,
        kind: ExprKind::Math { func, args },
    }
}

fn cast(ty: ScalarType, e: Expr) -> Expr {
    Expr {
        ty,
        kind: ExprKind::Cast(Box::new(e)),
    }
}

fn gid() -> Expr {
    Expr {
        ty: ScalarType::U64,
        kind: ExprKind::Builtin(Builtin::GlobalId(dotcompute::ir::Axis::X)),
    }
}

fn type_index(t: ScalarType) -> u32 {
    TYPES.iter().position(|&x| x == t).unwrap_or(0) as u32
}

impl Generator {
    fn below(&mut self, n: u64) -> u64 {
        self.rng.next_u64() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn numeric(&mut self) -> ScalarType {
        TYPES[self.below(TYPES.len() as u64) as usize]
    }

    fn int_type(&mut self) -> ScalarType {
        TYPES[self.below(4) as usize]
    }

    fn visible(&self, ty: ScalarType, mutable_only: bool) -> Vec<LocalId> {
        self.scopes
            .iter()
            .flatten()
            .copied()
            .filter(|l| {
                let local = &self.locals[l.0 as usize];
                local.ty == ty && (local.mutable || !mutable_only)
            })
            .collect()
    }

    fn new_local(&mut self, ty: ScalarType, mutable: bool) -> LocalId {
        let id = LocalId(self.locals.len() as u32);
        self.locals.push(Local {
            name: format!("v{}", id.0),
            ty,
            mutable,
        });
        id
    }

    fn declare(&mut self, id: LocalId) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(id);
        }
    }

    fn literal(&mut self, ty: ScalarType) -> Expr {
        match ty {
            ScalarType::F32 => {
                let v = random_f32(&mut self.rng);
                lit(ty, Literal::Float(f64::from(v)))
            }
            ScalarType::F64 => {
                let v = random_f64(&mut self.rng);
                lit(ty, Literal::Float(v))
            }
            ScalarType::Bool => lit(ty, Literal::Bool(self.chance(50))),
            _ => {
                let bits = edge_or_random_u64(&mut self.rng, ty);
                let v = match ty {
                    ScalarType::I32 => i128::from(bits as i32),
                    ScalarType::U32 => i128::from(bits as u32),
                    ScalarType::I64 => i128::from(bits as i64),
                    _ => i128::from(bits),
                };
                int(ty, v)
            }
        }
    }

    /// `in_T[gid + k]`: always in bounds.
    fn load(&mut self, ty: ScalarType) -> Expr {
        let k = self.below(INPUT_SLACK);
        Expr {
            ty,
            kind: ExprKind::Load {
                buffer: ParamId(type_index(ty)),
                index: Box::new(bin(
                    BinaryOp::Add,
                    ScalarType::U64,
                    gid(),
                    int(ScalarType::U64, i128::from(k)),
                )),
            },
        }
    }

    fn leaf(&mut self, ty: ScalarType) -> Expr {
        let locals = self.visible(ty, false);
        match self.below(10) {
            0..=2 if !locals.is_empty() => {
                let l = locals[self.below(locals.len() as u64) as usize];
                Expr {
                    ty,
                    kind: ExprKind::Local(l),
                }
            }
            3..=5 => self.load(ty),
            6 if ty == ScalarType::U32 => Expr {
                ty,
                kind: ExprKind::Param(ParamId(SCALAR_U32)),
            },
            6 if ty == ScalarType::F32 => Expr {
                ty,
                kind: ExprKind::Param(ParamId(SCALAR_U32 + 1)),
            },
            7 => cast(ty, gid()),
            _ => self.literal(ty),
        }
    }

    /// A divisor that is never zero and (signed) never -1: `(e & MAX) | 1`, `e | 1`. One in
    /// twenty is left as it is, and may fault.
    fn divisor(&mut self, ty: ScalarType, depth: u32) -> Expr {
        let e = self.expr(ty, depth);
        if ty.is_float() || self.chance(5) {
            return e;
        }
        let masked = if ty.is_signed() {
            let max = ty.int_range().map_or(0, |(_, hi)| hi);
            bin(BinaryOp::BitAnd, ty, e, int(ty, max))
        } else {
            e
        };
        bin(BinaryOp::BitOr, ty, masked, int(ty, 1))
    }

    fn expr(&mut self, ty: ScalarType, depth: u32) -> Expr {
        if depth == 0 || self.chance(25) {
            return self.leaf(ty);
        }
        let d = depth - 1;
        let float = ty.is_float();
        match self.below(12) {
            0..=2 => {
                let op = [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul][self.below(3) as usize];
                let (l, r) = (self.expr(ty, d), self.expr(ty, d));
                bin(op, ty, l, r)
            }
            3 => {
                let op = if self.chance(50) {
                    BinaryOp::Div
                } else {
                    BinaryOp::Rem
                };
                let l = self.expr(ty, d);
                let r = self.divisor(ty, d);
                bin(op, ty, l, r)
            }
            4 if !float => {
                let op = [
                    BinaryOp::BitAnd,
                    BinaryOp::BitOr,
                    BinaryOp::BitXor,
                    BinaryOp::Shl,
                    BinaryOp::Shr,
                ][self.below(5) as usize];
                let l = self.expr(ty, d);
                let rt = if matches!(op, BinaryOp::Shl | BinaryOp::Shr) {
                    self.int_type()
                } else {
                    ty
                };
                let r = self.expr(rt, d);
                bin(op, ty, l, r)
            }
            5 => {
                let op = if float || self.chance(50) {
                    UnaryOp::Neg
                } else {
                    UnaryOp::Not
                };
                let operand = self.expr(ty, d);
                Expr {
                    ty,
                    kind: ExprKind::Unary {
                        op,
                        operand: Box::new(operand),
                    },
                }
            }
            6 | 7 => {
                let from = self.numeric();
                let e = self.expr(from, d);
                cast(ty, e)
            }
            8 | 9 if float => self.float_math(ty, d),
            8 | 9 => self.int_math(ty, d),
            _ => self.leaf(ty),
        }
    }

    fn float_math(&mut self, ty: ScalarType, d: u32) -> Expr {
        use MathFn::*;
        let unary = [Sqrt, Abs, Floor, Ceil, Round, Trunc, Recip];
        match self.below(6) {
            0..=2 => {
                let f = unary[self.below(unary.len() as u64) as usize];
                let x = self.expr(ty, d);
                math(f, ty, vec![x])
            }
            3 => {
                let args = vec![self.expr(ty, d), self.expr(ty, d), self.expr(ty, d)];
                math(MulAdd, ty, args)
            }
            4 => {
                // The sign comes from an input (a computed NaN's sign is not defined).
                let x = self.expr(ty, d);
                let s = self.load(ty);
                math(CopySign, ty, vec![x, s])
            }
            _ => {
                let bits = if ty == ScalarType::F32 {
                    ScalarType::U32
                } else {
                    ScalarType::U64
                };
                let u = self.expr(bits, d);
                math(FromBits, ty, vec![u])
            }
        }
    }

    fn int_math(&mut self, ty: ScalarType, d: u32) -> Expr {
        use MathFn::*;
        match self.below(6) {
            0 => {
                let f = if self.chance(50) { Min } else { Max };
                let args = vec![self.expr(ty, d), self.expr(ty, d)];
                math(f, ty, args)
            }
            1 if ty.is_signed() => {
                let x = self.expr(ty, d);
                math(Abs, ty, vec![x])
            }
            2 if ty == ScalarType::U32 => {
                let f = [CountOnes, LeadingZeros, TrailingZeros][self.below(3) as usize];
                let from = self.int_type();
                let x = self.expr(from, d);
                math(f, ty, vec![x])
            }
            3 => {
                let f = if self.chance(50) {
                    RotateLeft
                } else {
                    RotateRight
                };
                let x = self.expr(ty, d);
                let n = self.expr(ScalarType::U32, d);
                math(f, ty, vec![x, n])
            }
            4 if matches!(ty, ScalarType::U32 | ScalarType::U64) => {
                // `to_bits` of an input only (see the module's documentation).
                let float = if ty == ScalarType::U32 {
                    ScalarType::F32
                } else {
                    ScalarType::F64
                };
                let x = self.load(float);
                math(ToBits, ty, vec![x])
            }
            _ => {
                let lo = self.literal(ty);
                let hi = self.literal(ty);
                let (lo, hi) = match (&lo.kind, &hi.kind) {
                    (ExprKind::Literal(Literal::Int(a)), ExprKind::Literal(Literal::Int(b)))
                        if a > b =>
                    {
                        (hi, lo)
                    }
                    _ => (lo, hi),
                };
                let x = self.expr(ty, d);
                math(Clamp, ty, vec![x, lo, hi])
            }
        }
    }

    fn condition(&mut self, depth: u32) -> Expr {
        match self.below(8) {
            0 if depth > 0 => {
                let op = if self.chance(50) {
                    BinaryOp::And
                } else {
                    BinaryOp::Or
                };
                let (l, r) = (self.condition(depth - 1), self.condition(depth - 1));
                bin(op, ScalarType::Bool, l, r)
            }
            1 if depth > 0 => {
                let c = self.condition(depth - 1);
                Expr {
                    ty: ScalarType::Bool,
                    kind: ExprKind::Unary {
                        op: UnaryOp::Not,
                        operand: Box::new(c),
                    },
                }
            }
            2 => {
                let ty = if self.chance(50) {
                    ScalarType::F32
                } else {
                    ScalarType::F64
                };
                let f =
                    [MathFn::IsNan, MathFn::IsFinite, MathFn::IsInfinite][self.below(3) as usize];
                let x = self.expr(ty, 2);
                math(f, ScalarType::Bool, vec![x])
            }
            _ => {
                let ty = self.numeric();
                let op = [
                    BinaryOp::Eq,
                    BinaryOp::Ne,
                    BinaryOp::Lt,
                    BinaryOp::Le,
                    BinaryOp::Gt,
                    BinaryOp::Ge,
                ][self.below(6) as usize];
                let (l, r) = (self.expr(ty, 2), self.expr(ty, 2));
                bin(op, ScalarType::Bool, l, r)
            }
        }
    }

    fn block(&mut self, depth: u32) -> Vec<Stmt> {
        self.scopes.push(Vec::new());
        let n = 1 + self.below(4);
        let mut out = Vec::new();
        for _ in 0..n {
            if self.statements >= self.max_statements + 10 {
                break;
            }
            out.push(self.statement(depth));
        }
        self.scopes.pop();
        out
    }

    /// `out_T[gid * SLOTS + slot] = value`; rarely an index computed from the data, which may
    /// be out of bounds.
    fn store(&mut self) -> Stmt {
        let ty = self.numeric();
        let value = self.expr(ty, 3);
        let index = if self.chance(2) {
            let raw = self.expr(ScalarType::U64, 1);
            bin(
                BinaryOp::Rem,
                ScalarType::U64,
                raw,
                int(ScalarType::U64, 1 << 10),
            )
        } else {
            let slot = self.below(SLOTS);
            bin(
                BinaryOp::Add,
                ScalarType::U64,
                bin(
                    BinaryOp::Mul,
                    ScalarType::U64,
                    gid(),
                    int(ScalarType::U64, i128::from(SLOTS)),
                ),
                int(ScalarType::U64, i128::from(slot)),
            )
        };
        Stmt::Store {
            buffer: ParamId(FIRST_OUTPUT + type_index(ty)),
            index,
            value,
        }
    }

    /// A counter `c` declared here, and a loop that runs at most `k` times: `while c < k {
    /// c += 1; body }` or `loop { if c >= k { break; } c += 1; body }`.
    fn counted_loop(&mut self, depth: u32) -> Vec<Stmt> {
        let c = self.new_local(ScalarType::U32, true);
        let k = int(ScalarType::U32, i128::from(self.below(5)));
        let counter = Expr {
            ty: ScalarType::U32,
            kind: ExprKind::Local(c),
        };
        let step = Stmt::Assign {
            local: c,
            value: bin(
                BinaryOp::Add,
                ScalarType::U32,
                counter.clone(),
                int(ScalarType::U32, 1),
            ),
        };
        self.loop_depth += 1;
        let mut body = self.block(depth - 1);
        self.loop_depth -= 1;
        let lp = if self.chance(50) {
            body.insert(0, step);
            Stmt::While {
                cond: bin(BinaryOp::Lt, ScalarType::Bool, counter, k),
                body,
            }
        } else {
            body.insert(0, step);
            body.insert(
                0,
                Stmt::If {
                    cond: bin(BinaryOp::Ge, ScalarType::Bool, counter, k),
                    then_body: vec![Stmt::Break],
                    else_body: Vec::new(),
                },
            );
            Stmt::Loop { body }
        };
        let init = Stmt::Let {
            local: c,
            init: Some(int(ScalarType::U32, 0)),
        };
        // Not declared for later statements: the caller puts both in a block of their own.
        vec![init, lp]
    }

    fn for_loop(&mut self, depth: u32) -> Stmt {
        let ty = self.int_type();
        let var = self.new_local(ty, false);
        let base: i128 = if ty.is_signed() {
            self.below(5) as i128 - 2
        } else {
            self.below(3) as i128
        };
        let start = int(ty, base);
        let end = int(ty, base + self.below(5) as i128);
        let step = self
            .chance(30)
            .then(|| int(ScalarType::U64, 1 + self.below(3) as i128));
        let inclusive = self.chance(30);
        self.scopes.push(vec![var]);
        self.loop_depth += 1;
        let body = self.block(depth - 1);
        self.loop_depth -= 1;
        self.scopes.pop();
        Stmt::For {
            var,
            start,
            end,
            inclusive,
            step,
            body,
        }
    }

    fn statement(&mut self, depth: u32) -> Stmt {
        self.statements += 1;
        let pick = self.below(20);
        match pick {
            0..=3 => {
                let ty = self.numeric();
                let mutable = self.chance(70);
                let init = self.expr(ty, 3);
                let id = self.new_local(ty, mutable);
                self.declare(id);
                Stmt::Let {
                    local: id,
                    init: Some(init),
                }
            }
            4..=6 => {
                let ty = self.numeric();
                let targets = self.visible(ty, true);
                if targets.is_empty() {
                    return self.store();
                }
                let local = targets[self.below(targets.len() as u64) as usize];
                let value = self.expr(ty, 3);
                Stmt::Assign { local, value }
            }
            7..=10 => self.store(),
            11 | 12 if depth > 0 => {
                let cond = self.condition(1);
                let then_body = self.block(depth - 1);
                let else_body = if self.chance(50) {
                    self.block(depth - 1)
                } else {
                    Vec::new()
                };
                Stmt::If {
                    cond,
                    then_body,
                    else_body,
                }
            }
            13 if depth > 0 => self.for_loop(depth),
            14 if depth > 0 => {
                // The counter's `let` and the loop, in a block of their own.
                let stmts = self.counted_loop(depth);
                Stmt::If {
                    cond: lit(ScalarType::Bool, Literal::Bool(true)),
                    then_body: stmts,
                    else_body: Vec::new(),
                }
            }
            15 if self.loop_depth > 0 => {
                let cond = self.condition(1);
                let leave = if self.chance(50) {
                    Stmt::Break
                } else {
                    Stmt::Continue
                };
                Stmt::If {
                    cond,
                    then_body: vec![leave],
                    else_body: Vec::new(),
                }
            }
            16 => {
                let cond = self.condition(1);
                Stmt::If {
                    cond,
                    then_body: vec![Stmt::Return(None)],
                    else_body: Vec::new(),
                }
            }
            17 => {
                let (buffer, ty) = if self.chance(50) {
                    (ACC_U32, ScalarType::U32)
                } else {
                    (ACC_U32 + 1, ScalarType::I32)
                };
                // One operation per element: different operations on one element do not
                // commute (an `and` then an `add` is not an `add` then an `and`).
                let k = self.below(ACCUMULATORS);
                let op = [
                    AtomicOp::Add,
                    AtomicOp::Sub,
                    AtomicOp::Min,
                    AtomicOp::Max,
                    AtomicOp::And,
                    AtomicOp::Or,
                    AtomicOp::Xor,
                ][(k % 7) as usize];
                let index = int(ScalarType::U64, i128::from(k));
                let value = self.expr(ty, 2);
                Stmt::Eval(Expr {
                    ty,
                    kind: ExprKind::Atomic {
                        op,
                        buffer: ParamId(buffer),
                        index: Box::new(index),
                        args: vec![value],
                    },
                })
            }
            _ => self.store(),
        }
    }
}
