//! Native Rust for the CPU backend, generated from the IR.
//!
//! The output is a module holding the kernel compiled three ways: an AVX-512 and an AVX2+FMA
//! clone on x86-64 (a NEON clone on AArch64) and a baseline version, chosen at run time by the
//! CPU runtime's cached feature detection. Work items run in "runs" of consecutive `x` ids; a run
//! whose affine buffer indices are all in bounds (see [`crate::affine`]) runs a version without
//! per-access checks, so its loop vectorises.
//!
//! A cooperative kernel (shared arrays or `barrier()`) runs by work-groups instead: `run`'s
//! range counts groups, and each group runs as loops over its items between barriers (the
//! work-item loops of PoCL): the statements that hold a barrier run once per group (their
//! conditions and bounds are uniform, see [`crate::cooperative`]), every other stretch of
//! statements becomes one loop over the group's items that lie in the grid. A local that one
//! stretch writes and another reads is kept per item (an array indexed by the local id);
//! shared arrays are one block per group, zeroed when the group starts. No thread ever waits
//! at a barrier: the loops run one after the other.
//!
//! Semantics are Rust's release-build semantics, spelled out so that they hold in any build:
//! integer `+ - *` wrap, shifts mask the amount, and what would panic in Rust (division by
//! zero, an index out of bounds, `clamp` with bad bounds, `step_by(0)`) returns a fault.

use crate::affine::{Affine, AffineEnv, Poly};
use crate::cooperative::{Uniformity, holds_barrier, loop_exits_early};
use crate::program::{
    AtomicOp, BinaryOp, BoundsChecks, Builtin, Expr, ExprKind, Function, Kernel, Literal, Local,
    LocalId, MathFn, Stmt, SubgroupOp, UnaryOp, stmt_exprs,
};
use crate::types::{Access, ParamKind, ScalarType};
use std::fmt::Write;

/// Where the generated code finds its runtime support (the CPU ABI module).
#[derive(Clone, Debug)]
pub struct RustOptions {
    /// Path of the CPU ABI module, e.g. `::dotcompute::__private::cpu_abi`.
    pub runtime: String,
    /// Name of the generated module.
    pub module: String,
    /// How many of the kernel's functions, from the first, are the math library's (linked
    /// ahead of the user's helpers). Speculation (`item_spans`) replaces only calls of these,
    /// never of a user helper that happens to share a name; 0 turns it off.
    pub library_functions: usize,
}

impl RustOptions {
    /// Options for kernel `name` in a crate that depends on `dotcompute`.
    pub fn for_kernel(name: &str) -> RustOptions {
        RustOptions {
            runtime: "::dotcompute::__private::cpu_abi".into(),
            module: format!("__dotcompute_cpu_{name}"),
            library_functions: 0,
        }
    }
}

/// Emits the CPU module for a validated kernel. The module exposes
/// `pub fn run(launch: &CpuLaunch<'_>, start: u64, end: u64) -> Result<(), Fault>`, which runs
/// the work items with linear ids `start..end`.
pub fn emit(kernel: &Kernel, options: &RustOptions) -> String {
    Emitter::new(kernel, options).module()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Every access checked.
    Checked,
    /// Affine accesses unchecked (the run was proven in bounds); others checked.
    Fast,
    /// `#[kernel(unchecked)]`: nothing checked.
    Unchecked,
    /// Item code of a cooperative kernel whose buffer indices were all checked before the
    /// item loop (see `item_loop`): buffer accesses unchecked, array accesses checked.
    Prechecked,
}

struct Emitter<'k> {
    kernel: &'k Kernel,
    rt: &'k str,
    module: &'k str,
    env: AffineEnv,
    /// Distinct (buffer, affine index) pairs the fast version relies on.
    proven: Vec<(u32, Affine)>,
    /// `RustOptions::library_functions`.
    library: usize,
}

struct Body<'a> {
    locals: &'a [Local],
    mode: Mode,
    /// In a cooperative kernel: where the code runs, and how its locals are kept.
    coop: Option<(Place, &'a Storage)>,
    /// The speculative item version: direct calls of `sin`/`cos`/`tan` skip the large
    /// argument reduction and set `__dc_slow` when an argument needed it (see
    /// `item_spans`).
    spec: bool,
}

/// Where code of a cooperative kernel runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Once per group (the statements that hold barriers).
    Group,
    /// In a loop over the group's items.
    Item,
}

/// How a cooperative kernel keeps each local.
struct Storage {
    /// Kept per item, in an array indexed by the local id.
    per_item: Vec<bool>,
    /// The variable of a loop that holds a barrier: one per group.
    per_group: Vec<bool>,
    /// Private arrays that more than one stretch uses: kept per item.
    arrays_per_item: Vec<bool>,
    /// The kernel has a `return`: items that returned skip the stretches after the one they
    /// returned in (a `done` flag per item).
    returns: bool,
    uniformity: Uniformity,
    /// Locals computed again in every stretch that reads them instead of being kept per
    /// item: declared once, never assigned, from ids, sizes, parameters, literals and other
    /// such locals by operations that cannot fault (`let lid = local_id_x();`). Recomputing
    /// keeps an index like `base + k * 256 + lid` affine in the item, so that its loads are
    /// contiguous (vectorisable) instead of gathers through a per-item array.
    remat: Vec<Option<Expr>>,
    /// Read by a group-level statement in the last walk (such locals are kept, not
    /// recomputed: group code has no item to compute them for).
    group_read: Vec<bool>,
}

impl Storage {
    /// Locals that more than one stretch of item code (or a group statement) refers to are
    /// kept per item.
    fn of(kernel: &Kernel) -> Storage {
        let n = kernel.locals.len();
        let mut st = Storage {
            per_item: vec![false; n],
            per_group: vec![false; n],
            arrays_per_item: vec![false; kernel.private.len()],
            returns: false,
            uniformity: Uniformity::of(kernel),
            remat: rematerialisable(kernel),
            group_read: vec![false; n],
        };
        crate::program::walk_stmts(&kernel.body, &mut |s| {
            st.returns |= matches!(s, Stmt::Return(_))
        });
        // A local read by group code is kept after all; dropping one from `remat` can only
        // add kept locals, so this settles in a few walks.
        loop {
            st.per_item.fill(false);
            st.per_group.fill(false);
            st.arrays_per_item.fill(false);
            st.group_read.fill(false);
            let mut seen: Vec<Option<usize>> = vec![None; n];
            let mut arrays_seen: Vec<Option<usize>> = vec![None; kernel.private.len()];
            let mut stretch = 0usize;
            let before = st.remat.clone();
            st.walk_group(
                &kernel.body,
                &mut seen,
                &mut arrays_seen,
                &mut stretch,
                false,
            );
            // The walk drops subgroup operands (its notes before that were skipped).
            let mut changed = st.remat != before;
            for i in 0..n {
                // Group code can compute a local only from what a group knows.
                let group_computable = st.remat[i]
                    .as_ref()
                    .is_some_and(|e| group_computable(&st.remat, e));
                if st.group_read[i] && st.remat[i].is_some() && !group_computable {
                    st.remat[i] = None;
                    changed = true;
                }
            }
            // A recomputed local's inputs must be recomputable too.
            for i in 0..n {
                let inputs_ok = st.remat[i]
                    .as_ref()
                    .is_none_or(|e| locals_of(e).iter().all(|&l| st.remat[l].is_some()));
                if !inputs_ok {
                    st.remat[i] = None;
                    changed = true;
                }
            }
            if !changed {
                return st;
            }
        }
    }

    /// Whether a statement (reached in uniform control flow) runs once per group: it holds a
    /// barrier, or it is a loop with uniform bounds that no item leaves early. Such a loop
    /// runs its iterations for the whole group, each stretch of its body over the items:
    /// the item loop becomes the innermost one, which vectorises across items (items of a
    /// stretch do not synchronise, so running their iterations interleaved means the same).
    /// Inside such a loop (`in_loop`), loops without barriers stay in the item code: they
    /// are the work of each item, unrolled and kept in registers there.
    fn per_group_statement(&self, s: &Stmt, in_loop: bool) -> bool {
        // A group statement reads item 0's copies of uniform locals, so item 0 must not have
        // returned: no `return` comes before a barrier, but one may come before any other
        // loop, so such loops are hoisted only in kernels without `return`.
        holds_barrier(s)
            || !in_loop
                && !self.returns
                && match s {
                    // The loop variable steps the group: no item may assign its own.
                    Stmt::For { var, body, .. } => {
                        let mut assigned = false;
                        crate::program::walk_stmts(body, &mut |s| {
                            assigned |= matches!(s, Stmt::Assign { local, .. } if local == var)
                        });
                        !assigned && self.uniformity.keeps_uniform(s) && !loop_exits_early(body)
                    }
                    Stmt::While { body, .. } => {
                        self.uniformity.keeps_uniform(s) && !loop_exits_early(body)
                    }
                    // A uniform `if` around such loops (a full chunk, or the tail): taken
                    // once for the group, so that the loops inside can be hoisted too. (Not
                    // other ifs: splitting a stretch there would only keep more per item.)
                    Stmt::If {
                        then_body,
                        else_body,
                        ..
                    } => {
                        self.uniformity.keeps_uniform(s)
                            && then_body
                                .iter()
                                .chain(else_body)
                                .any(|inner| self.per_group_statement(inner, false))
                    }
                    _ => false,
                }
    }

