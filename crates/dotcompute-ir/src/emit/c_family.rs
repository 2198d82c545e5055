//! C-family source from the IR: CUDA C++ ([`super::cuda`], also HIP C++ behind its runtime
//! header: [`super::hip`]) and OpenCL C ([`super::opencl`]) from one walker over statements
//! and expressions, each dialect spelling its types, address spaces, intrinsics, atomics and
//! barriers.
//!
//! The emitted source keeps Rust's semantics where C and C++ differ:
//! - signed `+ - *`, negation and left shifts are done on the unsigned type of the same width
//!   (wrapping, where C would have undefined overflow); shift amounts are masked;
//! - faults: an out-of-bounds access, an integer division by zero or `MIN / -1`, a bad
//!   `clamp`, `step_by(0)` or a `panic!` records the first fault in the fault record (see
//!   [`super::abi`]) and ends the work item; every statement that can fault is followed by a
//!   check of the work item's `faulted` flag;
//! - float-to-integer casts saturate (NaN to 0); `powi` multiplies as Rust's does;
//! - floats: products are never contracted into fused multiply-adds (a compiler option for
//!   CUDA, a pragma for OpenCL); `mul_add` is `fma`;
//! - operands are evaluated left to right where two of them can fault or have effects (C
//!   leaves the order unspecified): into temporaries, inside an immediately invoked lambda
//!   (CUDA) or a statement expression (OpenCL C, as Clang, which every OpenCL compiler in
//!   use is built on, accepts).
//!
//! Every helper takes the work item's context `c` (`dc_ctx`: the parameter block, the fault
//! record, the buffers, the shared arrays in OpenCL C, and the item's `faulted` and `alive`
//! flags): a reference in CUDA, a pointer in OpenCL C.
//!
//! Cooperative kernels (shared arrays, `barrier()`) run one group per block (work-group).
//! Their threads all run the kernel body, so that items beyond the grid reach the barriers,
//! as in the WGSL emitter: locals are declared at the top of the body, control flow that
//! stays uniform (see [`crate::cooperative::Uniformity`]) and the assignments of uniform
//! locals run in every thread, and every other statement runs as a unit only while the item
//! is in the grid, has not faulted and has not returned (a fault or a `return` leaves the
//! unit: a lambda in CUDA, a block left by `goto` in OpenCL C). Shared arrays are zeroed by
//! the group before the body starts.

use super::abi::{ParamsLayout, fault_codes, slots};
use crate::cooperative::Uniformity;
use crate::program::{
    AtomicOp, BinaryOp, BoundsChecks, Builtin, Expr, ExprKind, Function, Kernel, Literal, Local,
    MathFn, Stmt, SubgroupOp, UnaryOp,
};
use crate::types::{Access, ParamKind, ScalarType};
use std::fmt::Write;

/// The kernel function's name in the emitted source.
pub const ENTRY_POINT: &str = "dotcompute_main";

/// The C-family language emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// CUDA C++ for NVRTC.
    Cuda,
    /// HIP C++ for `hipcc`/`hiprtc`: CUDA C++ behind the HIP runtime header, with the few
    /// built-ins ROCm lacks written out (64-bit signed `atomicMin`/`atomicMax`).
    Hip,
    /// OpenCL C 1.2 (with the `cl_khr_fp64` and 64-bit atomics extensions where used).
    OpenCl,
}

impl Dialect {
    /// CUDA C++ or HIP C++, which share every spelling but the few noted on [`Dialect::Hip`].
    fn is_cpp(self) -> bool {
        matches!(self, Dialect::Cuda | Dialect::Hip)
    }

    fn ty(self, t: ScalarType) -> &'static str {
        match (t, self) {
            (ScalarType::Bool, _) => "bool",
            (ScalarType::I32, _) => "int",
            (ScalarType::U32, _) => "unsigned int",
            (ScalarType::I64, Dialect::Cuda | Dialect::Hip) => "long long",
            (ScalarType::U64, Dialect::Cuda | Dialect::Hip) => "unsigned long long",
            (ScalarType::I64, Dialect::OpenCl) => "long",
            (ScalarType::U64, Dialect::OpenCl) => "ulong",
            (ScalarType::F32, _) => "float",
            (ScalarType::F64, _) => "double",
        }
    }

    /// The 64-bit unsigned type.
    fn u64(self) -> &'static str {
        self.ty(ScalarType::U64)
    }

    /// An unsigned 64-bit literal.
    fn u64_lit(self, v: impl std::fmt::Display) -> String {
        match self {
            Dialect::Cuda | Dialect::Hip => format!("{v}ull"),
            Dialect::OpenCl => format!("{v}UL"),
        }
    }

    /// A signed 64-bit literal's suffix.
    fn i64_suffix(self) -> &'static str {
        match self {
            Dialect::Cuda | Dialect::Hip => "ll",
            Dialect::OpenCl => "L",
        }
    }

    /// How helpers are declared.
    fn inline(self) -> &'static str {
        match self {
            Dialect::Cuda | Dialect::Hip => "static __device__ __forceinline__",
            Dialect::OpenCl => "static inline",
        }
    }

    /// The context parameter of every helper.
    fn ctx_param(self) -> &'static str {
        match self {
            Dialect::Cuda | Dialect::Hip => "dc_ctx& c",
            Dialect::OpenCl => "dc_ctx* c",
        }
    }

    /// A member of the context: `c.` or `c->`.
    fn c(self) -> &'static str {
        match self {
            Dialect::Cuda | Dialect::Hip => "c.",
            Dialect::OpenCl => "c->",
        }
    }

    /// A field of the parameter block through the context.
    fn p(self) -> &'static str {
        match self {
            Dialect::Cuda | Dialect::Hip => "c.p.",
            Dialect::OpenCl => "c->p->",
        }
    }

    /// Shared array `i` (file scope in CUDA; OpenCL C declares it in the kernel function
    /// and reaches it through the context).
    fn shared(self, i: impl std::fmt::Display) -> String {
        match self {
            Dialect::Cuda | Dialect::Hip => format!("sh{i}"),
            Dialect::OpenCl => format!("c->sh{i}"),
        }
    }

    /// C's float function `name` for `t` (`sqrtf` for `f32` in CUDA; OpenCL C overloads).
    fn float_fn(self, name: &str, t: ScalarType) -> String {
        if self.is_cpp() && t == ScalarType::F32 {
            format!("{name}f")
        } else {
            name.to_string()
        }
    }

    /// What a buffer pointer is written with: its address space and `restrict`.
    fn buffer_qualifiers(self) -> (&'static str, &'static str) {
        match self {
            Dialect::Cuda | Dialect::Hip => ("", "__restrict__"),
            Dialect::OpenCl => ("__global ", "restrict"),
        }
    }

    /// A group barrier ordering shared and global memory.
    fn barrier(self) -> &'static str {
        match self {
            Dialect::Cuda | Dialect::Hip => "__syncthreads();",
            Dialect::OpenCl => "barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);",
        }
    }

    /// The bits of a float (`to_bits`) and the float of bits (`from_bits`), for `t` the
    /// float's type.
    fn bits_of(self, t: ScalarType, v: &str) -> String {
        match (self, t) {
            (Dialect::Cuda | Dialect::Hip, ScalarType::F64) => {
                format!("((unsigned long long)__double_as_longlong({v}))")
            }
            (Dialect::Cuda | Dialect::Hip, _) => format!("__float_as_uint({v})"),
            (Dialect::OpenCl, ScalarType::F64) => format!("as_ulong({v})"),
            (Dialect::OpenCl, _) => format!("as_uint({v})"),
        }
    }

    fn float_of(self, t: ScalarType, v: &str) -> String {
        match (self, t) {
            (Dialect::Cuda | Dialect::Hip, ScalarType::F64) => {
                format!("__longlong_as_double((long long)({v}))")
            }
            (Dialect::Cuda | Dialect::Hip, _) => format!("__uint_as_float({v})"),
            (Dialect::OpenCl, ScalarType::F64) => format!("as_double((ulong)({v}))"),
            (Dialect::OpenCl, _) => format!("as_float((unsigned int)({v}))"),
        }
    }
}

/// An emitted translation unit and what the host needs to launch it.
#[derive(Clone, Debug)]
pub struct CProgram {
    /// The source.
    pub source: String,
    /// The parameter block's layout.
    pub params: ParamsLayout,
    /// The messages of the kernel's `panic!`s, by number.
    pub traps: Vec<String>,
}

/// Emits the source of a validated kernel in `dialect`. (OpenCL C has no subgroup
/// operations here: `opencl::emit`, the only way in for that dialect, refuses such
/// kernels before.)
pub(crate) fn emit(kernel: &Kernel, dialect: Dialect) -> CProgram {
    Emitter::new(kernel, dialect).program()
}

struct Emitter<'k> {
    kernel: &'k Kernel,
    d: Dialect,
    /// Operands already evaluated into temporaries (see `expr`), by address.
    sequenced: std::collections::HashMap<*const Expr, String>,
    /// The (buffer, operation) pairs the kernel uses.
    atomics: Vec<(usize, AtomicOp)>,
    traps: Vec<String>,
    checked: bool,
    next_temp: usize,
    /// Units of OpenCL C numbered so far (their labels).
    next_unit: usize,
    /// For a cooperative kernel: which locals and conditions are uniform.
    uniformity: Option<Uniformity>,
}

/// The function a body belongs to.
struct Body<'a> {
    locals: &'a [Local],
    /// `None` for the kernel body, the return type for a helper.
    ret: Option<ScalarType>,
    /// Where a cooperative kernel's code runs.
    flow: Flow,
    /// In a unit of OpenCL C, the number of the label that leaves it.
    unit: usize,
}

