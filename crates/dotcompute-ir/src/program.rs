//! The kernel IR: a small, typed, structured program.
//!
//! A [`Kernel`] is what every backend compiles: the macro builds it from Rust source, the
//! validator checks it, and the emitters turn it into CPU Rust, CUDA C or WGSL. Statements are
//! structured (no gotos) so that every target can express them directly. Locals are numbered per
//! function body; a [`Stmt::Let`] declares each exactly once.
//!
//! Cooperative kernels declare work-group [`SharedArray`]s and synchronise with
//! [`Stmt::Barrier`]; the rules that make a barrier well defined (every item of a group
//! reaches it) are checked by [`crate::cooperative`], which holds [`Stmt::Subgroup`] to the
//! same rules. Later versions add variants to [`Stmt`], [`ExprKind`] and [`Builtin`]; nothing
//! here assumes the set is closed.

use crate::types::{Access, ParamKind, ScalarType};
use serde::{Deserialize, Serialize};

/// Version of the IR's serialized form; part of every kernel hash.
pub const IR_FORMAT_VERSION: u32 = 3;

/// Index of a kernel parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ParamId(pub u32);

/// Index of a local variable in the enclosing body's `locals`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LocalId(pub u32);

/// Index of a work-group shared array in [`Kernel::shared`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SharedId(pub u32);

/// The most bytes a private array may hold: it lives in registers or on the stack of the
/// thread running the item.
pub const MAX_PRIVATE_ARRAY_BYTES: u64 = 16 * 1024;

/// Index of a private array in [`Kernel::private`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PrivateId(pub u32);

/// Index of a helper function in [`Kernel::functions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FunctionId(pub u32);

/// Whether buffer accesses are bounds checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BoundsChecks {
    /// Every access is checked; an out-of-bounds access is a reported fault.
    Checked,
    /// `#[kernel(unchecked)]`: accesses are not checked; the launch is `unsafe`.
    Unchecked,
}

/// A kernel: the unit every backend compiles and launches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Kernel {
    /// The kernel's name (the Rust function's name).
    pub name: String,
    /// Parameters, in source order.
    pub params: Vec<Param>,
    /// Local variables of the kernel body.
    pub locals: Vec<Local>,
    /// The body, run once per work item.
    pub body: Block,
    /// Helper functions (`#[kernel_fn]`); a function only calls functions before it.
    pub functions: Vec<Function>,
    /// Bounds checking mode.
    pub bounds_checks: BoundsChecks,
    /// Work-group shared arrays: one of each per group, zeroed when the group starts.
    pub shared: Vec<SharedArray>,
    /// Private arrays of the kernel body: one of each per work item (`let mut acc =
    /// [0.0f32; 8];`), filled by [`Stmt::PrivateInit`].
    pub private: Vec<SharedArray>,
}

/// An array with a length fixed at compile time: a work-group shared array
/// (`shared_array::<T, N>()` in kernel source, in [`Kernel::shared`]) or a private array
/// (`[v; N]`, in [`Kernel::private`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SharedArray {
    /// Name in the source.
    pub name: String,
    /// Element type.
    pub elem: ScalarType,
    /// Element count (a compile-time constant, at least 1).
    pub len: u32,
}

impl SharedArray {
    /// Bytes the array takes in a group.
    pub fn bytes(&self) -> u64 {
        u64::from(self.len) * u64::from(self.elem.bits() / 8)
    }
}

/// A kernel parameter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Param {
    /// Name in the source.
    pub name: String,
    /// Scalar or buffer, with its type.
    pub kind: ParamKind,
}

impl Param {
    /// The element type of a buffer parameter, or the type of a scalar one.
    pub fn scalar_type(&self) -> ScalarType {
        match self.kind {
            ParamKind::Scalar(t) | ParamKind::Buffer { elem: t, .. } => t,
        }
    }

    /// `true` for a `&mut [T]` parameter.
    pub fn is_writable_buffer(&self) -> bool {
        matches!(
            self.kind,
            ParamKind::Buffer {
                access: Access::ReadWrite,
                ..
            }
        )
    }
}

/// A local variable.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Local {
    /// Name in the source (several locals may share one after shadowing).
    pub name: String,
    /// Its type.
    pub ty: ScalarType,
    /// Whether it may be assigned after its declaration.
    pub mutable: bool,
}

/// A helper function: scalars in, one scalar out, no buffer access.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Function {
    /// Name in the source.
    pub name: String,
    /// The first `param_count` locals are the parameters, in order.
    pub param_count: u32,
    /// Return type.
    pub ret: ScalarType,
    /// Parameters followed by the body's locals.
    pub locals: Vec<Local>,
    /// The body; every path ends in a `return`.
    pub body: Block,
}