    fn note(&mut self, local: u32, stretch: usize, seen: &mut [Option<usize>]) {
        let i = local as usize;
        if self.remat[i].is_some() {
            return;
        }
        match seen[i] {
            Some(s) if s != stretch => self.per_item[i] = true,
            _ => seen[i] = Some(stretch),
        }
    }

    fn note_exprs(&mut self, s: &Stmt, stretch: usize, seen: &mut [Option<usize>]) {
        let mut locals = Vec::new();
        stmt_exprs(s, &mut |e| {
            e.walk(&mut |e| {
                if let ExprKind::Local(id) = e.kind {
                    locals.push(id.0);
                }
            })
        });
        for l in locals {
            self.note(l, stretch, seen);
        }
    }

    fn walk_group(
        &mut self,
        block: &[Stmt],
        seen: &mut [Option<usize>],
        arrays_seen: &mut [Option<usize>],
        stretch: &mut usize,
        in_loop: bool,
    ) {
        let mut in_items = false;
        for s in block {
            if self.per_group_statement(s, in_loop) {
                let inner = in_loop || (!holds_barrier(s) && !matches!(s, Stmt::If { .. }));
                in_items = false;
                // Group statements get a stretch number of their own: a local they read is
                // kept per item (they read item 0's copy).
                *stretch += 1;
                let here = *stretch;
                // A subgroup operation's operands are gathered per item (`Emitter::subgroup`),
                // where group code cannot compute an item's value: they are kept.
                let subgroup = matches!(s, Stmt::Subgroup { .. });
                stmt_exprs(s, &mut |e| {
                    for l in locals_of(e) {
                        self.group_read[l] = true;
                        if subgroup {
                            self.remat[l] = None;
                        }
                    }
                });
                self.note_exprs(s, here, seen);
                if let Stmt::For { var, .. } = s {
                    self.per_group[var.0 as usize] = true;
                }
                // The group code writes every item's result.
                if let Stmt::Subgroup { dest, .. } = s {
                    self.per_item[dest.0 as usize] = true;
                }
                match s {
                    Stmt::If {
                        then_body,
                        else_body,
                        ..
                    } => {
                        self.walk_group(then_body, seen, arrays_seen, stretch, inner);
                        self.walk_group(else_body, seen, arrays_seen, stretch, inner);
                    }
                    Stmt::For { body, .. } | Stmt::While { body, .. } | Stmt::Loop { body } => {
                        self.walk_group(body, seen, arrays_seen, stretch, inner)
                    }
                    _ => {}
                }
            } else {
                if !in_items {
                    in_items = true;
                    *stretch += 1;
                }
                let here = *stretch;
                crate::program::walk_stmts(std::slice::from_ref(s), &mut |s| {
                    let defined = match s {
                        Stmt::Let { local, .. } | Stmt::Assign { local, .. } => Some(local.0),
                        Stmt::For { var, .. } => Some(var.0),
                        _ => None,
                    };
                    if let Some(l) = defined {
                        self.note(l, here, seen);
                    }
                    self.note_exprs(s, here, seen);
                    for a in private_arrays_of(s) {
                        match arrays_seen[a] {
                            Some(other) if other != here => self.arrays_per_item[a] = true,
                            _ => arrays_seen[a] = Some(here),
                        }
                    }
                });
            }
        }
    }
}

impl<'k> Emitter<'k> {
    fn new(kernel: &'k Kernel, options: &'k RustOptions) -> Self {
        Emitter {
            kernel,
            rt: &options.runtime,
            module: &options.module,
            env: AffineEnv::of(kernel),
            proven: Vec::new(),
            library: options.library_functions,
        }
    }

    fn module(&mut self) -> String {
        let rt = self.rt;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "#[doc(hidden)]\n#[allow(unused, unused_parens, non_snake_case, unreachable_code, unsafe_code, clippy::all, clippy::undocumented_unsafe_blocks)]\npub mod {} {{\nuse {rt} as rt;",
            self.module
        );
        // Arguments, unpacked once per span.
        out.push_str(
            "#[derive(Clone, Copy)]\nstruct Args<'a> {\n    gsize: [u64; 3],\n    group: [u64; 3],\n    sgsize: u64,\n    launch: ::core::marker::PhantomData<&'a ()>,\n",
        );
        for (i, p) in self.kernel.params.iter().enumerate() {
            let _ = match p.kind {
                ParamKind::Scalar(t) => writeln!(out, "    p{i}: {},", t.rust_name()),
                ParamKind::Buffer {
                    elem,
                    access: Access::Read,
                } => writeln!(out, "    p{i}: rt::Buf<'a, {}>,", elem.rust_name()),
                ParamKind::Buffer {
                    elem,
                    access: Access::ReadWrite,
                } => writeln!(out, "    p{i}: rt::BufMut<'a, {}>,", elem.rust_name()),
            };
        }
        out.push_str("}\n");

        for (i, f) in self.kernel.functions.iter().enumerate() {
            out.push_str(&self.function(i, f));
        }