/// Where code runs, which decides how it leaves after a fault or a `return`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// A function of its own (a helper, or an ordinary kernel's body): it returns.
    Function,
    /// A cooperative kernel's body in uniform control flow: it never leaves early.
    Uniform,
    /// A cooperative kernel's statement in a unit of its own (see the module docs).
    Unit,
}

/// Subgroup (warp) helpers: lanes by linear thread id, and sums and scans in the order
/// `SubgroupOp` defines (every lane of a warp takes part: groups are whole warps).
const SUBGROUP_FUNCTIONS: &str = "__device__ __forceinline__ unsigned int dc_lane() {\n\
    return (threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)) & 31u;\n\
}\n\
template <typename T, typename F> __device__ __forceinline__ T dc_sg_reduce(T v, F f) {\n\
    for (unsigned int d = 1; d < 32u; d <<= 1) v = f(v, __shfl_xor_sync(0xffffffffu, v, d));\n\
    return v;\n\
}\n\
template <typename T, typename F> __device__ __forceinline__ T dc_sg_inclusive(T v, F f) {\n\
    unsigned int l = dc_lane();\n\
    for (unsigned int d = 1; d < 32u; d <<= 1) {\n\
        T t = __shfl_up_sync(0xffffffffu, v, d);\n\
        if (l >= d) v = f(t, v);\n\
    }\n\
    return v;\n\
}\n\
template <typename T, typename F> __device__ __forceinline__ T dc_sg_exclusive(T v, T identity, F f) {\n\
    T t = __shfl_up_sync(0xffffffffu, dc_sg_inclusive(v, f), 1);\n\
    return dc_lane() >= 1u ? t : identity;\n\
}\n";

/// A short name for helper suffixes: the Rust spelling.
fn tag(t: ScalarType) -> &'static str {
    t.rust_name()
}

/// The unsigned type of the same width.
fn unsigned(t: ScalarType) -> ScalarType {
    match t {
        ScalarType::I32 | ScalarType::U32 => ScalarType::U32,
        _ => ScalarType::U64,
    }
}

/// The checked private-array access `name` (a template in CUDA, one per array in OpenCL C).
fn private_fn(d: Dialect, name: &str, array: u32) -> String {
    match d {
        Dialect::Cuda | Dialect::Hip => name.to_string(),
        Dialect::OpenCl => format!("{name}_{array}"),
    }
}

fn local_name(locals: &[Local], i: usize) -> String {
    match locals.get(i) {
        Some(l) => format!("l{i}_{}", l.name),
        None => format!("l{i}"),
    }
}

fn zero(d: Dialect, t: ScalarType) -> String {
    literal(
        d,
        match t {
            ScalarType::Bool => Literal::Bool(false),
            t if t.is_float() => Literal::Float(0.0),
            _ => Literal::Int(0),
        },
        t,
    )
}

fn literal(d: Dialect, lit: Literal, t: ScalarType) -> String {
    let ll = d.i64_suffix();
    match (lit, t) {
        (Literal::Bool(b), _) => b.to_string(),
        (Literal::Int(v), ScalarType::I32) if v == i128::from(i32::MIN) => {
            "(-2147483647 - 1)".into()
        }
        (Literal::Int(v), ScalarType::I64) if v == i128::from(i64::MIN) => {
            format!("(-9223372036854775807{ll} - 1{ll})")
        }
        (Literal::Int(v), ScalarType::I32) => format!("({v})"),
        (Literal::Int(v), ScalarType::U32) => format!("{v}u"),
        (Literal::Int(v), ScalarType::I64) => format!("({v}{ll})"),
        (Literal::Int(v), ScalarType::U64) => d.u64_lit(v),
        (Literal::Float(v), ScalarType::F32) => {
            let f = v as f32;
            if f.is_nan() || f.is_infinite() {
                match d {
                    Dialect::Cuda | Dialect::Hip => format!("__int_as_float({:#x})", f.to_bits()),
                    Dialect::OpenCl => format!("as_float({:#x}u)", f.to_bits()),
                }
            } else {
                // `{:?}` prints enough digits to round-trip; parentheses keep `-(-2.5)` from
                // reading as `--2.5`.
                format!("({f:?}f)")
            }
        }
        (Literal::Float(v), ScalarType::F64) => {
            if v.is_nan() || v.is_infinite() {
                match d {
                    Dialect::Cuda | Dialect::Hip => {
                        format!("__longlong_as_double({:#x}ll)", v.to_bits())
                    }
                    Dialect::OpenCl => format!("as_double({:#x}UL)", v.to_bits()),
                }
            } else {
                format!("({v:?})")
            }
        }
        (Literal::Int(v), other) => format!("(({}){v})", d.ty(other)),
        (Literal::Float(v), other) => format!("(({}){v:?})", d.ty(other)),
    }
}

/// Whether an expression can fault (so that its statement is followed by a check).
fn can_fault(e: &Expr, checked: bool) -> bool {
    let mut faults = false;
    e.walk(&mut |e| {
        faults |= match &e.kind {
            ExprKind::Load { .. }
            | ExprKind::Atomic { .. }
            | ExprKind::SharedLoad { .. }
            | ExprKind::PrivateLoad { .. }
            | ExprKind::SharedAtomic { .. } => checked,
            ExprKind::Binary {
                op: BinaryOp::Div | BinaryOp::Rem,
                lhs,
                ..
            } => lhs.ty.is_int(),
            ExprKind::Math {
                func: MathFn::Clamp,
                ..
            } => true,
            ExprKind::Call { .. } => true,
            _ => false,
        };
    });
    faults
}

/// Whether evaluating an expression can fault or has side effects (atomics).
fn has_effects(e: &Expr, checked: bool) -> bool {
    let mut atomic = false;
    e.walk(&mut |e| {
        atomic |= matches!(
            e.kind,
            ExprKind::Atomic { .. } | ExprKind::SharedAtomic { .. }
        )
    });
    atomic || can_fault(e, checked)
}

impl<'k> Emitter<'k> {
    fn new(kernel: &'k Kernel, d: Dialect) -> Self {
        let mut atomics = Vec::new();
        crate::program::walk_stmts(&kernel.body, &mut |s| {
            crate::program::stmt_exprs(s, &mut |e| {
                e.walk(&mut |e| {
                    if let ExprKind::Atomic { op, buffer, .. } = &e.kind
                        && !atomics.contains(&(buffer.0 as usize, *op))
                    {
                        atomics.push((buffer.0 as usize, *op));
                    }
                })
            })
        });
        Emitter {
            kernel,
            d,
            sequenced: std::collections::HashMap::new(),
            atomics,
            traps: Vec::new(),
            checked: kernel.bounds_checks == BoundsChecks::Checked,
            next_temp: 0,
            next_unit: 0,
            uniformity: kernel.is_cooperative().then(|| Uniformity::of(kernel)),
        }
    }