/// A sequence of statements.
pub type Block = Vec<Stmt>;

/// A statement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Stmt {
    /// Declares a local, optionally initialising it.
    Let {
        /// The local declared.
        local: LocalId,
        /// Initial value.
        init: Option<Expr>,
    },
    /// Assigns a local.
    Assign {
        /// Target.
        local: LocalId,
        /// New value.
        value: Expr,
    },
    /// Writes a buffer element.
    Store {
        /// A read-write buffer parameter.
        buffer: ParamId,
        /// Element index (`u64`).
        index: Expr,
        /// Value written.
        value: Expr,
    },
    /// `if cond { then_body } else { else_body }`.
    If {
        /// Condition (`bool`).
        cond: Expr,
        /// Taken when true.
        then_body: Block,
        /// Taken when false (may be empty).
        else_body: Block,
    },
    /// `for var in start..end` (or `..=`), optionally `.step_by(step)`.
    For {
        /// The loop variable, declared by the loop.
        var: LocalId,
        /// First value.
        start: Expr,
        /// Bound (exclusive unless `inclusive`).
        end: Expr,
        /// `..=` instead of `..`.
        inclusive: bool,
        /// Step (`u64`, must not be zero), if `.step_by` was used.
        step: Option<Expr>,
        /// Loop body.
        body: Block,
    },
    /// `while cond { body }`.
    While {
        /// Condition (`bool`).
        cond: Expr,
        /// Loop body.
        body: Block,
    },
    /// `loop { body }`.
    Loop {
        /// Loop body.
        body: Block,
    },
    /// Leaves the innermost loop.
    Break,
    /// Next iteration of the innermost loop.
    Continue,
    /// Ends the work item (kernel, no value) or returns from a helper (with a value).
    Return(Option<Expr>),
    /// `panic!` / a failed `assert!`: the launch reports a fault with this message.
    Trap {
        /// The message.
        message: String,
    },
    /// An expression evaluated for its effect (an atomic whose old value is unused).
    Eval(Expr),
    /// `barrier()`: waits until every work item of the group has reached it; the group's
    /// writes to shared arrays and buffers before it are visible to the group after it.
    Barrier,
    /// `let mut a = [value; N];`: sets every element of a private array.
    PrivateInit {
        /// The array.
        array: PrivateId,
        /// The value of every element.
        value: Expr,
    },
    /// Writes an element of a private array.
    PrivateStore {
        /// The array.
        array: PrivateId,
        /// Element index (`u64`).
        index: Expr,
        /// Value written.
        value: Expr,
    },
    /// Writes an element of a shared array.
    SharedStore {
        /// The array.
        array: SharedId,
        /// Element index (`u64`).
        index: Expr,
        /// Value written.
        value: Expr,
    },
    /// A subgroup operation: every item of the subgroup contributes `value` and receives its
    /// result in `dest`. Like a barrier, every item of the group must reach it (the rules of
    /// [`crate::cooperative`]). Items beyond the grid contribute the
    /// operation's identity ([`SubgroupOp::identity`]). Subgroups are runs of
    /// [`Builtin::SubgroupSize`] consecutive items of the group (by linear local id).
    Subgroup {
        /// What it computes.
        op: SubgroupOp,
        /// The local that receives the result (declared before).
        dest: LocalId,
        /// This item's contribution: a local or a literal (nothing that could fault).
        value: Expr,
        /// For [`SubgroupOp::Shuffle`] and [`SubgroupOp::ShuffleXor`]: the lane read, or the
        /// mask xor-ed with this item's lane (`u64`, a local or a literal; taken modulo the
        /// subgroup size).
        lane: Option<Expr>,
    },
}

/// What a [`Stmt::Subgroup`] computes over the subgroup's values `v[0..size]` for the item in
/// lane `l`. Float results do not depend on the backend: every backend combines in the
/// order given here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SubgroupOp {
    /// The sum of all lanes (wrapping for integers), combined by a butterfly: for
    /// `d = 1, 2, 4, ..`, each lane adds `v[l] + v[l ^ d]`.
    Add,
    /// The least value, by the same butterfly with `min` (the language's `min`).
    Min,
    /// The greatest value, by the same butterfly with `max`.
    Max,
    /// `v[0] + .. + v[l]`: for `d = 1, 2, 4, ..`, lanes `l >= d` take `v[l - d] + v[l]`.
    InclusiveAdd,
    /// `v[0] + .. + v[l - 1]` (0 in lane 0): the inclusive sum of the lane below.
    ExclusiveAdd,
    /// `v[lane % size]` (broadcast when every item names the same lane).
    Shuffle,
    /// `v[l ^ (mask % size)]`.
    ShuffleXor,
    /// Whether any lane's value is true.
    Any,
    /// Whether every lane's value is true.
    All,
}