        let unchecked = self.kernel.bounds_checks == BoundsChecks::Unchecked;
        if self.kernel.is_cooperative() {
            out.push_str(&self.group_span(unchecked));
        } else {
            self.item_spans(&mut out, unchecked);
        }
        out.push_str(&self.entry_points(unchecked));
        out
    }

    /// `run_span` of an ordinary kernel: runs of consecutive items, each through the fast or
    /// the checked version.
    fn item_spans(&mut self, out: &mut String, unchecked: bool) {
        let (fast_mode, fast_unsafe) = if unchecked {
            (Mode::Unchecked, true)
        } else {
            (Mode::Fast, true)
        };
        let fast = self.item("item_fast", fast_mode, fast_unsafe, false);
        let needs_two_versions = unchecked || !self.proven.is_empty();
        if !unchecked {
            out.push_str(&self.item("item_checked", Mode::Checked, false, false));
        }
        if needs_two_versions {
            out.push_str(&fast);
        }
        if !unchecked && needs_two_versions {
            out.push_str(&self.in_range());
        }
        // Speculation: the fast items of a block first run with `sin`/`cos`/`tan` reduced for
        // ordinary arguments only (no per-element large-argument reduction, which would keep
        // the loop from vectorising well); a block in which any argument was large runs again
        // in full. Only kernels whose blocks may run twice (see `speculable`).
        let speculate = needs_two_versions && speculable(self.kernel, self.library);
        if speculate {
            out.push_str(&self.item("item_spec", fast_mode, fast_unsafe, true));
        }
        let fast_loop = if speculate {
            "let mut b0 = x0;\n            while b0 < x1 {\n                let b1 = (b0 + SPEC_BLOCK).min(x1);\n                let mut slow = false;\n                let mut fault = None;\n                for x in b0..b1 { if let Err(f) = unsafe { item_spec(a, [x, y, z], &mut slow) } { fault = Some(f); break; } }\n                if slow {\n                    for x in b0..b1 { unsafe { item_fast(a, [x, y, z]) }?; }\n                } else if let Some(f) = fault {\n                    return Err(f);\n                }\n                b0 = b1;\n            }"
        } else {
            "for x in x0..x1 { unsafe { item_fast(a, [x, y, z]) }?; }"
        };
        if speculate {
            out.push_str("/// Items per speculative block.\nconst SPEC_BLOCK: u64 = 256;\n");
        }

        out.push_str("#[inline(always)]\nunsafe fn run_span(a: &Args<'_>, start: u64, end: u64) -> Result<(), rt::Fault> {\n");
        out.push_str("    let mut l = start;\n    while l < end {\n        let (x0, y, z) = rt::split_linear(l, a.gsize);\n        let x1 = rt::run_end(x0, l, end, a.gsize[0]);\n");
        if unchecked {
            let _ = writeln!(out, "        {fast_loop}");
        } else if needs_two_versions {
            let _ = writeln!(
                out,
                "        if in_range(a, y, z, x0, x1) {{\n            {fast_loop}\n        }} else {{\n            for x in x0..x1 {{ item_checked(a, [x, y, z])?; }}\n        }}"
            );
        } else {
            out.push_str("        for x in x0..x1 { item_checked(a, [x, y, z])?; }\n");
        }
        out.push_str("        l += x1 - x0;\n    }\n    Ok(())\n}\n");
    }

    /// The SIMD clones and `run`.
    fn entry_points(&self, unchecked: bool) -> String {
        let mut out = String::new();
        out.push_str(
            "#[cfg(target_arch = \"x86_64\")]\n#[target_feature(enable = \"avx512f,avx512vl,avx512bw,avx512dq,avx512cd,avx2,avx,fma,bmi1,bmi2,lzcnt,popcnt,f16c\")]\nunsafe fn run_avx512(a: &Args<'_>, start: u64, end: u64) -> Result<(), rt::Fault> { unsafe { run_span(a, start, end) } }\n",
        );
        out.push_str(
            "#[cfg(target_arch = \"x86_64\")]\n#[target_feature(enable = \"avx2,avx,fma,bmi1,bmi2,lzcnt,popcnt,f16c\")]\nunsafe fn run_avx2(a: &Args<'_>, start: u64, end: u64) -> Result<(), rt::Fault> { unsafe { run_span(a, start, end) } }\n",
        );
        out.push_str(
            "#[cfg(target_arch = \"aarch64\")]\n#[target_feature(enable = \"neon\")]\nunsafe fn run_neon(a: &Args<'_>, start: u64, end: u64) -> Result<(), rt::Fault> { unsafe { run_span(a, start, end) } }\n",
        );

        // The entry point.
        let safety = if unchecked { "unsafe " } else { "" };
        let _ = writeln!(
            out,
            "/// Runs work items `start..end` of a launch.\npub {safety}fn run(launch: &rt::CpuLaunch<'_>, start: u64, end: u64) -> Result<(), rt::Fault> {{"
        );
        out.push_str(
            "    let a = Args {\n        gsize: launch.grid(),\n        group: launch.group(),\n        sgsize: launch.subgroup_size(),\n        launch: ::core::marker::PhantomData,\n",
        );
        for (i, p) in self.kernel.params.iter().enumerate() {
            let _ = match p.kind {
                ParamKind::Scalar(t) => {
                    writeln!(
                        out,
                        "        p{i}: launch.scalar::<{}>({i})?,",
                        t.rust_name()
                    )
                }
                ParamKind::Buffer { elem, access } => {
                    let method = match access {
                        Access::Read => "buffer",
                        Access::ReadWrite => "buffer_mut",
                    };
                    writeln!(
                        out,
                        "        p{i}: launch.{method}::<{}>({i})?,",
                        elem.rust_name()
                    )
                }
            };
        }
        out.push_str("    };\n");
        // SAFETY (of the calls below): a CpuLaunch guarantees its buffers are valid for their
        // lengths; the chosen clone's features are present (simd_level never reports more than
        // the CPU has).
        out.push_str("    match launch.simd() {\n");
        out.push_str("        #[cfg(target_arch = \"x86_64\")]\n        rt::SimdLevel::Avx512 => unsafe { run_avx512(&a, start, end) },\n");
        out.push_str("        #[cfg(target_arch = \"x86_64\")]\n        rt::SimdLevel::Avx2 => unsafe { run_avx2(&a, start, end) },\n");
        out.push_str("        #[cfg(target_arch = \"aarch64\")]\n        rt::SimdLevel::Neon => unsafe { run_neon(&a, start, end) },\n");
        out.push_str("        _ => unsafe { run_span(&a, start, end) },\n    }\n}\n}\n");
        out
    }

    /// `run_span` of a cooperative kernel: `start..end` are linear group ids.
    fn group_span(&mut self, unchecked: bool) -> String {
        let storage = Storage::of(self.kernel);
        let mode = if unchecked {
            Mode::Unchecked
        } else {
            Mode::Checked
        };
        let mut out = String::from(
            "#[inline(always)]\nunsafe fn run_span(a: &Args<'_>, start: u64, end: u64) -> Result<(), rt::Fault> {\n    let ng = rt::group_counts(a.gsize, a.group);\n    let glen = (a.group[0] * a.group[1] * a.group[2]) as usize;\n",
        );
        for (i, l) in self.kernel.locals.iter().enumerate() {
            if storage.per_item[i] && !storage.per_group[i] {
                let _ = writeln!(
                    out,
                    "    let mut s{i}: ::std::vec::Vec<{0}> = ::std::vec![<{0} as ::core::default::Default>::default(); glen];",
                    l.ty.rust_name()
                );
            }
        }
        for (i, a) in self.kernel.shared.iter().enumerate() {
            let _ = writeln!(
                out,
                "    let mut sh{i}: ::std::vec::Vec<{0}> = ::std::vec![<{0} as ::core::default::Default>::default(); {1}];",
                a.elem.rust_name(),
                a.len
            );
        }
        let returns = storage.returns;
        if returns {
            out.push_str("    let mut done = ::std::vec![false; glen];\n");
        }
        // Subgroup operands of every item of a group: one vector per operand type.
        let mut subgroup_types: Vec<ScalarType> = Vec::new();
        crate::program::walk_stmts(&self.kernel.body, &mut |s| {
            if let Stmt::Subgroup { value, .. } = s
                && !subgroup_types.contains(&value.ty)
            {
                subgroup_types.push(value.ty);
            }
        });
        for t in &subgroup_types {
            let _ = writeln!(
                out,
                "    let mut sgv_{0}: ::std::vec::Vec<{0}> = ::std::vec![<{0} as ::core::default::Default>::default(); glen];",
                t.rust_name()
            );
        }
        if !subgroup_types.is_empty() {
            out.push_str("    let mut sgl: ::std::vec::Vec<u64> = ::std::vec![0; glen];\n");
        }
        for (i, a) in self.kernel.private.iter().enumerate() {
            if storage.arrays_per_item[i] {
                let _ = writeln!(
                    out,
                    "    let mut pas{i}: ::std::vec::Vec<[{0}; {1}]> = ::std::vec![[<{0} as ::core::default::Default>::default(); {1}]; glen];",
                    a.elem.rust_name(),
                    a.len
                );
            }
        }
        out.push_str("    for g in start..end {\n        let (gx, gy, gz) = rt::split_linear(g, ng);\n        let grp = [gx, gy, gz];\n        let origin = [gx * a.group[0], gy * a.group[1], gz * a.group[2]];\n        let n = rt::items_in_grid(origin, a.group, a.gsize);\n");
        if returns {
            out.push_str("        done.fill(false);\n");
        }
        for (i, a) in self.kernel.shared.iter().enumerate() {
            let _ = writeln!(
                out,
                "        sh{i}.fill(<{} as ::core::default::Default>::default());",
                a.elem.rust_name()
            );
        }
        let body = Body {
            locals: &self.kernel.locals,
            mode,
            coop: Some((Place::Group, &storage)),
            spec: false,
        };
        let kernel = self.kernel;
        self.group_block(&mut out, &body, &kernel.body, 2, false);
        out.push_str("    }\n    Ok(())\n}\n");
        out
    }

    /// Statements of a cooperative kernel at group level: those that run once per group (see
    /// `Storage::per_group_statement`) run here, each stretch of others becomes a loop over
    /// the group's items.
    fn group_block(
        &mut self,
        out: &mut String,
        body: &Body<'_>,
        block: &[Stmt],
        depth: usize,
        in_loop: bool,
    ) {
        let pad = "    ".repeat(depth);
        let mut stretch: Vec<&Stmt> = Vec::new();
        for s in block {
            if !body
                .coop
                .is_some_and(|(_, st)| st.per_group_statement(s, in_loop))
            {
                stretch.push(s);
                continue;
            }
            let inner = in_loop || (!holds_barrier(s) && !matches!(s, Stmt::If { .. }));
            self.item_loop(out, body, &stretch, depth);
            stretch.clear();
            match s {
                Stmt::Barrier => {
                    let _ = writeln!(out, "{pad}// barrier()");
                }
                Stmt::Subgroup {
                    op,
                    dest,
                    value,
                    lane,
                } => self.subgroup(out, body, *op, *dest, value, lane.as_ref(), depth),
                Stmt::If {
                    cond,
                    then_body,
                    else_body,
                } => {
                    let c = self.expr_mut(body, cond);
                    let _ = writeln!(out, "{pad}if {c} {{");
                    self.group_block(out, body, then_body, depth + 1, inner);
                    let _ = writeln!(out, "{pad}}} else {{");
                    self.group_block(out, body, else_body, depth + 1, inner);
                    let _ = writeln!(out, "{pad}}}");
                }
                Stmt::For {
                    var,
                    start,
                    end,
                    inclusive,
                    step,
                    body: loop_body,
                } => {
                    let iter = self.range(body, start, end, *inclusive, step.as_ref());
                    let name = local_name(body.locals, var.0 as usize);
                    let _ = writeln!(out, "{pad}for {name} in {iter} {{");
                    self.group_block(out, body, loop_body, depth + 1, inner);
                    let _ = writeln!(out, "{pad}}}");
                }
                Stmt::While {
                    cond,
                    body: loop_body,
                } => {
                    let c = self.expr_mut(body, cond);
                    let _ = writeln!(out, "{pad}while {c} {{");
                    self.group_block(out, body, loop_body, depth + 1, inner);
                    let _ = writeln!(out, "{pad}}}");
                }
                Stmt::Loop { body: loop_body } => {
                    let _ = writeln!(out, "{pad}loop {{");
                    self.group_block(out, body, loop_body, depth + 1, inner);
                    let _ = writeln!(out, "{pad}}}");
                }
                // Only the statements above can hold a barrier.
                other => self.stmt(out, body, other, depth),
            }
        }
        self.item_loop(out, body, &stretch, depth);
    }

    /// A subgroup operation at group level: every live item's operands are gathered (absent
    /// items keep the identity), then `rt::subgroup` computes every item's result.
    #[allow(clippy::too_many_arguments)]
    fn subgroup(
        &mut self,
        out: &mut String,
        body: &Body<'_>,
        op: SubgroupOp,
        dest: LocalId,
        value: &Expr,
        lane: Option<&Expr>,
        depth: usize,
    ) {
        let pad = "    ".repeat(depth);
        let t = value.ty;
        let tn = t.rust_name();
        let identity = literal(op.identity(t), t);
        // An operand at item `li` (a local or a literal: see the IR's rules).
        let at = |e: &Expr| match &e.kind {
            ExprKind::Local(id) if per_item(body, id.0 as usize) => format!("s{}[li]", id.0),
            ExprKind::Local(id) => local_name(body.locals, id.0 as usize),
            ExprKind::Literal(l) => literal(*l, e.ty),
            _ => literal(op.identity(e.ty), e.ty),
        };
        let skip = if body.coop.is_some_and(|(_, st)| st.returns) {
            "if done[li] { continue; } "
        } else {
            ""
        };
        let lane_store = lane.map_or(String::new(), |l| format!(" sgl[li] = {};", at(l)));
        let _ = writeln!(
            out,
            "{pad}sgv_{tn}.fill({identity});\n{pad}sgl.fill(0);\n{pad}for lz in 0..n[2] {{ for ly in 0..n[1] {{\n{pad}    let row = (a.group[0] * (ly + a.group[1] * lz)) as usize;\n{pad}    for li in row..row + n[0] as usize {{ {skip}sgv_{tn}[li] = {};{lane_store} }}\n{pad}}} }}",
            at(value)
        );
        let (kind, combine) = match op {
            SubgroupOp::Add if t.is_int() => ("Reduce", "x.wrapping_add(y)".to_string()),
            SubgroupOp::Add => ("Reduce", "x + y".to_string()),
            SubgroupOp::InclusiveAdd if t.is_int() => {
                ("Inclusive", "x.wrapping_add(y)".to_string())
            }
            SubgroupOp::InclusiveAdd => ("Inclusive", "x + y".to_string()),
            SubgroupOp::ExclusiveAdd if t.is_int() => {
                ("Exclusive", "x.wrapping_add(y)".to_string())
            }
            SubgroupOp::ExclusiveAdd => ("Exclusive", "x + y".to_string()),
            SubgroupOp::Min | SubgroupOp::Max => {
                let func = if op == SubgroupOp::Min {
                    MathFn::Min
                } else {
                    MathFn::Max
                };
                let operand = Expr {
                    ty: t,
                    kind: ExprKind::Literal(op.identity(t)),
                };
                (
                    "Reduce",
                    math(
                        func,
                        &[operand.clone(), operand],
                        &["x".to_string(), "y".to_string()],
                    ),
                )
            }
            SubgroupOp::Any => ("Reduce", "x || y".to_string()),
            SubgroupOp::All => ("Reduce", "x && y".to_string()),
            SubgroupOp::Shuffle => ("Shuffle", "x".to_string()),
            SubgroupOp::ShuffleXor => ("ShuffleXor", "x".to_string()),
        };
        let _ = writeln!(
            out,
            "{pad}rt::subgroup(rt::SubgroupKind::{kind}, &sgv_{tn}, &sgl, &mut s{}, a.sgsize as usize, {identity}, |x: {tn}, y: {tn}| {combine});",
            dest.0
        );
    }

    /// One loop over the group's items in the grid, running `stmts` for each.
    fn item_loop(&mut self, out: &mut String, body: &Body<'_>, stmts: &[&Stmt], depth: usize) {
        if stmts.is_empty() {
            return;
        }
        let pad = "    ".repeat(depth);
        let Some((_, storage)) = body.coop else {
            return;
        };
        let item_body = Body {
            locals: body.locals,
            mode: body.mode,
            coop: Some((Place::Item, storage)),
            spec: false,
        };
        let returns = storage.returns;
        // The per-item locals this stretch uses, and those it writes.
        let mut used = vec![false; body.locals.len()];
        let mut written = vec![false; body.locals.len()];
        for s in stmts {
            crate::program::walk_stmts(std::slice::from_ref(*s), &mut |s| {
                match s {
                    Stmt::Let { local, .. } | Stmt::Assign { local, .. } => {
                        used[local.0 as usize] = true;
                        written[local.0 as usize] = true;
                    }
                    _ => {}
                }
                stmt_exprs(s, &mut |e| {
                    e.walk(&mut |e| {
                        if let ExprKind::Local(id) = e.kind {
                            used[id.0 as usize] = true;
                        }
                    })
                });
            });
        }
        let kept: Vec<usize> = (0..body.locals.len())
            .filter(|&i| used[i] && per_item(body, i))
            .collect();
        let mut arrays_used = vec![false; self.kernel.private.len()];
        let mut arrays_written = vec![false; self.kernel.private.len()];
        for s in stmts {
            crate::program::walk_stmts(std::slice::from_ref(*s), &mut |s| {
                for a in private_arrays_of(s) {
                    arrays_used[a] = true;
                }
                if let Stmt::PrivateInit { array, .. } | Stmt::PrivateStore { array, .. } = s {
                    arrays_written[array.0 as usize] = true;
                }
            });
        }
        // Per row of the group (fixed y, z), each per-item array is cut to the row's items in
        // the grid, so that indexing it by the item needs no bounds check and the item loop
        // can vectorise.
        let _ = writeln!(
            out,
            "{pad}for lz in 0..n[2] {{ for ly in 0..n[1] {{\n{pad}    let row = (a.group[0] * (ly + a.group[1] * lz)) as usize;\n{pad}    let w = n[0] as usize;"
        );
        for &i in &kept {
            let m = if written[i] { "mut " } else { "" };
            let _ = writeln!(out, "{pad}    let r{i} = &{m}s{i}[row..row + w];");
        }
        if returns {
            let _ = writeln!(out, "{pad}    let rdone = &mut done[row..row + w];");
        }
        for (a, used) in arrays_used.iter().enumerate() {
            if *used && storage.arrays_per_item[a] {
                let m = if arrays_written[a] { "mut " } else { "" };
                let _ = writeln!(out, "{pad}    let rpa{a} = &{m}pas{a}[row..row + w];");
            }
        }
        // The item's start: its ids, the recomputed locals the stretch reads (and those they
        // read), in declaration order.
        let mut needed = vec![false; body.locals.len()];
        for i in (0..body.locals.len()).rev() {
            if (used[i] || needed[i])
                && let Some(e) = &storage.remat[i]
            {
                needed[i] = true;
                for l in locals_of(e) {
                    needed[l] = true;
                }
            }
        }
        let mut item_start = format!(
            "{pad}    let lx = i as u64;\n{pad}    let local = [lx, ly, lz];\n{pad}    let gid = [origin[0] + lx, origin[1] + ly, origin[2] + lz];\n"
        );
        for (i, needed) in needed.iter().enumerate() {
            if let (true, Some(e)) = (*needed, &storage.remat[i]) {
                let v = self.expr_mut(&item_body, e);
                let _ = writeln!(
                    item_start,
                    "{pad}    let {}: {} = {v};",
                    local_name(body.locals, i),
                    body.locals[i].ty.rust_name()
                );
            }
        }
        // When every buffer index of the stretch is known at the item's start, one pass over
        // the items checks them all (a loop without exits, which vectorises), and a copy of
        // the stretch without per-access checks runs when they pass: a check that can exit
        // the item loop early leaves LLVM's vector loop a scalar epilogue of up to 64 items.
        let accesses = buffer_accesses(stmts, storage);
        let prechecked =
            body.mode == Mode::Checked && matches!(&accesses, Some(a) if !a.is_empty());
        if prechecked {
            let _ = writeln!(
                out,
                "{pad}    let mut in_bounds = true;\n{pad}    for i in 0..w {{"
            );
            out.push_str(&item_start);
            for (buffer, index) in accesses.iter().flatten() {
                let v = self.expr_mut(&item_body, index);
                let _ = writeln!(out, "{pad}    in_bounds &= ({v}) < a.p{buffer}.len();");
            }
            let _ = writeln!(out, "{pad}    }}\n{pad}    if in_bounds {{");
            let fast = Body {
                mode: Mode::Prechecked,
                ..item_body
            };
            self.item_loop_body(
                out,
                &fast,
                stmts,
                &kept,
                &written,
                &arrays_used,
                &arrays_written,
                &item_start,
                depth,
            );
            let _ = writeln!(out, "{pad}    }} else {{");
        }
        self.item_loop_body(
            out,
            &item_body,
            stmts,
            &kept,
            &written,
            &arrays_used,
            &arrays_written,
            &item_start,
            depth,
        );
        if prechecked {
            let _ = writeln!(out, "{pad}    }}");
        }
        let _ = writeln!(out, "{pad}}} }}");
    }

    /// One item loop of a stretch (`item_loop`): each item reads its kept locals, runs the
    /// statements and writes back what it changed.
    #[allow(clippy::too_many_arguments)]
    fn item_loop_body(
        &mut self,
        out: &mut String,
        item_body: &Body<'_>,
        stmts: &[&Stmt],
        kept: &[usize],
        written: &[bool],
        arrays_used: &[bool],
        arrays_written: &[bool],
        item_start: &str,
        depth: usize,
    ) {
        let pad = "    ".repeat(depth);
        let body = item_body;
        let Some((_, storage)) = body.coop else {
            return;
        };
        let _ = writeln!(out, "{pad}    'items: for i in 0..w {{");
        out.push_str(item_start);
        if storage.returns {
            let _ = writeln!(out, "{pad}    if rdone[i] {{ continue; }}");
        }
        // The item's copies of the per-item locals, in plain variables for the stretch (so
        // that they live in registers), written back at its end.
        for &i in kept {
            let _ = writeln!(
                out,
                "{pad}    let mut {}: {} = r{i}[i];",
                local_name(body.locals, i),
                body.locals[i].ty.rust_name()
            );
        }
        for (a, arr) in self.kernel.private.iter().enumerate() {
            if !arrays_used[a] {
                continue;
            }
            let init = if storage.arrays_per_item[a] {
                format!("rpa{a}[i]")
            } else {
                format!(
                    "[<{0} as ::core::default::Default>::default(); {1}]",
                    arr.elem.rust_name(),
                    arr.len
                )
            };
            let _ = writeln!(
                out,
                "{pad}    let mut pa{a}: [{}; {}] = {init};",
                arr.elem.rust_name(),
                arr.len
            );
        }
        for s in stmts {
            self.stmt(out, item_body, s, depth + 1);
        }
        for &i in kept.iter().filter(|&&i| written[i]) {
            let _ = writeln!(out, "{pad}    r{i}[i] = {};", local_name(body.locals, i));
        }
        for (a, written) in arrays_written.iter().enumerate() {
            if *written && storage.arrays_per_item[a] {
                let _ = writeln!(out, "{pad}    rpa{a}[i] = pa{a};");
            }
        }
        let _ = writeln!(out, "{pad}    }}");
    }

    /// A `for` loop's iterator.
    fn range(
        &mut self,
        body: &Body<'_>,
        start: &Expr,
        end: &Expr,
        inclusive: bool,
        step: Option<&Expr>,
    ) -> String {
        let s = self.expr_mut(body, start);
        let e = self.expr_mut(body, end);
        let range = if inclusive { "..=" } else { ".." };
        let mut iter = format!("(({s}){range}({e}))");
        if let Some(step) = step {
            let st = self.expr_mut(body, step);
            iter = format!("{iter}.step_by(rt::step({st})?)");
        }
        iter
    }

    /// How code refers to a local: by name, or through its per-item array.
    fn local_ref(&self, body: &Body<'_>, i: usize) -> String {
        match body.coop {
            Some((place, _)) if per_item(body, i) => {
                match place {
                    // The stretch's copy (see `item_loop`).
                    Place::Item => local_name(body.locals, i),
                    // Uniform: item 0's copy is everyone's (item 0 of a group is always in
                    // the grid).
                    Place::Group => format!("s{i}[0]"),
                }
            }
            _ => local_name(body.locals, i),
        }
    }

    fn function(&mut self, index: usize, f: &Function) -> String {
        let mut out = String::new();
        let params: Vec<String> = (0..f.param_count as usize)
            .map(|i| {
                let m = if f.locals[i].mutable { "mut " } else { "" };
                format!(
                    "{m}{}: {}",
                    local_name(&f.locals, i),
                    f.locals[i].ty.rust_name()
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "#[inline(always)]\nfn {}({}) -> Result<{}, rt::Fault> {{",
            function_name(index, f),
            params.join(", "),
            f.ret.rust_name()
        );
        let body = Body {
            locals: &f.locals,
            mode: Mode::Checked,
            coop: None,
            spec: false,
        };
        self.block(&mut out, &body, &f.body, 1);
        out.push_str("}\n");
        out
    }

    fn item(&mut self, name: &str, mode: Mode, is_unsafe: bool, spec: bool) -> String {
        let mut out = String::new();
        let safety = if is_unsafe { "unsafe " } else { "" };
        let slow = if spec { ", __dc_slow: &mut bool" } else { "" };
        let _ = writeln!(
            out,
            "#[inline(always)]\n{safety}fn {name}(a: &Args<'_>, gid: [u64; 3]{slow}) -> Result<(), rt::Fault> {{"
        );
        let body = Body {
            locals: &self.kernel.locals,
            mode,
            coop: None,
            spec,
        };
        for (a, arr) in self.kernel.private.iter().enumerate() {
            let _ = writeln!(
                out,
                "    let mut pa{a}: [{0}; {1}] = [<{0} as ::core::default::Default>::default(); {1}];",
                arr.elem.rust_name(),
                arr.len
            );
        }
        self.block(&mut out, &body, &self.kernel.body, 1);
        out.push_str("    Ok(())\n}\n");
        out
    }

    fn in_range(&mut self) -> String {
        let mut out = String::from(
            "#[inline(always)]\nfn in_range(a: &Args<'_>, y: u64, z: u64, x0: u64, x1: u64) -> bool {\n    let check = || -> Result<bool, rt::Fault> {\n        let mut ok = true;\n",
        );
        let body = Body {
            locals: &self.kernel.locals,
            mode: Mode::Checked,
            coop: None,
            spec: false,
        };
        for (buffer, form) in self.proven.clone() {
            let mut poly = |p: &Poly| self.poly(&body, p);
            let _ = writeln!(
                out,
                "        ok &= rt::affine_in_bounds([{}, {}, {}], {}, [x0, x1, y, z], a.p{buffer}.len());",
                poly(&form.ids[0]),
                poly(&form.ids[1]),
                poly(&form.ids[2]),
                poly(&form.constant)
            );
        }
        out.push_str("        Ok(ok)\n    };\n    matches!(check(), Ok(true))\n}\n");
        out
    }

    /// An `Option<i128>` expression for a polynomial of invariant leaves.
    fn poly(&mut self, body: &Body<'_>, p: &Poly) -> String {
        if p.0.is_empty() {
            return "Some(0i128)".into();
        }
        let terms: Vec<String> =
            p.0.iter()
                .map(|m| {
                    let leaves: Vec<String> = m
                        .leaves
                        .iter()
                        .map(|l| format!("(({}) as i128)", self.expr_mut(body, l)))
                        .collect();
                    format!("rt::monomial({}i128, &[{}])", m.coeff, leaves.join(", "))
                })
                .collect();
        format!("rt::poly_sum(&[{}])", terms.join(", "))
    }

    fn block(&mut self, out: &mut String, body: &Body<'_>, block: &[Stmt], depth: usize) {
        for s in block {
            self.stmt(out, body, s, depth);
        }
    }

    fn stmt(&mut self, out: &mut String, body: &Body<'_>, s: &Stmt, depth: usize) {
        let pad = "    ".repeat(depth);
        match s {
            Stmt::Let { local, init } if per_item(body, local.0 as usize) => {
                if let Some(init) = init {
                    let v = self.expr_mut(body, init);
                    let _ = writeln!(
                        out,
                        "{pad}{} = {v};",
                        self.local_ref(body, local.0 as usize)
                    );
                }
            }
            Stmt::Let { local, init } => {
                let l = &body.locals[local.0 as usize];
                let m = if l.mutable { "mut " } else { "" };
                let name = local_name(body.locals, local.0 as usize);
                match init {
                    Some(init) => {
                        let v = self.expr_mut(body, init);
                        let _ = writeln!(out, "{pad}let {m}{name}: {} = {v};", l.ty.rust_name());
                    }
                    None => {
                        let _ = writeln!(out, "{pad}let {m}{name}: {};", l.ty.rust_name());
                    }
                }
            }
            Stmt::Assign { local, value } => {
                let v = self.expr_mut(body, value);
                let _ = writeln!(
                    out,
                    "{pad}{} = {v};",
                    self.local_ref(body, local.0 as usize)
                );
            }
            Stmt::Store {
                buffer,
                index,
                value,
            } => {
                // Rust evaluates the value before the place.
                let v = self.expr_mut(body, value);
                let i = self.expr_mut(body, index);
                let access = if self.unchecked_access(body.mode, buffer.0, index) {
                    format!("unsafe {{ a.p{}.store_unchecked(__i, __v) }}", buffer.0)
                } else {
                    format!("a.p{}.store(__i, __v)?", buffer.0)
                };
                let _ = writeln!(out, "{pad}{{ let __v = {v}; let __i = {i}; {access}; }}");
            }
            Stmt::If {
                cond,
                then_body,
                else_body,
            } => {
                let c = self.expr_mut(body, cond);
                let _ = writeln!(out, "{pad}if {c} {{");
                self.block(out, body, then_body, depth + 1);
                if !else_body.is_empty() {
                    let _ = writeln!(out, "{pad}}} else {{");
                    self.block(out, body, else_body, depth + 1);
                }
                let _ = writeln!(out, "{pad}}}");
            }
            Stmt::For {
                var,
                start,
                end,
                inclusive,
                step,
                body: loop_body,
            } => {
                let iter = self.range(body, start, end, *inclusive, step.as_ref());
                let m = if body.locals[var.0 as usize].mutable {
                    "mut "
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "{pad}for {m}{} in {iter} {{",
                    local_name(body.locals, var.0 as usize)
                );
                self.block(out, body, loop_body, depth + 1);
                let _ = writeln!(out, "{pad}}}");
            }
            Stmt::While {
                cond,
                body: loop_body,
            } => {
                let c = self.expr_mut(body, cond);
                let _ = writeln!(out, "{pad}while {c} {{");
                self.block(out, body, loop_body, depth + 1);
                let _ = writeln!(out, "{pad}}}");
            }
            Stmt::Loop { body: loop_body } => {
                let _ = writeln!(out, "{pad}loop {{");
                self.block(out, body, loop_body, depth + 1);
                let _ = writeln!(out, "{pad}}}");
            }
            Stmt::Break => {
                let _ = writeln!(out, "{pad}break;");
            }
            Stmt::Continue => {
                let _ = writeln!(out, "{pad}continue;");
            }
            Stmt::Return(None) if body.coop.is_some() => {
                // No barrier follows a `return` (see `cooperative`), but later stretches may.
                let _ = writeln!(out, "{pad}rdone[i] = true;\n{pad}continue 'items;");
            }
            Stmt::Return(None) => {
                let _ = writeln!(out, "{pad}return Ok(());");
            }
            Stmt::Return(Some(e)) => {
                let v = self.expr_mut(body, e);
                let _ = writeln!(out, "{pad}return Ok({v});");
            }
            Stmt::Trap { message } => {
                let _ = writeln!(out, "{pad}return Err(rt::Fault::panic({message:?}));");
            }
            Stmt::Eval(e) => {
                let v = self.expr_mut(body, e);
                let _ = writeln!(out, "{pad}let _ = {v};");
            }
            // The item loops are the barriers, and subgroup operations run at group level
            // (see `group_block`).
            Stmt::Barrier | Stmt::Subgroup { .. } => {}
            Stmt::PrivateInit { array, value } => {
                let v = self.expr_mut(body, value);
                let a = array.0;
                let _ = writeln!(
                    out,
                    "{pad}{{ let __v = {v}; for __e in pa{a}.iter_mut() {{ *__e = __v; }} }}"
                );
            }
            Stmt::PrivateStore {
                array,
                index,
                value,
            } => {
                let v = self.expr_mut(body, value);
                let i = self.expr_mut(body, index);
                let a = array.0;
                let number = self.kernel.shared.len() as u32 + a;
                let access = if body.mode == Mode::Unchecked {
                    format!("unsafe {{ *pa{a}.get_unchecked_mut(__i as usize) = __v }}")
                } else {
                    format!("rt::array_store(&mut pa{a}, {number}, __i, __v)?")
                };
                let _ = writeln!(out, "{pad}{{ let __v = {v}; let __i = {i}; {access}; }}");
            }
            Stmt::SharedStore {
                array,
                index,
                value,
            } => {
                let v = self.expr_mut(body, value);
                let i = self.expr_mut(body, index);
                let a = array.0;
                let access = if body.mode == Mode::Unchecked {
                    format!("unsafe {{ *sh{a}.get_unchecked_mut(__i as usize) = __v }}")
                } else {
                    format!("rt::array_store(&mut sh{a}, {a}, __i, __v)?")
                };
                let _ = writeln!(out, "{pad}{{ let __v = {v}; let __i = {i}; {access}; }}");
            }
        }
    }

    /// Whether this access may skip its check; records what the fast version relies on.
    fn unchecked_access(&mut self, mode: Mode, buffer: u32, index: &Expr) -> bool {
        match mode {
            Mode::Checked => false,
            Mode::Unchecked | Mode::Prechecked => true,
            Mode::Fast => match self.env.affine(index) {
                Some(form) => {
                    if !self.proven.iter().any(|(b, f)| *b == buffer && *f == form) {
                        self.proven.push((buffer, form));
                    }
                    true
                }
                None => false,
            },
        }
    }

    fn expr_mut(&mut self, body: &Body<'_>, e: &Expr) -> String {
        // Loads and atomics may record proven accesses; everything else is pure rendering.
        let mut rendered = String::new();
        self.render(&mut rendered, body, e);
        rendered
    }

    fn render(&mut self, out: &mut String, body: &Body<'_>, e: &Expr) {
        let ty = e.ty;
        match &e.kind {
            ExprKind::Literal(lit) => out.push_str(&literal(*lit, ty)),
            ExprKind::Local(id) => match body.coop {
                // Group code computes a recomputed local where it reads it (its expression
                // reads no item's ids: see `Storage::of`).
                Some((Place::Group, st)) if st.remat[id.0 as usize].is_some() => {
                    if let Some(e) = st.remat[id.0 as usize].clone() {
                        out.push('(');
                        self.render(out, body, &e);
                        out.push(')');
                    }
                }
                _ => out.push_str(&self.local_ref(body, id.0 as usize)),
            },
            ExprKind::SharedAtomic {
                op,
                array,
                index,
                args,
            } => {
                // As for buffers: the place (its index) first, then the operands.
                let i = self.sub(body, index);
                let rendered: Vec<String> = args.iter().map(|a| self.sub(body, a)).collect();
                let a = array.0;
                let operands: String = rendered
                    .iter()
                    .enumerate()
                    .map(|(k, r)| format!("let __v{k} = {r}; "))
                    .collect();
                let call = if *op == AtomicOp::CompareExchange {
                    format!("rt::shared_compare_exchange(&mut sh{a}, {a}, __i, __v0, __v1)?")
                } else {
                    format!("rt::shared_atomic(&mut sh{a}, {a}, __i, rt::AtomicOp::{op:?}, __v0)?")
                };
                // As in Rust, `&mut sh[i]` is bounds checked before the operands are evaluated.
                let _ = write!(
                    out,
                    "{{ let __i = {i}; rt::array_load(&sh{a}, {a}, __i)?; {operands}{call} }}"
                );
            }
            ExprKind::PrivateLoad { array, index } => {
                let i = self.sub(body, index);
                let a = array.0;
                let number = self.kernel.shared.len() as u32 + a;
                let _ = if body.mode == Mode::Unchecked {
                    write!(out, "unsafe {{ *pa{a}.get_unchecked(({i}) as usize) }}")
                } else {
                    write!(out, "rt::array_load(&pa{a}, {number}, {i})?")
                };
            }
            ExprKind::SharedLoad { array, index } => {
                let i = self.sub(body, index);
                let a = array.0;
                let _ = if body.mode == Mode::Unchecked {
                    write!(out, "unsafe {{ *sh{a}.get_unchecked(({i}) as usize) }}")
                } else {
                    write!(out, "rt::array_load(&sh{a}, {a}, {i})?")
                };
            }
            ExprKind::Param(id) => {
                let _ = write!(out, "a.p{}", id.0);
            }
            ExprKind::Load { buffer, index } => {
                let i = self.sub(body, index);
                if self.unchecked_access(body.mode, buffer.0, index) {
                    let _ = write!(out, "unsafe {{ a.p{}.load_unchecked({i}) }}", buffer.0);
                } else {
                    let _ = write!(out, "a.p{}.load({i})?", buffer.0);
                }
            }
            ExprKind::Len(buffer) => {
                let _ = write!(out, "a.p{}.len()", buffer.0);
            }
            ExprKind::Builtin(b) => {
                let coop = body.coop.is_some();
                let _ = match b {
                    Builtin::GlobalId(ax) => write!(out, "gid[{}]", ax.index()),
                    Builtin::GlobalSize(ax) => write!(out, "a.gsize[{}]", ax.index()),
                    Builtin::SubgroupSize => write!(out, "a.sgsize"),
                    // Item code of a cooperative kernel (the only place it can be).
                    Builtin::SubgroupLane => write!(out, "((row + i) as u64 % a.sgsize)"),
                    Builtin::GroupSize(ax) => write!(out, "a.group[{}]", ax.index()),
                    Builtin::NumGroups(ax) if coop => write!(out, "ng[{}]", ax.index()),
                    Builtin::NumGroups(ax) => {
                        write!(out, "a.gsize[{0}].div_ceil(a.group[{0}])", ax.index())
                    }
                    Builtin::GroupId(ax) if coop => write!(out, "grp[{}]", ax.index()),
                    Builtin::LocalId(ax) if coop => write!(out, "local[{}]", ax.index()),
                    Builtin::GroupId(ax) => {
                        write!(out, "(gid[{0}] / a.group[{0}])", ax.index())
                    }
                    Builtin::LocalId(ax) => {
                        write!(out, "(gid[{0}] % a.group[{0}])", ax.index())
                    }
                };
            }
            ExprKind::Unary { op, operand } => {
                let v = self.sub(body, operand);
                let _ = match op {
                    UnaryOp::Neg if ty.is_int() => write!(out, "({v}).wrapping_neg()"),
                    UnaryOp::Neg => write!(out, "(-({v}))"),
                    UnaryOp::Not => write!(out, "(!({v}))"),
                };
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.sub(body, lhs);
                let r = self.sub(body, rhs);
                let int = lhs.ty.is_int();
                let _ = match op {
                    BinaryOp::Add if int => write!(out, "({l}).wrapping_add({r})"),
                    BinaryOp::Sub if int => write!(out, "({l}).wrapping_sub({r})"),
                    BinaryOp::Mul if int => write!(out, "({l}).wrapping_mul({r})"),
                    // A literal divisor other than 0 and -1 cannot fault: plain `/` and `%`
                    // (which LLVM turns into shifts and multiplications).
                    BinaryOp::Div | BinaryOp::Rem if int && safe_divisor(rhs) => {
                        write!(out, "(({l}) {} ({r}))", op.symbol())
                    }
                    BinaryOp::Div if int => write!(out, "rt::int_div({l}, {r})?"),
                    BinaryOp::Rem if int => write!(out, "rt::int_rem({l}, {r})?"),
                    BinaryOp::Shl => write!(out, "({l}).wrapping_shl(({r}) as u32)"),
                    BinaryOp::Shr => write!(out, "({l}).wrapping_shr(({r}) as u32)"),
                    other => write!(out, "(({l}) {} ({r}))", other.symbol()),
                };
            }
            ExprKind::Cast(operand) => {
                let v = self.sub(body, operand);
                let _ = write!(out, "(({v}) as {})", ty.rust_name());
            }
            ExprKind::Math { func, args } => {
                let rendered: Vec<String> = args.iter().map(|a| self.sub(body, a)).collect();
                out.push_str(&math(*func, args, &rendered));
            }
            ExprKind::Call { function, args } => {
                let rendered: Vec<String> = args.iter().map(|a| self.sub(body, a)).collect();
                let f = &self.kernel.functions[function.0 as usize];
                if body.spec
                    && (function.0 as usize) < self.library
                    && let Some((target, code, limit)) = speculative_target(f)
                    && let Some(t) = self
                        .kernel
                        .functions
                        .iter()
                        .take(self.library)
                        .position(|g| g.name == target)
                {
                    // The argument once, the flag, then the reduction without its large path.
                    let _ = write!(
                        out,
                        "{{ let __dc_v = {}; *__dc_slow |= __dc_v.abs() >= {limit}; {}(__dc_v, {code}u32, false)? }}",
                        rendered[0],
                        function_name(t, &self.kernel.functions[t])
                    );
                    return;
                }
                let _ = write!(
                    out,
                    "{}({})?",
                    function_name(function.0 as usize, f),
                    rendered.join(", ")
                );
            }
            ExprKind::Atomic {
                op,
                buffer,
                index,
                args,
            } => {
                // As in Rust, `&mut buf[i]` is bounds checked before the operands are evaluated.
                let i = self.sub(body, index);
                let unchecked = self.unchecked_access(body.mode, buffer.0, index);
                let rendered: Vec<String> = args.iter().map(|a| self.sub(body, a)).collect();
                let b = buffer.0;
                let check = if unchecked {
                    String::new()
                } else {
                    format!("a.p{b}.check(__i)?; ")
                };
                let operands: String = rendered
                    .iter()
                    .enumerate()
                    .map(|(k, r)| format!("let __v{k} = {r}; "))
                    .collect();
                let call = if *op == AtomicOp::CompareExchange {
                    format!("a.p{b}.atomic_compare_exchange_unchecked(__i, __v0, __v1)")
                } else {
                    format!("a.p{b}.atomic_rmw_unchecked(rt::AtomicOp::{op:?}, __i, __v0)")
                };
                let _ = write!(
                    out,
                    "{{ let __i = {i}; {check}{operands}unsafe {{ {call} }} }}"
                );
            }
        }
    }

    fn sub(&mut self, body: &Body<'_>, e: &Expr) -> String {
        let mut s = String::new();
        self.render(&mut s, body, e);
        s
    }
}

fn math(func: MathFn, args: &[Expr], r: &[String]) -> String {
    let recv = &r[0];
    let ty = args[0].ty;
    match func {
        MathFn::Clamp => format!("rt::clamp({recv}, {}, {})?", r[1], r[2]),
        MathFn::Abs if ty.is_int() => format!("({recv}).wrapping_abs()"),
        MathFn::Min | MathFn::Max if ty.is_int() => {
            format!("::core::cmp::Ord::{}({recv}, {})", func.method_name(), r[1])
        }
        MathFn::FromBits => {
            let float = ty.float_from_bits_type().unwrap_or(ScalarType::F32);
            format!("{}::from_bits({recv})", float.rust_name())
        }
        _ => {
            let rest = r[1..].join(", ");
            format!("({recv}).{}({rest})", func.method_name())
        }
    }
}

fn literal(lit: Literal, ty: ScalarType) -> String {
    match lit {
        Literal::Bool(b) => b.to_string(),
        Literal::Int(v) => match ty.int_range() {
            Some((lo, _)) if v == lo && v < 0 => format!("{}::MIN", ty.rust_name()),
            _ if v < 0 => format!("({v}{})", ty.rust_name()),
            _ => format!("{v}{}", ty.rust_name()),
        },
        Literal::Float(v) => {
            let name = ty.rust_name();
            if v.is_nan() {
                format!("{name}::NAN")
            } else if v == f64::INFINITY {
                format!("{name}::INFINITY")
            } else if v == f64::NEG_INFINITY {
                format!("{name}::NEG_INFINITY")
            } else if ty == ScalarType::F32 {
                format!("({:?}{name})", v as f32)
            } else {
                format!("({v:?}{name})")
            }
        }
    }
}

/// The private arrays a statement (not its nested blocks) uses.
fn private_arrays_of(s: &Stmt) -> Vec<usize> {
    let mut arrays = Vec::new();
    if let Stmt::PrivateInit { array, .. } | Stmt::PrivateStore { array, .. } = s {
        arrays.push(array.0 as usize);
    }
    stmt_exprs(s, &mut |e| {
        e.walk(&mut |e| {
            if let ExprKind::PrivateLoad { array, .. } = e.kind {
                arrays.push(array.0 as usize);
            }
        })
    });
    arrays
}

/// The buffer accesses (buffer, index) of a stretch of item code, when every index can be
/// computed at the item's start: from literals, parameters, lengths, ids and the locals
/// that every item computes again at its start or that a group-level loop counts, by
/// operations that cannot fault. `None` when some index cannot.
fn buffer_accesses(stmts: &[&Stmt], storage: &Storage) -> Option<Vec<(u32, Expr)>> {
    fn known_at_start(e: &Expr, storage: &Storage) -> bool {
        match &e.kind {
            ExprKind::Literal(_) | ExprKind::Param(_) | ExprKind::Len(_) | ExprKind::Builtin(_) => {
                true
            }
            ExprKind::Local(id) => {
                let i = id.0 as usize;
                storage.remat.get(i).is_some_and(Option::is_some)
                    || storage.per_group.get(i).copied().unwrap_or(false)
            }
            ExprKind::Unary { operand, .. } => known_at_start(operand, storage),
            ExprKind::Cast(operand) => known_at_start(operand, storage),
            ExprKind::Binary { op, lhs, rhs } => {
                !matches!(op, BinaryOp::Div | BinaryOp::Rem)
                    && known_at_start(lhs, storage)
                    && known_at_start(rhs, storage)
            }
            _ => false,
        }
    }
    let mut accesses = Vec::new();
    let mut all_known = true;
    for s in stmts {
        crate::program::walk_stmts(std::slice::from_ref(*s), &mut |s| {
            if let Stmt::Store { buffer, index, .. } = s {
                all_known &= known_at_start(index, storage);
                accesses.push((buffer.0, index.clone()));
            }
            stmt_exprs(s, &mut |e| {
                e.walk(&mut |e| match &e.kind {
                    ExprKind::Load { buffer, index } => {
                        all_known &= known_at_start(index, storage);
                        accesses.push((buffer.0, (**index).clone()));
                    }
                    // Atomics stay checked: `Mode::Prechecked` would skip their checks.
                    ExprKind::Atomic { .. } => all_known = false,
                    _ => {}
                })
            });
        });
    }
    // The same index of the same buffer is checked once.
    let mut distinct: Vec<(u32, Expr)> = Vec::new();
    for access in accesses {
        if !distinct.contains(&access) {
            distinct.push(access);
        }
    }
    all_known.then_some(distinct)
}

/// Whether a cooperative kernel keeps local `i` in a per-item array.
fn per_item(body: &Body<'_>, i: usize) -> bool {
    body.coop
        .is_some_and(|(_, st)| st.per_item[i] && !st.per_group[i])
}

fn local_name(locals: &[Local], i: usize) -> String {
    match locals.get(i) {
        Some(l)
            if l.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            format!("l{i}_{}", l.name)
        }
        _ => format!("l{i}"),
    }
}

