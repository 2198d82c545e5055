//! The IR's own rules: validation, hashing, serialization, the listing and the affine
//! analysis the CPU emitter relies on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute_ir::affine::AffineEnv;
use dotcompute_ir::emit::rust::{RustOptions, emit};
use dotcompute_ir::*;

fn u64e(kind: ExprKind) -> Expr {
    Expr {
        ty: ScalarType::U64,
        kind,
    }
}

fn gid() -> Expr {
    u64e(ExprKind::Builtin(Builtin::GlobalId(Axis::X)))
}

fn lit(ty: ScalarType, v: i128) -> Expr {
    Expr::literal(ty, Literal::Int(v))
}

fn buffer(name: &str, elem: ScalarType, access: Access) -> Param {
    Param {
        name: name.into(),
        kind: ParamKind::Buffer { elem, access },
    }
}

/// `out[i] = a[i + offset]`
fn shifted() -> Kernel {
    let index = u64e(ExprKind::Binary {
        op: BinaryOp::Add,
        lhs: Box::new(u64e(ExprKind::Local(LocalId(0)))),
        rhs: Box::new(u64e(ExprKind::Param(ParamId(0)))),
    });
    Kernel {
        name: "shifted".into(),
        params: vec![
            Param {
                name: "offset".into(),
                kind: ParamKind::Scalar(ScalarType::U64),
            },
            buffer("a", ScalarType::F32, Access::Read),
            buffer("out", ScalarType::F32, Access::ReadWrite),
        ],
        locals: vec![Local {
            name: "i".into(),
            ty: ScalarType::U64,
            mutable: false,
        }],
        body: vec![
            Stmt::Let {
                local: LocalId(0),
                init: Some(gid()),
            },
            Stmt::Store {
                buffer: ParamId(2),
                index: u64e(ExprKind::Local(LocalId(0))),
                value: Expr {
                    ty: ScalarType::F32,
                    kind: ExprKind::Load {
                        buffer: ParamId(1),
                        index: Box::new(index),
                    },
                },
            },
        ],
        functions: vec![],
        bounds_checks: BoundsChecks::Checked,
        shared: vec![],
        private: vec![],
    }
}

fn rule_broken(k: &Kernel) -> String {
    validate(k).unwrap_err().to_string()
}

#[test]
fn a_valid_kernel_validates_and_round_trips() {
    let k = shifted();
    validate(&k).unwrap();
    let bytes = k.to_bytes();
    assert_eq!(Kernel::from_bytes(&bytes).unwrap(), k);
    assert!(Kernel::from_bytes(&bytes[..bytes.len() / 2]).is_err());
}

#[test]
fn hashes_are_stable_and_distinguish_programs() {
    let k = shifted();
    assert_eq!(KernelHash::of(&k), KernelHash::of(&k.clone()));
    let mut other = shifted();
    other.name = "shifted2".into();
    assert_ne!(KernelHash::of(&k), KernelHash::of(&other));
    let mut unchecked = shifted();
    unchecked.bounds_checks = BoundsChecks::Unchecked;
    assert_ne!(KernelHash::of(&k), KernelHash::of(&unchecked));
    // Pinned: the hash of this program must not change unless the IR format version does
    // (version 2 added shared and private arrays, barriers and `num_groups`; version 3
    // subgroup operations).
    assert_eq!(
        KernelHash::of(&k).to_string(),
        "fb313e396a7bfb505e11fa37ce3d07248726d377a8e4f566622fcf2c8eabf335"
    );
}

#[test]
fn writes_to_read_only_buffers_are_rejected() {
    let mut k = shifted();
    if let Stmt::Store { buffer, .. } = &mut k.body[1] {
        *buffer = ParamId(1);
    }
    assert!(
        rule_broken(&k).contains("buffer `a` is read-only"),
        "{}",
        rule_broken(&k)
    );
}