impl SubgroupOp {
    /// The value an absent item (beyond the grid) contributes, for a value of
    /// type `ty`: 0 for sums (`-0.0` for floats: the identity of IEEE addition, where Rust's
    /// `sum` starts too) and shuffles, the type's largest value for `Min` (+inf for floats),
    /// its smallest for `Max`, `false` for `Any` and `true` for `All`.
    pub fn identity(self, ty: ScalarType) -> Literal {
        match self {
            SubgroupOp::Any => Literal::Bool(false),
            SubgroupOp::All => Literal::Bool(true),
            SubgroupOp::Min | SubgroupOp::Max => {
                let max = self == SubgroupOp::Min;
                if ty.is_float() {
                    Literal::Float(if max {
                        f64::INFINITY
                    } else {
                        f64::NEG_INFINITY
                    })
                } else {
                    match ty.int_range() {
                        Some((lo, hi)) => Literal::Int(if max { hi } else { lo }),
                        None => Literal::Int(0),
                    }
                }
            }
            _ if ty == ScalarType::Bool => Literal::Bool(false),
            SubgroupOp::Add | SubgroupOp::InclusiveAdd | SubgroupOp::ExclusiveAdd
                if ty.is_float() =>
            {
                Literal::Float(-0.0)
            }
            _ if ty.is_float() => Literal::Float(0.0),
            _ => Literal::Int(0),
        }
    }

    /// Whether the operation takes a lane operand.
    pub fn takes_lane(self) -> bool {
        matches!(self, SubgroupOp::Shuffle | SubgroupOp::ShuffleXor)
    }

    /// The kernel language's name of the operation.
    pub fn intrinsic_name(self) -> &'static str {
        match self {
            SubgroupOp::Add => "subgroup_add",
            SubgroupOp::Min => "subgroup_min",
            SubgroupOp::Max => "subgroup_max",
            SubgroupOp::InclusiveAdd => "subgroup_inclusive_add",
            SubgroupOp::ExclusiveAdd => "subgroup_exclusive_add",
            SubgroupOp::Shuffle => "subgroup_shuffle",
            SubgroupOp::ShuffleXor => "subgroup_shuffle_xor",
            SubgroupOp::Any => "subgroup_any",
            SubgroupOp::All => "subgroup_all",
        }
    }
}

/// A typed expression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    /// The expression's type.
    pub ty: ScalarType,
    /// What it computes.
    pub kind: ExprKind,
}

/// A literal value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Literal {
    /// `true` / `false`.
    Bool(bool),
    /// An integer, in the range of the expression's type.
    Int(i128),
    /// A float; for `f32` the value is exactly representable as `f32`.
    Float(f64),
}

/// An index intrinsic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Builtin {
    /// `global_id_*()`: this work item's id in the grid.
    GlobalId(Axis),
    /// `global_size_*()`: the grid's size.
    GlobalSize(Axis),
    /// `group_id_*()`: the id of this work item's group (`global_id / group_size`).
    GroupId(Axis),
    /// `local_id_*()`: the id within the group (`global_id % group_size`).
    LocalId(Axis),
    /// `group_size_*()`: work items per group along an axis.
    GroupSize(Axis),
    /// `num_groups_*()`: groups along an axis (the grid's size divided by the group's,
    /// rounded up).
    NumGroups(Axis),
    /// `subgroup_size()`: items per subgroup on this device (a power of two).
    SubgroupSize,
    /// `subgroup_lane()`: this item's lane in its subgroup (its linear local id modulo the
    /// subgroup size).
    SubgroupLane,
}

/// A grid axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Axis {
    /// The first axis.
    X,
    /// The second axis.
    Y,
    /// The third axis.
    Z,
}

impl Axis {
    /// 0, 1 or 2.
    pub fn index(self) -> usize {
        match self {
            Axis::X => 0,
            Axis::Y => 1,
            Axis::Z => 2,
        }
    }

    /// `x`, `y` or `z`.
    pub fn letter(self) -> char {
        match self {
            Axis::X => 'x',
            Axis::Y => 'y',
            Axis::Z => 'z',
        }
    }
}

/// A unary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UnaryOp {
    /// `-x`, wrapping on integers (on unsigned ones: `wrapping_neg`).
    Neg,
    /// `!x`: bitwise on integers, logical on `bool`.
    Not,
}