fn function_name(index: usize, f: &Function) -> String {
    if f.name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        format!("f{index}_{}", f.name)
    } else {
        format!("f{index}")
    }
}

/// Every local an expression reads.
fn locals_of(e: &Expr) -> Vec<usize> {
    let mut out = Vec::new();
    e.walk(&mut |e| {
        if let ExprKind::Local(id) = e.kind {
            out.push(id.0 as usize);
        }
    });
    out
}

/// The locals a cooperative kernel can compute again wherever they are read (see
/// `Storage::remat`), with their defining expressions.
fn rematerialisable(kernel: &Kernel) -> Vec<Option<Expr>> {
    let n = kernel.locals.len();
    let mut lets = vec![0u32; n];
    let mut assigned = vec![false; n];
    let mut init: Vec<Option<Expr>> = vec![None; n];
    crate::program::walk_stmts(&kernel.body, &mut |s| match s {
        Stmt::Let { local, init: e } => {
            let i = local.0 as usize;
            lets[i] += 1;
            init[i] = e.clone();
        }
        Stmt::Assign { local, .. } | Stmt::Subgroup { dest: local, .. } => {
            assigned[local.0 as usize] = true
        }
        Stmt::For { var, .. } => assigned[var.0 as usize] = true,
        _ => {}
    });
    let mut remat: Vec<Option<Expr>> = vec![None; n];
    // Declaration order: a local's inputs come before it.
    for i in 0..n {
        let Some(e) = &init[i] else { continue };
        if lets[i] != 1 || assigned[i] {
            continue;
        }
        let mut pure = true;
        e.walk(&mut |e| {
            pure &= match &e.kind {
                ExprKind::Literal(_)
                | ExprKind::Param(_)
                | ExprKind::Len(_)
                | ExprKind::Builtin(_)
                | ExprKind::Cast(_)
                | ExprKind::Unary { .. } => true,
                ExprKind::Local(id) => remat.get(id.0 as usize).is_some_and(Option::is_some),
                // Division and remainder can fault (by zero), so they run once, in place.
                ExprKind::Binary { op, .. } => !matches!(op, BinaryOp::Div | BinaryOp::Rem),
                _ => false,
            }
        });
        if pure {
            remat[i] = Some(e.clone());
        }
    }
    remat
}