#[test]
fn use_before_declaration_is_rejected() {
    let mut k = shifted();
    k.body.swap(0, 1);
    assert!(
        rule_broken(&k).contains("used before its declaration"),
        "{}",
        rule_broken(&k)
    );
}

#[test]
fn type_mismatches_are_rejected() {
    let mut k = shifted();
    if let Stmt::Store { value, .. } = &mut k.body[1] {
        *value = lit(ScalarType::I32, 1);
    }
    assert!(
        rule_broken(&k).contains("the stored value must be f32"),
        "{}",
        rule_broken(&k)
    );
    let mut k = shifted();
    k.body.push(Stmt::Let {
        local: LocalId(0),
        init: Some(lit(ScalarType::U64, 300)),
    });
    assert!(
        rule_broken(&k).contains("declared twice"),
        "{}",
        rule_broken(&k)
    );
    let mut k = shifted();
    k.locals.push(Local {
        name: "b".into(),
        ty: ScalarType::U32,
        mutable: false,
    });
    k.body.push(Stmt::Let {
        local: LocalId(1),
        init: Some(lit(ScalarType::U32, 1 << 40)),
    });
    assert!(
        rule_broken(&k).contains("does not fit in u32"),
        "{}",
        rule_broken(&k)
    );
}

#[test]
fn structure_rules_are_enforced() {
    let mut k = shifted();
    k.body.push(Stmt::Break);
    assert!(rule_broken(&k).contains("outside a loop"));
    let mut k = shifted();
    k.body.push(Stmt::Return(Some(lit(ScalarType::I32, 1))));
    assert!(rule_broken(&k).contains("cannot return a value"));
    let mut k = shifted();
    k.body.push(Stmt::Assign {
        local: LocalId(0),
        value: gid(),
    });
    assert!(rule_broken(&k).contains("not mutable"));
    // A helper may only call helpers defined before it (no recursion).
    let mut k = shifted();
    k.functions.push(Function {
        name: "f".into(),
        param_count: 0,
        ret: ScalarType::I32,
        locals: vec![],
        body: vec![Stmt::Return(Some(Expr {
            ty: ScalarType::I32,
            kind: ExprKind::Call {
                function: FunctionId(0),
                args: vec![],
            },
        }))],
    });
    assert!(
        rule_broken(&k).contains("recursion is not supported"),
        "{}",
        rule_broken(&k)
    );
}

#[test]
fn atomics_need_writable_integer_buffers() {
    let mut k = shifted();
    k.body.push(Stmt::Eval(Expr {
        ty: ScalarType::F32,
        kind: ExprKind::Atomic {
            op: AtomicOp::Or,
            buffer: ParamId(2),
            index: Box::new(gid()),
            args: vec![Expr::literal(ScalarType::F32, Literal::Float(1.0))],
        },
    }));
    assert!(
        rule_broken(&k).contains("`atomic_or` is not defined on f32"),
        "{}",
        rule_broken(&k)
    );
    assert!(k.requirements().float_atomics);
}

#[test]
fn the_listing_reads_like_rust() {
    let text = shifted().to_string();
    assert_eq!(
        text,
        "kernel shifted(offset: u64, a: &[f32], out: &mut [f32]) {\n    let i_0: u64 = global_id_x();\n    out[i_0] = a[(i_0 + offset)];\n}\n"
    );
}

#[test]
fn affine_indices_are_recognised() {
    let k = shifted();
    let env = AffineEnv::of(&k);
    let Stmt::Store { index, value, .. } = &k.body[1] else {
        unreachable!()
    };
    let out = env.affine(index).unwrap();
    assert!(!out.ids[0].is_zero() && out.constant.is_zero());
    let ExprKind::Load {
        index: load_index, ..
    } = &value.kind
    else {
        unreachable!()
    };
    let a = env.affine(load_index).unwrap();
    assert!(
        !a.constant.is_zero(),
        "the offset parameter is the constant part"
    );
    // i * i is not affine.
    let square = u64e(ExprKind::Binary {
        op: BinaryOp::Mul,
        lhs: Box::new(gid()),
        rhs: Box::new(gid()),
    });
    assert!(env.affine(&square).is_none());
}