/// A binary operator. Integer `+ - *` wrap; shift amounts are masked to the bit width; integer
/// `/` and `%` by zero (and `MIN / -1`) are faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `<<`
    Shl,
    /// `>>` (arithmetic on signed integers)
    Shr,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&` (short-circuit)
    And,
    /// `||` (short-circuit)
    Or,
}

impl BinaryOp {
    /// The Rust operator token.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "^",
            BinaryOp::Shl => "<<",
            BinaryOp::Shr => ">>",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::And => "&&",
            BinaryOp::Or => "||",
        }
    }

    /// `true` for the six comparisons (result `bool`, operands of one type).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        )
    }
}

/// A math function: the float methods of `f32`/`f64` and the integer methods the language
/// allows. Receiver first: `x.atan2(y)` is `Atan2` with arguments `[x, y]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(missing_docs)] // each variant is the Rust method of the same name
pub enum MathFn {
    Sqrt,
    Exp,
    Exp2,
    Ln,
    Log2,
    Log10,
    Sin,
    Cos,
    Tan,
    Tanh,
    Sinh,
    Cosh,
    Asin,
    Acos,
    Atan,
    Atan2,
    Powf,
    Powi,
    Abs,
    Min,
    Max,
    Clamp,
    Floor,
    Ceil,
    Round,
    Trunc,
    MulAdd,
    Hypot,
    Cbrt,
    Recip,
    IsNan,
    IsFinite,
    IsInfinite,
    CountOnes,
    LeadingZeros,
    TrailingZeros,
    RotateLeft,
    RotateRight,
    CopySign,
    ExpM1,
    /// `x.to_bits()`: a float's bits as the unsigned integer of its width.
    ToBits,
    /// `f32::from_bits(u)` / `f64::from_bits(u)`: the float whose bits are `u`.
    FromBits,
    /// `x.ln_1p()`: ln(1 + x), accurate for small x. (Variants are appended: the encoding
    /// numbers them by position.)
    Ln1p,
}

impl MathFn {
    /// Whether IEEE or the language defines the result bit for bit on every backend: the
    /// integer functions, bit casts, rounding, `abs`, `min`, `max`, `clamp`, `copysign`,
    /// `sqrt`, `recip`, `mul_add` and the predicates. Not the transcendental functions, nor
    /// `powi` and `hypot`, whose rounding depends on how they are computed.
    pub fn is_exact(self) -> bool {
        use MathFn::*;
        matches!(
            self,
            Sqrt | Abs
                | Min
                | Max
                | Clamp
                | Floor
                | Ceil
                | Round
                | Trunc
                | MulAdd
                | Recip
                | IsNan
                | IsFinite
                | IsInfinite
                | CountOnes
                | LeadingZeros
                | TrailingZeros
                | RotateLeft
                | RotateRight
                | CopySign
                | ToBits
                | FromBits
        )
    }
}

/// Arguments a math function takes and which types it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathSignature {
    /// `x.f()` on floats, result the same float type.
    FloatUnary,
    /// `x.f(y)` on floats, both of one type, result that type.
    FloatBinary,
    /// `x.f(y, z)` on floats (`mul_add`, `clamp`).
    FloatTernary,
    /// `x.powi(n: i32)`.
    Powi,
    /// `x.f()` on floats, result `bool`.
    FloatPredicate,
    /// `x.f()` or `x.f(y)` on any number (`abs` on signed only), result the same type.
    Numeric {
        /// Number of arguments including the receiver.
        arity: usize,
    },
    /// `x.f()` on integers, result `u32`.
    IntCount,
    /// `x.f(n: u32)` on integers, result the same type.
    IntRotate,
    /// `x.to_bits()` on floats, result the unsigned integer of the same width.
    ToBits,
    /// `T::from_bits(u)`: `u32` or `u64` in, the float of the same width out.
    FromBits,
}

impl MathFn {
    /// Every math function.
    pub const ALL: [MathFn; 43] = [
        MathFn::Sqrt,
        MathFn::Exp,
        MathFn::Exp2,
        MathFn::Ln,
        MathFn::Log2,
        MathFn::Log10,
        MathFn::Sin,
        MathFn::Cos,
        MathFn::Tan,
        MathFn::Tanh,
        MathFn::Sinh,
        MathFn::Cosh,
        MathFn::Asin,
        MathFn::Acos,
        MathFn::Atan,
        MathFn::Atan2,
        MathFn::Powf,
        MathFn::Powi,
        MathFn::Abs,
        MathFn::Min,
        MathFn::Max,
        MathFn::Clamp,
        MathFn::Floor,
        MathFn::Ceil,
        MathFn::Round,
        MathFn::Trunc,
        MathFn::MulAdd,
        MathFn::Hypot,
        MathFn::Cbrt,
        MathFn::Recip,
        MathFn::IsNan,
        MathFn::IsFinite,
        MathFn::IsInfinite,
        MathFn::CountOnes,
        MathFn::LeadingZeros,
        MathFn::TrailingZeros,
        MathFn::RotateLeft,
        MathFn::RotateRight,
        MathFn::CopySign,
        MathFn::ExpM1,
        MathFn::Ln1p,
        MathFn::ToBits,
        MathFn::FromBits,
    ];

