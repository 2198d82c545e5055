//! CUDA C++ from the IR, for the CUDA backend (compiled by NVRTC).
//!
//! The emitted source keeps Rust's semantics where C++ differs:
//! - signed `+ - *`, negation and left shifts are done on the unsigned type of the same width
//!   (wrapping, where C++ would have undefined overflow); shift amounts are masked;
//! - faults: an out-of-bounds access, an integer division by zero or `MIN / -1`, a bad
//!   `clamp`, `step_by(0)` or a `panic!` records the first fault in the fault record (see
//!   [`super::abi`]) and ends the work item; every statement that can fault is followed by a
//!   check of the work item's `faulted` flag;
//! - float-to-integer casts saturate (NaN to 0); `powi` multiplies as Rust's does;
//! - floats: the source must be compiled with `--fmad=false` (no contraction of `a * b + c`,
//!   [`CUDA_COMPILE_OPTIONS`]); `mul_add` is `fma`.
//!
//! Entry point: `extern "C" __global__ void dotcompute_main(dc_params p, unsigned int*
//! fault, T0* b0, ...)` with one pointer per parameter (null for scalars, whose values are in
//! the parameter block at the slots of [`super::abi::ParamsLayout`]). The grid is launched as
//! `(nx, ny, 1)` blocks of `block_size` threads; each thread computes its 64-bit linear id,
//! leaves if it is past the grid, and splits it into `x, y, z`.
//!
//! Cooperative kernels (shared arrays, `barrier()`) are launched with one block per group,
//! of the group's size (folded into `(nx, ny, 1)` blocks). Their threads all run the kernel
//! body, so that items beyond the grid reach the barriers, as in the WGSL emitter: locals are
//! declared at the top of the body, control flow that stays uniform (see
//! [`crate::cooperative::Uniformity`]) and the assignments of uniform locals run in every
//! thread, and every other statement runs in a lambda called only while the item is in the
//! grid, has not faulted and has not returned (a fault or a `return` leaves the lambda).
//! Shared arrays are zeroed by the block before the body starts.

use super::abi::{ParamsLayout, fault_codes, slots};
use crate::cooperative::Uniformity;
use crate::program::{
    AtomicOp, BinaryOp, BoundsChecks, Builtin, Expr, ExprKind, Function, Kernel, Literal, Local,
    MathFn, Stmt, SubgroupOp, UnaryOp,
};
use crate::types::{Access, ParamKind, ScalarType};
use std::fmt::Write;

/// NVRTC options the emitted source needs for Rust's float semantics: no contraction of
/// products into fused multiply-adds, IEEE division and square root, denormals kept.
pub const CUDA_COMPILE_OPTIONS: &[&str] = &[
    "--fmad=false",
    "--prec-div=true",
    "--prec-sqrt=true",
    "--ftz=false",
    "--std=c++17",
];

/// The kernel function's name in the emitted source.
pub const ENTRY_POINT: &str = "dotcompute_main";

/// An emitted translation unit and what the host needs to launch it.
#[derive(Clone, Debug)]
pub struct CudaProgram {
    /// CUDA C++ source.
    pub source: String,
    /// The parameter block's layout.
    pub params: ParamsLayout,
    /// The messages of the kernel's `panic!`s, by number.
    pub traps: Vec<String>,
}

/// Emits the CUDA C++ source of a validated kernel.
pub fn emit(kernel: &Kernel) -> CudaProgram {
    Emitter::new(kernel).program()
}

struct Emitter<'k> {
    kernel: &'k Kernel,
    /// Operands already evaluated into temporaries (see `expr`), by address.
    sequenced: std::collections::HashMap<*const Expr, String>,
    /// The (buffer, operation) pairs the kernel uses.
    atomics: Vec<(usize, AtomicOp)>,
    traps: Vec<String>,
    checked: bool,
    next_temp: usize,
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
}

/// Where code runs, which decides how it leaves after a fault or a `return`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// A function of its own (a helper, or an ordinary kernel's body): it returns.
    Function,
    /// A cooperative kernel's body in uniform control flow: it never leaves early.
    Uniform,
    /// A cooperative kernel's statement in a lambda of its own.
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

