//! Affine index analysis: which buffer indices are `cx*x + cy*y + cz*z + c` in the global id,
//! with coefficients that do not change during a launch.
//!
//! The CPU emitter uses it to check a whole run of work items at once: when the index of an
//! access is affine and its values at both ends of a run of consecutive `x` ids are in bounds,
//! every value in between is (the form is linear in `x`), so the run executes without
//! per-access checks and its loop vectorises. A run that fails the test runs the checked code,
//! which reports exactly which access faulted.
//!
//! Soundness rests on arithmetic modulo 2^64: only `+ - *` and casts between `u64` and `i64`
//! (all exact modulo 2^64) are followed, and the test evaluates the form exactly in `i128`. A
//! value exactly in `[0, len)` equals the kernel's wrapped 64-bit index.

use crate::program::{
    BinaryOp, Builtin, Expr, ExprKind, Kernel, LocalId, Stmt, UnaryOp, walk_stmts,
};
use crate::types::ScalarType;
use std::collections::HashMap;

/// A product of a constant and launch-invariant leaf expressions (`u64`/`i64` valued).
#[derive(Clone, Debug, PartialEq)]
pub struct Monomial {
    /// Constant factor.
    pub coeff: i128,
    /// Invariant expressions multiplied together (empty for a constant).
    pub leaves: Vec<Expr>,
}

/// A sum of monomials; the empty sum is zero.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Poly(pub Vec<Monomial>);

impl Poly {
    fn constant(c: i128) -> Poly {
        if c == 0 {
            Poly::default()
        } else {
            Poly(vec![Monomial {
                coeff: c,
                leaves: vec![],
            }])
        }
    }

    fn leaf(e: &Expr) -> Poly {
        Poly(vec![Monomial {
            coeff: 1,
            leaves: vec![e.clone()],
        }])
    }

    /// `true` for the zero polynomial.
    pub fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn add(mut self, other: Poly) -> Poly {
        self.0.extend(other.0);
        self
    }

    fn scale(self, k: i128) -> Option<Poly> {
        let terms = self
            .0
            .into_iter()
            .map(|m| {
                Some(Monomial {
                    coeff: m.coeff.checked_mul(k)?,
                    leaves: m.leaves,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Poly(terms))
    }

    fn mul(&self, other: &Poly) -> Option<Poly> {
        let mut out = Vec::new();
        for a in &self.0 {
            for b in &other.0 {
                let mut leaves = a.leaves.clone();
                leaves.extend(b.leaves.iter().cloned());
                out.push(Monomial {
                    coeff: a.coeff.checked_mul(b.coeff)?,
                    leaves,
                });
            }
        }
        Some(Poly(out))
    }
}

/// An index of the form `ids[0]*x + ids[1]*y + ids[2]*z + constant`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Affine {
    /// Coefficients of the global ids `x`, `y`, `z`.
    pub ids: [Poly; 3],
    /// The part that does not depend on the ids.
    pub constant: Poly,
}

impl Affine {
    fn invariant(p: Poly) -> Affine {
        Affine {
            ids: Default::default(),
            constant: p,
        }
    }

    fn is_invariant(&self) -> bool {
        self.ids.iter().all(Poly::is_zero)
    }

    fn add(self, other: Affine) -> Affine {
        let [a0, a1, a2] = self.ids;
        let [b0, b1, b2] = other.ids;
        Affine {
            ids: [a0.add(b0), a1.add(b1), a2.add(b2)],
            constant: self.constant.add(other.constant),
        }
    }

    fn scale(self, k: i128) -> Option<Affine> {
        let [a0, a1, a2] = self.ids;
        Some(Affine {
            ids: [a0.scale(k)?, a1.scale(k)?, a2.scale(k)?],
            constant: self.constant.scale(k)?,
        })
    }

    fn mul_poly(&self, p: &Poly) -> Option<Affine> {
        Some(Affine {
            ids: [
                self.ids[0].mul(p)?,
                self.ids[1].mul(p)?,
                self.ids[2].mul(p)?,
            ],
            constant: self.constant.mul(p)?,
        })
    }
}

/// The affine forms of a kernel's immutable locals, for looking up index expressions.
#[derive(Debug, Default)]
pub struct AffineEnv {
    locals: HashMap<LocalId, Affine>,
}

impl AffineEnv {
    /// Collects the affine immutable locals of the kernel body.
    pub fn of(kernel: &Kernel) -> AffineEnv {
        let mut env = AffineEnv::default();
        // Each local is declared once, before its uses, so one pass in order sees every
        // definition an index can refer to.
        walk_stmts(&kernel.body, &mut |s| {
            if let Stmt::Let {
                local,
                init: Some(init),
            } = s
                && kernel
                    .locals
                    .get(local.0 as usize)
                    .is_some_and(|l| !l.mutable)
                && let Some(form) = env.affine(init)
            {
                env.locals.insert(*local, form);
            }
        });
        env
    }

    /// The affine form of an index expression, if it has one.
    pub fn affine(&self, e: &Expr) -> Option<Affine> {
        if !matches!(e.ty, ScalarType::U64 | ScalarType::I64) {
            return None;
        }
        if is_invariant(e) {
            return Some(match &e.kind {
                ExprKind::Literal(crate::program::Literal::Int(v)) => {
                    Affine::invariant(Poly::constant(*v))
                }
                _ => Affine::invariant(Poly::leaf(e)),
            });
        }
        match &e.kind {
            ExprKind::Builtin(Builtin::GlobalId(axis)) => {
                let mut a = Affine::default();
                a.ids[axis.index()] = Poly::constant(1);
                Some(a)
            }
            ExprKind::Local(id) => self.locals.get(id).cloned(),
            ExprKind::Cast(inner) if matches!(inner.ty, ScalarType::U64 | ScalarType::I64) => {
                self.affine(inner)
            }
            ExprKind::Unary {
                op: UnaryOp::Neg,
                operand,
            } => self.affine(operand)?.scale(-1),
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.affine(lhs)?;
                let r = self.affine(rhs)?;
                match op {
                    BinaryOp::Add => Some(l.add(r)),
                    BinaryOp::Sub => Some(l.add(r.scale(-1)?)),
                    BinaryOp::Mul if r.is_invariant() => l.mul_poly(&r.constant),
                    BinaryOp::Mul if l.is_invariant() => r.mul_poly(&l.constant),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// Whether an expression has one value for the whole launch (parameters, lengths, sizes and
/// constants only).
pub fn is_invariant(e: &Expr) -> bool {
    let mut invariant = true;
    e.walk(&mut |e| {
        invariant &= matches!(
            e.kind,
            ExprKind::Literal(_)
                | ExprKind::Param(_)
                | ExprKind::Len(_)
                | ExprKind::Builtin(Builtin::GlobalSize(_) | Builtin::GroupSize(_))
                | ExprKind::Unary { .. }
                | ExprKind::Binary { .. }
                | ExprKind::Cast(_)
                | ExprKind::Math { .. }
        )
    });
    invariant
}