    /// The Rust method name.
    pub fn method_name(self) -> &'static str {
        match self {
            MathFn::Sqrt => "sqrt",
            MathFn::Exp => "exp",
            MathFn::Exp2 => "exp2",
            MathFn::Ln => "ln",
            MathFn::Log2 => "log2",
            MathFn::Log10 => "log10",
            MathFn::Sin => "sin",
            MathFn::Cos => "cos",
            MathFn::Tan => "tan",
            MathFn::Tanh => "tanh",
            MathFn::Sinh => "sinh",
            MathFn::Cosh => "cosh",
            MathFn::Asin => "asin",
            MathFn::Acos => "acos",
            MathFn::Atan => "atan",
            MathFn::Atan2 => "atan2",
            MathFn::Powf => "powf",
            MathFn::Powi => "powi",
            MathFn::Abs => "abs",
            MathFn::Min => "min",
            MathFn::Max => "max",
            MathFn::Clamp => "clamp",
            MathFn::Floor => "floor",
            MathFn::Ceil => "ceil",
            MathFn::Round => "round",
            MathFn::Trunc => "trunc",
            MathFn::MulAdd => "mul_add",
            MathFn::Hypot => "hypot",
            MathFn::Cbrt => "cbrt",
            MathFn::Recip => "recip",
            MathFn::IsNan => "is_nan",
            MathFn::IsFinite => "is_finite",
            MathFn::IsInfinite => "is_infinite",
            MathFn::CountOnes => "count_ones",
            MathFn::LeadingZeros => "leading_zeros",
            MathFn::TrailingZeros => "trailing_zeros",
            MathFn::RotateLeft => "rotate_left",
            MathFn::RotateRight => "rotate_right",
            MathFn::CopySign => "copysign",
            MathFn::ExpM1 => "exp_m1",
            MathFn::Ln1p => "ln_1p",
            MathFn::ToBits => "to_bits",
            MathFn::FromBits => "from_bits",
        }
    }

    /// The function for a Rust method name.
    pub fn from_method_name(name: &str) -> Option<MathFn> {
        MathFn::ALL.into_iter().find(|f| f.method_name() == name)
    }

    /// Whether it is a transcendental function: one whose device implementations are
    /// approximations (as opposed to exact operations such as `sqrt`, `floor` or `abs`).
    pub fn is_transcendental(self) -> bool {
        use MathFn::*;
        matches!(
            self,
            Exp | Exp2
                | ExpM1
                | Ln1p
                | Ln
                | Log2
                | Log10
                | Sin
                | Cos
                | Tan
                | Tanh
                | Sinh
                | Cosh
                | Asin
                | Acos
                | Atan
                | Atan2
                | Powf
                | Hypot
                | Cbrt
        )
    }

    /// Its arguments and accepted types.
    pub fn signature(self) -> MathSignature {
        use MathFn::*;
        match self {
            Sqrt | Exp | Exp2 | Ln | Log2 | Log10 | Sin | Cos | Tan | Tanh | Sinh | Cosh | Asin
            | Acos | Atan | Floor | Ceil | Round | Trunc | Cbrt | Recip | ExpM1 | Ln1p => {
                MathSignature::FloatUnary
            }
            Atan2 | Powf | Hypot | CopySign => MathSignature::FloatBinary,
            ToBits => MathSignature::ToBits,
            FromBits => MathSignature::FromBits,
            MulAdd => MathSignature::FloatTernary,
            Powi => MathSignature::Powi,
            IsNan | IsFinite | IsInfinite => MathSignature::FloatPredicate,
            Abs => MathSignature::Numeric { arity: 1 },
            Min | Max => MathSignature::Numeric { arity: 2 },
            Clamp => MathSignature::Numeric { arity: 3 },
            CountOnes | LeadingZeros | TrailingZeros => MathSignature::IntCount,
            RotateLeft | RotateRight => MathSignature::IntRotate,
        }
    }
}

/// An atomic read-modify-write on a buffer element; every one returns the element's old value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AtomicOp {
    /// `atomic_add` (wrapping on integers; also on `f32`/`f64`).
    Add,
    /// `atomic_sub` (wrapping).
    Sub,
    /// `atomic_min`.
    Min,
    /// `atomic_max`.
    Max,
    /// `atomic_and`.
    And,
    /// `atomic_or`.
    Or,
    /// `atomic_xor`.
    Xor,
    /// `atomic_exchange`.
    Exchange,
    /// `atomic_compare_exchange(target, current, new)`: stores `new` if the element equals
    /// `current`.
    CompareExchange,
}