    fn program(mut self) -> CProgram {
        let d = self.d;
        let u64 = d.u64();
        let inline = d.inline();
        let ctx = d.ctx_param();
        let cooperative = self.uniformity.is_some();
        let mut out = String::new();
        if d == Dialect::Hip {
            out.push_str("#include <hip/hip_runtime.h>\n");
        }
        if d == Dialect::OpenCl {
            // Rust never contracts `a * b + c`; OpenCL C would by default.
            out.push_str("#pragma OPENCL FP_CONTRACT OFF\n");
            if self.kernel.requirements().f64 {
                out.push_str("#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n");
            }
            if self.uses_64bit_atomics() {
                out.push_str(
                    "#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable\n\
                     #pragma OPENCL EXTENSION cl_khr_int64_extended_atomics : enable\n",
                );
            }
            out.push_str("typedef struct dc_params dc_params;\ntypedef struct dc_ctx dc_ctx;\n");
        }
        // The parameter block: one 8-byte slot per value, as in the WGSL backend.
        out.push_str("struct dc_params {\n");
        for axis in ["x", "y", "z"] {
            let _ = writeln!(out, "    {u64} grid_{axis};");
        }
        for axis in ["x", "y", "z"] {
            let _ = writeln!(out, "    {u64} group_{axis};");
        }
        let _ = writeln!(out, "    {u64} total;");
        // OpenCL binds the record array once; each launch's record is at `fault_offset` words.
        out.push_str("    unsigned int launch_id; unsigned int fault_offset;\n");
        let _ = writeln!(out, "    {u64} unused_nz32;\n    {u64} unused_nz64;");
        for (i, p) in self.kernel.params.iter().enumerate() {
            match p.kind {
                ParamKind::Scalar(t) if t.bits() == 32 => {
                    let _ = writeln!(out, "    {} p{i}; unsigned int pad_p{i};", d.ty(t));
                }
                ParamKind::Scalar(t) => {
                    let _ = writeln!(out, "    {} p{i};", d.ty(t));
                }
                ParamKind::Buffer { .. } => {
                    let _ = writeln!(out, "    {u64} p{i};");
                }
            }
        }
        out.push_str("};\n");
        // What every helper needs: the parameters, the fault record, the buffers, and whether
        // this work item has faulted.
        match d {
            Dialect::Cuda | Dialect::Hip => {
                out.push_str("struct dc_ctx {\n    const dc_params& p;\n    unsigned int* fault;\n")
            }
            Dialect::OpenCl => out.push_str(
                "struct dc_ctx {\n    const dc_params* p;\n    __global unsigned int* fault;\n",
            ),
        }
        let (global, restrict) = d.buffer_qualifiers();
        for (i, p) in self.kernel.params.iter().enumerate() {
            if let ParamKind::Buffer { elem, access } = p.kind {
                let constness = if access == Access::Read { "const " } else { "" };
                let _ = writeln!(
                    out,
                    "    {global}{constness}{}* {restrict} b{i};",
                    d.ty(elem)
                );
            }
        }
        if d == Dialect::OpenCl {
            for (i, a) in self.kernel.shared.iter().enumerate() {
                let _ = writeln!(out, "    __local {}* sh{i};", d.ty(a.elem));
            }
        }
        // `alive`: in a cooperative kernel, whether this item is in the grid and has not
        // returned; only live items record faults (every thread runs the uniform code).
        out.push_str("    bool faulted;\n    bool alive;\n};\n");
        let c = d.c();
        let (cas, fence) = match d {
            Dialect::Cuda | Dialect::Hip => ("atomicCAS", "__threadfence()"),
            Dialect::OpenCl => ("atomic_cmpxchg", "mem_fence(CLK_GLOBAL_MEM_FENCE)"),
        };
        let _ = write!(
            out,
            "{inline} void record_fault({ctx}, unsigned int code, unsigned int param, {u64} index) {{\n\
             \x20   if (!{c}alive) return;\n\
             \x20   {c}faulted = true;\n\
             \x20   if ({cas}(&{c}fault[0], 0u, code) == 0u) {{\n\
             \x20       {c}fault[1] = param;\n\
             \x20       {c}fault[2] = (unsigned int)(index & {});\n\
             \x20       {c}fault[3] = (unsigned int)(index >> 32);\n\
             \x20       {c}fault[4] = {}launch_id;\n\
             \x20       {fence};\n\
             \x20   }}\n\
             }}\n",
            d.u64_lit("0xffffffff"),
            d.p(),
        );
        out.push_str(&self.support_functions());
        out.push_str(&self.buffer_functions());
        out.push_str(&self.shared_functions());
        if self.kernel.uses_subgroups() {
            out.push_str(SUBGROUP_FUNCTIONS);
        }
        out.push_str(&self.private_functions());
        // Helpers first declared, so that they can call each other in any order.
        for (i, f) in self.kernel.functions.iter().enumerate() {
            let _ = writeln!(out, "{};", self.signature(i, f));
        }
        for (i, f) in self.kernel.functions.iter().enumerate() {
            let text = self.function(i, f);
            out.push_str(&text);
        }
        // The kernel body.
        let _ = writeln!(
            out,
            "{inline} void kernel_body({ctx}, {u64} gx, {u64} gy, {u64} gz) {{"
        );
        let empty = match d {
            Dialect::Cuda | Dialect::Hip => "{}",
            Dialect::OpenCl => "{0}",
        };
        for (i, a) in self.kernel.private.iter().enumerate() {
            let _ = writeln!(out, "    {} pa{i}[{}] = {empty};", d.ty(a.elem), a.len);
        }
        if cooperative {
            for (i, l) in self.kernel.locals.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "    {} {} = {};",
                    d.ty(l.ty),
                    local_name(&self.kernel.locals, i),
                    zero(d, l.ty)
                );
            }
            if !self.kernel.shared.is_empty() {
                out.push_str(match d {
                    Dialect::Cuda | Dialect::Hip => "    unsigned int tid = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);\n    unsigned int threads = blockDim.x * blockDim.y * blockDim.z;\n",
                    Dialect::OpenCl => "    unsigned int tid = (unsigned int)(get_local_id(0) + get_local_size(0) * (get_local_id(1) + get_local_size(1) * get_local_id(2)));\n    unsigned int threads = (unsigned int)(get_local_size(0) * get_local_size(1) * get_local_size(2));\n",
                });
                for (i, a) in self.kernel.shared.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "    for (unsigned int k = tid; k < {}u; k += threads) {}[k] = {};",
                        a.len,
                        d.shared(i),
                        zero(d, a.elem)
                    );
                }
                let _ = writeln!(out, "    {}", d.barrier());
            }
        }
        let body = Body {
            locals: &self.kernel.locals,
            ret: None,
            flow: if cooperative {
                Flow::Uniform
            } else {
                Flow::Function
            },
            unit: 0,
        };
        let mut text = String::new();
        self.block(&mut text, &body, &self.kernel.body, 1);
        out.push_str(&text);
        out.push_str("}\n");
        match d {
            Dialect::Cuda | Dialect::Hip => self.cuda_entry(&mut out),
            Dialect::OpenCl => self.opencl_entry(&mut out),
        }
        CProgram {
            source: out,
            params: ParamsLayout {
                size: (slots::FIRST_PARAM + self.kernel.params.len() as u32) * 8,
            },
            traps: self.traps,
        }
    }

    /// Whether the kernel uses atomics on 64-bit values (OpenCL C needs the extensions).
    fn uses_64bit_atomics(&self) -> bool {
        let mut wide = self.atomics.iter().any(|&(i, _)| {
            matches!(self.kernel.params.get(i).map(|p| p.kind), Some(ParamKind::Buffer { elem, .. }) if elem.bits() == 64)
        });
        crate::program::walk_stmts(&self.kernel.body, &mut |s| {
            crate::program::stmt_exprs(s, &mut |e| {
                e.walk(&mut |e| {
                    if let ExprKind::SharedAtomic { array, .. } = &e.kind {
                        wide |= self
                            .kernel
                            .shared
                            .get(array.0 as usize)
                            .is_some_and(|a| a.elem.bits() == 64);
                    }
                })
            })
        });
        wide
    }

    /// Checked accesses of the private arrays: templates in CUDA, one pair of functions per
    /// array in OpenCL C.
    fn private_functions(&self) -> String {
        let d = self.d;
        let (inline, ctx, c) = (d.inline(), d.ctx_param(), d.c());
        let code = fault_codes::ARRAY_OUT_OF_BOUNDS;
        let u64 = d.u64();
        if d.is_cpp() {
            return format!(
                "template <typename T, unsigned int N> {inline} T private_load(dc_ctx& c, const T (&a)[N], unsigned int id, unsigned long long idx) {{\n    if (idx >= N) {{ record_fault(c, {code}u, id, idx); return T(); }}\n    return a[idx];\n}}\n\
                 template <typename T, unsigned int N> {inline} void private_store(dc_ctx& c, T (&a)[N], unsigned int id, unsigned long long idx, T v) {{\n    if (c.faulted) return;\n    if (idx >= N) {{ record_fault(c, {code}u, id, idx); return; }}\n    a[idx] = v;\n}}\n"
            );
        }
        let mut out = String::new();
        for (i, a) in self.kernel.private.iter().enumerate() {
            let (n, len, z) = (d.ty(a.elem), a.len, zero(d, a.elem));
            let _ = write!(
                out,
                "{inline} {n} private_load_{i}({ctx}, const {n}* a, unsigned int id, {u64} idx) {{\n    if (idx >= {len}) {{ record_fault(c, {code}u, id, idx); return {z}; }}\n    return a[idx];\n}}\n\
                 {inline} void private_store_{i}({ctx}, {n}* a, unsigned int id, {u64} idx, {n} v) {{\n    if ({c}faulted) return;\n    if (idx >= {len}) {{ record_fault(c, {code}u, id, idx); return; }}\n    a[idx] = v;\n}}\n"
            );
        }
        out
    }

    /// The parameters of the entry point, and the context's initialiser: the parameter
    /// block, the fault record and the buffers (scalars travel in the block).
    fn entry_params(&self) -> (Vec<String>, Vec<String>) {
        let d = self.d;
        let (global, restrict) = d.buffer_qualifiers();
        let mut params = match d {
            Dialect::Cuda | Dialect::Hip => vec![
                "const dc_params p".to_string(),
                "unsigned int* fault".to_string(),
            ],
            Dialect::OpenCl => vec![
                "const dc_params params".to_string(),
                "__global unsigned int* fault".to_string(),
            ],
        };
        let fault = match d {
            Dialect::Cuda | Dialect::Hip => "fault",
            Dialect::OpenCl => "fault + p->fault_offset",
        };
        let mut bind = vec!["p".to_string(), fault.to_string()];
        for (i, p) in self.kernel.params.iter().enumerate() {
            match p.kind {
                ParamKind::Buffer { elem, access } => {
                    let constness = if access == Access::Read { "const " } else { "" };
                    params.push(format!(
                        "{global}{constness}{}* {restrict} b{i}",
                        d.ty(elem)
                    ));
                    bind.push(format!("b{i}"));
                }
                // Scalars travel in the block: CUDA keeps their pointer slot (null); OpenCL C
                // has no argument for them.
                ParamKind::Scalar(_) if d.is_cpp() => params.push(format!("const void* unused{i}")),
                ParamKind::Scalar(_) => {}
            }
        }
        if d == Dialect::OpenCl {
            bind.extend((0..self.kernel.shared.len()).map(|i| format!("sh{i}")));
        }
        bind.push("false".into());
        bind.push("true".into());
        (params, bind)
    }

    fn cuda_entry(&self, out: &mut String) {
        let (params, bind) = self.entry_params();
        if self.uniformity.is_some() {
            // One block per group, folded into (nx, ny): every thread runs the body.
            let _ = write!(
                out,
                "extern \"C\" __global__ void {ENTRY_POINT}({}) {{\n\
                 \x20   dc_ctx c{{{}}};\n\
                 \x20   unsigned long long ngx = (p.grid_x + p.group_x - 1ull) / p.group_x;\n\
                 \x20   unsigned long long ngy = (p.grid_y + p.group_y - 1ull) / p.group_y;\n\
                 \x20   unsigned long long ngz = (p.grid_z + p.group_z - 1ull) / p.group_z;\n\
                 \x20   unsigned long long group = (unsigned long long)blockIdx.y * gridDim.x + blockIdx.x;\n\
                 \x20   unsigned long long rest = group / ngx;\n\
                 \x20   unsigned long long gx = (group % ngx) * p.group_x + threadIdx.x;\n\
                 \x20   unsigned long long gy = (rest % ngy) * p.group_y + threadIdx.y;\n\
                 \x20   unsigned long long gz = (rest / ngy) * p.group_z + threadIdx.z;\n\
                 \x20   c.alive = rest / ngy < ngz && gx < p.grid_x && gy < p.grid_y && gz < p.grid_z;\n\
                 \x20   kernel_body(c, gx, gy, gz);\n\
                 }}\n",
                params.join(", "),
                bind.join(", ")
            );
        } else {
            // Work-item coordinates: 1-D grids divide nothing; grids under 2^32 items divide in
            // 32 bits (64-bit division is many instructions on a GPU).
            let _ = write!(
                out,
                "extern \"C\" __global__ void {ENTRY_POINT}({}) {{\n\
                 \x20   unsigned long long linear = ((unsigned long long)blockIdx.y * gridDim.x + blockIdx.x) * blockDim.x + threadIdx.x;\n\
                 \x20   if (linear >= p.total) return;\n\
                 \x20   dc_ctx c{{{}}};\n\
                 \x20   if (p.grid_x == p.total) {{ kernel_body(c, linear, 0ull, 0ull); return; }}\n\
                 \x20   if (p.total <= 0xffffffffull) {{\n\
                 \x20       unsigned int l = (unsigned int)linear, nx = (unsigned int)p.grid_x, ny = (unsigned int)p.grid_y;\n\
                 \x20       unsigned int r = l / nx;\n\
                 \x20       kernel_body(c, l % nx, r % ny, r / ny);\n\
                 \x20       return;\n\
                 \x20   }}\n\
                 \x20   unsigned long long row = linear / p.grid_x;\n\
                 \x20   kernel_body(c, linear % p.grid_x, row % p.grid_y, row / p.grid_y);\n\
                 }}\n",
                params.join(", "),
                bind.join(", ")
            );
        }
    }

    /// OpenCL C's entry: a 1-D range of work items (rounded up to whole groups), or, for a
    /// cooperative kernel, a 3-D range of whole groups of the launch's group size, whose
    /// global ids are the items' coordinates. Shared arrays are declared here (OpenCL C
    /// allows `__local` variables only in kernel functions) and reached through the context.
    fn opencl_entry(&self, out: &mut String) {
        let (params, bind) = self.entry_params();
        let _ = writeln!(out, "__kernel void {ENTRY_POINT}({}) {{", params.join(", "));
        // The block arrives by value (no buffer to fill per launch); helpers reach it through
        // the context, in private memory.
        out.push_str("    const dc_params* p = &params;\n");
        for (i, a) in self.kernel.shared.iter().enumerate() {
            let _ = writeln!(out, "    __local {} sh{i}[{}];", self.d.ty(a.elem), a.len);
        }
        if self.uniformity.is_some() {
            let _ = write!(
                out,
                "    dc_ctx c = {{{}}};\n\
                 \x20   ulong gx = get_global_id(0), gy = get_global_id(1), gz = get_global_id(2);\n\
                 \x20   c.alive = gx < p->grid_x && gy < p->grid_y && gz < p->grid_z;\n\
                 \x20   kernel_body(&c, gx, gy, gz);\n\
                 }}\n",
                bind.join(", ")
            );
        } else {
            let _ = write!(
                out,
                "    ulong linear = get_global_id(0);\n\
                 \x20   if (linear >= p->total) return;\n\
                 \x20   dc_ctx c = {{{}}};\n\
                 \x20   if (p->grid_x == p->total) {{ kernel_body(&c, linear, 0UL, 0UL); return; }}\n\
                 \x20   ulong row = linear / p->grid_x;\n\
                 \x20   kernel_body(&c, linear % p->grid_x, row % p->grid_y, row / p->grid_y);\n\
                 }}\n",
                bind.join(", ")
            );
        }
    }

    /// Helpers for the operations C++ does not have with Rust's meaning.
    fn support_functions(&self) -> String {
        let d = self.d;
        let (inline, ctx, zero64) = (d.inline(), d.ctx_param(), d.u64_lit(0));
        let mut out = String::new();
        let ints = [
            ScalarType::I32,
            ScalarType::U32,
            ScalarType::I64,
            ScalarType::U64,
        ];
        let mut floats = vec![ScalarType::F32];
        if self.kernel.requirements().f64 {
            floats.push(ScalarType::F64);
        }
        for &t in &ints {
            let (n, s) = (d.ty(t), tag(t));
            let z = zero(d, t);
            let u = d.ty(unsigned(t));
            let bits = t.bits();
            let overflow = if t.is_signed() {
                let min = literal(d, Literal::Int(t.int_range().map_or(0, |r| r.0)), t);
                format!(
                    "    if (a == {min} && b == {}) {{ record_fault(c, {}u, 0u, {zero64}); return {z}; }}\n",
                    literal(d, Literal::Int(-1), t),
                    fault_codes::DIVISION_OVERFLOW
                )
            } else {
                String::new()
            };
            for (name, op) in [("div", "/"), ("rem", "%")] {
                let _ = write!(
                    out,
                    "{inline} {n} {name}_{s}({ctx}, {n} a, {n} b) {{\n    if (b == {z}) {{ record_fault(c, {}u, 0u, {zero64}); return {z}; }}\n{overflow}    return a {op} b;\n}}\n",
                    fault_codes::DIVISION_BY_ZERO
                );
            }
            let _ = write!(
                out,
                "{inline} {n} clamp_{s}({ctx}, {n} x, {n} lo, {n} hi) {{\n    if (lo > hi) {{ record_fault(c, {}u, 0u, {zero64}); return x; }}\n    return x < lo ? lo : (x > hi ? hi : x);\n}}\n\
                 {inline} {n} min_{s}({n} a, {n} b) {{ return a < b ? a : b; }}\n\
                 {inline} {n} max_{s}({n} a, {n} b) {{ return a > b ? a : b; }}\n\
                 {inline} {n} rotl_{s}({n} x, unsigned int k) {{ {u} v = ({u})x; unsigned int r = k & {m}u; return r == 0u ? x : ({n})((v << r) | (v >> ({bits}u - r))); }}\n\
                 {inline} {n} rotr_{s}({n} x, unsigned int k) {{ {u} v = ({u})x; unsigned int r = k & {m}u; return r == 0u ? x : ({n})((v >> r) | (v << ({bits}u - r))); }}\n",
                fault_codes::INVALID_CLAMP,
                m = bits - 1,
            );
            if d == Dialect::OpenCl {
                // OpenCL C 1.2 has no `ctz`: the ones below the lowest set bit.
                let _ = write!(
                    out,
                    "{inline} unsigned int popcount_{s}({n} x) {{ return (unsigned int)popcount(x); }}\n\
                     {inline} unsigned int clz_{s}({n} x) {{ return (unsigned int)clz(x); }}\n\
                     {inline} unsigned int ctz_{s}({n} x) {{ {u} v = ({u})x; return x == {z} ? {bits}u : (unsigned int)popcount((v & (({u})0 - v)) - ({u})1); }}\n"
                );
            } else {
                let (popc, clz, ctz) = if bits == 64 {
                    ("__popcll", "__clzll", "__ffsll")
                } else {
                    ("__popc", "__clz", "__ffs")
                };
                let signed_u = if bits == 64 { "long long" } else { "int" };
                let _ = write!(
                    out,
                    "{inline} unsigned int popcount_{s}({n} x) {{ return (unsigned int){popc}(({signed_u})x); }}\n\
                     {inline} unsigned int clz_{s}({n} x) {{ return (unsigned int){clz}(({signed_u})x); }}\n\
                     {inline} unsigned int ctz_{s}({n} x) {{ return x == {z} ? {bits}u : (unsigned int)({ctz}(({signed_u})x) - 1); }}\n"
                );
            }
            if t.is_signed() {
                let _ = writeln!(
                    out,
                    "{inline} {n} iabs_{s}({n} x) {{ return x < {z} ? ({n})(({u})0 - ({u})x) : x; }}"
                );
            }
        }
        for &f in &floats {
            let (n, s) = (d.ty(f), tag(f));
            let (fmin, fmax) = (d.float_fn("fmin", f), d.float_fn("fmax", f));
            let one = literal(d, Literal::Float(1.0), f);
            // Saturating casts to each integer type.
            for &t in &ints {
                let (lo, hi) = t.int_range().unwrap_or((0, 0));
                // At or above 2^bits (or 2^(bits-1)) saturates to MAX; both bounds are exact
                // in every float type.
                let lo_f = literal(d, Literal::Float(lo as f64), f);
                let hi_f = literal(d, Literal::Float((hi as f64) + 1.0), f);
                let _ = write!(
                    out,
                    "{inline} {it} cast_{s}_{is}({n} x) {{\n    if (isnan(x)) return {z};\n    if (x <= {lo_f}) return {lo_v};\n    if (x >= {hi_f}) return {hi_v};\n    return ({it})x;\n}}\n",
                    it = d.ty(t),
                    is = tag(t),
                    z = zero(d, t),
                    lo_v = literal(d, Literal::Int(lo), t),
                    hi_v = literal(d, Literal::Int(hi), t),
                );
            }
            let _ = write!(
                out,
                "{inline} {n} clamp_{s}({ctx}, {n} x, {n} lo, {n} hi) {{\n    if (isnan(lo) || isnan(hi) || lo > hi) {{ record_fault(c, {}u, 0u, {zero64}); return x; }}\n    if (isnan(x)) return x;\n    return {fmin}({fmax}(x, lo), hi);\n}}\n\
                 {inline} {n} powi_{s}({n} x, int e) {{\n    {n} base = x;\n    unsigned int k = e < 0 ? 0u - (unsigned int)e : (unsigned int)e;\n    {n} r = {one};\n    while (k != 0u) {{\n        if (k & 1u) r = r * base;\n        base = base * base;\n        k >>= 1;\n    }}\n    return e < 0 ? {one} / r : r;\n}}\n",
                fault_codes::INVALID_CLAMP,
            );
        }
        out
    }

    /// Each shared array (`__shared__`) with its checked accesses.
    fn shared_functions(&self) -> String {
        let d = self.d;
        let (inline, ctx, cx, u64) = (d.inline(), d.ctx_param(), d.c(), d.u64());
        let mut out = String::new();
        for (i, a) in self.kernel.shared.iter().enumerate() {
            let n = d.ty(a.elem);
            let len = a.len;
            let end = d.u64_lit(len);
            let code = fault_codes::ARRAY_OUT_OF_BOUNDS;
            let z = zero(d, a.elem);
            let sh = d.shared(i);
            if d.is_cpp() {
                let _ = writeln!(out, "__shared__ {n} sh{i}[{len}];");
            }
            let _ = write!(
                out,
                "{inline} {n} shared_load_{i}({ctx}, {u64} idx) {{\n    if (idx >= {end}) {{ record_fault(c, {code}u, {i}u, idx); return {z}; }}\n    return {sh}[idx];\n}}\n\
                 {inline} void shared_store_{i}({ctx}, {u64} idx, {n} v) {{\n    if ({cx}faulted) return;\n    if (idx >= {end}) {{ record_fault(c, {code}u, {i}u, idx); return; }}\n    {sh}[idx] = v;\n}}\n"
            );
            // The atomics the kernel uses on this array (checked even in unchecked kernels:
            // the check is cheap next to the atomic).
            let mut ops: Vec<AtomicOp> = Vec::new();
            crate::program::walk_stmts(&self.kernel.body, &mut |s| {
                crate::program::stmt_exprs(s, &mut |e| {
                    e.walk(&mut |e| {
                        if let ExprKind::SharedAtomic { op, array, .. } = &e.kind
                            && array.0 as usize == i
                            && !ops.contains(op)
                        {
                            ops.push(*op);
                        }
                    })
                })
            });
            for op in ops {
                let (params, body) = atomic_body(d, op, a.elem, &format!("&{sh}[idx]"), "__local ");
                let _ = write!(
                    out,
                    "{inline} {n} {}_sh{i}({ctx}, {u64} idx, {params}) {{\n    if ({cx}faulted) return {z};\n    if (idx >= {end}) {{ record_fault(c, {code}u, {i}u, idx); return {z}; }}\n{body}}}\n",
                    op.intrinsic_name()
                );
            }
        }
        out
    }

    /// Checked loads, stores and atomics per buffer.
    fn buffer_functions(&self) -> String {
        let d = self.d;
        let (inline, ctx, cx, px, u64) = (d.inline(), d.ctx_param(), d.c(), d.p(), d.u64());
        let mut out = String::new();
        for (i, p) in self.kernel.params.iter().enumerate() {
            let ParamKind::Buffer { elem, access } = p.kind else {
                continue;
            };
            let n = d.ty(elem);
            let z = zero(d, elem);
            let check = |ret: &str| {
                format!(
                    "    if (idx >= {px}p{i}) {{ record_fault(c, {}u, {i}u, idx); return{ret}; }}\n",
                    fault_codes::OUT_OF_BOUNDS
                )
            };
            let _ = write!(
                out,
                "{inline} {n} load_{i}({ctx}, {u64} idx) {{\n{}    return {cx}b{i}[idx];\n}}\n\
                 {inline} {n} load_unchecked_{i}({ctx}, {u64} idx) {{ return {cx}b{i}[idx]; }}\n",
                check(&format!(" {z}"))
            );
            if access != Access::ReadWrite {
                continue;
            }
            // A store or atomic in a statement that already faulted (`out[i] = a / 0`) must
            // not happen: Rust would have stopped before it.
            let _ = write!(
                out,
                "{inline} void store_{i}({ctx}, {u64} idx, {n} v) {{\n    if ({cx}faulted) return;\n{}    {cx}b{i}[idx] = v;\n}}\n\
                 {inline} void store_unchecked_{i}({ctx}, {u64} idx, {n} v) {{ if (!{cx}faulted) {cx}b{i}[idx] = v; }}\n",
                check("")
            );
            // Only the atomics the kernel uses (some need a newer architecture than others).
            for op in AtomicOp::ALL {
                if !op.supports(elem) || !self.atomics.contains(&(i, op)) {
                    continue;
                }
                let name = op.intrinsic_name();
                let (params, body) =
                    atomic_body(d, op, elem, &format!("&{cx}b{i}[idx]"), "__global ");
                let check = check(&format!(" {z}"));
                let skip = format!("    if ({cx}faulted) return {z};\n");
                let _ = write!(
                    out,
                    "{inline} {n} {name}_{i}({ctx}, {u64} idx, {params}) {{\n{skip}{check}{body}}}\n\
                     {inline} {n} {name}_unchecked_{i}({ctx}, {u64} idx, {params}) {{\n{skip}{body}}}\n"
                );
            }
        }
        out
    }

    fn signature(&self, index: usize, f: &Function) -> String {
        let d = self.d;
        let mut params = vec![d.ctx_param().to_string()];
        params
            .extend((0..f.param_count as usize).map(|i| format!("{} a{i}", d.ty(f.locals[i].ty))));
        format!(
            "{} {} f{index}({})",
            d.inline(),
            d.ty(f.ret),
            params.join(", ")
        )
    }

    fn function(&mut self, index: usize, f: &Function) -> String {
        let d = self.d;
        let mut out = String::new();
        let _ = writeln!(out, "{} {{", self.signature(index, f));
        // Parameters are copied into locals, which the body may assign.
        for i in 0..f.param_count as usize {
            let _ = writeln!(
                out,
                "    {} {} = a{i};",
                d.ty(f.locals[i].ty),
                local_name(&f.locals, i)
            );
        }
        let body = Body {
            locals: &f.locals,
            ret: Some(f.ret),
            flow: Flow::Function,
            unit: 0,
        };
        self.block(&mut out, &body, &f.body, 1);
        // Every path returns; the compiler does not know that.
        let _ = writeln!(out, "    return {};\n}}", zero(d, f.ret));
        out
    }

    fn temp(&mut self, prefix: &str) -> String {
        self.next_temp += 1;
        format!("{prefix}{}", self.next_temp)
    }

    /// The statement that leaves the current function (or OpenCL C's unit) after a fault.
    fn leave(&self, body: &Body<'_>) -> String {
        match body.ret {
            None if body.flow == Flow::Unit && self.d == Dialect::OpenCl => {
                format!("goto dc_unit{};", body.unit)
            }
            None => "return;".into(),
            Some(t) => format!("return {};", zero(self.d, t)),
        }
    }

    fn bail(&self, body: &Body<'_>) -> String {
        if body.flow == Flow::Uniform {
            // A uniform expression faults in every thread together; the thread's own fault
            // flag (an earlier unit's) must not take it away from the barriers.
            return String::new();
        }
        format!("if ({}faulted) {{ {} }}", self.d.c(), self.leave(body))
    }

    fn block(&mut self, out: &mut String, body: &Body<'_>, block: &[Stmt], depth: usize) {
        for s in block {
            if body.flow == Flow::Uniform {
                self.uniform_stmt(out, body, s, depth);
            } else {
                self.stmt(out, body, s, depth);
            }
        }
    }

    /// A statement of a cooperative kernel reached in uniform control flow: control flow
    /// that stays uniform and the assignments of uniform locals run in every thread; anything
    /// else becomes a lambda, run only by live items.
    fn uniform_stmt(&mut self, out: &mut String, body: &Body<'_>, s: &Stmt, depth: usize) {
        let pad = "    ".repeat(depth);
        let Some(everywhere) = self.uniformity.as_ref().map(|u| u.runs_everywhere(s)) else {
            return self.stmt(out, body, s, depth);
        };
        match s {
            // As in the WGSL emitter: the whole group returns together.
            Stmt::Return(None) => {
                let _ = writeln!(out, "{pad}return;");
            }
            _ if everywhere => self.stmt(out, body, s, depth),
            _ => {
                self.next_unit += 1;
                let unit_body = Body {
                    locals: body.locals,
                    ret: None,
                    flow: Flow::Unit,
                    unit: self.next_unit,
                };
                let cx = self.d.c();
                if self.d.is_cpp() {
                    let _ = writeln!(out, "{pad}if ({cx}alive && !{cx}faulted) [&]() {{");
                    self.stmt(out, &unit_body, s, depth + 1);
                    let _ = writeln!(out, "{pad}}}();");
                } else {
                    // A block left by `goto` (OpenCL C has no lambdas).
                    let _ = writeln!(out, "{pad}if ({cx}alive && !{cx}faulted) {{");
                    self.stmt(out, &unit_body, s, depth + 1);
                    let _ = writeln!(out, "{pad}}}\n{pad}dc_unit{}: ;", unit_body.unit);
                }
            }
        }
    }

    /// Evaluates a condition into a local, with a fault check, and returns the local's name.
    fn condition(
        &mut self,
        out: &mut String,
        body: &Body<'_>,
        cond: &Expr,
        depth: usize,
    ) -> String {
        let pad = "    ".repeat(depth);
        let name = self.temp("c");
        let c = self.expr(body, cond);
        let _ = writeln!(out, "{pad}bool {name} = {c};");
        if can_fault(cond, self.checked) {
            let _ = writeln!(out, "{pad}{}", self.bail(body));
        }
        name
    }

    fn stmt(&mut self, out: &mut String, body: &Body<'_>, s: &Stmt, depth: usize) {
        let d = self.d;
        let (cx, u64) = (d.c(), d.u64());
        let pad = "    ".repeat(depth);
        let mut faultable = false;
        crate::program::stmt_exprs(s, &mut |e| faultable |= can_fault(e, self.checked));
        // A checked store faults too (out of bounds): the item ends there, as Rust's panic
        // ends it (a loop that only a panic leaves must not run on).
        faultable |= self.checked
            && matches!(
                s,
                Stmt::Store { .. } | Stmt::SharedStore { .. } | Stmt::PrivateStore { .. }
            );
        match s {
            Stmt::Let { local, init } if body.flow != Flow::Function => {
                // Declared at the top of a cooperative kernel's body.
                if let Some(e) = init {
                    let v = self.expr(body, e);
                    let name = local_name(body.locals, local.0 as usize);
                    let _ = writeln!(out, "{pad}{name} = {v};");
                }
            }
            Stmt::Let { local, init } => {
                let l = &body.locals[local.0 as usize];
                let name = local_name(body.locals, local.0 as usize);
                let v = match init {
                    Some(e) => self.expr(body, e),
                    // Rust rejects reads before assignment; zero keeps C++ defined.
                    None => zero(d, l.ty),
                };
                let _ = writeln!(out, "{pad}{} {name} = {v};", d.ty(l.ty));
            }
            Stmt::Assign { local, value } => {
                let v = self.expr(body, value);
                let _ = writeln!(
                    out,
                    "{pad}{} = {v};",
                    local_name(body.locals, local.0 as usize)
                );
            }
            Stmt::Store {
                buffer,
                index,
                value,
            } => {
                // The value first, as in Rust.
                let v = self.expr(body, value);
                let i = self.expr(body, index);
                let f = if self.checked {
                    "store"
                } else {
                    "store_unchecked"
                };
                let elem = match self.kernel.params[buffer.0 as usize].kind {
                    ParamKind::Buffer { elem, .. } | ParamKind::Scalar(elem) => elem,
                };
                let _ = writeln!(
                    out,
                    "{pad}{{ {} sv = {v}; {f}_{}(c, {i}, sv); }}",
                    d.ty(elem),
                    buffer.0
                );
            }
            Stmt::SharedStore {
                array,
                index,
                value,
            } => {
                let v = self.expr(body, value);
                let i = self.expr(body, index);
                let a = array.0;
                let n = self
                    .kernel
                    .shared
                    .get(a as usize)
                    .map_or("int", |s| d.ty(s.elem));
                if self.checked {
                    let _ = writeln!(
                        out,
                        "{pad}{{ {n} sv = {v}; shared_store_{a}(c, {i}, sv); }}"
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "{pad}{{ {n} sv = {v}; if (!{cx}faulted) {}[{i}] = sv; }}",
                        d.shared(a)
                    );
                }
            }
            Stmt::Barrier => {
                let _ = writeln!(out, "{pad}{}", d.barrier());
            }
            Stmt::Subgroup {
                op,
                dest,
                value,
                lane,
            } => {
                // Every thread runs this (uniform flow); absent ones contribute the identity.
                // Warps are subgroups of 32 threads, by linear thread id.
                let t = value.ty;
                // CUDA shuffles no `bool`: it travels as an int.
                let n = if t == ScalarType::Bool {
                    "int"
                } else {
                    d.ty(t)
                };
                let identity = literal(d, op.identity(t), t);
                let v = self.expr(body, value);
                let lane = lane.as_ref().map(|l| self.expr(body, l));
                let combine = match op {
                    SubgroupOp::Min | SubgroupOp::Max => {
                        let func = if *op == SubgroupOp::Min {
                            MathFn::Min
                        } else {
                            MathFn::Max
                        };
                        math(d, func, t, &["a".to_string(), "b".to_string()])
                    }
                    _ if t.is_int() => {
                        format!("(({})(({u})a + ({u})b))", d.ty(t), u = d.ty(unsigned(t)))
                    }
                    _ => "(a + b)".to_string(),
                };
                let f = format!("[](const {n} a, const {n} b) {{ return ({n}){combine}; }}");
                let call = match (op, lane) {
                    (SubgroupOp::Shuffle, Some(l)) => {
                        format!("__shfl_sync(0xffffffffu, sgv, (unsigned int)({l}) & 31u)")
                    }
                    (SubgroupOp::ShuffleXor, Some(l)) => {
                        format!("__shfl_xor_sync(0xffffffffu, sgv, (unsigned int)({l}) & 31u)")
                    }
                    (SubgroupOp::Any, _) => "__any_sync(0xffffffffu, sgv)".to_string(),
                    (SubgroupOp::All, _) => "__all_sync(0xffffffffu, sgv)".to_string(),
                    (SubgroupOp::InclusiveAdd, _) => format!("dc_sg_inclusive(sgv, {f})"),
                    (SubgroupOp::ExclusiveAdd, _) => {
                        format!("dc_sg_exclusive(sgv, ({n}){identity}, {f})")
                    }
                    _ => format!("dc_sg_reduce(sgv, {f})"),
                };
                let dest = local_name(body.locals, dest.0 as usize);
                let result =
                    if t == ScalarType::Bool || matches!(op, SubgroupOp::Any | SubgroupOp::All) {
                        format!("(({call}) != 0)")
                    } else {
                        call
                    };
                let _ = writeln!(
                    out,
                    "{pad}{{ {n} sgv = ({n}){identity}; if ({cx}alive) sgv = ({n})({v}); {dest} = {result}; }}"
                );
            }
            Stmt::PrivateInit { array, value } => {
                let v = self.expr(body, value);
                let a = array.0;
                let p = self.kernel.private.get(a as usize);
                let (n, len) = p.map_or(("int", 0), |p| (d.ty(p.elem), p.len));
                let _ = writeln!(
                    out,
                    "{pad}{{ {n} pv = {v}; for (unsigned int k = 0; k < {len}u; k++) pa{a}[k] = pv; }}"
                );
            }
            Stmt::PrivateStore {
                array,
                index,
                value,
            } => {
                let v = self.expr(body, value);
                let i = self.expr(body, index);
                let a = array.0;
                let n = self
                    .kernel
                    .private
                    .get(a as usize)
                    .map_or("int", |p| d.ty(p.elem));
                let number = self.kernel.shared.len() + a as usize;
                if self.checked {
                    let _ = writeln!(
                        out,
                        "{pad}{{ {n} sv = {v}; {}(c, pa{a}, {number}u, {i}, sv); }}",
                        private_fn(d, "private_store", a)
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "{pad}{{ {n} sv = {v}; if (!{cx}faulted) pa{a}[{i}] = sv; }}"
                    );
                }
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                let c = self.condition(out, body, cond, depth);
                let _ = writeln!(out, "{pad}if ({c}) {{");
                self.block(out, body, then_body, depth + 1);
                if !else_body.is_empty() {
                    let _ = writeln!(out, "{pad}}} else {{");
                    self.block(out, body, else_body, depth + 1);
                }
                let _ = writeln!(out, "{pad}}}");
                return;
            }
            Stmt::For {
                var,
                start,
                end,
                inclusive,
                step,
                body: loop_body,
            } => {
                let t = body.locals[var.0 as usize].ty;
                let name = local_name(body.locals, var.0 as usize);
                let s0 = self.expr(body, start);
                let e0 = self.expr(body, end);
                let st = match step {
                    Some(st) => self.expr(body, st),
                    None => d.u64_lit(1),
                };
                let (lo, hi, stp) = (self.temp("lo"), self.temp("hi"), self.temp("st"));
                let (n, u) = (d.ty(t), d.ty(unsigned(t)));
                let _ = writeln!(out, "{pad}{{");
                let _ = writeln!(out, "{pad}    {n} {lo} = {s0};");
                let _ = writeln!(out, "{pad}    {n} {hi} = {e0};");
                let _ = writeln!(out, "{pad}    {u64} {stp} = {st};");
                if faultable {
                    let _ = writeln!(out, "{pad}    {}", self.bail(body));
                }
                if step.is_some() {
                    let _ = writeln!(
                        out,
                        "{pad}    if ({stp} == {zero}) {{ record_fault(c, {}u, 0u, {zero}); {} }}",
                        fault_codes::ZERO_STEP,
                        self.leave(body),
                        zero = d.u64_lit(0),
                    );
                }
                let enter = if *inclusive { "<=" } else { "<" };
                let leave = if *inclusive { "<" } else { "<=" };
                // The loop variable never passes the end: after each iteration (and on
                // `continue`, which runs the increment expression) the loop is done when the
                // distance to the end, computed without overflow, is within one step.
                // A hidden counter steps the loop; the body gets a copy it may assign
                // (`for mut i`), which changes that iteration only, as in Rust.
                let done = self.temp("done");
                let ctr = self.temp("ctr");
                let _ = writeln!(out, "{pad}    bool {done} = false;");
                let _ = writeln!(
                    out,
                    "{pad}    if ({lo} {enter} {hi}) for ({n} {ctr} = {lo}; !{done}; {done} = ({u64})(({u}){hi} - ({u}){ctr}) {leave} {stp}, {ctr} = {done} ? {ctr} : ({n})(({u}){ctr} + ({u}){stp})) {{"
                );
                if body.flow == Flow::Function {
                    let _ = writeln!(out, "{pad}        {n} {name} = {ctr};");
                } else {
                    let _ = writeln!(out, "{pad}        {name} = {ctr};");
                }
                self.block(out, body, loop_body, depth + 2);
                let _ = writeln!(out, "{pad}    }}");
                let _ = writeln!(out, "{pad}}}");
                return;
            }
            Stmt::While {
                cond,
                body: loop_body,
            } => {
                let _ = writeln!(out, "{pad}for (;;) {{");
                let c = self.condition(out, body, cond, depth + 1);
                let _ = writeln!(out, "{pad}    if (!{c}) break;");
                self.block(out, body, loop_body, depth + 1);
                let _ = writeln!(out, "{pad}}}");
                return;
            }
            Stmt::Loop { body: loop_body } => {
                let _ = writeln!(out, "{pad}for (;;) {{");
                self.block(out, body, loop_body, depth + 1);
                let _ = writeln!(out, "{pad}}}");
                return;
            }
            Stmt::Break => {
                let _ = writeln!(out, "{pad}break;");
            }
            Stmt::Continue => {
                let _ = writeln!(out, "{pad}continue;");
            }
            Stmt::Return(None) if body.flow == Flow::Unit => {
                let _ = writeln!(out, "{pad}{cx}alive = false;\n{pad}{}", self.leave(body));
            }
            Stmt::Return(None) => {
                let _ = writeln!(out, "{pad}return;");
            }
            Stmt::Return(Some(e)) => {
                let v = self.expr(body, e);
                let rt = body.ret.map_or("bool", |t| d.ty(t));
                if faultable {
                    let _ = writeln!(
                        out,
                        "{pad}{{ {rt} rv = {v}; {} return rv; }}",
                        self.bail(body)
                    );
                } else {
                    let _ = writeln!(out, "{pad}return {v};");
                }
                return;
            }
            Stmt::Trap { message } => {
                let id = self.traps.len();
                self.traps.push(message.clone());
                let _ = writeln!(
                    out,
                    "{pad}record_fault(c, {}u, 0u, {}); {}",
                    fault_codes::PANIC,
                    d.u64_lit(id),
                    self.leave(body)
                );
                return;
            }
            Stmt::Eval(e) => {
                let v = self.expr(body, e);
                let _ = writeln!(out, "{pad}(void)({v});");
            }
        }
        if faultable {
            let _ = writeln!(out, "{pad}{}", self.bail(body));
        }
    }

    /// An expression. C++ leaves the order of operands and arguments unspecified, while Rust
    /// (and WGSL) evaluate left to right: where two or more operands can fault or have side
    /// effects (atomics), they are evaluated into temporaries in source order, inside an
    /// immediately invoked lambda.
    fn expr(&mut self, body: &Body<'_>, e: &Expr) -> String {
        if let Some(name) = self.sequenced.get(&(e as *const Expr)) {
            return name.clone();
        }
        let operands: Vec<&Expr> = match &e.kind {
            // `&&` and `||` evaluate their right side only sometimes: never hoist it.
            ExprKind::Binary {
                op: BinaryOp::And | BinaryOp::Or,
                ..
            } => Vec::new(),
            ExprKind::Binary { lhs, rhs, .. } => vec![&**lhs, &**rhs],
            ExprKind::Math { args, .. } | ExprKind::Call { args, .. } => args.iter().collect(),
            ExprKind::Atomic { index, args, .. } | ExprKind::SharedAtomic { index, args, .. } => {
                std::iter::once(&**index).chain(args.iter()).collect()
            }
            _ => Vec::new(),
        };
        let effects = operands
            .iter()
            .filter(|o| has_effects(o, self.checked))
            .count();
        if effects < 2 {
            return self.expr_unsequenced(body, e);
        }
        let d = self.d;
        let mut decls = String::new();
        for o in &operands {
            let v = self.expr(body, o);
            let name = self.temp("s");
            let _ = write!(decls, "{} {name} = {v}; ", d.ty(o.ty));
            self.sequenced.insert(*o as *const Expr, name);
        }
        let inner = self.expr_unsequenced(body, e);
        for o in &operands {
            self.sequenced.remove(&(*o as *const Expr));
        }
        match d {
            Dialect::Cuda | Dialect::Hip => {
                format!("([&]() -> {} {{ {decls}return {inner}; }}())", d.ty(e.ty))
            }
            Dialect::OpenCl => format!("({{ {decls}{inner}; }})"),
        }
    }

    fn expr_unsequenced(&mut self, body: &Body<'_>, e: &Expr) -> String {
        let d = self.d;
        let px = d.p();
        let t = e.ty;
        match &e.kind {
            ExprKind::Literal(lit) => literal(d, *lit, t),
            ExprKind::Local(id) => local_name(body.locals, id.0 as usize),
            ExprKind::Param(id) => format!("{px}p{}", id.0),
            ExprKind::Load { buffer, index } => {
                let i = self.expr(body, index);
                let f = if self.checked {
                    "load"
                } else {
                    "load_unchecked"
                };
                format!("{f}_{}(c, {i})", buffer.0)
            }
            ExprKind::SharedLoad { array, index } => {
                let i = self.expr(body, index);
                if self.checked {
                    format!("shared_load_{}(c, {i})", array.0)
                } else {
                    format!("{}[{i}]", d.shared(array.0))
                }
            }
            ExprKind::Len(buffer) => format!("{px}p{}", buffer.0),
            ExprKind::Builtin(b) => match b {
                Builtin::SubgroupSize => d.u64_lit(32),
                Builtin::SubgroupLane => format!("(({})dc_lane())", d.u64()),
                Builtin::GlobalId(a) => format!("g{}", a.letter()),
                Builtin::GlobalSize(a) => format!("{px}grid_{}", a.letter()),
                Builtin::GroupSize(a) => format!("{px}group_{}", a.letter()),
                Builtin::GroupId(a) => format!("(g{0} / {px}group_{0})", a.letter()),
                Builtin::LocalId(a) => format!("(g{0} % {px}group_{0})", a.letter()),
                Builtin::NumGroups(a) => format!(
                    "(({px}grid_{0} + {px}group_{0} - {1}) / {px}group_{0})",
                    a.letter(),
                    d.u64_lit(1)
                ),
            },
            ExprKind::Unary { op, operand } => {
                let v = self.expr(body, operand);
                match op {
                    UnaryOp::Neg if t.is_int() => {
                        format!(
                            "(({})(({u})0 - ({u})({v})))",
                            d.ty(t),
                            u = d.ty(unsigned(t))
                        )
                    }
                    UnaryOp::Neg => format!("(-({v}))"),
                    UnaryOp::Not if t == ScalarType::Bool => format!("(!{v})"),
                    UnaryOp::Not => format!("(({})~{v})", d.ty(t)),
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.expr(body, lhs);
                let r = self.expr(body, rhs);
                let lt = lhs.ty;
                let wrapping = |sym: &str| {
                    let u = d.ty(unsigned(lt));
                    format!("(({})(({u}){l} {sym} ({u}){r}))", d.ty(lt))
                };
                match op {
                    BinaryOp::Div if lt.is_int() => format!("div_{}(c, {l}, {r})", tag(lt)),
                    BinaryOp::Rem if lt.is_int() => format!("rem_{}(c, {l}, {r})", tag(lt)),
                    BinaryOp::Rem => format!("{}({l}, {r})", d.float_fn("fmod", lt)),
                    BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul if lt.is_int() => {
                        wrapping(op.symbol())
                    }
                    BinaryOp::Shl | BinaryOp::Shr => {
                        let mask = lt.bits() - 1;
                        let amount = format!("((unsigned int)({r}) & {mask}u)");
                        if *op == BinaryOp::Shl {
                            let u = d.ty(unsigned(lt));
                            format!("(({})(({u}){l} << {amount}))", d.ty(lt))
                        } else {
                            // Arithmetic for signed types, logical for unsigned, as in Rust.
                            format!("(({}){l} >> {amount})", d.ty(lt))
                        }
                    }
                    BinaryOp::BitAnd | BinaryOp::BitOr if lt == ScalarType::Bool => {
                        // Non-short-circuit on booleans, as in Rust.
                        format!("((bool)({l}) {} (bool)({r}))", op.symbol())
                    }
                    BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor => {
                        format!("(({})({l} {} {r}))", d.ty(lt), op.symbol())
                    }
                    other => format!("({l} {} {r})", other.symbol()),
                }
            }
            ExprKind::Cast(operand) => {
                let v = self.expr(body, operand);
                let from = operand.ty;
                match (from, t) {
                    (a, b) if a == b => v,
                    (ScalarType::Bool, to) => {
                        format!(
                            "(({v}) ? {} : {})",
                            literal(d, Literal::Int(1), to),
                            zero(d, to)
                        )
                    }
                    (f, to) if f.is_float() && to.is_int() => {
                        format!("cast_{}_{}({v})", tag(f), tag(to))
                    }
                    // C++ conversions between integers are modular (sign-extending first from
                    // a signed source), and int-to-float rounds to nearest, as in Rust.
                    (_, to) => format!("(({})({v}))", d.ty(to)),
                }
            }
            ExprKind::Math { func, args } => {
                let r: Vec<String> = args.iter().map(|a| self.expr(body, a)).collect();
                math(d, *func, args[0].ty, &r)
            }
            ExprKind::Call { function, args } => {
                let mut r = vec!["c".to_string()];
                r.extend(args.iter().map(|a| self.expr(body, a)));
                format!("f{}({})", function.0, r.join(", "))
            }
            ExprKind::Atomic {
                op,
                buffer,
                index,
                args,
            } => {
                let i = self.expr(body, index);
                let r: Vec<String> = args.iter().map(|a| self.expr(body, a)).collect();
                let suffix = if self.checked { "" } else { "_unchecked" };
                format!(
                    "{}{suffix}_{}(c, {i}, {})",
                    op.intrinsic_name(),
                    buffer.0,
                    r.join(", ")
                )
            }
            ExprKind::PrivateLoad { array, index } => {
                let i = self.expr(body, index);
                let number = self.kernel.shared.len() + array.0 as usize;
                if self.checked {
                    format!(
                        "{}(c, pa{}, {number}u, {i})",
                        private_fn(d, "private_load", array.0),
                        array.0
                    )
                } else {
                    format!("pa{}[{i}]", array.0)
                }
            }
            ExprKind::SharedAtomic {
                op,
                array,
                index,
                args,
            } => {
                let i = self.expr(body, index);
                let r: Vec<String> = args.iter().map(|a| self.expr(body, a)).collect();
                format!(
                    "{}_sh{}(c, {i}, {})",
                    op.intrinsic_name(),
                    array.0,
                    r.join(", ")
                )
            }
        }
    }
}