#[test]
fn the_cpu_emitter_elides_checks_only_where_proven() {
    let code = emit(&shifted(), &RustOptions::for_kernel("shifted"));
    assert!(code.contains("fn item_fast"), "{code}");
    assert!(code.contains("load_unchecked"), "{code}");
    assert!(code.contains("fn in_range"), "{code}");
    assert!(code.contains("avx512f"), "{code}");
    // An index loaded from memory cannot be proven: only the checked version exists.
    let mut k = shifted();
    k.params[1] = buffer("a", ScalarType::U64, Access::Read);
    k.params[2] = buffer("out", ScalarType::U64, Access::ReadWrite);
    if let Stmt::Store { index, value, .. } = &mut k.body[1] {
        *index = u64e(ExprKind::Load {
            buffer: ParamId(1),
            index: Box::new(gid()),
        });
        *value = lit(ScalarType::U64, 1);
    }
    validate(&k).unwrap();
    let code = emit(&k, &RustOptions::for_kernel("gather"));
    assert!(
        code.contains("fn item_fast"),
        "the load a[i] is still affine: {code}"
    );
    assert!(
        code.contains("store(__i, __v)?"),
        "the scattered store stays checked: {code}"
    );
}

#[test]
fn a_local_is_declared_once_per_body() {
    // The same local declared in both branches of an `if` would give the affine analysis two
    // definitions to confuse; the validator refuses it.
    let mut k = shifted();
    let decl = |v: i128| Stmt::Let {
        local: LocalId(1),
        init: Some(lit(ScalarType::U64, v)),
    };
    k.locals.push(Local {
        name: "j".into(),
        ty: ScalarType::U64,
        mutable: false,
    });
    k.body.push(Stmt::If {
        cond: Expr::literal(ScalarType::Bool, Literal::Bool(true)),
        then_body: vec![decl(1000)],
        else_body: vec![decl(0)],
    });
    assert!(
        rule_broken(&k).contains("declared twice"),
        "{}",
        rule_broken(&k)
    );
}

#[test]
fn names_must_be_identifiers() {
    let mut k = shifted();
    k.name = "x; fn evil() {}".into();
    assert!(rule_broken(&k).contains("is not an identifier"));
    let mut k = shifted();
    k.params[0].name = "a b".into();
    assert!(rule_broken(&k).contains("is not an identifier"));
    let mut k = shifted();
    k.locals[0].name = "1i".into();
    assert!(rule_broken(&k).contains("is not an identifier"));
}

#[test]
fn math_functions_keep_their_encoding() {
    // The encoding numbers enum variants by position: a new function goes at the end, or
    // bytes written by an older build would decode as another function.
    let index = |f: MathFn| postcard::to_allocvec(&f).unwrap();
    assert_eq!(index(MathFn::Sqrt), [0]);
    assert_eq!(index(MathFn::ExpM1), [39]);
    assert_eq!(index(MathFn::ToBits), [40]);
    assert_eq!(index(MathFn::FromBits), [41]);
    assert_eq!(index(MathFn::Ln1p), [42]);
}

/// `shifted` with a shared array `tile` of 64 f32 and `tile[local_id] = 1.0` before its
/// body, followed by `stmt`.
fn cooperative(stmt: Stmt) -> Kernel {
    let mut k = shifted();
    k.shared.push(SharedArray {
        name: "tile".into(),
        elem: ScalarType::F32,
        len: 64,
    });
    k.body.insert(
        0,
        Stmt::SharedStore {
            array: SharedId(0),
            index: u64e(ExprKind::Builtin(Builtin::LocalId(Axis::X))),
            value: Expr::literal(ScalarType::F32, Literal::Float(1.0)),
        },
    );
    k.body.insert(1, stmt);
    k
}