/// Whether group code can compute a recomputed local's expression: it reads no item's ids,
/// also through the locals it reads.
fn group_computable(remat: &[Option<Expr>], e: &Expr) -> bool {
    let mut ok = true;
    e.walk(&mut |e| match &e.kind {
        ExprKind::Builtin(Builtin::GlobalId(_) | Builtin::LocalId(_) | Builtin::SubgroupLane) => {
            ok = false
        }
        ExprKind::Local(id) => match remat.get(id.0 as usize) {
            Some(Some(input)) => ok &= group_computable(remat, input),
            _ => ok = false,
        },
        _ => {}
    });
    ok
}

/// Whether an integer divisor is a literal that can neither be 0 nor -1 (the divisions that
/// fault: by zero, and `MIN / -1`).
fn safe_divisor(rhs: &Expr) -> bool {
    matches!(rhs.kind, ExprKind::Literal(Literal::Int(v)) if v != 0 && v != -1)
}

/// The library function a direct call of `f` speculates with (the `full` form of `sin`,
/// `cos`, `tan`), its function code and the argument magnitude from which the large
/// reduction is needed.
fn speculative_target(f: &Function) -> Option<(&'static str, u32, &'static str)> {
    match f.name.as_str() {
        "sin_f32" => Some(("trig_f32", 0, "4096.0f32")),
        "cos_f32" => Some(("trig_f32", 1, "4096.0f32")),
        "tan_f32" => Some(("trig_f32", 2, "4096.0f32")),
        "sin_f64" => Some(("trig_f64", 0, "1048576.0f64")),
        "cos_f64" => Some(("trig_f64", 1, "1048576.0f64")),
        "tan_f64" => Some(("trig_f64", 2, "1048576.0f64")),
        _ => None,
    }
}