/// The parameters and body of an atomic helper on the element at `target`, in address
/// space `space` (OpenCL C's `__global ` or `__local `), returning the old value.
fn atomic_body(
    d: Dialect,
    op: AtomicOp,
    elem: ScalarType,
    target: &str,
    space: &str,
) -> (String, String) {
    match d {
        Dialect::Cuda | Dialect::Hip => cuda_atomic_body(op, elem, target, d),
        Dialect::OpenCl => opencl_atomic_body(op, elem, target, space),
    }
}

/// The parameters and body of an atomic helper on the element at `target` (returns the old
/// value). CUDA's atomics take 32-bit and unsigned 64-bit operands: signed 64-bit values go
/// through their bits, which is exact for the wrapping and bitwise operations.
fn cuda_atomic_body(op: AtomicOp, elem: ScalarType, target: &str, d: Dialect) -> (String, String) {
    let n = d.ty(elem);
    if op == AtomicOp::CompareExchange {
        let body = match elem {
            ScalarType::I64 => format!(
                "    return (long long)atomicCAS((unsigned long long*)({target}), (unsigned long long)cur, (unsigned long long)nv);\n"
            ),
            _ => format!("    return atomicCAS({target}, cur, nv);\n"),
        };
        return (format!("{n} cur, {n} nv"), body);
    }
    let params = format!("{n} v");
    let body = match (op, elem) {
        // `atomicAdd(float*)` flushes subnormal operands and results to zero (PTX
        // `atom.add.f32`): a compare-and-swap loop on the bits keeps IEEE addition.
        (AtomicOp::Add, ScalarType::F32) => format!(
            "    unsigned int* bits = (unsigned int*)({target});\n    unsigned int old = *bits, seen;\n    do {{\n        seen = old;\n        old = atomicCAS(bits, seen, __float_as_uint(__uint_as_float(seen) + v));\n    }} while (old != seen);\n    return __uint_as_float(old);\n"
        ),
        // Native: 32-bit integers (all), u64 (all but sub), f64 add, f32 exchange.
        (AtomicOp::Sub, ScalarType::U64) => {
            format!("    return atomicAdd({target}, 0ull - v);\n")
        }
        // ROCm (5.2) has no signed 64-bit min and max for every architecture: a
        // compare-and-swap loop on the bits.
        (AtomicOp::Min | AtomicOp::Max, ScalarType::I64) if d == Dialect::Hip => format!(
            "    unsigned long long* bits = (unsigned long long*)({target});\n    unsigned long long old = *bits, seen;\n    do {{\n        seen = old;\n        long long cur = (long long)seen;\n        if (cur {} v) return cur;\n        old = atomicCAS(bits, seen, (unsigned long long)v);\n    }} while (old != seen);\n    return (long long)old;\n",
            if op == AtomicOp::Min { "<=" } else { ">=" }
        ),
        (AtomicOp::Min | AtomicOp::Max, ScalarType::I64) => format!(
            "    return {}((long long*)({target}), v);\n",
            if op == AtomicOp::Min {
                "atomicMin"
            } else {
                "atomicMax"
            }
        ),
        (_, ScalarType::I64) => {
            let (f, operand) = match op {
                AtomicOp::Add => ("atomicAdd", "(unsigned long long)v"),
                AtomicOp::Sub => ("atomicAdd", "0ull - (unsigned long long)v"),
                AtomicOp::And => ("atomicAnd", "(unsigned long long)v"),
                AtomicOp::Or => ("atomicOr", "(unsigned long long)v"),
                AtomicOp::Xor => ("atomicXor", "(unsigned long long)v"),
                _ => ("atomicExch", "(unsigned long long)v"),
            };
            format!("    return (long long){f}((unsigned long long*)({target}), {operand});\n")
        }
        (AtomicOp::Exchange, ScalarType::F64) => format!(
            "    return __longlong_as_double((long long)atomicExch((unsigned long long*)({target}), (unsigned long long)__double_as_longlong(v)));\n"
        ),
        _ => {
            let f = match op {
                AtomicOp::Add => "atomicAdd",
                AtomicOp::Sub => "atomicSub",
                AtomicOp::Min => "atomicMin",
                AtomicOp::Max => "atomicMax",
                AtomicOp::And => "atomicAnd",
                AtomicOp::Or => "atomicOr",
                AtomicOp::Xor => "atomicXor",
                _ => "atomicExch",
            };
            format!("    return {f}({target}, v);\n")
        }
    };
    (params, body)
}