fn condition(lhs: Expr) -> Expr {
    Expr {
        ty: ScalarType::Bool,
        kind: ExprKind::Binary {
            op: BinaryOp::Lt,
            lhs: Box::new(lhs),
            rhs: Box::new(lit(ScalarType::U64, 8)),
        },
    }
}

#[test]
fn barriers_in_uniform_control_flow_validate() {
    // Under a condition on a parameter and in a loop over group-size bounds.
    let k = cooperative(Stmt::If {
        cond: condition(u64e(ExprKind::Param(ParamId(0)))),
        then_body: vec![Stmt::Barrier],
        else_body: vec![],
    });
    validate(&k).unwrap();
    assert!(k.is_cooperative() && k.requirements().cooperative);
    assert_eq!(k.requirements().shared_bytes, 256);
    assert!(
        k.to_string()
            .contains("let mut tile = shared_array::<f32, 64>();")
    );
    assert!(k.to_string().contains("barrier();"));
    let looped = cooperative(Stmt::For {
        var: LocalId(1),
        start: lit(ScalarType::U64, 0),
        end: u64e(ExprKind::Builtin(Builtin::NumGroups(Axis::X))),
        inclusive: false,
        step: None,
        body: vec![Stmt::Barrier],
    });
    let mut looped = looped;
    looped.locals.push(Local {
        name: "t".into(),
        ty: ScalarType::U64,
        mutable: false,
    });
    validate(&looped).unwrap();
}

#[test]
fn barriers_that_not_every_item_reaches_are_rejected() {
    let divergent = cooperative(Stmt::If {
        cond: condition(gid()),
        then_body: vec![Stmt::Barrier],
        else_body: vec![],
    });
    assert!(
        rule_broken(&divergent).contains("not uniform"),
        "{}",
        rule_broken(&divergent)
    );
    // A condition on shared contents is not uniform either.
    let on_shared = cooperative(Stmt::While {
        cond: Expr {
            ty: ScalarType::Bool,
            kind: ExprKind::Binary {
                op: BinaryOp::Lt,
                lhs: Box::new(Expr {
                    ty: ScalarType::F32,
                    kind: ExprKind::SharedLoad {
                        array: SharedId(0),
                        index: Box::new(lit(ScalarType::U64, 0)),
                    },
                }),
                rhs: Box::new(Expr::literal(ScalarType::F32, Literal::Float(2.0))),
            },
        },
        body: vec![Stmt::Barrier],
    });
    assert!(rule_broken(&on_shared).contains("not uniform"));
    let after_return = cooperative(Stmt::If {
        cond: condition(gid()),
        then_body: vec![Stmt::Return(None)],
        else_body: vec![],
    });
    let mut after_return = after_return;
    after_return.body.push(Stmt::Barrier);
    assert!(rule_broken(&after_return).contains("`return`"));
    let left_with_break = cooperative(Stmt::Loop {
        body: vec![Stmt::Barrier, Stmt::Break],
    });
    assert!(rule_broken(&left_with_break).contains("`break`"));
}

#[test]
fn shared_arrays_are_checked() {
    let mut k = cooperative(Stmt::Barrier);
    k.shared[0].len = 0;
    assert!(rule_broken(&k).contains("at least one element"));
    let mut k = cooperative(Stmt::Barrier);
    k.shared[0].name = "out".into();
    assert!(rule_broken(&k).contains("declared twice"));
    let mut k = cooperative(Stmt::Barrier);
    if let Stmt::SharedStore { array, .. } = &mut k.body[0] {
        *array = SharedId(3);
    }
    assert!(rule_broken(&k).contains("shared array #3 does not exist"));
    let mut k = cooperative(Stmt::Barrier);
    if let Stmt::SharedStore { value, .. } = &mut k.body[0] {
        *value = lit(ScalarType::U32, 1);
    }
    assert!(rule_broken(&k).contains("the stored value must be f32"));
}