/// Whether a kernel's blocks of items may be speculated: it calls a speculable function
/// directly, and a first run with wrong values for those calls can only have stored values
/// that the full rerun overwrites. So: not cooperative, no atomics, no loads from a buffer it
/// may write (the rerun must read what the first run read), and no value derived from a
/// speculated call ("tainted") decides anything: not an `if`/`while` condition, a `for`
/// bound, the left side of `&&`/`||`, an index of a load or store (a wrong index could store where the rerun does not,
/// or reach out of bounds in an unchecked kernel), nor an argument of another function (whose
/// loops could depend on it). Tainted values may only be computed with and stored. A fault
/// ends a launch with the written buffers' contents undefined, so stores of a first run that
/// a fault of the rerun interrupts need no undoing.
fn speculable(kernel: &Kernel, library: usize) -> bool {
    if kernel.is_cooperative() {
        return false;
    }
    // Only the library's functions (the first `library`), never a helper of the same name.
    let is_spec_call = |e: &Expr| match &e.kind {
        ExprKind::Call { function, .. } => kernel
            .functions
            .get(function.0 as usize)
            .is_some_and(|f| (function.0 as usize) < library && speculative_target(f).is_some()),
        _ => false,
    };
    let mut calls = false;
    let mut rerunnable = true;
    crate::program::walk_stmts(&kernel.body, &mut |st| {
        stmt_exprs(st, &mut |e| {
            e.walk(&mut |e| match &e.kind {
                ExprKind::Call { .. } if is_spec_call(e) => calls = true,
                ExprKind::Atomic { .. } => rerunnable = false,
                ExprKind::Load { buffer, .. }
                    if matches!(
                        kernel.params.get(buffer.0 as usize).map(|p| p.kind),
                        Some(ParamKind::Buffer {
                            access: Access::ReadWrite,
                            ..
                        })
                    ) =>
                {
                    rerunnable = false;
                }
                _ => {}
            })
        })
    });
    if !calls || !rerunnable {
        return false;
    }
    // Tainted locals (and private arrays, as one), to a fixed point over loops.
    let mut taint = Taint {
        locals: vec![false; kernel.locals.len()],
        private: false,
        decides: false,
    };
    loop {
        let before = (taint.locals.clone(), taint.private);
        taint.block(&kernel.body, &is_spec_call);
        if taint.decides {
            return false;
        }
        if (taint.locals.clone(), taint.private) == before {
            return true;
        }
    }
}