impl AtomicOp {
    /// Every atomic operation.
    pub const ALL: [AtomicOp; 9] = [
        AtomicOp::Add,
        AtomicOp::Sub,
        AtomicOp::Min,
        AtomicOp::Max,
        AtomicOp::And,
        AtomicOp::Or,
        AtomicOp::Xor,
        AtomicOp::Exchange,
        AtomicOp::CompareExchange,
    ];

    /// The intrinsic's name in kernel source.
    pub fn intrinsic_name(self) -> &'static str {
        match self {
            AtomicOp::Add => "atomic_add",
            AtomicOp::Sub => "atomic_sub",
            AtomicOp::Min => "atomic_min",
            AtomicOp::Max => "atomic_max",
            AtomicOp::And => "atomic_and",
            AtomicOp::Or => "atomic_or",
            AtomicOp::Xor => "atomic_xor",
            AtomicOp::Exchange => "atomic_exchange",
            AtomicOp::CompareExchange => "atomic_compare_exchange",
        }
    }

    /// Value operands after the target (1, or 2 for compare-exchange).
    pub fn operand_count(self) -> usize {
        if self == AtomicOp::CompareExchange {
            2
        } else {
            1
        }
    }

    /// Whether the operation is defined for elements of type `ty`.
    pub fn supports(self, ty: ScalarType) -> bool {
        match self {
            AtomicOp::Add | AtomicOp::Exchange => ty.is_numeric(),
            AtomicOp::Sub
            | AtomicOp::Min
            | AtomicOp::Max
            | AtomicOp::And
            | AtomicOp::Or
            | AtomicOp::Xor
            | AtomicOp::CompareExchange => ty.is_int(),
        }
    }
}

/// What an expression computes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExprKind {
    /// A constant.
    Literal(Literal),
    /// The value of a local.
    Local(LocalId),
    /// The value of a scalar parameter.
    Param(ParamId),
    /// Reads a buffer element.
    Load {
        /// A buffer parameter.
        buffer: ParamId,
        /// Element index (`u64`).
        index: Box<Expr>,
    },
    /// The element count of a buffer (`u64`).
    Len(ParamId),
    /// An index intrinsic (`u64`).
    Builtin(Builtin),
    /// A unary operation.
    Unary {
        /// Operator.
        op: UnaryOp,
        /// Operand.
        operand: Box<Expr>,
    },
    /// A binary operation.
    Binary {
        /// Operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `operand as T` with Rust's semantics (float to int saturates, NaN to 0).
    Cast(Box<Expr>),
    /// A math function.
    Math {
        /// Which function.
        func: MathFn,
        /// Receiver first.
        args: Vec<Expr>,
    },
    /// A call to a helper function.
    Call {
        /// The callee.
        function: FunctionId,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// An atomic read-modify-write; the value is the element's old value.
    Atomic {
        /// Operation.
        op: AtomicOp,
        /// A read-write buffer parameter.
        buffer: ParamId,
        /// Element index (`u64`).
        index: Box<Expr>,
        /// Operands after the target.
        args: Vec<Expr>,
    },
    /// Reads an element of a private array.
    PrivateLoad {
        /// The array.
        array: PrivateId,
        /// Element index (`u64`).
        index: Box<Expr>,
    },
    /// Reads an element of a shared array.
    SharedLoad {
        /// The array.
        array: SharedId,
        /// Element index (`u64`).
        index: Box<Expr>,
    },
    /// An atomic read-modify-write of a shared array element; the value is the old one.
    SharedAtomic {
        /// Operation.
        op: AtomicOp,
        /// The array.
        array: SharedId,
        /// Element index (`u64`).
        index: Box<Expr>,
        /// Operands after the target.
        args: Vec<Expr>,
    },
}

impl Expr {
    /// A literal of type `ty`.
    pub fn literal(ty: ScalarType, value: Literal) -> Expr {
        Expr {
            ty,
            kind: ExprKind::Literal(value),
        }
    }

    /// Visits this expression and every sub-expression, parents first.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Literal(_)
            | ExprKind::Local(_)
            | ExprKind::Param(_)
            | ExprKind::Len(_)
            | ExprKind::Builtin(_) => {}
            ExprKind::Load { index, .. }
            | ExprKind::SharedLoad { index, .. }
            | ExprKind::PrivateLoad { index, .. } => index.walk(f),
            ExprKind::Unary { operand, .. } | ExprKind::Cast(operand) => operand.walk(f),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.walk(f);
                rhs.walk(f);
            }
            ExprKind::Math { args, .. } | ExprKind::Call { args, .. } => {
                args.iter().for_each(|a| a.walk(f))
            }
            ExprKind::Atomic { index, args, .. } | ExprKind::SharedAtomic { index, args, .. } => {
                index.walk(f);
                args.iter().for_each(|a| a.walk(f));
            }
        }
    }
}