/// OpenCL C's atomics: `atomic_*` on 32-bit integers (and `atomic_xchg` on `float`),
/// `atom_*` on 64-bit ones (`cl_khr_int64_base_atomics` and `_extended_atomics`); float
/// additions and `f64` exchanges go through compare-and-swap on the bits.
fn opencl_atomic_body(
    op: AtomicOp,
    elem: ScalarType,
    target: &str,
    space: &str,
) -> (String, String) {
    let d = Dialect::OpenCl;
    let n = d.ty(elem);
    let wide = elem.bits() == 64;
    let prefix = if wide { "atom" } else { "atomic" };
    if op == AtomicOp::CompareExchange {
        return (
            format!("{n} cur, {n} nv"),
            format!("    return {prefix}_cmpxchg((volatile {space}{n}*)({target}), cur, nv);\n"),
        );
    }
    let body = match (op, elem) {
        (AtomicOp::Add, ScalarType::F32 | ScalarType::F64) => {
            let bits = if wide { "ulong" } else { "unsigned int" };
            format!(
                "    volatile {space}{bits}* bits = (volatile {space}{bits}*)({target});\n    {bits} old = *bits, seen;\n    do {{\n        seen = old;\n        old = {prefix}_cmpxchg(bits, seen, {});\n    }} while (old != seen);\n    return {};\n",
                d.bits_of(elem, &format!("{} + v", d.float_of(elem, "seen"))),
                d.float_of(elem, "old"),
            )
        }
        (AtomicOp::Exchange, ScalarType::F64) => format!(
            "    return as_double(atom_xchg((volatile {space}ulong*)({target}), as_ulong(v)));\n"
        ),
        _ => {
            let f = match op {
                AtomicOp::Add => "add",
                AtomicOp::Sub => "sub",
                AtomicOp::Min => "min",
                AtomicOp::Max => "max",
                AtomicOp::And => "and",
                AtomicOp::Or => "or",
                AtomicOp::Xor => "xor",
                _ => "xchg",
            };
            format!("    return {prefix}_{f}((volatile {space}{n}*)({target}), v);\n")
        }
    };
    (format!("{n} v"), body)
}

