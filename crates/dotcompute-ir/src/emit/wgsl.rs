//! WGSL (WebGPU shading language) from the IR, for the wgpu backend.
//!
//! The emitted module keeps Rust's semantics where WGSL differs:
//! - faults: an out-of-bounds access, an integer division by zero or `MIN / -1`, a bad
//!   `clamp`, `step_by(0)` or a `panic!` records the first fault in the fault buffer
//!   (code, parameter, index, launch id) and ends the work item; every statement that can fault
//!   is followed by a check of a private `faulted` flag, and conditions are evaluated into a
//!   local and checked before they steer control flow;
//! - float-to-integer casts saturate (NaN to 0), `round` rounds half away from zero, float
//!   `min`/`max` ignore a NaN operand, `powi` multiplies, shift amounts are masked explicitly;
//! - `for` loops over inclusive ranges and with steps never overflow their variable;
//! - a float product is never fused with a following addition into one rounding (Vulkan lets
//!   drivers contract `a * b + c` unless told not to, and WGSL cannot say it): every product
//!   is emitted as `a * b + nz`, where `nz` is `-0.0` read from the parameter block. Fused or
//!   not, that is the correctly rounded product (`x + -0.0 == x` for every `x`, signed zeros
//!   included), and it is no multiply-add pattern for what follows;
//! - NaN and infinity tests look at the bits (drivers may fold `x != x` away).
//!
//! Work items: the host dispatches `(nx, ny, 1)` workgroups of `workgroup_size` invocations
//! (so that grids beyond 65535 groups per dimension work); each invocation computes its linear
//! id, leaves if it is past the grid, and splits it into 64-bit `x, y, z`. Ids are `u64`, so
//! the module needs 64-bit integer support (wgpu's `SHADER_INT64`).
//!
//! Cooperative kernels (shared arrays, `barrier()`) run with the launch's groups as
//! workgroups: `@workgroup_size` is the group size ([`WgslOptions::workgroup_size`]), and the
//! host dispatches one workgroup per group (folded into `(nx, ny, 1)` as above). Items beyond
//! the grid's end stay alive for the barriers: the kernel body runs in `main` for every
//! invocation, its locals are `var<private>`, and control flow that stays uniform (see
//! [`crate::cooperative::Uniformity`]) and the assignments of uniform locals run in every
//! invocation, while every other statement is a function of its own, called only while the
//! item is in the grid, has not faulted and has not returned (a fault or a `return` leaves
//! that function, not `main`).
//!
//! Layout: binding 0 is the parameter block, a uniform buffer of 8-byte slots (see
//! [`super::abi::ParamsLayout`]); binding 1 the fault record (`array<atomic<u32>, 8>`); the
//! buffer parameters follow from binding 2, in parameter order ([`buffer_bindings`]). Bindings are
//! dense because wgpu's Vulkan backend numbers descriptors by their position in the layout: a
//! module handed to the driver as SPIR-V must use those numbers.

use super::abi::{ParamsLayout, fault_codes, slots};
use crate::cooperative::Uniformity;
use crate::program::{
    AtomicOp, BinaryOp, BoundsChecks, Builtin, Expr, ExprKind, Function, Kernel, Literal, Local,
    MathFn, Stmt, SubgroupOp, UnaryOp,
};
use crate::types::{Access, ParamKind, ScalarType};
use std::fmt::Write;

mod int64;

/// What the target device supports, which changes the code.
#[derive(Clone, Debug)]
pub struct WgslOptions {
    /// Invocations per workgroup along x, y and z: `[n, 1, 1]` for ordinary kernels (any `n`
    /// the device allows), the launch's group size for cooperative ones.
    pub workgroup_size: [u32; 3],
    /// Write float division (`/`, `recip`) and `sqrt` as correctly rounded helpers
    /// instead of WGSL's, which Vulkan lets be 2.5 ulp (division) or about 2 ulp (`sqrt`,
    /// derived from `inversesqrt`) off: for devices where they are not exact.
    pub correct_rounding: bool,
    /// Tests only: with `correct_rounding`, start the helpers from a quotient or root 2 ulp
    /// off, as an inexact driver's would be, so that a device whose `/` and `sqrt` are exact
    /// tests the corrections.
    #[doc(hidden)]
    pub simulate_inexact_driver: bool,
    /// The device has `f64`: `f32` fused multiply-adds are computed exactly through it (see
    /// [`fma_helper`]), also in kernels that use no `f64`.
    pub device_f64: bool,
    /// The device has 64-bit integers in shaders (wgpu's `SHADER_INT64`). Without them,
    /// `i64`, `u64` and the ids are pairs of 32-bit words (`int64.rs`): the kernel must not
    /// use `f64` or 64-bit atomics, and the launch must have fewer than 2^32 items.
    pub int64: bool,
    /// The driver leaves every loop of a work item after a fixed number of iterations in all,
    /// silently (Mesa's llvmpipe and lavapipe: 65,535): each work item ends with a loop of two
    /// iterations, which such a driver also cuts once the budget is spent, and a cut one
    /// records a `LOOP_LIMIT` fault. (A work item that used all but one iteration of the
    /// budget faults too.)
    pub loop_limit_check: bool,
    /// The driver may rewrite float arithmetic as if it were real arithmetic (GL, where
    /// nothing marks an operation exact: Mesa folds `(x + c) - c` into `x`, which broke the
    /// rounding steps of the math library). Every float `+` and `-` result then goes
    /// through `opaque_*`, an OR of its bits with a zero the driver cannot know, so that no
    /// two additions can be combined (`*` always does, against fusing into a multiply-add).
    /// Off where kernels reach the driver as SPIR-V with operations marked `NoContraction`.
    pub opaque_float_results: bool,
}

impl Default for WgslOptions {
    fn default() -> Self {
        WgslOptions {
            workgroup_size: [64, 1, 1],
            correct_rounding: false,
            simulate_inexact_driver: false,
            device_f64: true,
            int64: true,
            loop_limit_check: false,
            opaque_float_results: false,
        }
    }
}

/// An emitted module and what the host needs to bind it.
#[derive(Clone, Debug)]
pub struct WgslProgram {
    /// WGSL source.
    pub source: String,
    /// The parameter block's layout.
    pub params: ParamsLayout,
    /// The messages of the kernel's `panic!`s, by number.
    pub traps: Vec<String>,
    /// Invocations per workgroup along x, y and z.
    pub workgroup_size: [u32; 3],
}

/// The buffer parameters of `kernel` (their indices) with their bindings: 2 for the first
/// buffer parameter, 3 for the next, and so on (scalars live in the parameter block).
pub fn buffer_bindings(kernel: &Kernel) -> impl Iterator<Item = (usize, u32)> + '_ {
    kernel
        .params
        .iter()
        .enumerate()
        .filter(|(_, p)| matches!(p.kind, ParamKind::Buffer { .. }))
        .zip(2u32..)
        .map(|((i, _), binding)| (i, binding))
}

/// Emits the WGSL module of a validated kernel.
pub fn emit(kernel: &Kernel, options: &WgslOptions) -> WgslProgram {
    Emitter::new(kernel, options).module()
}

struct Emitter<'k> {
    kernel: &'k Kernel,
    workgroup_size: [u32; 3],
    /// For a cooperative kernel: which locals and conditions are uniform.
    uniformity: Option<Uniformity>,
    /// Functions of the statements a cooperative kernel runs only in live items.
    units: String,
    /// Per shared array: used by atomics (so it holds atomics).
    shared_atomic: Vec<bool>,
    atomic: Vec<bool>,
    /// Whether the kernel uses `f64` (its helpers are emitted only then).
    uses_f64: bool,
    traps: Vec<String>,
    checked: bool,
    /// Float division and `sqrt` through `div_cr_*` / `sqrt_cr_*` (see
    /// [`WgslOptions`]).
    correct_rounding: bool,
    /// See [`WgslOptions::simulate_inexact_driver`].
    simulate_inexact_driver: bool,
    device_f64: bool,
    /// 64-bit integers are pairs of words (see [`WgslOptions::int64`]).
    wide: bool,
    /// See [`WgslOptions::loop_limit_check`].
    loop_limit_check: bool,
    /// See [`WgslOptions::opaque_float_results`].
    opaque_float_results: bool,
    /// Counter for unique temporaries.
    next_temp: usize,
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
    /// `main` of a cooperative kernel, in uniform control flow: it never leaves (every
    /// invocation must reach the barriers); statements that need not run everywhere become
    /// units.
    Uniform,
    /// A unit of a cooperative kernel: one statement in a function of its own, whose locals
    /// are the kernel's private variables.
    Unit,
}

/// WGSL spells the scalar types as Rust does.
fn ty(t: ScalarType) -> &'static str {
    t.rust_name()
}

/// The unsigned type of the same width (for overflow-free differences).
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
            "(-2147483647i - 1i)".into()
        }
        (Literal::Int(v), ScalarType::I64) if v == i128::from(i64::MIN) => {
            "(-9223372036854775807li - 1li)".into()
        }
        (Literal::Int(v), ScalarType::I32) => format!("({v}i)"),
        (Literal::Int(v), ScalarType::U32) => format!("{v}u"),
        (Literal::Int(v), ScalarType::I64) => format!("({v}li)"),
        (Literal::Int(v), ScalarType::U64) => format!("{v}lu"),
        (Literal::Float(v), ScalarType::F32) => {
            let f = v as f32;
            if f.is_nan() || f.is_infinite() {
                format!("bitcast<f32>({}u)", f.to_bits())
            } else {
                format!("({:?}f)", f)
            }
        }
        (Literal::Float(v), ScalarType::F64) => {
            if v.is_nan() || v.is_infinite() {
                format!("bitcast<f64>({}lu)", v.to_bits())
            } else {
                format!("({v:?}lf)")
            }
        }
        (Literal::Int(v), other) => format!("{}({v})", ty(other)),
        (Literal::Float(v), other) => format!("{}({v:?})", ty(other)),
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

impl<'k> Emitter<'k> {
    /// Whether values of type `t` are pairs of words (64-bit integers without `int64`).
    fn is_pair(&self, t: ScalarType) -> bool {
        self.wide && t.is_int() && t.bits() == 64
    }