impl Expr {
    /// Visits this expression and every sub-expression mutably, children first (so that a
    /// visitor may replace an expression after its operands were visited).
    pub fn walk_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        match &mut self.kind {
            ExprKind::Literal(_)
            | ExprKind::Local(_)
            | ExprKind::Param(_)
            | ExprKind::Len(_)
            | ExprKind::Builtin(_) => {}
            ExprKind::Load { index, .. }
            | ExprKind::SharedLoad { index, .. }
            | ExprKind::PrivateLoad { index, .. } => index.walk_mut(f),
            ExprKind::Unary { operand, .. } | ExprKind::Cast(operand) => operand.walk_mut(f),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.walk_mut(f);
                rhs.walk_mut(f);
            }
            ExprKind::Math { args, .. } | ExprKind::Call { args, .. } => {
                args.iter_mut().for_each(|a| a.walk_mut(f))
            }
            ExprKind::Atomic { index, args, .. } | ExprKind::SharedAtomic { index, args, .. } => {
                index.walk_mut(f);
                args.iter_mut().for_each(|a| a.walk_mut(f));
            }
        }
        f(self);
    }
}

/// Visits every expression of a block and of the blocks nested in it mutably (each
/// expression tree children first).
pub fn walk_exprs_mut(block: &mut [Stmt], f: &mut dyn FnMut(&mut Expr)) {
    for stmt in block {
        match stmt {
            Stmt::Let { init: Some(e), .. }
            | Stmt::Assign { value: e, .. }
            | Stmt::Eval(e)
            | Stmt::Return(Some(e)) => e.walk_mut(f),
            Stmt::Store { index, value, .. }
            | Stmt::SharedStore { index, value, .. }
            | Stmt::PrivateStore { index, value, .. } => {
                index.walk_mut(f);
                value.walk_mut(f);
            }
            Stmt::PrivateInit { value, .. } => value.walk_mut(f),
            Stmt::Subgroup { value, lane, .. } => {
                value.walk_mut(f);
                if let Some(l) = lane {
                    l.walk_mut(f);
                }
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                cond.walk_mut(f);
                walk_exprs_mut(then_body, f);
                walk_exprs_mut(else_body, f);
            }
            Stmt::For {
                start,
                end,
                step,
                body,
                ..
            } => {
                start.walk_mut(f);
                end.walk_mut(f);
                if let Some(s) = step {
                    s.walk_mut(f);
                }
                walk_exprs_mut(body, f);
            }
            Stmt::While { cond, body } => {
                cond.walk_mut(f);
                walk_exprs_mut(body, f);
            }
            Stmt::Loop { body } => walk_exprs_mut(body, f),
            Stmt::Let { init: None, .. }
            | Stmt::Return(None)
            | Stmt::Break
            | Stmt::Continue
            | Stmt::Barrier
            | Stmt::Trap { .. } => {}
        }
    }
}

/// Visits every statement of a block and of the blocks nested in it, parents first.
pub fn walk_stmts(block: &[Stmt], f: &mut dyn FnMut(&Stmt)) {
    for stmt in block {
        f(stmt);
        match stmt {
            Stmt::If {
                then_body,
                else_body,
                ..
            } => {
                walk_stmts(then_body, f);
                walk_stmts(else_body, f);
            }
            Stmt::For { body, .. } | Stmt::While { body, .. } | Stmt::Loop { body } => {
                walk_stmts(body, f)
            }
            _ => {}
        }
    }
}

/// Visits every expression directly held by a statement (not those of nested blocks).
pub fn stmt_exprs(stmt: &Stmt, f: &mut dyn FnMut(&Expr)) {
    match stmt {
        Stmt::Let { init: Some(e), .. } | Stmt::Assign { value: e, .. } | Stmt::Eval(e) => f(e),
        Stmt::Return(Some(e)) => f(e),
        Stmt::Store { index, value, .. }
        | Stmt::SharedStore { index, value, .. }
        | Stmt::PrivateStore { index, value, .. } => {
            f(index);
            f(value);
        }
        Stmt::PrivateInit { value, .. } => f(value),
        Stmt::Subgroup { value, lane, .. } => {
            f(value);
            if let Some(l) = lane {
                f(l);
            }
        }
        Stmt::If { cond, .. } | Stmt::While { cond, .. } => f(cond),
        Stmt::For {
            start, end, step, ..
        } => {
            f(start);
            f(end);
            if let Some(s) = step {
                f(s);
            }
        }
        Stmt::Let { init: None, .. }
        | Stmt::Return(None)
        | Stmt::Loop { .. }
        | Stmt::Break
        | Stmt::Continue
        | Stmt::Barrier
        | Stmt::Trap { .. } => {}
    }
}