fn math(d: Dialect, func: MathFn, t: ScalarType, r: &[String]) -> String {
    let s = tag(t);
    let c = |name: &str| d.float_fn(name, t);
    let a = &r[0];
    let b = || r.get(1).cloned().unwrap_or_default();
    let unary = |name: &str| format!("{}({a})", c(name));
    match func {
        MathFn::Sqrt => unary("sqrt"),
        MathFn::Exp => unary("exp"),
        MathFn::Exp2 => unary("exp2"),
        MathFn::Ln => unary("log"),
        MathFn::Log2 => unary("log2"),
        MathFn::Log10 => unary("log10"),
        MathFn::Sin => unary("sin"),
        MathFn::Cos => unary("cos"),
        MathFn::Tan => unary("tan"),
        MathFn::Tanh => unary("tanh"),
        MathFn::Sinh => unary("sinh"),
        MathFn::Cosh => unary("cosh"),
        MathFn::Asin => unary("asin"),
        MathFn::Acos => unary("acos"),
        MathFn::Atan => unary("atan"),
        MathFn::Atan2 => format!("{}({a}, {})", c("atan2"), b()),
        MathFn::Powf => format!("{}({a}, {})", c("pow"), b()),
        MathFn::Powi => format!("powi_{s}({a}, {})", b()),
        MathFn::Abs if t.is_float() => unary("fabs"),
        MathFn::Abs => format!("iabs_{s}({a})"),
        // C's fmin/fmax ignore a NaN operand, as Rust's min/max do.
        MathFn::Min if t.is_float() => format!("{}({a}, {})", c("fmin"), b()),
        MathFn::Max if t.is_float() => format!("{}({a}, {})", c("fmax"), b()),
        MathFn::Min => format!("min_{s}({a}, {})", b()),
        MathFn::Max => format!("max_{s}({a}, {})", b()),
        MathFn::Clamp => format!("clamp_{s}(c, {a}, {}, {})", b(), r[2]),
        MathFn::Floor => unary("floor"),
        MathFn::Ceil => unary("ceil"),
        // C's round is half away from zero, as Rust's.
        MathFn::Round => unary("round"),
        MathFn::Trunc => unary("trunc"),
        MathFn::MulAdd => format!("{}({a}, {}, {})", c("fma"), b(), r[2]),
        MathFn::Hypot => format!("{}({a}, {})", c("hypot"), b()),
        MathFn::Cbrt => unary("cbrt"),
        MathFn::Recip => format!("({} / {a})", literal(d, Literal::Float(1.0), t)),
        MathFn::IsNan => format!("((bool)isnan({a}))"),
        MathFn::IsFinite => format!("((bool)isfinite({a}))"),
        MathFn::IsInfinite => format!("((bool)isinf({a}))"),
        MathFn::CountOnes => format!("popcount_{s}({a})"),
        MathFn::LeadingZeros => format!("clz_{s}({a})"),
        MathFn::TrailingZeros => format!("ctz_{s}({a})"),
        MathFn::RotateLeft => format!("rotl_{s}({a}, {})", b()),
        MathFn::RotateRight => format!("rotr_{s}({a}, {})", b()),
        MathFn::CopySign => format!("{}({a}, {})", c("copysign"), b()),
        MathFn::ExpM1 => unary("expm1"),
        MathFn::Ln1p => unary("log1p"),
        MathFn::ToBits => d.bits_of(t, a),
        MathFn::FromBits if t == ScalarType::U64 => d.float_of(ScalarType::F64, a),
        MathFn::FromBits => d.float_of(ScalarType::F32, a),
    }
}