/// The taint walk of [`speculable`].
struct Taint {
    locals: Vec<bool>,
    private: bool,
    /// A tainted value decides something (see [`speculable`]).
    decides: bool,
}

impl Taint {
    /// Whether `e` is tainted; flags tainted arguments of other calls and tainted indices.
    fn expr(&mut self, e: &Expr, spec: &dyn Fn(&Expr) -> bool) -> bool {
        match &e.kind {
            ExprKind::Literal(_) | ExprKind::Param(_) | ExprKind::Len(_) | ExprKind::Builtin(_) => {
                false
            }
            ExprKind::Local(l) => self.locals.get(l.0 as usize).copied().unwrap_or(true),
            ExprKind::Call { args, .. } if spec(e) => {
                // A tainted argument is fine here: the flag is set from the argument itself,
                // and the value is tainted anyway.
                for a in args {
                    self.expr(a, spec);
                }
                true
            }
            ExprKind::Call { args, .. } => {
                let mut any = false;
                for a in args {
                    any |= self.expr(a, spec);
                }
                self.decides |= any;
                any
            }
            ExprKind::Load { index, .. } | ExprKind::SharedLoad { index, .. } => {
                self.decides |= self.expr(index, spec);
                false
            }
            ExprKind::PrivateLoad { index, .. } => {
                self.decides |= self.expr(index, spec);
                self.private
            }
            ExprKind::Unary { operand, .. } | ExprKind::Cast(operand) => self.expr(operand, spec),
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.expr(lhs, spec);
                let r = self.expr(rhs, spec);
                // `&&` and `||` short-circuit: a tainted left side decides whether the right
                // side (its loads, calls, faults) runs at all.
                if l && matches!(op, BinaryOp::And | BinaryOp::Or) {
                    self.decides = true;
                }
                l || r
            }
            ExprKind::Math { args, .. } => {
                let mut any = false;
                for a in args {
                    any |= self.expr(a, spec);
                }
                any
            }
            ExprKind::Atomic { .. } | ExprKind::SharedAtomic { .. } => {
                self.decides = true;
                true
            }
        }
    }

    fn block(&mut self, block: &[Stmt], spec: &dyn Fn(&Expr) -> bool) {
        for st in block {
            match st {
                Stmt::Let { local, init } => {
                    let t = init.as_ref().is_some_and(|e| self.expr(e, spec));
                    self.set(*local, t);
                }
                Stmt::Assign { local, value } => {
                    let t = self.expr(value, spec);
                    self.set(*local, t);
                }
                Stmt::Store { index, value, .. } => {
                    self.decides |= self.expr(index, spec);
                    self.expr(value, spec);
                }
                Stmt::PrivateInit { value, .. } => {
                    self.private |= self.expr(value, spec);
                }
                Stmt::PrivateStore { index, value, .. }
                | Stmt::SharedStore { index, value, .. } => {
                    self.decides |= self.expr(index, spec);
                    self.private |= self.expr(value, spec);
                }
                Stmt::If {
                    cond,
                    then_body,
                    else_body,
                } => {
                    self.decides |= self.expr(cond, spec);
                    self.block(then_body, spec);
                    self.block(else_body, spec);
                }
                Stmt::For {
                    var,
                    start,
                    end,
                    step,
                    body,
                    ..
                } => {
                    self.decides |= self.expr(start, spec);
                    self.decides |= self.expr(end, spec);
                    if let Some(step) = step {
                        self.decides |= self.expr(step, spec);
                    }
                    self.set(*var, false);
                    self.block(body, spec);
                }
                Stmt::While { cond, body } => {
                    self.decides |= self.expr(cond, spec);
                    self.block(body, spec);
                }
                Stmt::Loop { body } => self.block(body, spec),
                Stmt::Return(Some(e)) | Stmt::Eval(e) => {
                    self.expr(e, spec);
                }
                Stmt::Break
                | Stmt::Continue
                | Stmt::Return(None)
                | Stmt::Trap { .. }
                | Stmt::Barrier => {}
                Stmt::Subgroup { .. } => self.decides = true,
            }
        }
    }

    /// Taint only grows: a local tainted anywhere stays tainted (loops carry it around).
    fn set(&mut self, local: LocalId, tainted: bool) {
        if let Some(t) = self.locals.get_mut(local.0 as usize) {
            *t |= tainted;
        }
    }
}