    /// WGSL's name of type `t` (a pair of words for a 64-bit integer without `int64`).
    fn tn(&self, t: ScalarType) -> &'static str {
        if self.is_pair(t) { int64::WIDE } else { ty(t) }
    }

    /// `lit` as a WGSL value of type `t`.
    fn literal(&self, lit: Literal, t: ScalarType) -> String {
        match (lit, t) {
            (Literal::Int(v), t) if self.is_pair(t) => int64::literal(v as u64),
            _ => literal(lit, t),
        }
    }

    /// The zero of type `t`.
    fn zero(&self, t: ScalarType) -> String {
        if self.is_pair(t) {
            int64::literal(0)
        } else {
            zero(t)
        }
    }

    /// WGSL's type of ids and indices (`usize`).
    fn idx_ty(&self) -> &'static str {
        self.tn(ScalarType::U64)
    }

    /// Index `v` as a WGSL value.
    fn idx_lit(&self, v: u64) -> String {
        self.literal(Literal::Int(i128::from(v)), ScalarType::U64)
    }

    /// Whether index `idx` (a WGSL `usize` name) is at or beyond `len`, a `usize` value, or,
    /// with `literal`, a number.
    fn beyond(&self, idx: &str, len: &str, literal: bool) -> String {
        match (self.wide, literal) {
            (false, false) => format!("{idx} >= {len}"),
            (false, true) => format!("{idx} >= {len}lu"),
            (true, false) => format!("({idx}.y != 0u || {idx}.x >= {len}.x)"),
            (true, true) => format!("({idx}.y != 0u || {idx}.x >= {len}u)"),
        }
    }

    /// `l op r` for a comparison `op` of operands of type `t`.
    fn compare(&self, op: BinaryOp, t: ScalarType, l: &str, r: &str) -> String {
        if !self.is_pair(t) {
            return format!("({l} {} {r})", op.symbol());
        }
        let n = ty(t);
        match op {
            BinaryOp::Eq => format!("w_eq({l}, {r})"),
            BinaryOp::Ne => format!("(!w_eq({l}, {r}))"),
            BinaryOp::Lt => format!("w_lt_{n}({l}, {r})"),
            BinaryOp::Gt => format!("w_lt_{n}({r}, {l})"),
            BinaryOp::Le => format!("(!w_lt_{n}({r}, {l}))"),
            _ => format!("(!w_lt_{n}({l}, {r}))"),
        }
    }

    /// `func` of `r` (arguments of type `t`) in WGSL.
    fn math(&self, func: MathFn, t: ScalarType, r: &[String]) -> String {
        match func {
            // WGSL's `min` and `max` would work word by word.
            MathFn::Min | MathFn::Max if self.is_pair(t) => {
                let f = if func == MathFn::Min { "min" } else { "max" };
                format!("{f}_{}({}, {})", ty(t), r[0], r[1])
            }
            _ => math(func, t, r, self.correct_rounding),
        }
    }

    /// A subgroup operation's lane operand as a `u32`.
    fn lane(&mut self, body: &Body<'_>, lane: &Expr) -> String {
        let v = self.expr(body, lane);
        match lane.ty {
            ScalarType::U32 => v,
            t if self.is_pair(t) => format!("to_u32_{}({v})", ty(t)),
            _ => format!("u32({v})"),
        }
    }

    /// An array index as WGSL's `u32`: a literal directly (naga does not convert a `u64`
    /// constant to `u32`), anything else converted.
    fn index32(&self, index: &Expr, rendered: &str) -> String {
        match index.kind {
            ExprKind::Literal(Literal::Int(v)) if (0..=i128::from(u32::MAX)).contains(&v) => {
                format!("{v}u")
            }
            _ if self.wide => format!("{rendered}.x"),
            _ => format!("u32({rendered})"),
        }
    }

    /// Index `idx` (a WGSL `usize` name, known in bounds) as a `u32`.
    fn idx32(&self, idx: &str) -> String {
        if self.wide {
            format!("{idx}.x")
        } else {
            format!("u32({idx})")
        }
    }
    fn new(kernel: &'k Kernel, options: &WgslOptions) -> Self {
        let mut atomic = vec![false; kernel.params.len()];
        let mut shared_atomic = vec![false; kernel.shared.len()];
        crate::program::walk_stmts(&kernel.body, &mut |s| {
            crate::program::stmt_exprs(s, &mut |e| {
                e.walk(&mut |e| match &e.kind {
                    ExprKind::Atomic { buffer, .. } => atomic[buffer.0 as usize] = true,
                    ExprKind::SharedAtomic { array, .. } => shared_atomic[array.0 as usize] = true,
                    _ => {}
                })
            })
        });
        Emitter {
            kernel,
            workgroup_size: options.workgroup_size.map(|n| n.max(1)),
            uniformity: kernel.is_cooperative().then(|| Uniformity::of(kernel)),
            units: String::new(),
            shared_atomic,
            atomic,
            uses_f64: kernel.requirements().f64,
            traps: Vec::new(),
            checked: kernel.bounds_checks == BoundsChecks::Checked,
            correct_rounding: options.correct_rounding,
            simulate_inexact_driver: options.simulate_inexact_driver,
            device_f64: options.device_f64 && options.int64,
            wide: !options.int64,
            loop_limit_check: options.loop_limit_check,
            opaque_float_results: options.opaque_float_results,
            next_temp: 0,
        }
    }

    fn module(mut self) -> WgslProgram {
        let mut out = String::new();
        // One 8-byte slot per value. A 4-byte value's slot has an explicit padding member,
        // not `@size(8)`: naga's GLSL writer drops member sizes and offsets (the block is
        // laid out by std140's own rules), so every slot must fall where those rules put it.
        out.push_str("struct Params {\n");
        let u = self.idx_ty();
        let slot = |out: &mut String, name: &str, t: &str| {
            let _ = writeln!(out, "    {name}: {t},");
            if matches!(t, "u32" | "i32" | "f32") {
                let _ = writeln!(out, "    {name}_pad: u32,");
            }
        };
        for axis in ["x", "y", "z"] {
            slot(&mut out, &format!("grid_{axis}"), u);
        }
        for axis in ["x", "y", "z"] {
            slot(&mut out, &format!("group_{axis}"), u);
        }
        slot(&mut out, "total", u);
        slot(&mut out, "launch_id", "u32");
        slot(&mut out, "nz32", "f32");
        if self.uses_f64 {
            slot(&mut out, "nz64", "f64");
        } else {
            slot(&mut out, "nz64_unused", "u32");
        }
        for (i, p) in self.kernel.params.iter().enumerate() {
            let t = match p.kind {
                ParamKind::Scalar(t) => self.tn(t),
                ParamKind::Buffer { .. } => u,
            };
            slot(&mut out, &format!("p{i}"), t);
        }
        out.push_str("}\n");
        // A uniform, not a storage buffer: storage buffers may alias the kernel's writable
        // buffers, which forces a reload of every parameter after every store.
        out.push_str("@group(0) @binding(0) var<uniform> params: Params;\n");
        out.push_str(
            "@group(0) @binding(1) var<storage, read_write> fault: array<atomic<u32>, 8>;\n",
        );
        for (i, binding) in buffer_bindings(self.kernel) {
            if let ParamKind::Buffer { elem, access } = self.kernel.params[i].kind {
                let mode = match access {
                    Access::Read => "read",
                    Access::ReadWrite => "read_write",
                };
                let element = if self.atomic[i] {
                    format!("atomic<{}>", self.atomic_storage(elem))
                } else {
                    self.tn(elem).to_string()
                };
                let _ = writeln!(
                    out,
                    "@group(0) @binding({binding}) var<storage, {mode}> b{i}: array<{element}>;"
                );
            }
        }
        // In a cooperative kernel every invocation runs the uniform code, also those outside
        // the grid or done: only live items may report what goes wrong there.
        let _ = writeln!(
            out,
            "var<private> faulted: bool;\nfn record_fault(code: u32, param: u32, index: {u}) {{"
        );
        if self.uniformity.is_some() {
            out.push_str("    if !alive { return; }\n");
        }
        let (lo, hi) = if self.wide {
            ("index.x", "index.y")
        } else {
            ("u32(index & 0xfffffffflu)", "u32(index >> 32u)")
        };
        let _ = write!(
            out,
            "\x20   faulted = true;\n\
             \x20   loop {{\n\
             \x20       let r = atomicCompareExchangeWeak(&fault[0], 0u, code);\n\
             \x20       if r.exchanged {{\n\
             \x20           atomicStore(&fault[1], param);\n\
             \x20           atomicStore(&fault[2], {lo});\n\
             \x20           atomicStore(&fault[3], {hi});\n\
             \x20           atomicStore(&fault[4], params.launch_id);\n\
             \x20           return;\n\
             \x20       }}\n\
             \x20       if r.old_value != 0u {{ return; }}\n\
             \x20   }}\n\
             }}\n",
        );
        if self.wide {
            out.push_str(&int64::helpers());
        }
        if self.loop_limit_check {
            // A loop whose trip count the compiler cannot know (the launch id never reaches
            // u32::MAX in practice), so that it stays a loop: a driver that has spent the
            // item's loop budget leaves it after one iteration.
            let _ = writeln!(
                out,
                "fn check_loop_limit() {{\n    if faulted {{ return; }}\n    let n = select(2u, 3u, params.launch_id == 0xffffffffu);\n    var k = 0u;\n    loop {{\n        k = k + 1u;\n        if k >= n {{ break; }}\n    }}\n    if k < n {{ record_fault({}u, 0u, {}); }}\n}}",
                fault_codes::LOOP_LIMIT,
                self.idx_lit(0)
            );
        }
        out.push_str(&self.support_functions());
        out.push_str(&self.subgroup_functions());
        for (i, f) in self.kernel.functions.iter().enumerate() {
            let text = self.function(i, f);
            out.push_str(&text);
        }
        if self.uniformity.is_some() {
            self.cooperative_main(&mut out);
        } else {
            self.main(&mut out);
        }
        WgslProgram {
            source: out,
            params: ParamsLayout {
                // Uniform blocks are sized in multiples of 16 bytes.
                size: ((slots::FIRST_PARAM + self.kernel.params.len() as u32) * 8)
                    .next_multiple_of(16),
            },
            traps: self.traps,
            workgroup_size: self.workgroup_size,
        }
    }

    /// `main` of a cooperative kernel: one workgroup per group, the body run by every
    /// invocation (see the module documentation).
    fn cooperative_main(&mut self, out: &mut String) {
        let u = self.idx_ty();
        let _ = writeln!(
            out,
            "var<private> gx: {u};\nvar<private> gy: {u};\nvar<private> gz: {u};\nvar<private> alive: bool;"
        );
        let subgroups = self.kernel.uses_subgroups();
        if subgroups {
            out.push_str("var<private> sglane: u32;\nvar<private> sgsize: u32;\n");
        }
        for (i, l) in self.kernel.locals.iter().enumerate() {
            let _ = writeln!(
                out,
                "var<private> {}: {};",
                local_name(&self.kernel.locals, i),
                self.tn(l.ty)
            );
        }
        let body = Body {
            locals: &self.kernel.locals,
            ret: None,
            flow: Flow::Uniform,
        };
        let mut text = String::new();
        self.block(&mut text, &body, &self.kernel.body, 1);
        out.push_str(&self.units);
        let [x, y, z] = self.workgroup_size;
        // Subgroups: the device's lanes. WGSL defines `subgroup_invocation_id` for 1-D
        // workgroups only; in others the lane is the local index modulo the size, which is
        // where every known implementation puts its subgroups (the language defines lanes
        // that way; conformance case `subgroup_ids` checks it).
        let (sg_params, sg_init) = match (subgroups, y * z) {
            (false, _) => ("", ""),
            (true, 1) => (
                ", @builtin(subgroup_invocation_id) sgid: u32, @builtin(subgroup_size) sgs: u32",
                "    sglane = sgid;\n    sgsize = sgs;\n",
            ),
            (true, _) => (
                ", @builtin(subgroup_size) sgs: u32",
                "    sglane = lindex % sgs;\n    sgsize = sgs;\n",
            ),
        };
        let zeroing = self.shared_zeroing(x * y * z);
        let ids = if self.wide {
            // In words: the host launches fewer than 2^32 items, groups' padding included.
            "\x20   let ngx = (params.grid_x.x - 1u) / params.group_x.x + 1u;\n\
             \x20   let ngy = (params.grid_y.x - 1u) / params.group_y.x + 1u;\n\
             \x20   let ngz = (params.grid_z.x - 1u) / params.group_z.x + 1u;\n\
             \x20   let group = wid.y * nwg.x + wid.x;\n\
             \x20   let rest = group / ngx;\n\
             \x20   let ux = (group % ngx) * params.group_x.x + lid.x;\n\
             \x20   let uy = (rest % ngy) * params.group_y.x + lid.y;\n\
             \x20   let uz = (rest / ngy) * params.group_z.x + lid.z;\n\
             \x20   gx = vec2<u32>(ux, 0u);\n\
             \x20   gy = vec2<u32>(uy, 0u);\n\
             \x20   gz = vec2<u32>(uz, 0u);\n\
             \x20   alive = rest / ngy < ngz && ux < params.grid_x.x && uy < params.grid_y.x && uz < params.grid_z.x;\n"
        } else {
            "\x20   let ngx = (params.grid_x + params.group_x - 1lu) / params.group_x;\n\
             \x20   let ngy = (params.grid_y + params.group_y - 1lu) / params.group_y;\n\
             \x20   let ngz = (params.grid_z + params.group_z - 1lu) / params.group_z;\n\
             \x20   let group = u64(wid.y) * u64(nwg.x) + u64(wid.x);\n\
             \x20   let rest = group / ngx;\n\
             \x20   gx = (group % ngx) * params.group_x + u64(lid.x);\n\
             \x20   gy = (rest % ngy) * params.group_y + u64(lid.y);\n\
             \x20   gz = (rest / ngy) * params.group_z + u64(lid.z);\n\
             \x20   alive = rest / ngy < ngz && gx < params.grid_x && gy < params.grid_y && gz < params.grid_z;\n"
        };
        let _ = write!(
            out,
            "@compute @workgroup_size({x}, {y}, {z})\n\
             fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lindex: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>{sg_params}) {{\n\
             {zeroing}{sg_init}{ids}{text}{check}}}\n",
            check = if self.loop_limit_check {
                "    check_loop_limit();\n"
            } else {
                ""
            }
        );
    }

    /// The group's invocations zero its shared arrays together, each a strided share, then
    /// wait for one another. The kernel language promises zeroed shared arrays, and so does
    /// WGSL, but wgpu's and naga's zeroing (which the wgpu backend turns off) stores each
    /// whole array from one invocation: Mesa's lavapipe unrolls that into one store per
    /// element, and a 4,096-element array took 54 s to compile.
    fn shared_zeroing(&self, threads: u32) -> String {
        let mut out = String::new();
        for (i, a) in self.kernel.shared.iter().enumerate() {
            let store = if self.shared_atomic[i] {
                format!("atomicStore(&sh{i}[k], {}())", self.atomic_storage(a.elem))
            } else {
                format!("sh{i}[k] = {}()", self.tn(a.elem))
            };
            let _ = writeln!(
                out,
                "    for (var k = lindex; k < {len}u; k = k + {threads}u) {{ {store}; }}",
                len = a.len
            );
        }
        if !out.is_empty() {
            out.push_str("    workgroupBarrier();\n");
        }
        out
    }

    /// `main` of an ordinary kernel: invocations past the grid leave at once.
    fn main(&mut self, out: &mut String) {
        let u = self.idx_ty();
        let _ = writeln!(out, "fn kernel_body(gx: {u}, gy: {u}, gz: {u}) {{");
        let body = Body {
            locals: &self.kernel.locals,
            ret: None,
            flow: Flow::Function,
        };
        let mut text = String::new();
        self.block(&mut text, &body, &self.kernel.body, 1);
        out.push_str(&text);
        out.push_str("}\n");
        // With the loop-limit check, each item runs the check after its body.
        let body_fn = if self.loop_limit_check {
            let _ = writeln!(
                out,
                "fn checked_body(gx: {u}, gy: {u}, gz: {u}) {{\n    kernel_body(gx, gy, gz);\n    check_loop_limit();\n}}"
            );
            "checked_body"
        } else {
            "kernel_body"
        };
        let wg = self.workgroup_size[0];
        if self.wide {
            // In words: the host dispatches fewer than 2^32 invocations.
            let _ = write!(
                out,
                "@compute @workgroup_size({wg})\n\
                 fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {{\n\
                 \x20   let l = id.y * groups.x * {wg}u + id.x;\n\
                 \x20   if l >= params.total.x {{ return; }}\n\
                 \x20   let nx = params.grid_x.x;\n\
                 \x20   let r = l / nx;\n\
                 \x20   {body_fn}(vec2<u32>(l % nx, 0u), vec2<u32>(r % params.grid_y.x, 0u), vec2<u32>(r / params.grid_y.x, 0u));\n\
                 }}\n"
            );
            return;
        }
        // Work-item coordinates: 64-bit division is slow everywhere (emulated on GPUs,
        // scalarised on lavapipe), so 1-D grids divide nothing and grids under 2^32 items
        // divide in 32 bits; the branches are uniform across a launch.
        let _ = write!(
            out,
            "@compute @workgroup_size({wg})\n\
             fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {{\n\
             \x20   let linear = u64(id.y) * u64(groups.x) * {wg}lu + u64(id.x);\n\
             \x20   if linear >= params.total {{ return; }}\n\
             \x20   if params.grid_x == params.total {{ {body_fn}(linear, 0lu, 0lu); return; }}\n\
             \x20   if params.total <= 0xfffffffflu {{\n\
             \x20       let l = u32(linear);\n\
             \x20       let nx = u32(params.grid_x);\n\
             \x20       let ny = u32(params.grid_y);\n\
             \x20       let r = l / nx;\n\
             \x20       {body_fn}(u64(l % nx), u64(r % ny), u64(r / ny));\n\
             \x20       return;\n\
             \x20   }}\n\
             \x20   let row = linear / params.grid_x;\n\
             \x20   {body_fn}(linear % params.grid_x, row % params.grid_y, row / params.grid_y);\n\
             }}\n"
        );
    }

    /// The type an atomic buffer of `elem` is declared with (floats through their bits).
    fn atomic_storage(&self, elem: ScalarType) -> &'static str {
        match elem {
            ScalarType::F32 => "u32",
            ScalarType::F64 => "u64",
            other => ty(other),
        }
    }

    /// The subgroup helpers of the kernel's subgroup operations: shuffles of any type through
    /// 32-bit shuffles (WGSL has them for 32-bit values only), and sums, minima, maxima and
    /// scans in the order `SubgroupOp` defines (WGSL's `subgroupAdd` leaves it open), so
    /// that they give the CPU's bits.
    fn subgroup_functions(&self) -> String {
        let mut ops: Vec<(SubgroupOp, ScalarType)> = Vec::new();
        crate::program::walk_stmts(&self.kernel.body, &mut |s| {
            if let Stmt::Subgroup { op, value, .. } = s
                && !ops.contains(&(*op, value.ty))
            {
                ops.push((*op, value.ty));
            }
        });
        let mut out = String::new();
        let mut shuffled: Vec<ScalarType> = Vec::new();
        for &(_, t) in &ops {
            if !shuffled.contains(&t) {
                shuffled.push(t);
            }
        }
        for t in shuffled {
            let n = ty(t);
            let tn = self.tn(t);
            for (name, builtin) in [
                ("xor", "subgroupShuffleXor"),
                ("idx", "subgroupShuffle"),
                ("up", "subgroupShuffleUp"),
            ] {
                let body = match t {
                    ScalarType::Bool => format!("return {builtin}(select(0u, 1u, v), m) != 0u;"),
                    _ if self.is_pair(t) => {
                        format!("return {tn}({builtin}(v.x, m), {builtin}(v.y, m));")
                    }
                    t if t.bits() == 64 => format!(
                        "let b = bitcast<u64>(v);\n    let lo = {builtin}(u32(b & 0xfffffffflu), m);\n    let hi = {builtin}(u32(b >> 32u), m);\n    return bitcast<{n}>((u64(hi) << 32u) | u64(lo));"
                    ),
                    _ => format!("return bitcast<{n}>({builtin}(bitcast<u32>(v), m));"),
                };
                let _ = writeln!(
                    out,
                    "fn sg_{name}_{n}(v: {tn}, m: u32) -> {tn} {{\n    {body}\n}}"
                );
            }
        }
        for (op, t) in ops {
            let n = ty(t);
            let tn = self.tn(t);
            let combine = |a: &str, b: &str| match op {
                SubgroupOp::Min | SubgroupOp::Max => {
                    let func = if op == SubgroupOp::Min {
                        MathFn::Min
                    } else {
                        MathFn::Max
                    };
                    self.math(func, t, &[a.to_string(), b.to_string()])
                }
                _ if self.is_pair(t) => format!("w_add({a}, {b})"),
                _ => format!("({a} + {b})"),
            };
            let identity = self.literal(op.identity(t), t);
            let f = subgroup_function(op);
            let text = match op {
                SubgroupOp::Add | SubgroupOp::Min | SubgroupOp::Max => format!(
                    "fn sg_{f}_{n}(v0: {tn}) -> {tn} {{\n    var v = v0;\n    for (var d = 1u; d < sgsize; d = d << 1u) {{ v = {}; }}\n    return v;\n}}",
                    combine("v", &format!("sg_xor_{n}(v, d)"))
                ),
                SubgroupOp::InclusiveAdd | SubgroupOp::ExclusiveAdd => {
                    let last = if op == SubgroupOp::ExclusiveAdd {
                        format!(
                            "let t = sg_up_{n}(v, 1u);\n    return select({identity}, t, sglane >= 1u);"
                        )
                    } else {
                        "return v;".to_string()
                    };
                    format!(
                        "fn sg_{f}_{n}(v0: {tn}) -> {tn} {{\n    var v = v0;\n    for (var d = 1u; d < sgsize; d = d << 1u) {{\n        let t = sg_up_{n}(v, d);\n        if sglane >= d {{ v = {}; }}\n    }}\n    {last}\n}}",
                        combine("t", "v")
                    )
                }
                _ => continue,
            };
            let _ = writeln!(out, "{text}");
        }
        out
    }

    /// Helpers for the operations WGSL does not have with Rust's meaning, for every type the
    /// kernel could use them with (unused functions cost nothing).
    fn support_functions(&self) -> String {
        let mut out = String::new();
        // With 64-bit integers as pairs, `int64::helpers` has their functions.
        let types: &[ScalarType] = if self.wide {
            &[ScalarType::I32, ScalarType::U32]
        } else {
            &[
                ScalarType::I32,
                ScalarType::U32,
                ScalarType::I64,
                ScalarType::U64,
            ]
        };
        let z_idx = self.idx_lit(0);
        let mut floats = vec![ScalarType::F32];
        if self.uses_f64 {
            floats.push(ScalarType::F64);
        }
        // `v` through an OR of its bits with a zero the driver cannot know (`nz32`'s bits
        // shifted left), so that it cannot combine the operation that made `v` with the next.
        // Not an addition of -0.0: Mesa takes `0.0 + -0.0` for `-0.0` (folding a product it
        // knows is +0), and its GLSL compiler reassociates constants through nested additions.
        out.push_str(
            "fn opaque_f32(v: f32) -> f32 { return bitcast<f32>(bitcast<u32>(v) | (bitcast<u32>(params.nz32) << 1u)); }\n",
        );
        if self.uses_f64 {
            out.push_str(
                "fn opaque_f64(v: f64) -> f64 { return bitcast<f64>(bitcast<u64>(v) | u64(bitcast<u32>(params.nz32) << 1u)); }\n",
            );
        }
        // Integer division and remainder.
        for &t in types {
            let n = ty(t);
            let z = self.zero(t);
            let overflow = if t.is_signed() {
                let min = self.literal(Literal::Int(t.int_range().map_or(0, |r| r.0)), t);
                let m1 = self.literal(Literal::Int(-1), t);
                format!(
                    "    if a == {min} && b == {m1} {{ record_fault({}u, 0u, {z_idx}); return {z}; }}\n",
                    fault_codes::DIVISION_OVERFLOW
                )
            } else {
                String::new()
            };
            for (name, op) in [("div", "/"), ("rem", "%")] {
                // Without 64-bit integers the module may go to GL, whose `%` (and, before
                // GLSL 1.30, `/`) of negative operands is undefined, and naga's GLSL keeps
                // WGSL's operators: signed ones work on the magnitudes (llvmpipe's GL gave
                // 31 for -1 % 32).
                let result = if self.wide && t == ScalarType::I32 {
                    let sign = if name == "div" {
                        "(a < 0i) != (b < 0i)"
                    } else {
                        "a < 0i"
                    };
                    format!(
                        "let m = i32(select(u32(a), 0u - u32(a), a < 0i) {op} select(u32(b), 0u - u32(b), b < 0i));\n    return select(m, -m, {sign});"
                    )
                } else {
                    format!("return a {op} b;")
                };
                let _ = write!(
                    out,
                    "fn {name}_{n}(a: {n}, b: {n}) -> {n} {{\n    if b == {z} {{ record_fault({}u, 0u, {z_idx}); return {z}; }}\n{overflow}    {result}\n}}\n",
                    fault_codes::DIVISION_BY_ZERO
                );
            }
        }
        // Conversions from 64-bit types through a function: naga's constant evaluator
        // cannot convert a 64-bit constant (`f32(5lu)`, `u32(-3li)`, `f32(2.5lf)` are
        // refused), and a parameter is never a constant. Found by the random kernels of
        // issue #14. (Float to integer conversions saturate through `cast_*` below.)
        let mut wide = Vec::new();
        if !self.wide {
            wide.extend([ScalarType::I64, ScalarType::U64]);
        }
        if self.uses_f64 {
            wide.push(ScalarType::F64);
        }
        for &from in &wide {
            for &to in types.iter().chain(&floats) {
                if to != from && !(from.is_float() && to.is_int()) {
                    let (f, t) = (ty(from), ty(to));
                    let _ = writeln!(out, "fn to_{t}_{f}(x: {f}) -> {t} {{ return {t}(x); }}");
                }
            }
        }
        // Saturating float-to-integer casts (NaN to 0).
        for &f in &floats {
            let fname = ty(f);
            for &t in types {
                let n = ty(t);
                let (lo, hi) = t.int_range().unwrap_or((0, 0));
                // Bounds as floats: below `lo_f` saturates to MIN, at or above `hi_f` to MAX
                // (2^bits or 2^(bits-1), exact in every float type).
                let lo_f = self.literal(Literal::Float(lo as f64), f);
                let hi_f = self.literal(Literal::Float((hi as f64) + 1.0), f);
                let _ = write!(
                    out,
                    "fn cast_{fname}_{n}(x: {fname}) -> {n} {{\n    if isnan_{fname}(x) {{ return {}; }}\n    if x <= {lo_f} {{ return {}; }}\n    if x >= {hi_f} {{ return {}; }}\n    return {n}(x);\n}}\n",
                    self.zero(t),
                    self.literal(Literal::Int(lo), t),
                    self.literal(Literal::Int(hi), t)
                );
            }
        }
        // Float helpers.
        for &f in &floats {
            let n = ty(f);
            let half = self.literal(Literal::Float(0.5), f);
            let one = self.literal(Literal::Float(1.0), f);
            let zero_f = self.zero(f);
            let _ = write!(
                out,
                "{rounding}\
                 fn min_{n}(a: {n}, b: {n}) -> {n} {{\n    if isnan_{n}(a) {{ return b; }}\n    if isnan_{n}(b) {{ return a; }}\n    return min(a, b);\n}}\n\
                 fn max_{n}(a: {n}, b: {n}) -> {n} {{\n    if isnan_{n}(a) {{ return b; }}\n    if isnan_{n}(b) {{ return a; }}\n    return max(a, b);\n}}\n\
                 fn clamp_{n}(x: {n}, lo: {n}, hi: {n}) -> {n} {{\n    if isnan_{n}(lo) || isnan_{n}(hi) || lo > hi {{ record_fault({}u, 0u, {z_idx}); return x; }}\n    if isnan_{n}(x) {{ return x; }}\n    return min(max(x, lo), hi);\n}}\n\
                 fn powi_{n}(x: {n}, n: i32) -> {n} {{\n    var base = x;\n    var e = u32(abs(n));\n    if n == (-2147483647i - 1i) {{ e = 2147483648u; }}\n    var r = {one};\n    loop {{\n        if e == 0u {{ break; }}\n        if (e & 1u) == 1u {{ r = r * base; }}\n        base = base * base;\n        e = e >> 1u;\n    }}\n    if n < 0i {{ return {one} / r; }}\n    return r;\n}}\n\
                 fn powf_{n}(x: {n}, y: {n}) -> {n} {{\n    if y == {zero_f} || x == {one} {{ return {one}; }}\n    if isnan_{n}(x) {{ return x; }}\n    if isnan_{n}(y) {{ return y; }}\n    if x < {zero_f} {{\n        if trunc_{n}(y) != y {{ return {nan}; }}\n        let m = pow(-x, y);\n        if trunc_{n}(y * {half}) * 2.0 != y {{ return -m; }}\n        return m;\n    }}\n    return pow(x, y);\n}}\n\
                 fn hypot_{n}(x: {n}, y: {n}) -> {n} {{\n    let a = abs(x);\n    let b = abs(y);\n    if isinf_{n}(a) || isinf_{n}(b) {{ return {inf_value}; }}\n    if isnan_{n}(a) || isnan_{n}(b) {{ return {nan}; }}\n    let m = max(a, b);\n    if m == {zero_f} || isnan_{n}(m) {{ return a + b; }}\n    let s = min(a, b) / m;\n    return m * sqrt({one} + s * s);\n}}\n\
                 fn cbrt_{n}(x: {n}) -> {n} {{\n    if x == {zero_f} || isnan_{n}(x) {{ return x; }}\n    let r = pow(abs(x), {one} / 3.0);\n    let c = r - (r * r * r - abs(x)) / (3.0 * r * r);\n    return select(c, -c, x < {zero_f});\n}}\n\
                 fn m_atan2_{n}(y: {n}, x: {n}) -> {n} {{ if isnan_{n}(y) {{ return y; }} if isnan_{n}(x) {{ return x; }} return atan2(y, x); }}\n\
                 fn isnan_{n}(x: {n}) -> bool {{ return (bitcast<{bits}>(x) & {mag}) > {inf}; }}\n\
                 fn isfinite_{n}(x: {n}) -> bool {{ return (bitcast<{bits}>(x) & {mag}) < {inf}; }}\n\
                 fn isinf_{n}(x: {n}) -> bool {{ return (bitcast<{bits}>(x) & {mag}) == {inf}; }}\n\
                 fn copysign_{n}(x: {n}, y: {n}) -> {n} {{ return bitcast<{n}>((bitcast<{bits}>(x) & {mag}) | (bitcast<{bits}>(y) & ~{mag})); }}\n",
                fault_codes::INVALID_CLAMP,
                rounding = rounding_helpers(f) + &fma_helper(f, self.device_f64) + &fmod_helper(f),
                nan = self.literal(Literal::Float(f64::NAN), f),
                inf_value = self.literal(Literal::Float(f64::INFINITY), f),
                bits = if f == ScalarType::F32 { "u32" } else { "u64" },
                mag = if f == ScalarType::F32 {
                    "0x7fffffffu"
                } else {
                    "0x7ffffffffffffffflu"
                },
                inf = if f == ScalarType::F32 {
                    "0x7f800000u"
                } else {
                    "0x7ff0000000000000lu"
                },
            );
        }
        if self.correct_rounding {
            for &f in &floats {
                out.push_str(&correct_rounding_helpers(f, self.simulate_inexact_driver));
            }
            out.push_str(&correct_sqrt_f32(self.simulate_inexact_driver, self.wide));
            if self.uses_f64 {
                out.push_str(&correct_sqrt_f64(self.simulate_inexact_driver));
            }
        }
        // WGSL leaves builtins' results for NaN operands indeterminate: each wrapper returns a
        // NaN operand, as Rust's functions do.
        for &f in &floats {
            let n = ty(f);
            for builtin in [
                "sqrt", "exp", "exp2", "log", "log2", "sin", "cos", "tan", "tanh", "sinh", "cosh",
                "asin", "acos", "atan",
            ] {
                let _ = writeln!(
                    out,
                    "fn m_{builtin}_{n}(x: {n}) -> {n} {{ if isnan_{n}(x) {{ return x; }} return {builtin}(x); }}"
                );
            }
        }
        // Integer clamps, rotations and bit counts (64-bit ones by halves).
        for &t in types {
            let n = ty(t);
            let bits = t.bits();
            let u = ty(unsigned(t));
            let _ = write!(
                out,
                "fn clamp_{n}(x: {n}, lo: {n}, hi: {n}) -> {n} {{\n    if lo > hi {{ record_fault({}u, 0u, {z_idx}); return x; }}\n    return min(max(x, lo), hi);\n}}\n\
                 fn rotl_{n}(x: {n}, k: u32) -> {n} {{\n    let v = {u}(x);\n    let s = k & {}u;\n    if s == 0u {{ return x; }}\n    return {n}((v << s) | (v >> ({bits}u - s)));\n}}\n\
                 fn rotr_{n}(x: {n}, k: u32) -> {n} {{\n    let v = {u}(x);\n    let s = k & {}u;\n    if s == 0u {{ return x; }}\n    return {n}((v >> s) | (v << ({bits}u - s)));\n}}\n",
                fault_codes::INVALID_CLAMP,
                bits - 1,
                bits - 1
            );
            if t.is_signed() {
                let _ = writeln!(
                    out,
                    "fn iabs_{n}(x: {n}) -> {n} {{ if x < {z} {{ return {z} - x; }} return x; }}",
                    z = self.zero(t)
                );
            }
            if bits == 64 {
                let _ = write!(
                    out,
                    "fn popcount_{n}(x: {n}) -> u32 {{\n    let v = u64(x);\n    return countOneBits(u32(v & 0xfffffffflu)) + countOneBits(u32(v >> 32u));\n}}\n\
                     fn clz_{n}(x: {n}) -> u32 {{\n    let v = u64(x);\n    let hi = u32(v >> 32u);\n    if hi != 0u {{ return countLeadingZeros(hi); }}\n    return 32u + countLeadingZeros(u32(v & 0xfffffffflu));\n}}\n\
                     fn ctz_{n}(x: {n}) -> u32 {{\n    let v = u64(x);\n    let lo = u32(v & 0xfffffffflu);\n    if lo != 0u {{ return countTrailingZeros(lo); }}\n    return 32u + countTrailingZeros(u32(v >> 32u));\n}}\n"
                );
            } else {
                let _ = write!(
                    out,
                    "fn popcount_{n}(x: {n}) -> u32 {{ return countOneBits(u32(x)); }}\n\
                     fn clz_{n}(x: {n}) -> u32 {{ return countLeadingZeros(u32(x)); }}\n\
                     fn ctz_{n}(x: {n}) -> u32 {{ return countTrailingZeros(u32(x)); }}\n"
                );
            }
        }
        out.push_str(&self.buffer_functions());
        out.push_str(&self.shared_functions());
        out.push_str(&self.private_functions());
        out
    }

    /// Each shared array (`var<workgroup>`, which WGSL zeroes) with its checked accesses; an
    /// array used by atomics holds atomics (floats as their bits), read and written with
    /// `atomicLoad`/`atomicStore`.
    fn shared_functions(&self) -> String {
        let mut out = String::new();
        let (u, ix) = (self.idx_ty(), self.idx32("idx"));
        for (i, a) in self.kernel.shared.iter().enumerate() {
            let n = self.tn(a.elem);
            let beyond = self.beyond("idx", &a.len.to_string(), true);
            let len = a.len;
            let code = fault_codes::ARRAY_OUT_OF_BOUNDS;
            let z = self.zero(a.elem);
            let (element, read, write) = if self.shared_atomic[i] {
                let s = self.atomic_storage(a.elem);
                let (read, write) = if a.elem.is_float() {
                    (
                        format!("bitcast<{n}>(atomicLoad(&sh{i}[{ix}]))"),
                        format!("atomicStore(&sh{i}[{ix}], bitcast<{s}>(v));"),
                    )
                } else {
                    (
                        format!("atomicLoad(&sh{i}[{ix}])"),
                        format!("atomicStore(&sh{i}[{ix}], v);"),
                    )
                };
                (format!("atomic<{s}>"), read, write)
            } else {
                (
                    n.to_string(),
                    format!("sh{i}[{ix}]"),
                    format!("sh{i}[{ix}] = v;"),
                )
            };
            let _ = write!(
                out,
                "var<workgroup> sh{i}: array<{element}, {len}>;\n\
                 fn shared_load_{i}(idx: {u}) -> {n} {{\n    if {beyond} {{ record_fault({code}u, {i}u, idx); return {z}; }}\n    return {read};\n}}\n\
                 fn shared_store_{i}(idx: {u}, v: {n}) {{\n    if faulted {{ return; }}\n    if {beyond} {{ record_fault({code}u, {i}u, idx); return; }}\n    {write}\n}}\n"
            );
            if self.shared_atomic[i] {
                let check = format!(
                    "    if {beyond} {{ record_fault({code}u, {i}u, idx); return {z}; }}\n"
                );
                out.push_str(&self.atomic_functions(
                    &format!("sh{i}"),
                    &format!("sh{i}"),
                    &check,
                    a.elem,
                ));
            }
        }
        out
    }

    /// Each private array (`var<private>`: one per invocation, zeroed) with its checked
    /// accesses.
    fn private_functions(&self) -> String {
        let mut out = String::new();
        let (u, ix) = (self.idx_ty(), self.idx32("idx"));
        let first = self.kernel.shared.len();
        for (i, a) in self.kernel.private.iter().enumerate() {
            let n = self.tn(a.elem);
            let beyond = self.beyond("idx", &a.len.to_string(), true);
            let len = a.len;
            let code = fault_codes::ARRAY_OUT_OF_BOUNDS;
            let number = first + i;
            let z = self.zero(a.elem);
            let _ = write!(
                out,
                "var<private> pa{i}: array<{n}, {len}>;\n\
                 fn private_load_{i}(idx: {u}) -> {n} {{\n    if {beyond} {{ record_fault({code}u, {number}u, idx); return {z}; }}\n    return pa{i}[{ix}];\n}}\n\
                 fn private_store_{i}(idx: {u}, v: {n}) {{\n    if faulted {{ return; }}\n    if {beyond} {{ record_fault({code}u, {number}u, idx); return; }}\n    pa{i}[{ix}] = v;\n}}\n"
            );
        }
        out
    }

    /// Checked loads, stores and atomics per buffer.
    fn buffer_functions(&self) -> String {
        let mut out = String::new();
        let (u, ix) = (self.idx_ty(), self.idx32("idx"));
        for (i, p) in self.kernel.params.iter().enumerate() {
            let ParamKind::Buffer { elem, access } = p.kind else {
                continue;
            };
            let n = self.tn(elem);
            let beyond = self.beyond("idx", &format!("params.p{i}"), false);
            let z = self.zero(elem);
            let check = |ret: &str| {
                format!(
                    "    if {beyond} {{ record_fault({}u, {i}u, idx); return{ret}; }}\n",
                    fault_codes::OUT_OF_BOUNDS
                )
            };
            let atomic = self.atomic[i];
            let read = match (atomic, elem) {
                (true, ScalarType::F32) => {
                    format!("bitcast<f32>(atomicLoad(&b{i}[{ix}]))")
                }
                (true, ScalarType::F64) => {
                    format!("bitcast<f64>(atomicLoad(&b{i}[{ix}]))")
                }
                (true, _) => format!("atomicLoad(&b{i}[{ix}])"),
                (false, _) => format!("b{i}[{ix}]"),
            };
            let _ = write!(
                out,
                "fn load_{i}(idx: {u}) -> {n} {{\n{}    return {read};\n}}\n",
                check(&format!(" {z}"))
            );
            let _ = write!(
                out,
                "fn load_unchecked_{i}(idx: {u}) -> {n} {{\n    return {read};\n}}\n"
            );
            if access == Access::ReadWrite {
                let write = match (atomic, elem) {
                    (true, ScalarType::F32) => {
                        format!("atomicStore(&b{i}[{ix}], bitcast<u32>(v));")
                    }
                    (true, ScalarType::F64) => {
                        format!("atomicStore(&b{i}[{ix}], bitcast<u64>(v));")
                    }
                    (true, _) => format!("atomicStore(&b{i}[{ix}], v);"),
                    (false, _) => format!("b{i}[{ix}] = v;"),
                };
                // A store in a statement that already faulted (`out[i] = a / 0`) must not
                // happen: Rust would have stopped before it.
                let _ = write!(
                    out,
                    "fn store_{i}(idx: {u}, v: {n}) {{\n    if faulted {{ return; }}\n{}    {write}\n}}\n\
                     fn store_unchecked_{i}(idx: {u}, v: {n}) {{\n    if faulted {{ return; }}\n    {write}\n}}\n",
                    check("")
                );
                if atomic {
                    let check = format!(
                        "    if {beyond} {{ record_fault({}u, {i}u, idx); return {}; }}\n",
                        fault_codes::OUT_OF_BOUNDS,
                        self.zero(elem)
                    );
                    out.push_str(&self.atomic_functions(
                        &i.to_string(),
                        &format!("b{i}"),
                        &check,
                        elem,
                    ));
                }
            }
        }
        out
    }

    /// The atomics on the elements of array `target` (a buffer `b<i>` or a shared array
    /// `sh<i>`), named `<op>_<suffix>` (checked with `check`) and `<op>_unchecked_<suffix>`.
    fn atomic_functions(
        &self,
        suffix: &str,
        target: &str,
        check: &str,
        elem: ScalarType,
    ) -> String {
        let n = self.tn(elem);
        let (u, ix) = (self.idx_ty(), self.idx32("idx"));
        let mut out = String::new();
        let i = suffix;
        // No side effect once the work item faulted earlier in the statement.
        let skip = format!("    if faulted {{ return {}; }}\n", self.zero(elem));
        let body = |op: AtomicOp| -> String {
            if elem.is_float() {
                // Floats: a compare-exchange loop on the bits.
                let bits = if elem == ScalarType::F32 {
                    "u32"
                } else {
                    "u64"
                };
                let combine = match op {
                    AtomicOp::Add => "old + v".to_string(),
                    AtomicOp::Sub => "old - v".to_string(),
                    AtomicOp::Min => format!("min_{n}(old, v)"),
                    AtomicOp::Max => format!("max_{n}(old, v)"),
                    _ => "v".to_string(),
                };
                let zero = self.zero(elem);
                format!(
                    "    loop {{\n        let raw = atomicLoad(&{target}[{ix}]);\n        let old = bitcast<{n}>(raw);\n        let r = atomicCompareExchangeWeak(&{target}[{ix}], raw, bitcast<{bits}>({combine}));\n        if r.exchanged {{ return old; }}\n    }}\n    return {zero};\n"
                )
            } else {
                let f = match op {
                    AtomicOp::Add => "atomicAdd",
                    AtomicOp::Sub => "atomicSub",
                    AtomicOp::Min => "atomicMin",
                    AtomicOp::Max => "atomicMax",
                    AtomicOp::And => "atomicAnd",
                    AtomicOp::Or => "atomicOr",
                    AtomicOp::Xor => "atomicXor",
                    _ => "atomicExchange",
                };
                format!("    return {f}(&{target}[{ix}], v);\n")
            }
        };
        for op in AtomicOp::ALL {
            if op == AtomicOp::CompareExchange || !op.supports(elem) {
                continue;
            }
            let name = op.intrinsic_name();
            let b = body(op);
            let _ = write!(
                out,
                "fn {name}_{i}(idx: {u}, v: {n}) -> {n} {{\n{skip}{check}{b}}}\n\
                 fn {name}_unchecked_{i}(idx: {u}, v: {n}) -> {n} {{\n{skip}{b}}}\n"
            );
        }
        if AtomicOp::CompareExchange.supports(elem) {
            let cas = format!(
                "    loop {{\n        let r = atomicCompareExchangeWeak(&{target}[{ix}], cur, nv);\n        if r.exchanged || r.old_value != cur {{ return r.old_value; }}\n    }}\n    return {};\n",
                self.zero(elem)
            );
            let _ = write!(
                out,
                "fn atomic_compare_exchange_{i}(idx: {u}, cur: {n}, nv: {n}) -> {n} {{\n{skip}{check}{cas}}}\n\
                 fn atomic_compare_exchange_unchecked_{i}(idx: {u}, cur: {n}, nv: {n}) -> {n} {{\n{skip}{cas}}}\n"
            );
        }
        out
    }

    fn function(&mut self, index: usize, f: &Function) -> String {
        let mut out = String::new();
        let params: Vec<String> = (0..f.param_count as usize)
            .map(|i| format!("a{i}: {}", self.tn(f.locals[i].ty)))
            .collect();
        let _ = writeln!(
            out,
            "fn fun{index}({}) -> {} {{",
            params.join(", "),
            self.tn(f.ret)
        );
        // Parameters are copied into locals, which the body may assign.
        for i in 0..f.param_count as usize {
            let _ = writeln!(out, "    var {} = a{i};", local_name(&f.locals, i));
        }
        let body = Body {
            locals: &f.locals,
            ret: Some(f.ret),
            flow: Flow::Function,
        };
        self.block(&mut out, &body, &f.body, 1);
        // Every path of a helper returns; WGSL wants it visible.
        let _ = writeln!(out, "    return {};\n}}", self.zero(f.ret));
        out
    }

    fn temp(&mut self, prefix: &str) -> String {
        self.next_temp += 1;
        format!("{prefix}{}", self.next_temp)
    }

    /// The statement that leaves the current function after a fault. In a cooperative
    /// kernel's uniform flow only a fault every invocation has together (a uniform one, such
    /// as `step_by(0)` on uniform bounds) leaves, and it leaves `main` for all at once.
    fn leave(&self, body: &Body<'_>) -> String {
        match body.ret {
            None => "return;".into(),
            Some(t) => format!("return {};", self.zero(t)),
        }
    }

    fn bail(&self, body: &Body<'_>) -> String {
        if body.flow == Flow::Uniform {
            // A uniform expression faults in every item; the item's own fault flag, which an
            // earlier unit may have set, must not send it away from the barriers. Its later
            // units do not run.
            return String::new();
        }
        format!("if faulted {{ {} }}", self.leave(body))
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
    /// that stays uniform and the assignments of uniform locals run in every invocation;
    /// anything else becomes a unit, run only by live items.
    fn uniform_stmt(&mut self, out: &mut String, body: &Body<'_>, s: &Stmt, depth: usize) {
        let pad = "    ".repeat(depth);
        let Some(everywhere) = self.uniformity.as_ref().map(|u| u.runs_everywhere(s)) else {
            return self.stmt(out, body, s, depth);
        };
        match s {
            // Every invocation of the group takes a `return` reached in uniform flow
            // together, and no barrier comes after it (the rules forbid it): leave `main`.
            Stmt::Return(None) => {
                let _ = writeln!(out, "{pad}return;");
            }
            _ if everywhere => self.stmt(out, body, s, depth),
            _ => {
                let unit = self.temp("unit");
                let unit_body = Body {
                    locals: body.locals,
                    ret: None,
                    flow: Flow::Unit,
                };
                let mut text = format!("fn {unit}() {{\n");
                self.stmt(&mut text, &unit_body, s, 1);
                text.push_str("}\n");
                self.units.push_str(&text);
                let _ = writeln!(out, "{pad}if alive && !faulted {{ {unit}(); }}");
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
        let _ = writeln!(out, "{pad}let {name} = {c};");
        if can_fault(cond, self.checked) {
            let _ = writeln!(out, "{pad}{}", self.bail(body));
        }
        name
    }

    fn stmt(&mut self, out: &mut String, body: &Body<'_>, s: &Stmt, depth: usize) {
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
                // A cooperative kernel's locals are private variables of the module.
                if let Some(e) = init {
                    let v = self.expr(body, e);
                    let name = local_name(body.locals, local.0 as usize);
                    let _ = writeln!(out, "{pad}{name} = {v};");
                }
            }
            Stmt::Let { local, init } => {
                let l = &body.locals[local.0 as usize];
                let name = local_name(body.locals, local.0 as usize);
                match init {
                    Some(e) => {
                        let v = self.expr(body, e);
                        let _ = writeln!(out, "{pad}var {name}: {} = {v};", self.tn(l.ty));
                    }
                    None => {
                        let _ = writeln!(out, "{pad}var {name}: {};", self.tn(l.ty));
                    }
                }
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
                let _ = writeln!(out, "{pad}{{ let sv = {v}; {f}_{}({i}, sv); }}", buffer.0);
            }
            Stmt::SharedStore {
                array,
                index,
                value,
            } => {
                let v = self.expr(body, value);
                let i = self.expr(body, index);
                let a = array.0;
                if self.checked || self.shared_atomic[a as usize] {
                    let _ = writeln!(out, "{pad}{{ let sv = {v}; shared_store_{a}({i}, sv); }}");
                } else {
                    let i = self.index32(index, &i);
                    let _ = writeln!(out, "{pad}{{ let sv = {v}; sh{a}[{i}] = sv; }}");
                }
            }
            Stmt::Barrier => {
                let _ = writeln!(out, "{pad}workgroupBarrier();\n{pad}storageBarrier();");
            }
            Stmt::Subgroup {
                op,
                dest,
                value,
                lane,
            } => {
                // Every invocation runs this (uniform flow); absent ones contribute the
                // identity. The operands are locals or literals: nothing can fault.
                let t = value.ty;
                let identity = self.literal(op.identity(t), t);
                let v = self.expr(body, value);
                let n = ty(t);
                let tn = self.tn(t);
                let call = match (op, lane) {
                    (SubgroupOp::Shuffle, Some(l)) => {
                        format!("sg_idx_{n}(sgv, {} & (sgsize - 1u))", self.lane(body, l))
                    }
                    // WGSL wants `subgroupShuffleXor`'s mask the same in the whole subgroup;
                    // the language lets it differ, so the partner's lane is computed here.
                    (SubgroupOp::ShuffleXor, Some(l)) => format!(
                        "sg_idx_{n}(sgv, sglane ^ ({} & (sgsize - 1u)))",
                        self.lane(body, l)
                    ),
                    (SubgroupOp::Any, _) => "subgroupAny(sgv)".to_string(),
                    (SubgroupOp::All, _) => "subgroupAll(sgv)".to_string(),
                    (op, _) => format!("sg_{}_{n}(sgv)", subgroup_function(*op)),
                };
                let _ = writeln!(
                    out,
                    "{pad}{{ var sgv: {tn} = {identity}; if alive {{ sgv = {v}; }} {} = {call}; }}",
                    local_name(body.locals, dest.0 as usize)
                );
            }
            Stmt::PrivateInit { array, value } => {
                let v = self.expr(body, value);
                let a = array.0;
                let len = self.kernel.private.get(a as usize).map_or(0, |p| p.len);
                let _ = writeln!(
                    out,
                    "{pad}{{ let pv = {v}; for (var k = 0u; k < {len}u; k++) {{ pa{a}[k] = pv; }} }}"
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
                if self.checked {
                    let _ = writeln!(out, "{pad}{{ let sv = {v}; private_store_{a}({i}, sv); }}");
                } else {
                    let i = self.index32(index, &i);
                    let _ = writeln!(out, "{pad}{{ let sv = {v}; pa{a}[{i}] = sv; }}");
                }
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                let c = self.condition(out, body, cond, depth);
                let _ = writeln!(out, "{pad}if {c} {{");
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
                let l = &body.locals[var.0 as usize];
                let t = l.ty;
                let name = local_name(body.locals, var.0 as usize);
                let s0 = self.expr(body, start);
                let e0 = self.expr(body, end);
                let st = match step {
                    Some(st) => self.expr(body, st),
                    None => self.idx_lit(1),
                };
                let (tt, u64_ty) = (self.tn(t), self.idx_ty());
                let (lo, hi, stp, done) = (
                    self.temp("lo"),
                    self.temp("hi"),
                    self.temp("st"),
                    self.temp("done"),
                );
                let _ = writeln!(out, "{pad}{{");
                let _ = writeln!(out, "{pad}    let {lo}: {tt} = {s0};");
                let _ = writeln!(out, "{pad}    let {hi}: {tt} = {e0};");
                let _ = writeln!(out, "{pad}    let {stp}: {u64_ty} = {st};");
                if faultable {
                    let _ = writeln!(out, "{pad}    {}", self.bail(body));
                }
                if step.is_some() {
                    let z = self.idx_lit(0);
                    let _ = writeln!(
                        out,
                        "{pad}    if {} {{ record_fault({}u, 0u, {z}); {} }}",
                        self.compare(BinaryOp::Eq, ScalarType::U64, &stp, &z),
                        fault_codes::ZERO_STEP,
                        self.leave(body)
                    );
                }
                let (enter, leave) = if *inclusive {
                    (BinaryOp::Le, BinaryOp::Lt)
                } else {
                    (BinaryOp::Lt, BinaryOp::Le)
                };
                let u = ty(unsigned(t));
                // A hidden counter steps the loop; the body gets a copy it may assign
                // (`for mut i`), which changes that iteration only, as in Rust.
                let ctr = self.temp("ctr");
                let _ = writeln!(out, "{pad}    var {ctr}: {tt} = {lo};");
                if body.flow == Flow::Function {
                    let _ = writeln!(out, "{pad}    var {name}: {tt};");
                }
                let _ = writeln!(out, "{pad}    if {} {{", self.compare(enter, t, &lo, &hi));
                let _ = writeln!(out, "{pad}        loop {{");
                let _ = writeln!(out, "{pad}            {name} = {ctr};");
                self.block(out, body, loop_body, depth + 3);
                let _ = writeln!(out, "{pad}            continuing {{");
                // The distance to the end, computed without overflow (the counter never
                // passes the end): leave when the next step would reach or pass it.
                let (distance, next) = match (self.wide, self.is_pair(t)) {
                    (false, _) => (
                        format!("u64({u}({hi}) - {u}({ctr}))"),
                        format!("{ctr} + {tt}({stp})"),
                    ),
                    (true, true) => (
                        format!("w_sub({hi}, {ctr})"),
                        format!("w_add({ctr}, {stp})"),
                    ),
                    // The step is below the distance, which fits in 32 bits.
                    (true, false) => (
                        format!("vec2<u32>(u32({hi}) - u32({ctr}), 0u)"),
                        format!("{ctr} + {tt}({stp}.x)"),
                    ),
                };
                let _ = writeln!(
                    out,
                    "{pad}                let {done} = {};",
                    self.compare(leave, ScalarType::U64, &distance, &stp)
                );
                let _ = writeln!(out, "{pad}                if !{done} {{ {ctr} = {next}; }}");
                let _ = writeln!(out, "{pad}                break if {done};");
                let _ = writeln!(out, "{pad}            }}");
                let _ = writeln!(out, "{pad}        }}");
                let _ = writeln!(out, "{pad}    }}");
                let _ = writeln!(out, "{pad}}}");
                return;
            }
            Stmt::While {
                cond,
                body: loop_body,
            } => {
                let _ = writeln!(out, "{pad}loop {{");
                let c = self.condition(out, body, cond, depth + 1);
                let _ = writeln!(out, "{pad}    if !{c} {{ break; }}");
                self.block(out, body, loop_body, depth + 1);
                let _ = writeln!(out, "{pad}}}");
                return;
            }
            Stmt::Loop { body: loop_body } => {
                let _ = writeln!(out, "{pad}loop {{");
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
                let _ = writeln!(out, "{pad}alive = false;\n{pad}return;");
            }
            Stmt::Return(None) => {
                let _ = writeln!(out, "{pad}return;");
            }
            Stmt::Return(Some(e)) => {
                let v = self.expr(body, e);
                if faultable {
                    let _ = writeln!(
                        out,
                        "{pad}{{ let rv = {v}; {} return rv; }}",
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
                    "{pad}record_fault({}u, 0u, {}); {}",
                    fault_codes::PANIC,
                    self.idx_lit(id as u64),
                    self.leave(body)
                );
                return;
            }
            Stmt::Eval(e) => {
                let v = self.expr(body, e);
                let _ = writeln!(out, "{pad}_ = {v};");
            }
        }
        if faultable {
            let _ = writeln!(out, "{pad}{}", self.bail(body));
        }
    }

    fn expr(&mut self, body: &Body<'_>, e: &Expr) -> String {
        let t = e.ty;
        // Operations on constants are folded here, with Rust's meaning: naga's constant
        // evaluator refuses what wraps or overflows (`0u - 19u`, `5u << 30u`, `1.0f / 0.0f`).
        // Found by the random kernels of issue #14.
        if !matches!(e.kind, ExprKind::Literal(_))
            && let Some(v) = crate::interpret::constant_value(e)
        {
            return self.literal(v.to_literal(), t);
        }
        match &e.kind {
            ExprKind::Literal(lit) => self.literal(*lit, t),
            ExprKind::Local(id) => local_name(body.locals, id.0 as usize),
            ExprKind::Param(id) => format!("params.p{}", id.0),
            ExprKind::Load { buffer, index } => {
                let i = self.expr(body, index);
                let f = if self.checked {
                    "load"
                } else {
                    "load_unchecked"
                };
                format!("{f}_{}({i})", buffer.0)
            }
            ExprKind::PrivateLoad { array, index } => {
                let i = self.expr(body, index);
                if self.checked {
                    format!("private_load_{}({i})", array.0)
                } else {
                    format!("pa{}[{}]", array.0, self.index32(index, &i))
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
                let suffix = if self.checked { "" } else { "_unchecked" };
                format!(
                    "{}{suffix}_sh{}({i}, {})",
                    op.intrinsic_name(),
                    array.0,
                    r.join(", ")
                )
            }
            ExprKind::SharedLoad { array, index } => {
                let i = self.expr(body, index);
                if self.checked || self.shared_atomic[array.0 as usize] {
                    format!("shared_load_{}({i})", array.0)
                } else {
                    format!("sh{}[{}]", array.0, self.index32(index, &i))
                }
            }
            ExprKind::Len(buffer) => format!("params.p{}", buffer.0),
            ExprKind::Builtin(b) if self.wide => {
                // Every id and size fits in a word (the host checks the launch).
                let word = match b {
                    Builtin::SubgroupSize => "sgsize".to_string(),
                    Builtin::SubgroupLane => "sglane".to_string(),
                    Builtin::GlobalId(a) => return format!("g{}", a.letter()),
                    Builtin::GlobalSize(a) => return format!("params.grid_{}", a.letter()),
                    Builtin::GroupSize(a) => return format!("params.group_{}", a.letter()),
                    Builtin::GroupId(a) => format!("(g{0}.x / params.group_{0}.x)", a.letter()),
                    Builtin::LocalId(a) => format!("(g{0}.x % params.group_{0}.x)", a.letter()),
                    Builtin::NumGroups(a) => format!(
                        "((params.grid_{0}.x - 1u) / params.group_{0}.x + 1u)",
                        a.letter()
                    ),
                };
                format!("vec2<u32>({word}, 0u)")
            }
            ExprKind::Builtin(b) => match b {
                Builtin::SubgroupSize => "u64(sgsize)".to_string(),
                Builtin::SubgroupLane => "u64(sglane)".to_string(),
                Builtin::GlobalId(a) => format!("g{}", a.letter()),
                Builtin::GlobalSize(a) => format!("params.grid_{}", a.letter()),
                Builtin::GroupSize(a) => format!("params.group_{}", a.letter()),
                Builtin::GroupId(a) => format!("(g{0} / params.group_{0})", a.letter()),
                Builtin::LocalId(a) => format!("(g{0} % params.group_{0})", a.letter()),
                Builtin::NumGroups(a) => format!(
                    "((params.grid_{0} + params.group_{0} - 1lu) / params.group_{0})",
                    a.letter()
                ),
            },
            ExprKind::Unary { op, operand } => {
                let v = self.expr(body, operand);
                match op {
                    UnaryOp::Neg if self.is_pair(t) => format!("w_neg({v})"),
                    UnaryOp::Neg if !t.is_signed() => format!("({} - {v})", self.zero(t)),
                    UnaryOp::Neg => format!("(-{v})"),
                    UnaryOp::Not if t == ScalarType::Bool => format!("(!{v})"),
                    UnaryOp::Not => format!("(~{v})"),
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let mut l = self.expr(body, lhs);
                let mut r = self.expr(body, rhs);
                let lt = lhs.ty;
                if lt.is_float() && matches!(op, BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul) {
                    // Mesa takes `x * 0.0` for +0.0 and `x + 0.0` for `x` even for operations
                    // marked exact (wrong for -0.0, infinities and NaN): it must not see the
                    // zero.
                    // Where floats are taken for reals (`opaque_float_results`), `x - x` and
                    // `x + -x` would be 0, not NaN for infinities: the subtrahend and a
                    // negated addend are hidden too.
                    let opaque = self.opaque_float_results;
                    for (right, side, text) in [(false, lhs, &mut l), (true, rhs, &mut r)] {
                        let negated = matches!(
                            side.kind,
                            ExprKind::Unary {
                                op: UnaryOp::Neg,
                                ..
                            }
                        );
                        let subtrahend = right && *op == BinaryOp::Sub;
                        if is_float_zero(side) || opaque && (negated || subtrahend) {
                            *text = format!("opaque_{}({text})", ty(lt));
                        }
                    }
                }
                let pair = self.is_pair(lt);
                match op {
                    BinaryOp::Div if lt.is_int() => format!("div_{}({l}, {r})", ty(lt)),
                    BinaryOp::Rem if lt.is_int() => format!("rem_{}({l}, {r})", ty(lt)),
                    BinaryOp::Rem => format!("fmod_{}({l}, {r})", ty(lt)),
                    BinaryOp::Shl | BinaryOp::Shr => {
                        let mask = lt.bits() - 1;
                        let amount = match rhs.ty {
                            ScalarType::U32 => r,
                            // Through a function: see `to_*` in `support_functions`.
                            ScalarType::I64 | ScalarType::U64 => {
                                format!("to_u32_{}({r})", ty(rhs.ty))
                            }
                            _ => format!("u32({r})"),
                        };
                        match (pair, op) {
                            (true, BinaryOp::Shl) => format!("w_shl({l}, {amount} & 63u)"),
                            (true, _) => format!("w_shr_{}({l}, {amount} & 63u)", ty(lt)),
                            _ => format!("({l} {} ({amount} & {mask}u))", op.symbol()),
                        }
                    }
                    BinaryOp::Add if pair => format!("w_add({l}, {r})"),
                    BinaryOp::Sub if pair => format!("w_sub({l}, {r})"),
                    BinaryOp::Mul if pair => format!("w_mul({l}, {r})"),
                    BinaryOp::Eq
                    | BinaryOp::Ne
                    | BinaryOp::Lt
                    | BinaryOp::Le
                    | BinaryOp::Gt
                    | BinaryOp::Ge
                        if pair =>
                    {
                        self.compare(*op, lt, &l, &r)
                    }
                    BinaryOp::BitAnd | BinaryOp::BitOr if lt == ScalarType::Bool => {
                        // Non-short-circuit on booleans, as in Rust.
                        format!("({l} {} {r})", op.symbol())
                    }
                    BinaryOp::Div if lt.is_float() && self.correct_rounding => {
                        format!("div_cr_{}({l}, {r})", ty(lt))
                    }
                    BinaryOp::Mul if lt.is_float() => format!("opaque_{}({l} * {r})", ty(lt)),
                    BinaryOp::Add | BinaryOp::Sub if lt.is_float() && self.opaque_float_results => {
                        format!("opaque_{}({l} {} {r})", ty(lt), op.symbol())
                    }
                    // Not as `!=`: naga makes that an ordered comparison (false when an
                    // operand is NaN; Rust's is true). Found by the random kernels of #14.
                    BinaryOp::Ne if lt.is_float() => format!("(!({l} == {r}))"),
                    other => format!("({l} {} {r})", other.symbol()),
                }
            }
            ExprKind::Cast(operand) => {
                let v = self.expr(body, operand);
                let from = operand.ty;
                match (from, t) {
                    (a, b) if a == b => v,
                    (ScalarType::Bool, to) => format!(
                        "select({}, {}, {v})",
                        self.zero(to),
                        self.literal(Literal::Int(1), to)
                    ),
                    (f, to) if f.is_float() && to.is_int() => {
                        format!("cast_{}_{}({v})", ty(f), ty(to))
                    }
                    // Pairs: every other conversion to or from them is a function.
                    (from, to)
                        if self.wide
                            && (from.is_int() && from.bits() == 64
                                || to.is_int() && to.bits() == 64) =>
                    {
                        format!("to_{}_{}({v})", ty(to), ty(from))
                    }
                    // Rust sign-extends a signed value before reinterpreting it as unsigned.
                    (ScalarType::I32, ScalarType::U64) => format!("u64(i64({v}))"),
                    // And zero-extends an unsigned one (naga's `i64(u32)` sign-extends: found
                    // by the random kernels of issue #14).
                    (ScalarType::U32, ScalarType::I64) => format!("i64(u64({v}))"),
                    (ScalarType::I64 | ScalarType::U64 | ScalarType::F64, to) => {
                        format!("to_{}_{}({v})", ty(to), ty(from))
                    }
                    (_, to) => format!("{}({v})", ty(to)),
                }
            }
            ExprKind::Math { func, args } => {
                let r: Vec<String> = args.iter().map(|a| self.expr(body, a)).collect();
                self.math(*func, args[0].ty, &r)
            }
            ExprKind::Call { function, args } => {
                let r: Vec<String> = args.iter().map(|a| self.expr(body, a)).collect();
                format!("fun{}({})", function.0, r.join(", "))
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
                    "{}{suffix}_{}({i}, {})",
                    op.intrinsic_name(),
                    buffer.0,
                    r.join(", ")
                )
            }
        }
    }
}

/// `func` of `r` in WGSL; `correct_rounding`: `recip` and `sqrt` through the correctly
/// rounded helpers (see [`WgslOptions::correct_rounding`]).
fn math(func: MathFn, t: ScalarType, r: &[String], correct_rounding: bool) -> String {
    let n = ty(t);
    let a = &r[0];
    let b = || r.get(1).cloned().unwrap_or_default();
    let unary = |f: &str| format!("m_{f}_{n}({a})");
    match func {
        MathFn::Sqrt if correct_rounding => format!("sqrt_cr_{n}({a})"),
        MathFn::Sqrt => unary("sqrt"),
        MathFn::Exp => unary("exp"),
        MathFn::Exp2 => unary("exp2"),
        MathFn::Ln => unary("log"),
        MathFn::Log2 => unary("log2"),
        MathFn::Log10 => format!(
            "(m_log2_{n}({a}) * {})",
            literal(Literal::Float(std::f64::consts::LOG10_2), t)
        ),
        MathFn::Sin => unary("sin"),
        MathFn::Cos => unary("cos"),
        MathFn::Tan => unary("tan"),
        MathFn::Tanh => unary("tanh"),
        MathFn::Sinh => unary("sinh"),
        MathFn::Cosh => unary("cosh"),
        MathFn::Asin => unary("asin"),
        MathFn::Acos => unary("acos"),
        MathFn::Atan => unary("atan"),
        MathFn::Atan2 => format!("m_atan2_{n}({a}, {})", b()),
        MathFn::Powf => format!("powf_{n}({a}, {})", b()),
        MathFn::Powi => format!("powi_{n}({a}, {})", b()),
        MathFn::Abs if t.is_float() => format!("abs({a})"),
        MathFn::Abs => format!("iabs_{n}({a})"),
        MathFn::Min if t.is_float() => format!("min_{n}({a}, {})", b()),
        MathFn::Max if t.is_float() => format!("max_{n}({a}, {})", b()),
        MathFn::Min => format!("min({a}, {})", b()),
        MathFn::Max => format!("max({a}, {})", b()),
        MathFn::Clamp => format!("clamp_{n}({a}, {}, {})", b(), r[2]),
        MathFn::Floor => format!("floor_{n}({a})"),
        MathFn::Ceil => format!("ceil_{n}({a})"),
        MathFn::Round => format!("round_{n}({a})"),
        MathFn::Trunc => format!("trunc_{n}({a})"),
        MathFn::MulAdd => format!("fma_{n}({a}, {}, {})", b(), r[2]),
        MathFn::Hypot => format!("hypot_{n}({a}, {})", b()),
        MathFn::Cbrt => format!("cbrt_{n}({a})"),
        MathFn::Recip if correct_rounding => {
            format!("div_cr_{n}({}, {a})", literal(Literal::Float(1.0), t))
        }
        MathFn::Recip => format!("({} / {a})", literal(Literal::Float(1.0), t)),
        MathFn::IsNan => format!("isnan_{n}({a})"),
        MathFn::IsFinite => format!("isfinite_{n}({a})"),
        MathFn::IsInfinite => format!("isinf_{n}({a})"),
        MathFn::CountOnes => format!("popcount_{n}({a})"),
        MathFn::LeadingZeros => format!("clz_{n}({a})"),
        MathFn::TrailingZeros => format!("ctz_{n}({a})"),
        MathFn::RotateLeft => format!("rotl_{n}({a}, {})", b()),
        MathFn::RotateRight => format!("rotr_{n}({a}, {})", b()),
        MathFn::CopySign => format!("copysign_{n}({a}, {})", b()),
        // Only `fast_math` kernels get here (the math library has `exp_m1` and `ln_1p`): WGSL
        // has neither, so the plain formulas, with their cancellation near 0.
        MathFn::ExpM1 => format!("(m_exp_{n}({a}) - {})", literal(Literal::Float(1.0), t)),
        MathFn::Ln1p => format!("m_log_{n}({} + {a})", literal(Literal::Float(1.0), t)),
        MathFn::ToBits => match t {
            ScalarType::F64 => format!("bitcast<u64>({a})"),
            _ => format!("bitcast<u32>({a})"),
        },
        MathFn::FromBits => match t {
            ScalarType::U64 => format!("bitcast<f64>({a})"),
            _ => format!("bitcast<f32>({a})"),
        },
    }
}

/// `div_cr_T(a, b)`: a / b correctly rounded, from the device's `/` (Vulkan allows 2.5 ulp),
/// with only `+ - *` trusted (correctly rounded in Vulkan, and never fused: products carry
/// `+ params.nz`). |a| and |b| are scaled into [1, 2); the quotient m is corrected once with
/// its residual x - m y, computed exactly (Dekker's product), which leaves it within a hair
/// of half an ulp; a second exact residual then decides between m and its neighbours, ties
/// to even. Zeros, subnormals, infinities and NaN operands, and quotients outside the normal
/// range, keep the device's quotient.
fn correct_rounding_helpers(f: ScalarType, simulate_inexact: bool) -> String {
    let n = ty(f);
    // (bits type, literal suffix, mantissa bits, split constant, parameter holding -0.0)
    let (bits, sfx, mant_bits, split, nz) = if f == ScalarType::F64 {
        ("u64", "lu", 52u32, "134217729.0", "nz64")
    } else {
        ("u32", "u", 23u32, "4097.0", "nz32")
    };
    let width = if f == ScalarType::F64 { 64 } else { 32 };
    let exp_bits = width - 1 - mant_bits;
    let bias = (1u64 << (exp_bits - 1)) - 1;
    let max_exp = (1u64 << exp_bits) - 2;
    let hex = |v: u64| format!("{v:#x}{sfx}");
    let mant = hex((1u64 << mant_bits) - 1);
    let exp_mask = hex(((1u64 << exp_bits) - 1) << mant_bits);
    let sign = hex(1u64 << (width - 1));
    let one_exp = hex(bias << mant_bits);
    // The ulp of m in [1/2, 2): its exponent field less the mantissa width.
    let ulp_exp = hex(u64::from(mant_bits) << mant_bits);
    let shift = format!("{mant_bits}u");
    let first = if simulate_inexact {
        format!(
            "bitcast<{n}>(select(bitcast<{bits}>(x / y) - 2{sfx}, bitcast<{bits}>(x / y) + 2{sfx}, (bitcast<{bits}>(x / y) & 4{sfx}) == 0{sfx}))"
        )
    } else {
        "x / y".to_string()
    };
    let one_bit = format!("1{sfx}");
    let zero_bits = format!("0{sfx}");
    format!(
        "fn residual_{n}(x: {n}, y: {n}, m: {n}) -> {n} {{\n\
         \x20   let p = m * y + params.{nz};\n\
         \x20   let cm = m * {split} + params.{nz};\n\
         \x20   let mh = cm - (cm - m);\n\
         \x20   let ml = m - mh;\n\
         \x20   let cy = y * {split} + params.{nz};\n\
         \x20   let yh = cy - (cy - y);\n\
         \x20   let yl = y - yh;\n\
         \x20   let err = (((mh * yh + params.{nz}) - p) + (mh * yl + params.{nz}) + (ml * yh + params.{nz})) + (ml * yl + params.{nz});\n\
         \x20   return (x - p) - err;\n\
         }}\n\
         fn div_cr_{n}(a: {n}, b: {n}) -> {n} {{\n\
         \x20   let q = a / b;\n\
         \x20   let ua = bitcast<{bits}>(a);\n\
         \x20   let ub = bitcast<{bits}>(b);\n\
         \x20   let ea = i32((ua & {exp_mask}) >> {shift});\n\
         \x20   let eb = i32((ub & {exp_mask}) >> {shift});\n\
         \x20   if ea == 0 || eb == 0 || ea > {max_exp} || eb > {max_exp} {{ return q; }}\n\
         \x20   let x = bitcast<{n}>((ua & {mant}) | {one_exp});\n\
         \x20   let y = bitcast<{n}>((ub & {mant}) | {one_exp});\n\
         \x20   var m = {first};\n\
         \x20   m = m + residual_{n}(x, y, m) / y;\n\
         \x20   let r = residual_{n}(x, y, m);\n\
         \x20   let mb = bitcast<{bits}>(m);\n\
         \x20   let ulp = bitcast<{n}>((mb & {exp_mask}) - {ulp_exp});\n\
         \x20   let up = ulp * 0.5 * y;\n\
         \x20   let down = select(up, ulp * 0.25 * y, (mb & {mant}) == {zero_bits});\n\
         \x20   let odd = (mb & {one_bit}) == {one_bit};\n\
         \x20   if r > up || (r == up && odd) {{ m = bitcast<{n}>(mb + {one_bit}); }}\n\
         \x20   else if -r > down || (-r == down && odd) {{ m = bitcast<{n}>(mb - {one_bit}); }}\n\
         \x20   let e = i32((bitcast<{bits}>(m) & {exp_mask}) >> {shift}) + ea - eb;\n\
         \x20   if e < 1 || e > {max_exp} {{ return q; }}\n\
         \x20   return bitcast<{n}>(((ua ^ ub) & {sign}) | ({bits}(e) << {shift}) | (bitcast<{bits}>(m) & {mant}));\n\
         }}\n"
    )
}

/// The name of a subgroup operation's helper (`sg_<name>_<type>`).
fn subgroup_function(op: SubgroupOp) -> &'static str {
    match op {
        SubgroupOp::Add => "add",
        SubgroupOp::Min => "min",
        SubgroupOp::Max => "max",
        SubgroupOp::InclusiveAdd => "inclusive",
        SubgroupOp::ExclusiveAdd => "exclusive",
        SubgroupOp::Shuffle => "idx",
        SubgroupOp::ShuffleXor => "xor",
        SubgroupOp::Any => "any",
        SubgroupOp::All => "all",
    }
}

/// `sqrt_cr_f64(x)`: sqrt(x) correctly rounded, from the device's `sqrt` and exact residuals
/// (`residual_f64` of the division helpers: only `+ - *` are trusted). x is scaled to X in
/// [1, 4) by an even power of two, so the root s lies in [1, 2). s is the correctly rounded
/// root iff X lies between the squares of the midpoints around s: with r = X - s^2 (exact
/// near those bounds: s is within an ulp there) and u, d the ulps above and below s, s moves
/// up while r > s u and down while r <= -s d (r is a multiple of 2^-104, which leaves no
/// room between s u and s u + u^2/4, the exact bound). Three steps absorb a driver 2 ulp off.
/// Zero, subnormal, negative, infinite and NaN inputs keep the device's `sqrt`.
fn correct_sqrt_f64(simulate_inexact: bool) -> String {
    // Tests only: start 2 ulp off, as an inexact driver's root could be.
    let start = if simulate_inexact {
        "bitcast<f64>(bitcast<u64>(sqrt(xs)) + 2lu)"
    } else {
        "sqrt(xs)"
    };
    format!(
        "fn sqrt_cr_f64(x: f64) -> f64 {{\n\
         \x20   let ux = bitcast<u64>(x);\n\
         \x20   let ex = i32(ux >> 52u);\n\
         \x20   if ex == 0 || ex >= 2047 {{ return sqrt(x); }}\n\
         \x20   let e = ex - 1023;\n\
         \x20   let odd = e & 1;\n\
         \x20   let xs = bitcast<f64>((ux & 0x000ffffffffffffflu) | (u64(1023 + odd) << 52u));\n\
         \x20   var s = {start};\n\
         \x20   for (var i = 0; i < 3; i++) {{\n\
         \x20       let sb = bitcast<u64>(s);\n\
         \x20       let u = bitcast<f64>((sb & 0x7ff0000000000000lu) - (52lu << 52u));\n\
         \x20       let d = select(u, u * 0.5, (sb & 0x000ffffffffffffflu) == 0lu);\n\
         \x20       let r = residual_f64(xs, s, s);\n\
         \x20       if r > s * u + params.nz64 {{ s = bitcast<f64>(sb + 1lu); }}\n\
         \x20       else if r <= -(s * d + params.nz64) {{ s = bitcast<f64>(sb - 1lu); }}\n\
         \x20   }}\n\
         \x20   let field = u64(((e - odd) >> 1u) + 1023);\n\
         \x20   return bitcast<f64>((bitcast<u64>(s) & 0x000ffffffffffffflu) | (field << 52u));\n\
         }}\n"
    )
}

/// `sqrt_cr_f32(x)`: sqrt(x) correctly rounded, from the device's `sqrt` (Vulkan derives its
/// bound from `inversesqrt`'s 2 ulp), decided in integers: x = M 2^e with M of 24 bits, and
/// with Y = M 2^(23 + (e & 1)) the root's 24-bit mantissa is floor(sqrt(Y)), rounded up when
/// 4Y >= (2S + 1)^2 (never equal: one side is odd). The device's root gives S within a few
/// units; u64 arithmetic (with `pairs`, pairs of 32-bit words) makes it exact. Zero,
/// subnormal, negative, infinite and NaN inputs keep the device's `sqrt`.
fn correct_sqrt_f32(simulate_inexact: bool, pairs: bool) -> String {
    // Tests only: start 2 ulp off, as an inexact driver's root could be.
    let start = if simulate_inexact {
        "bitcast<f32>(bitcast<u32>(sqrt(x)) + 2u)"
    } else {
        "sqrt(x)"
    };
    // Y (up to 48 bits) and the squares (up to 50) in u64, or as pairs of words
    // (`int64.rs`) where the device has no 64-bit integers; the root itself fits a word.
    let (y, first, step, last, root) = if pairs {
        (
            "w_shl(vec2<u32>((ux & 0x007fffffu) | 0x00800000u, 0u), u32(23 + (e & 1)))",
            "u32(max(scaled, 8.0)) - 4u",
            "if !w_lt_u64(y, w_mul32(r + 1u, r + 1u)) { r = r + 1u; }",
            "if !w_lt_u64(w_shl(y, 2u), w_mul32(2u * r + 1u, 2u * r + 1u)) { r = r + 1u; }",
            "r",
        )
    } else {
        (
            "u64((ux & 0x007fffffu) | 0x00800000u) << u32(23 + (e & 1))",
            "u64(max(scaled, 8.0)) - 4lu",
            "if (r + 1lu) * (r + 1lu) <= y { r = r + 1lu; }",
            "if 4lu * y >= (2lu * r + 1lu) * (2lu * r + 1lu) { r = r + 1lu; }",
            "u32(r)",
        )
    };
    format!(
        "fn sqrt_cr_f32(x: f32) -> f32 {{\n\
         \x20   let s0 = {start};\n\
         \x20   let ux = bitcast<u32>(x);\n\
         \x20   let ex = i32(ux >> 23u);\n\
         \x20   if ex == 0 || ex >= 255 {{ return sqrt(x); }}\n\
         \x20   let e = ex - 127;\n\
         \x20   let half_e = e >> 1u;\n\
         \x20   let y = {y};\n\
         \x20   // s0 2^(23 - half_e), exactly, as a first guess of the 24-bit root.\n\
         \x20   let scaled = bitcast<f32>(bitcast<u32>(s0) - (u32(half_e + 127) << 23u) + (150u << 23u));\n\
         \x20   var r = {first};\n\
         \x20   for (var i = 0; i < 8; i++) {{ {step} }}\n\
         \x20   {last}\n\
         \x20   return bitcast<f32>((u32(half_e + 127) << 23u) + {root} - 0x00800000u);\n\
         }}\n"
    )
}

/// `fma_{n}(a, b, c)`: `a * b + c` rounded once, as Rust's `mul_add`. WGSL's `fma` need not
/// be fused, and lavapipe's is not (it rounds the product, then the sum: 39 of 2,010 results
/// of the conformance kernel `float_math` differed from the CPU's).
///
/// - `f32` on a device with `f64` (`device_f64`): the product is exact in `f64`, the sum is
///   rounded to odd (its rounding error, found by Knuth's two-sum, moves an even result one
///   unit towards the exact value), and rounding that to `f32` rounds the exact result once
///   (53 >= 24 + 2 bits). Exact for every input.
/// - Otherwise Boldo and Melquiond's emulation: Dekker's exact product `p + pl`, two-sum of
///   `c` and `p`, the low parts added with rounding to odd, then one rounded sum. Exact while
///   nothing overflows or underflows on the way: operands below 2^(emax - 28) (f32: 2^100,
///   f64: 2^995), the product between 2^(emin + 2p) and 2^(emax - 24) (f32: 2^-70 to 2^100,
///   f64: 2^-900 to 2^1000), `c` below the same bound; outside those bounds, and for zero or
///   non-finite operands (where the plain expression is already the fused one, barring a
///   product that overflows), the driver's `fma`.
fn fma_helper(f: ScalarType, device_f64: bool) -> String {
    let n = ty(f);
    let lit = |v: f64, t: ScalarType| literal(Literal::Float(v), t);
    if f == ScalarType::F32 && device_f64 {
        let d = ScalarType::F64;
        return format!(
            "fn fma_f32(a: f32, b: f32, c: f32) -> f32 {{\n    let p = f64(a) * f64(b);\n    let w = f64(c);\n    let s = p + w;\n    let sb = bitcast<u64>(s);\n    if (sb & 0x7ffffffffffffffflu) >= 0x7ff0000000000000lu {{ return f32(s); }}\n    let bb = s - p;\n    let e = (p - (s - bb)) + (w - bb);\n    var r = s;\n    if e != {z} && (sb & 1lu) == 0lu {{\n        if (e > {z}) == (s > {z}) {{ r = bitcast<f64>(sb + 1lu); }} else {{ r = bitcast<f64>(sb - 1lu); }}\n    }}\n    if abs(r) >= {limit} {{ return select(bitcast<f32>(0x7f800000u), bitcast<f32>(0xff800000u), r < {z}); }}\n    return f32(r);\n}}\n",
            z = lit(0.0, d),
            // Half a unit above f32::MAX: from there on, f32 rounding overflows.
            limit = lit(f64::from(f32::MAX) + 2f64.powi(103), d),
        );
    }
    let (split, max_operand, max_term, min_product) = if f == ScalarType::F32 {
        (4097.0, 2f64.powi(100), 2f64.powi(100), 2f64.powi(-70))
    } else {
        (
            134217729.0,
            2f64.powi(995),
            2f64.powi(1000),
            2f64.powi(-900),
        )
    };
    let (bits, one_bit) = if f == ScalarType::F32 {
        ("u32", "1u")
    } else {
        ("u64", "1lu")
    };
    format!(
        "fn fma_{n}(a: {n}, b: {n}, c: {n}) -> {n} {{\n    let p = a * b;\n    if !(abs(a) < {max_operand} && abs(b) < {max_operand} && abs(c) < {max_term} && abs(p) < {max_term} && abs(p) > {min_product}) {{ return fma(a, b, c); }}\n    let ca = a * {split};\n    let ah = ca - (ca - a);\n    let al = a - ah;\n    let cb = b * {split};\n    let bh = cb - (cb - b);\n    let bl = b - bh;\n    let pl = ((ah * bh - p) + ah * bl + al * bh) + al * bl;\n    let th = c + p;\n    let tb = th - c;\n    let tl = (c - (th - tb)) + (p - tb);\n    let v = tl + pl;\n    let vb = v - tl;\n    let ve = (tl - (v - vb)) + (pl - vb);\n    let vbits = bitcast<{bits}>(v);\n    var odd = v;\n    if ve != {z} && (vbits & {one_bit}) == {zero_bits} {{\n        if (ve > {z}) == (v > {z}) {{ odd = bitcast<{n}>(vbits + {one_bit}); }} else {{ odd = bitcast<{n}>(vbits - {one_bit}); }}\n    }}\n    return th + odd;\n}}\n",
        max_operand = lit(max_operand, f),
        max_term = lit(max_term, f),
        min_product = lit(min_product, f),
        split = lit(split, f),
        z = lit(0.0, f),
        zero_bits = if f == ScalarType::F32 { "0u" } else { "0lu" },
    )
}

/// `fmod_{n}(x, y)`: Rust's float `x % y`, exactly, as C libraries compute `fmod`: long
/// division on the significands. With `x = mx 2^ex` and `y = my 2^ey` (integer significands,
/// `ex >= ey` once `|x| >= |y|`), the remainder is `(mx 2^(ex - ey)) mod my` times `2^ey`,
/// found a few exponent bits at a time (`r = (r << s) % my` with `s` chosen so that the shift
/// cannot overflow: 8 bits for `f32`'s 24-bit significands in `u32`, 11 for `f64`'s 53 in
/// `u64`), so at most 32 (`f32`) or 186 (`f64`) steps. The remainder is exactly representable
/// (it is below `|y|` and a multiple of `y`'s unit), so it is assembled on the bits, subnormal
/// or not, with the sign of `x`. The former `x - y * trunc(x / y)` was wrong whenever the
/// quotient rounded up to an integer or was huge (`1e30f32 % 1e-30f32` gave `inf`).
fn fmod_helper(f: ScalarType) -> String {
    let n = ty(f);
    // (bits type, mantissa bits, fraction mask, hidden bit, magnitude mask, infinity, zero,
    // bits shifted per step, steps)
    let (bits, m, frac, hidden, mag, inf, z, chunk, steps) = if f == ScalarType::F32 {
        (
            "u32",
            23,
            "0x7fffffu",
            "0x800000u",
            "0x7fffffffu",
            "0x7f800000u",
            "0u",
            8,
            32,
        )
    } else {
        (
            "u64",
            52,
            "0xffffffffffffflu",
            "0x10000000000000lu",
            "0x7ffffffffffffffflu",
            "0x7ff0000000000000lu",
            "0lu",
            11,
            186,
        )
    };
    let nan = literal(Literal::Float(f64::NAN), f);
    // Leading zeros of `r` (non-zero) minus those of a full significand: how far `r` must
    // move up for its top bit to be the hidden bit.
    let shift_up = if f == ScalarType::F32 {
        "i32(countLeadingZeros(r)) - 8".to_string()
    } else {
        "select(32 + i32(countLeadingZeros(u32(r))), i32(countLeadingZeros(u32(r >> 32u))), (r >> 32u) != 0lu) - 11".to_string()
    };
    format!(
        "fn fmod_{n}(x: {n}, y: {n}) -> {n} {{\n\
         \x20   let bx = bitcast<{bits}>(x);\n\
         \x20   let ax = bx & {mag};\n\
         \x20   let ay = bitcast<{bits}>(y) & {mag};\n\
         \x20   if ax >= {inf} || ay > {inf} || ay == {z} {{ return {nan}; }}\n\
         \x20   if ax < ay {{ return x; }}\n\
         \x20   let ex = max(i32(ax >> {m}u), 1);\n\
         \x20   let ey = max(i32(ay >> {m}u), 1);\n\
         \x20   let mx = select(ax & {frac}, (ax & {frac}) | {hidden}, ax >= {hidden});\n\
         \x20   let my = select(ay & {frac}, (ay & {frac}) | {hidden}, ay >= {hidden});\n\
         \x20   var r = mx % my;\n\
         \x20   var d = ex - ey;\n\
         \x20   for (var i = 0; i < {steps}; i++) {{\n\
         \x20       if d <= 0 {{ break; }}\n\
         \x20       let s = min(d, {chunk});\n\
         \x20       r = (r << u32(s)) % my;\n\
         \x20       d = d - s;\n\
         \x20   }}\n\
         \x20   let sign = bx & ~{mag};\n\
         \x20   if r == {z} {{ return bitcast<{n}>(sign); }}\n\
         \x20   let up = {shift_up};\n\
         \x20   let e = ey - up;\n\
         \x20   if e >= 1 {{ return bitcast<{n}>(sign | ({bits}(e) << {m}u) | ((r << u32(up)) & {frac})); }}\n\
         \x20   return bitcast<{n}>(sign | (r << u32(ey - 1)));\n\
         }}\n"
    )
}

/// `floor`, `ceil`, `round` and `trunc` of `f` (`f32` or `f64`) on the bits: exact on every
/// driver. Drivers' own are not: lavapipe on a CPU without AVX-512 truncates `f64` values
/// beyond 2^24 wrongly, which made `powf` take a negative base to a non-integer power.
fn rounding_helpers(f: ScalarType) -> String {
    let n = ty(f);
    // (bits type, mantissa bits, exponent mask, bias, fraction mask, magnitude mask, zero,
    // sign bit's shift)
    let (bits, m, emask, bias, frac, mag, z, top) = if f == ScalarType::F32 {
        (
            "u32",
            23,
            "0xffu",
            127,
            "0x7fffffu",
            "0x7fffffffu",
            "0u",
            31,
        )
    } else {
        (
            "u64",
            52,
            "0x7fflu",
            1023,
            "0xffffffffffffflu",
            "0x7ffffffffffffffflu",
            "0lu",
            63,
        )
    };
    let one = literal(Literal::Float(1.0), f);
    let unit = if f == ScalarType::F32 { "1u" } else { "1lu" };
    format!(
        "fn fraction_mask_{n}(b: {bits}) -> {bits} {{\n    let e = i32((b >> {m}u) & {emask}) - {bias}i;\n    if e >= {m}i {{ return {z}; }}\n    if e < 0i {{ return {mag}; }}\n    return {frac} >> u32(e);\n}}\n\
         fn trunc_{n}(x: {n}) -> {n} {{\n    let b = bitcast<{bits}>(x);\n    return bitcast<{n}>(b & ~fraction_mask_{n}(b));\n}}\n\
         fn floor_{n}(x: {n}) -> {n} {{\n    let b = bitcast<{bits}>(x);\n    let mask = fraction_mask_{n}(b);\n    let t = bitcast<{n}>(b & ~mask);\n    if (b & mask) != {z} && (b >> {top}u) != {z} {{ return t - {one}; }}\n    return t;\n}}\n\
         fn ceil_{n}(x: {n}) -> {n} {{\n    let b = bitcast<{bits}>(x);\n    let mask = fraction_mask_{n}(b);\n    let t = bitcast<{n}>(b & ~mask);\n    if (b & mask) != {z} && (b >> {top}u) == {z} {{ return t + {one}; }}\n    return t;\n}}\n\
         fn round_{n}(x: {n}) -> {n} {{\n    let b = bitcast<{bits}>(x);\n    let e = i32((b >> {m}u) & {emask}) - {bias}i;\n    if e >= {m}i {{ return x; }}\n    if e < -1i {{ return bitcast<{n}>(b & ~{mag}); }}\n    if e == -1i {{ return bitcast<{n}>((b & ~{mag}) | bitcast<{bits}>({one})); }}\n    let mask = {frac} >> u32(e);\n    return bitcast<{n}>((b + (mask >> 1u) + {unit}) & ~mask);\n}}\n"
    )
}

/// A float literal zero of either sign.
fn is_float_zero(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Literal(Literal::Float(v)) => *v == 0.0,
        ExprKind::Unary {
            op: UnaryOp::Neg,
            operand,
        } => is_float_zero(operand),
        _ => false,
    }
}