/// What a kernel needs from a device beyond 32-bit basics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Requirements {
    /// Uses `f64` anywhere.
    pub f64: bool,
    /// Uses 64-bit integers (every kernel does today: ids, sizes and indices are `u64`).
    pub int64: bool,
    /// Uses atomics at all.
    pub atomics: bool,
    /// Uses atomics on 64-bit elements.
    pub atomics64: bool,
    /// Uses atomics on float elements.
    pub float_atomics: bool,
    /// Calls a device's own `f64` transcendental function (`fast_math` kernels; the math
    /// library replaces them in the others).
    pub f64_device_math: bool,
    /// Uses `barrier()`, shared arrays or subgroup operations: the device's work-groups must
    /// be the launch's groups.
    pub cooperative: bool,
    /// Uses subgroup operations (or `subgroup_size()` / `subgroup_lane()`).
    pub subgroups: bool,
    /// Bytes of shared arrays per group.
    pub shared_bytes: u64,
}

impl Kernel {
    /// The parameter with this id.
    pub fn param(&self, id: ParamId) -> Option<&Param> {
        self.params.get(id.0 as usize)
    }

    /// Array number `n` of the fault record: the shared arrays, then the private ones. Gives
    /// its name, length, and whether it is shared.
    pub fn array(&self, n: u32) -> Option<(&str, u32, bool)> {
        let n = n as usize;
        match self.shared.get(n) {
            Some(a) => Some((&a.name, a.len, true)),
            None => self
                .private
                .get(n - self.shared.len())
                .map(|a| (a.name.as_str(), a.len, false)),
        }
    }

    /// Whether the kernel's work items cooperate (it declares shared arrays, has a barrier
    /// or uses subgroups): its groups must then run as groups.
    pub fn is_cooperative(&self) -> bool {
        let mut barrier = false;
        walk_stmts(&self.body, &mut |s| {
            barrier |= matches!(s, Stmt::Barrier | Stmt::Subgroup { .. })
        });
        barrier || !self.shared.is_empty() || self.uses_subgroups()
    }

    /// Whether the kernel uses subgroup operations or subgroup builtins.
    pub fn uses_subgroups(&self) -> bool {
        let mut found = false;
        walk_stmts(&self.body, &mut |s| {
            found |= matches!(s, Stmt::Subgroup { .. });
            stmt_exprs(s, &mut |e| {
                e.walk(&mut |e| {
                    found |= matches!(
                        e.kind,
                        ExprKind::Builtin(Builtin::SubgroupSize | Builtin::SubgroupLane)
                    )
                })
            });
        });
        found
    }

    /// What the kernel needs from a device (for capability checks).
    pub fn requirements(&self) -> Requirements {
        let mut req = Requirements::default();
        let note_type = |t: ScalarType, req: &mut Requirements| {
            if t == ScalarType::F64 {
                req.f64 = true;
            }
        };
        // Ids, sizes and indices are 64-bit values in every kernel.
        req.int64 = true;
        for p in &self.params {
            note_type(p.scalar_type(), &mut req);
        }
        for a in &self.private {
            note_type(a.elem, &mut req);
        }
        for a in &self.shared {
            note_type(a.elem, &mut req);
            req.shared_bytes = req.shared_bytes.saturating_add(a.bytes());
        }
        req.cooperative = self.is_cooperative();
        req.subgroups = self.uses_subgroups();
        let bodies = std::iter::once(&self.body).chain(self.functions.iter().map(|f| &f.body));
        for body in bodies {
            walk_stmts(body, &mut |s| {
                stmt_exprs(s, &mut |e| {
                    e.walk(&mut |e| {
                        note_type(e.ty, &mut req);
                        if let ExprKind::Math { func, args } = &e.kind
                            && func.is_transcendental()
                            && args.first().is_some_and(|a| a.ty == ScalarType::F64)
                        {
                            req.f64_device_math = true;
                        }
                        if let ExprKind::Atomic { buffer, .. } = &e.kind {
                            req.atomics = true;
                            if let Some(p) = self.param(*buffer) {
                                let t = p.scalar_type();
                                req.atomics64 |= t.bits() == 64;
                                req.float_atomics |= t.is_float();
                            }
                        }
                        if let ExprKind::SharedAtomic { array, .. } = &e.kind {
                            req.atomics = true;
                            if let Some(a) = self.shared.get(array.0 as usize) {
                                req.atomics64 |= a.elem.bits() == 64;
                                req.float_atomics |= a.elem.is_float();
                            }
                        }
                    })
                })
            });
        }
        req
    }
}