fn ty(t: ScalarType) -> &'static str {
    match t {
        ScalarType::Bool => "bool",
        ScalarType::I32 => "int",
        ScalarType::U32 => "unsigned int",
        ScalarType::I64 => "long long",
        ScalarType::U64 => "unsigned long long",
        ScalarType::F32 => "float",
        ScalarType::F64 => "double",
    }
}

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

fn local_name(locals: &[Local], i: usize) -> String {
    match locals.get(i) {
        Some(l) => format!("l{i}_{}", l.name),
        None => format!("l{i}"),
    }
}

fn zero(t: ScalarType) -> String {
    literal(
        match t {
            ScalarType::Bool => Literal::Bool(false),
            t if t.is_float() => Literal::Float(0.0),
            _ => Literal::Int(0),
        },
        t,
    )
}

fn literal(lit: Literal, t: ScalarType) -> String {
    match (lit, t) {
        (Literal::Bool(b), _) => b.to_string(),
        (Literal::Int(v), ScalarType::I32) if v == i128::from(i32::MIN) => {
            "(-2147483647 - 1)".into()
        }
        (Literal::Int(v), ScalarType::I64) if v == i128::from(i64::MIN) => {
            "(-9223372036854775807ll - 1ll)".into()
        }
        (Literal::Int(v), ScalarType::I32) => format!("({v})"),
        (Literal::Int(v), ScalarType::U32) => format!("{v}u"),
        (Literal::Int(v), ScalarType::I64) => format!("({v}ll)"),
        (Literal::Int(v), ScalarType::U64) => format!("{v}ull"),
        (Literal::Float(v), ScalarType::F32) => {
            let f = v as f32;
            if f.is_nan() || f.is_infinite() {
                format!("__int_as_float({:#x})", f.to_bits())
            } else {
                // `{:?}` prints enough digits to round-trip; parentheses keep `-(-2.5)` from
                // reading as `--2.5`.
                format!("({f:?}f)")
            }
        }
        (Literal::Float(v), ScalarType::F64) => {
            if v.is_nan() || v.is_infinite() {
                format!("__longlong_as_double({:#x}ll)", v.to_bits())
            } else {
                format!("({v:?})")
            }
        }
        (Literal::Int(v), other) => format!("(({}){v})", ty(other)),
        (Literal::Float(v), other) => format!("(({}){v:?})", ty(other)),
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

const INLINE: &str = "static __device__ __forceinline__";

impl<'k> Emitter<'k> {
    fn new(kernel: &'k Kernel) -> Self {
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
            sequenced: std::collections::HashMap::new(),
            atomics,
            traps: Vec::new(),
            checked: kernel.bounds_checks == BoundsChecks::Checked,
            next_temp: 0,
            uniformity: kernel.is_cooperative().then(|| Uniformity::of(kernel)),
        }
    }

    fn program(mut self) -> CudaProgram {
        let mut out = String::new();
        // The parameter block: one 8-byte slot per value, as in the WGSL backend.
        out.push_str("struct dc_params {\n");
        for axis in ["x", "y", "z"] {
            let _ = writeln!(out, "    unsigned long long grid_{axis};");
        }
        for axis in ["x", "y", "z"] {
            let _ = writeln!(out, "    unsigned long long group_{axis};");
        }
        out.push_str("    unsigned long long total;\n");
        out.push_str("    unsigned int launch_id; unsigned int pad_launch_id;\n");
        out.push_str("    unsigned long long unused_nz32;\n    unsigned long long unused_nz64;\n");
        for (i, p) in self.kernel.params.iter().enumerate() {
            match p.kind {
                ParamKind::Scalar(t) if t.bits() == 32 => {
                    let _ = writeln!(out, "    {} p{i}; unsigned int pad_p{i};", ty(t));
                }
                ParamKind::Scalar(t) => {
                    let _ = writeln!(out, "    {} p{i};", ty(t));
                }
                ParamKind::Buffer { .. } => {
                    let _ = writeln!(out, "    unsigned long long p{i};");
                }
            }
        }
        out.push_str("};\n");
        // What every helper needs: the parameters, the fault record, the buffers, and whether
        // this work item has faulted.
        out.push_str("struct dc_ctx {\n    const dc_params& p;\n    unsigned int* fault;\n");
        for (i, p) in self.kernel.params.iter().enumerate() {
            if let ParamKind::Buffer { elem, access } = p.kind {
                let constness = if access == Access::Read { "const " } else { "" };
                let _ = writeln!(out, "    {constness}{}* __restrict__ b{i};", ty(elem));
            }
        }
        // `alive`: in a cooperative kernel, whether this item is in the grid and has not
        // returned; only live items record faults (every thread runs the uniform code).
        out.push_str("    bool faulted;\n    bool alive;\n};\n");
        let _ = write!(
            out,
            "{INLINE} void record_fault(dc_ctx& c, unsigned int code, unsigned int param, unsigned long long index) {{\n\
             \x20   if (!c.alive) return;\n\
             \x20   c.faulted = true;\n\
             \x20   if (atomicCAS(&c.fault[0], 0u, code) == 0u) {{\n\
             \x20       c.fault[1] = param;\n\
             \x20       c.fault[2] = (unsigned int)(index & 0xffffffffull);\n\
             \x20       c.fault[3] = (unsigned int)(index >> 32);\n\
             \x20       c.fault[4] = c.p.launch_id;\n\
             \x20       __threadfence();\n\
             \x20   }}\n\
             }}\n"
        );
        out.push_str(&self.support_functions());
        out.push_str(&self.buffer_functions());
        out.push_str(&self.shared_functions());
        if self.kernel.uses_subgroups() {
            out.push_str(SUBGROUP_FUNCTIONS);
        }
        let code = fault_codes::ARRAY_OUT_OF_BOUNDS;
        let _ = write!(
            out,
            "template <typename T, unsigned int N> {INLINE} T private_load(dc_ctx& c, const T (&a)[N], unsigned int id, unsigned long long idx) {{\n    if (idx >= N) {{ record_fault(c, {code}u, id, idx); return T(); }}\n    return a[idx];\n}}\n\
             template <typename T, unsigned int N> {INLINE} void private_store(dc_ctx& c, T (&a)[N], unsigned int id, unsigned long long idx, T v) {{\n    if (c.faulted) return;\n    if (idx >= N) {{ record_fault(c, {code}u, id, idx); return; }}\n    a[idx] = v;\n}}\n"
        );
        // Helpers first declared, so that they can call each other in any order.
        for (i, f) in self.kernel.functions.iter().enumerate() {
            let _ = writeln!(out, "{};", Self::signature(i, f));
        }
        for (i, f) in self.kernel.functions.iter().enumerate() {
            let text = self.function(i, f);
            out.push_str(&text);
        }
        // The kernel body.
        let _ = writeln!(
            out,
            "{INLINE} void kernel_body(dc_ctx& c, unsigned long long gx, unsigned long long gy, unsigned long long gz) {{"
        );
        let cooperative = self.uniformity.is_some();
        for (i, a) in self.kernel.private.iter().enumerate() {
            let _ = writeln!(out, "    {} pa{i}[{}] = {{}};", ty(a.elem), a.len);
        }
        if cooperative {
            for (i, l) in self.kernel.locals.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "    {} {} = {};",
                    ty(l.ty),
                    local_name(&self.kernel.locals, i),
                    zero(l.ty)
                );
            }
            if !self.kernel.shared.is_empty() {
                out.push_str("    unsigned int tid = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);\n    unsigned int threads = blockDim.x * blockDim.y * blockDim.z;\n");
                for (i, a) in self.kernel.shared.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "    for (unsigned int k = tid; k < {}u; k += threads) sh{i}[k] = {};",
                        a.len,
                        zero(a.elem)
                    );
                }
                out.push_str("    __syncthreads();\n");
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
        };
        let mut text = String::new();
        self.block(&mut text, &body, &self.kernel.body, 1);
        out.push_str(&text);
        out.push_str("}\n");

        // The entry point.
        let mut params = vec![
            "const dc_params p".to_string(),
            "unsigned int* fault".to_string(),
        ];
        let mut bind = vec!["p".to_string(), "fault".to_string()];
        for (i, p) in self.kernel.params.iter().enumerate() {
            match p.kind {
                ParamKind::Buffer { elem, access } => {
                    let constness = if access == Access::Read { "const " } else { "" };
                    params.push(format!("{constness}{}* __restrict__ b{i}", ty(elem)));
                    bind.push(format!("b{i}"));
                }
                // Scalars travel in the block; their pointer slot is unused (null).
                ParamKind::Scalar(_) => params.push(format!("const void* unused{i}")),
            }
        }
        bind.push("false".into());
        bind.push("true".into());
        if cooperative {
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
        CudaProgram {
            source: out,
            params: ParamsLayout {
                size: (slots::FIRST_PARAM + self.kernel.params.len() as u32) * 8,
            },
            traps: self.traps,
        }
    }

    /// Helpers for the operations C++ does not have with Rust's meaning.
    fn support_functions(&self) -> String {
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
            let (n, s) = (ty(t), tag(t));
            let z = zero(t);
            let u = ty(unsigned(t));
            let bits = t.bits();
            let overflow = if t.is_signed() {
                let min = literal(Literal::Int(t.int_range().map_or(0, |r| r.0)), t);
                format!(
                    "    if (a == {min} && b == {}) {{ record_fault(c, {}u, 0u, 0ull); return {z}; }}\n",
                    literal(Literal::Int(-1), t),
                    fault_codes::DIVISION_OVERFLOW
                )
            } else {
                String::new()
            };
            for (name, op) in [("div", "/"), ("rem", "%")] {
                let _ = write!(
                    out,
                    "{INLINE} {n} {name}_{s}(dc_ctx& c, {n} a, {n} b) {{\n    if (b == {z}) {{ record_fault(c, {}u, 0u, 0ull); return {z}; }}\n{overflow}    return a {op} b;\n}}\n",
                    fault_codes::DIVISION_BY_ZERO
                );
            }
            let _ = write!(
                out,
                "{INLINE} {n} clamp_{s}(dc_ctx& c, {n} x, {n} lo, {n} hi) {{\n    if (lo > hi) {{ record_fault(c, {}u, 0u, 0ull); return x; }}\n    return x < lo ? lo : (x > hi ? hi : x);\n}}\n\
                 {INLINE} {n} min_{s}({n} a, {n} b) {{ return a < b ? a : b; }}\n\
                 {INLINE} {n} max_{s}({n} a, {n} b) {{ return a > b ? a : b; }}\n\
                 {INLINE} {n} rotl_{s}({n} x, unsigned int k) {{ {u} v = ({u})x; unsigned int r = k & {m}u; return r == 0u ? x : ({n})((v << r) | (v >> ({bits}u - r))); }}\n\
                 {INLINE} {n} rotr_{s}({n} x, unsigned int k) {{ {u} v = ({u})x; unsigned int r = k & {m}u; return r == 0u ? x : ({n})((v >> r) | (v << ({bits}u - r))); }}\n",
                fault_codes::INVALID_CLAMP,
                m = bits - 1,
            );
            let (popc, clz, ctz) = if bits == 64 {
                ("__popcll", "__clzll", "__ffsll")
            } else {
                ("__popc", "__clz", "__ffs")
            };
            let signed_u = if bits == 64 { "long long" } else { "int" };
            let _ = write!(
                out,
                "{INLINE} unsigned int popcount_{s}({n} x) {{ return (unsigned int){popc}(({signed_u})x); }}\n\
                 {INLINE} unsigned int clz_{s}({n} x) {{ return (unsigned int){clz}(({signed_u})x); }}\n\
                 {INLINE} unsigned int ctz_{s}({n} x) {{ return x == {z} ? {bits}u : (unsigned int)({ctz}(({signed_u})x) - 1); }}\n"
            );
            if t.is_signed() {
                let _ = writeln!(
                    out,
                    "{INLINE} {n} iabs_{s}({n} x) {{ return x < {z} ? ({n})(({u})0 - ({u})x) : x; }}"
                );
            }
        }
        for &f in &floats {
            let (n, s) = (ty(f), tag(f));
            let suffix = if f == ScalarType::F32 { "f" } else { "" };
            let one = literal(Literal::Float(1.0), f);
            // Saturating casts to each integer type.
            for &t in &ints {
                let (lo, hi) = t.int_range().unwrap_or((0, 0));
                // At or above 2^bits (or 2^(bits-1)) saturates to MAX; both bounds are exact
                // in every float type.
                let lo_f = literal(Literal::Float(lo as f64), f);
                let hi_f = literal(Literal::Float((hi as f64) + 1.0), f);
                let _ = write!(
                    out,
                    "{INLINE} {it} cast_{s}_{is}({n} x) {{\n    if (isnan(x)) return {z};\n    if (x <= {lo_f}) return {lo_v};\n    if (x >= {hi_f}) return {hi_v};\n    return ({it})x;\n}}\n",
                    it = ty(t),
                    is = tag(t),
                    z = zero(t),
                    lo_v = literal(Literal::Int(lo), t),
                    hi_v = literal(Literal::Int(hi), t),
                );
            }
            let _ = write!(
                out,
                "{INLINE} {n} clamp_{s}(dc_ctx& c, {n} x, {n} lo, {n} hi) {{\n    if (isnan(lo) || isnan(hi) || lo > hi) {{ record_fault(c, {}u, 0u, 0ull); return x; }}\n    if (isnan(x)) return x;\n    return fmin{suffix}(fmax{suffix}(x, lo), hi);\n}}\n\
                 {INLINE} {n} powi_{s}({n} x, int e) {{\n    {n} base = x;\n    unsigned int k = e < 0 ? 0u - (unsigned int)e : (unsigned int)e;\n    {n} r = {one};\n    while (k != 0u) {{\n        if (k & 1u) r = r * base;\n        base = base * base;\n        k >>= 1;\n    }}\n    return e < 0 ? {one} / r : r;\n}}\n",
                fault_codes::INVALID_CLAMP,
            );
        }
        out
    }

    /// Each shared array (`__shared__`) with its checked accesses.
    fn shared_functions(&self) -> String {
        let mut out = String::new();
        for (i, a) in self.kernel.shared.iter().enumerate() {
            let n = ty(a.elem);
            let len = a.len;
            let code = fault_codes::ARRAY_OUT_OF_BOUNDS;
            let z = zero(a.elem);
            let _ = write!(
                out,
                "__shared__ {n} sh{i}[{len}];\n\
                 {INLINE} {n} shared_load_{i}(dc_ctx& c, unsigned long long idx) {{\n    if (idx >= {len}ull) {{ record_fault(c, {code}u, {i}u, idx); return {z}; }}\n    return sh{i}[idx];\n}}\n\
                 {INLINE} void shared_store_{i}(dc_ctx& c, unsigned long long idx, {n} v) {{\n    if (c.faulted) return;\n    if (idx >= {len}ull) {{ record_fault(c, {code}u, {i}u, idx); return; }}\n    sh{i}[idx] = v;\n}}\n"
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
                let (params, body) = atomic_body(op, a.elem, &format!("&sh{i}[idx]"));
                let _ = write!(
                    out,
                    "{INLINE} {n} {}_sh{i}(dc_ctx& c, unsigned long long idx, {params}) {{\n    if (c.faulted) return {z};\n    if (idx >= {len}ull) {{ record_fault(c, {code}u, {i}u, idx); return {z}; }}\n{body}}}\n",
                    op.intrinsic_name()
                );
            }
        }
        out
    }

    /// Checked loads, stores and atomics per buffer.
    fn buffer_functions(&self) -> String {
        let mut out = String::new();
        for (i, p) in self.kernel.params.iter().enumerate() {
            let ParamKind::Buffer { elem, access } = p.kind else {
                continue;
            };
            let n = ty(elem);
            let z = zero(elem);
            let check = |ret: &str| {
                format!(
                    "    if (idx >= c.p.p{i}) {{ record_fault(c, {}u, {i}u, idx); return{ret}; }}\n",
                    fault_codes::OUT_OF_BOUNDS
                )
            };
            let _ = write!(
                out,
                "{INLINE} {n} load_{i}(dc_ctx& c, unsigned long long idx) {{\n{}    return c.b{i}[idx];\n}}\n\
                 {INLINE} {n} load_unchecked_{i}(dc_ctx& c, unsigned long long idx) {{ return c.b{i}[idx]; }}\n",
                check(&format!(" {z}"))
            );
            if access != Access::ReadWrite {
                continue;
            }
            // A store or atomic in a statement that already faulted (`out[i] = a / 0`) must
            // not happen: Rust would have stopped before it.
            let _ = write!(
                out,
                "{INLINE} void store_{i}(dc_ctx& c, unsigned long long idx, {n} v) {{\n    if (c.faulted) return;\n{}    c.b{i}[idx] = v;\n}}\n\
                 {INLINE} void store_unchecked_{i}(dc_ctx& c, unsigned long long idx, {n} v) {{ if (!c.faulted) c.b{i}[idx] = v; }}\n",
                check("")
            );
            // Only the atomics the kernel uses (some need a newer architecture than others).
            for op in AtomicOp::ALL {
                if !op.supports(elem) || !self.atomics.contains(&(i, op)) {
                    continue;
                }
                let name = op.intrinsic_name();
                let (params, body) = atomic_body(op, elem, &format!("&c.b{i}[idx]"));
                let check = check(&format!(" {z}"));
                let skip = format!("    if (c.faulted) return {z};\n");
                let _ = write!(
                    out,
                    "{INLINE} {n} {name}_{i}(dc_ctx& c, unsigned long long idx, {params}) {{\n{skip}{check}{body}}}\n\
                     {INLINE} {n} {name}_unchecked_{i}(dc_ctx& c, unsigned long long idx, {params}) {{\n{skip}{body}}}\n"
                );
            }
        }
        out
    }

    fn signature(index: usize, f: &Function) -> String {
        let mut params = vec!["dc_ctx& c".to_string()];
        params.extend((0..f.param_count as usize).map(|i| format!("{} a{i}", ty(f.locals[i].ty))));
        format!("{INLINE} {} f{index}({})", ty(f.ret), params.join(", "))
    }

    fn function(&mut self, index: usize, f: &Function) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} {{", Self::signature(index, f));
        // Parameters are copied into locals, which the body may assign.
        for i in 0..f.param_count as usize {
            let _ = writeln!(
                out,
                "    {} {} = a{i};",
                ty(f.locals[i].ty),
                local_name(&f.locals, i)
            );
        }
        let body = Body {
            locals: &f.locals,
            ret: Some(f.ret),
            flow: Flow::Function,
        };
        self.block(&mut out, &body, &f.body, 1);
        // Every path returns; the compiler does not know that.
        let _ = writeln!(out, "    return {};\n}}", zero(f.ret));
        out
    }

    fn temp(&mut self, prefix: &str) -> String {
        self.next_temp += 1;
        format!("{prefix}{}", self.next_temp)
    }

    /// The statement that leaves the current function after a fault.
    fn leave(&self, body: &Body<'_>) -> String {
        match body.ret {
            None => "return;".into(),
            Some(t) => format!("return {};", zero(t)),
        }
    }

    fn bail(&self, body: &Body<'_>) -> String {
        if body.flow == Flow::Uniform {
            // A uniform expression faults in every thread together; the thread's own fault
            // flag (an earlier unit's) must not take it away from the barriers.
            return String::new();
        }
        format!("if (c.faulted) {{ {} }}", self.leave(body))
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
                let unit_body = Body {
                    locals: body.locals,
                    ret: None,
                    flow: Flow::Unit,
                };
                let _ = writeln!(out, "{pad}if (c.alive && !c.faulted) [&]() {{");
                self.stmt(out, &unit_body, s, depth + 1);
                let _ = writeln!(out, "{pad}}}();");
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
        let pad = "    ".repeat(depth);
        let mut faultable = false;
        crate::program::stmt_exprs(s, &mut |e| faultable |= can_fault(e, self.checked));
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
                    None => zero(l.ty),
                };
                let _ = writeln!(out, "{pad}{} {name} = {v};", ty(l.ty));
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
                    ty(elem),
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
                    .map_or("int", |s| ty(s.elem));
                if self.checked {
                    let _ = writeln!(
                        out,
                        "{pad}{{ {n} sv = {v}; shared_store_{a}(c, {i}, sv); }}"
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "{pad}{{ {n} sv = {v}; if (!c.faulted) sh{a}[{i}] = sv; }}"
                    );
                }
            }
            Stmt::Barrier => {
                let _ = writeln!(out, "{pad}__syncthreads();");
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
                let n = if t == ScalarType::Bool { "int" } else { ty(t) };
                let identity = literal(op.identity(t), t);
                let v = self.expr(body, value);
                let lane = lane.as_ref().map(|l| self.expr(body, l));
                let combine = match op {
                    SubgroupOp::Min | SubgroupOp::Max => {
                        let func = if *op == SubgroupOp::Min {
                            MathFn::Min
                        } else {
                            MathFn::Max
                        };
                        math(func, t, &["a".to_string(), "b".to_string()])
                    }
                    _ if t.is_int() => {
                        format!("(({})(({u})a + ({u})b))", ty(t), u = ty(unsigned(t)))
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
                    "{pad}{{ {n} sgv = ({n}){identity}; if (c.alive) sgv = ({n})({v}); {dest} = {result}; }}"
                );
            }
            Stmt::PrivateInit { array, value } => {
                let v = self.expr(body, value);
                let a = array.0;
                let p = self.kernel.private.get(a as usize);
                let (n, len) = p.map_or(("int", 0), |p| (ty(p.elem), p.len));
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
                    .map_or("int", |p| ty(p.elem));
                let number = self.kernel.shared.len() + a as usize;
                if self.checked {
                    let _ = writeln!(
                        out,
                        "{pad}{{ {n} sv = {v}; private_store(c, pa{a}, {number}u, {i}, sv); }}"
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "{pad}{{ {n} sv = {v}; if (!c.faulted) pa{a}[{i}] = sv; }}"
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
                    None => "1ull".into(),
                };
                let (lo, hi, stp) = (self.temp("lo"), self.temp("hi"), self.temp("st"));
                let (n, u) = (ty(t), ty(unsigned(t)));
                let _ = writeln!(out, "{pad}{{");
                let _ = writeln!(out, "{pad}    {n} {lo} = {s0};");
                let _ = writeln!(out, "{pad}    {n} {hi} = {e0};");
                let _ = writeln!(out, "{pad}    unsigned long long {stp} = {st};");
                if faultable {
                    let _ = writeln!(out, "{pad}    {}", self.bail(body));
                }
                if step.is_some() {
                    let _ = writeln!(
                        out,
                        "{pad}    if ({stp} == 0ull) {{ record_fault(c, {}u, 0u, 0ull); {} }}",
                        fault_codes::ZERO_STEP,
                        self.leave(body)
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
                    "{pad}    if ({lo} {enter} {hi}) for ({n} {ctr} = {lo}; !{done}; {done} = (unsigned long long)(({u}){hi} - ({u}){ctr}) {leave} {stp}, {ctr} = {done} ? {ctr} : ({n})(({u}){ctr} + ({u}){stp})) {{"
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
                let _ = writeln!(out, "{pad}c.alive = false;\n{pad}return;");
            }
            Stmt::Return(None) => {
                let _ = writeln!(out, "{pad}return;");
            }
            Stmt::Return(Some(e)) => {
                let v = self.expr(body, e);
                let rt = body.ret.map_or("bool", ty);
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
                    "{pad}record_fault(c, {}u, 0u, {id}ull); {}",
                    fault_codes::PANIC,
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
        let mut decls = String::new();
        for o in &operands {
            let v = self.expr(body, o);
            let name = self.temp("s");
            let _ = write!(decls, "{} {name} = {v}; ", ty(o.ty));
            self.sequenced.insert(*o as *const Expr, name);
        }
        let inner = self.expr_unsequenced(body, e);
        for o in &operands {
            self.sequenced.remove(&(*o as *const Expr));
        }
        format!("([&]() -> {} {{ {decls}return {inner}; }}())", ty(e.ty))
    }

    fn expr_unsequenced(&mut self, body: &Body<'_>, e: &Expr) -> String {
        let t = e.ty;
        match &e.kind {
            ExprKind::Literal(lit) => literal(*lit, t),
            ExprKind::Local(id) => local_name(body.locals, id.0 as usize),
            ExprKind::Param(id) => format!("c.p.p{}", id.0),
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
                    format!("sh{}[{i}]", array.0)
                }
            }
            ExprKind::Len(buffer) => format!("c.p.p{}", buffer.0),
            ExprKind::Builtin(b) => match b {
                Builtin::SubgroupSize => "32ull".to_string(),
                Builtin::SubgroupLane => "((unsigned long long)dc_lane())".to_string(),
                Builtin::GlobalId(a) => format!("g{}", a.letter()),
                Builtin::GlobalSize(a) => format!("c.p.grid_{}", a.letter()),
                Builtin::GroupSize(a) => format!("c.p.group_{}", a.letter()),
                Builtin::GroupId(a) => format!("(g{0} / c.p.group_{0})", a.letter()),
                Builtin::LocalId(a) => format!("(g{0} % c.p.group_{0})", a.letter()),
                Builtin::NumGroups(a) => format!(
                    "((c.p.grid_{0} + c.p.group_{0} - 1ull) / c.p.group_{0})",
                    a.letter()
                ),
            },
            ExprKind::Unary { op, operand } => {
                let v = self.expr(body, operand);
                match op {
                    UnaryOp::Neg if t.is_int() => {
                        format!("(({})(({u})0 - ({u})({v})))", ty(t), u = ty(unsigned(t)))
                    }
                    UnaryOp::Neg => format!("(-({v}))"),
                    UnaryOp::Not if t == ScalarType::Bool => format!("(!{v})"),
                    UnaryOp::Not => format!("(({})~{v})", ty(t)),
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.expr(body, lhs);
                let r = self.expr(body, rhs);
                let lt = lhs.ty;
                let wrapping = |sym: &str| {
                    let u = ty(unsigned(lt));
                    format!("(({})(({u}){l} {sym} ({u}){r}))", ty(lt))
                };
                match op {
                    BinaryOp::Div if lt.is_int() => format!("div_{}(c, {l}, {r})", tag(lt)),
                    BinaryOp::Rem if lt.is_int() => format!("rem_{}(c, {l}, {r})", tag(lt)),
                    BinaryOp::Rem if lt == ScalarType::F32 => format!("fmodf({l}, {r})"),
                    BinaryOp::Rem => format!("fmod({l}, {r})"),
                    BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul if lt.is_int() => {
                        wrapping(op.symbol())
                    }
                    BinaryOp::Shl | BinaryOp::Shr => {
                        let mask = lt.bits() - 1;
                        let amount = format!("((unsigned int)({r}) & {mask}u)");
                        if *op == BinaryOp::Shl {
                            let u = ty(unsigned(lt));
                            format!("(({})(({u}){l} << {amount}))", ty(lt))
                        } else {
                            // Arithmetic for signed types, logical for unsigned, as in Rust.
                            format!("(({}){l} >> {amount})", ty(lt))
                        }
                    }
                    BinaryOp::BitAnd | BinaryOp::BitOr if lt == ScalarType::Bool => {
                        // Non-short-circuit on booleans, as in Rust.
                        format!("((bool)({l}) {} (bool)({r}))", op.symbol())
                    }
                    BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor => {
                        format!("(({})({l} {} {r}))", ty(lt), op.symbol())
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
                        format!("(({v}) ? {} : {})", literal(Literal::Int(1), to), zero(to))
                    }
                    (f, to) if f.is_float() && to.is_int() => {
                        format!("cast_{}_{}({v})", tag(f), tag(to))
                    }
                    // C++ conversions between integers are modular (sign-extending first from
                    // a signed source), and int-to-float rounds to nearest, as in Rust.
                    (_, to) => format!("(({})({v}))", ty(to)),
                }
            }
            ExprKind::Math { func, args } => {
                let r: Vec<String> = args.iter().map(|a| self.expr(body, a)).collect();
                math(*func, args[0].ty, &r)
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
                    format!("private_load(c, pa{}, {number}u, {i})", array.0)
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

/// The parameters and body of an atomic helper on the element at `target` (returns the old
/// value). CUDA's atomics take 32-bit and unsigned 64-bit operands: signed 64-bit values go
/// through their bits, which is exact for the wrapping and bitwise operations.
fn atomic_body(op: AtomicOp, elem: ScalarType, target: &str) -> (String, String) {
    let n = ty(elem);
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

fn math(func: MathFn, t: ScalarType, r: &[String]) -> String {
    let s = tag(t);
    let f32 = t == ScalarType::F32;
    // C's float functions carry an `f` suffix.
    let c = |name: &str| {
        if f32 {
            format!("{name}f")
        } else {
            name.to_string()
        }
    };
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
        MathFn::Recip => format!("({} / {a})", literal(Literal::Float(1.0), t)),
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
        MathFn::ToBits => match t {
            ScalarType::F64 => format!("((unsigned long long)__double_as_longlong({a}))"),
            _ => format!("__float_as_uint({a})"),
        },
        MathFn::FromBits => match t {
            ScalarType::U64 => format!("__longlong_as_double((long long)({a}))"),
            _ => format!("__uint_as_float({a})"),
        },
    }
}