/// `shifted` with a mutable f32 local `s` (local 1) declared first, then `stmt`: a subgroup
/// operation writes `s`.
fn with_subgroup(stmt: Stmt) -> Kernel {
    let mut k = shifted();
    k.locals.push(Local {
        name: "s".into(),
        ty: ScalarType::F32,
        mutable: true,
    });
    k.body.insert(
        1,
        Stmt::Let {
            local: LocalId(1),
            init: None,
        },
    );
    k.body.insert(2, stmt);
    k
}

fn subgroup_sum(value: Expr) -> Stmt {
    Stmt::Subgroup {
        op: SubgroupOp::Add,
        dest: LocalId(1),
        value,
        lane: None,
    }
}

#[test]
fn subgroup_operations_follow_the_barrier_rules() {
    let one = Expr::literal(ScalarType::F32, Literal::Float(1.0));
    let k = with_subgroup(subgroup_sum(one.clone()));
    validate(&k).unwrap();
    assert!(k.is_cooperative() && k.uses_subgroups() && k.requirements().subgroups);
    assert!(k.to_string().contains("s_1 = subgroup_add(1.0f32);"), "{k}");
    // The result differs between subgroups: a barrier under it is not uniform.
    let mut divergent_after = with_subgroup(subgroup_sum(one.clone()));
    divergent_after.body.push(Stmt::If {
        cond: Expr {
            ty: ScalarType::Bool,
            kind: ExprKind::Binary {
                op: BinaryOp::Lt,
                lhs: Box::new(Expr {
                    ty: ScalarType::F32,
                    kind: ExprKind::Local(LocalId(1)),
                }),
                rhs: Box::new(one.clone()),
            },
        },
        then_body: vec![Stmt::Barrier],
        else_body: vec![],
    });
    assert!(rule_broken(&divergent_after).contains("not uniform"));
    // Under a condition on the item's id.
    let divergent = with_subgroup(Stmt::If {
        cond: condition(gid()),
        then_body: vec![subgroup_sum(one.clone())],
        else_body: vec![],
    });
    assert!(rule_broken(&divergent).contains("`subgroup_add` is under a condition"));
    // Operands that could fault (a load) are not allowed: every item evaluates them.
    let load = Expr {
        ty: ScalarType::F32,
        kind: ExprKind::Load {
            buffer: ParamId(1),
            index: Box::new(gid()),
        },
    };
    assert!(rule_broken(&with_subgroup(subgroup_sum(load))).contains("locals or literals"));
    // Types: a bool operand for a sum, a missing lane for a shuffle.
    let truth = Expr::literal(ScalarType::Bool, Literal::Bool(true));
    assert!(rule_broken(&with_subgroup(subgroup_sum(truth))).contains("must be f32"));
    let shuffle = with_subgroup(Stmt::Subgroup {
        op: SubgroupOp::Shuffle,
        dest: LocalId(1),
        value: one,
        lane: None,
    });
    assert!(rule_broken(&shuffle).contains("needs a lane"));
}

#[test]
fn subgroup_identities_are_those_of_their_operations() {
    assert_eq!(
        SubgroupOp::Min.identity(ScalarType::I32),
        Literal::Int(i32::MAX.into())
    );
    assert_eq!(
        SubgroupOp::Max.identity(ScalarType::F64),
        Literal::Float(f64::NEG_INFINITY)
    );
    assert_eq!(SubgroupOp::Max.identity(ScalarType::U64), Literal::Int(0));
    assert_eq!(
        SubgroupOp::All.identity(ScalarType::Bool),
        Literal::Bool(true)
    );
    // -0.0, the identity of float addition (compared by bits: -0.0 == 0.0).
    assert!(matches!(
        SubgroupOp::Add.identity(ScalarType::F32),
        Literal::Float(v) if v.to_bits() == (-0.0f64).to_bits()
    ));
    assert!(matches!(
        SubgroupOp::Shuffle.identity(ScalarType::F64),
        Literal::Float(v) if v.to_bits() == 0
    ));
}
