//! Type inference for kernel bodies: a union-find over type variables, with Rust's rules for
//! unsuffixed literals (`{integer}` defaults to `i32`, `{float}` to `f64`).
//!
//! rustc type-checks the same body (the macro keeps a copy for it), so this only has to find
//! the types of a well-typed program; its errors duplicate rustc's and point at the same code.

use dotcompute_ir::ScalarType;
use proc_macro2::Span;

/// A type variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TyVar(u32);

/// What is known about a class of type variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Info {
    Unknown,
    /// An integer type, not yet known which (an unsuffixed integer literal).
    AnyInt,
    /// A float type, not yet known which (an unsuffixed float literal).
    AnyFloat,
    Known(ScalarType),
}

/// The inference table.
#[derive(Default)]
pub struct Types {
    parent: Vec<u32>,
    info: Vec<Info>,
    span: Vec<Span>,
}

impl Types {
    fn new_var(&mut self, info: Info, span: Span) -> TyVar {
        let id = self.parent.len() as u32;
        self.parent.push(id);
        self.info.push(info);
        self.span.push(span);
        TyVar(id)
    }

    /// A variable of unknown type.
    pub fn unknown(&mut self, span: Span) -> TyVar {
        self.new_var(Info::Unknown, span)
    }

    /// A variable of a known type.
    pub fn known(&mut self, ty: ScalarType, span: Span) -> TyVar {
        self.new_var(Info::Known(ty), span)
    }

    /// The type of an unsuffixed integer literal.
    pub fn any_int(&mut self, span: Span) -> TyVar {
        self.new_var(Info::AnyInt, span)
    }

    /// The type of an unsuffixed float literal.
    pub fn any_float(&mut self, span: Span) -> TyVar {
        self.new_var(Info::AnyFloat, span)
    }

    fn find(&mut self, v: TyVar) -> u32 {
        let mut x = v.0;
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    /// Makes `a` and `b` the same type; `span` locates the error if they cannot be.
    pub fn unify(&mut self, a: TyVar, b: TyVar, span: Span) -> syn::Result<()> {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return Ok(());
        }
        let (ia, ib) = (self.info[ra as usize], self.info[rb as usize]);
        let merged = merge(ia, ib).ok_or_else(|| {
            syn::Error::new(
                span,
                format!(
                    "mismatched types in kernel: {} and {}",
                    describe(ia),
                    describe(ib)
                ),
            )
        })?;
        self.parent[rb as usize] = ra;
        self.info[ra as usize] = merged;
        Ok(())
    }

    /// Constrains `v` to `ty`.
    pub fn require(&mut self, v: TyVar, ty: ScalarType, span: Span) -> syn::Result<()> {
        let k = self.known(ty, span);
        self.unify(v, k, span)
    }

    /// Constrains `v` to some integer type.
    pub fn require_int(&mut self, v: TyVar, span: Span) -> syn::Result<()> {
        let k = self.any_int(span);
        self.unify(v, k, span)
    }

    /// Constrains `v` to some float type.
    pub fn require_float(&mut self, v: TyVar, span: Span) -> syn::Result<()> {
        let k = self.any_float(span);
        self.unify(v, k, span)
    }

    /// The type of `v` if it is known already (no literal defaults applied).
    pub fn known_now(&mut self, v: TyVar) -> Option<ScalarType> {
        let r = self.find(v);
        match self.info[r as usize] {
            Info::Known(t) => Some(t),
            _ => None,
        }
    }

    /// The final type of `v`, applying Rust's literal defaults.
    pub fn resolve(&mut self, v: TyVar) -> syn::Result<ScalarType> {
        let r = self.find(v);
        match self.info[r as usize] {
            Info::Known(t) => Ok(t),
            Info::AnyInt => Ok(ScalarType::I32),
            Info::AnyFloat => Ok(ScalarType::F64),
            Info::Unknown => Err(syn::Error::new(
                self.span[v.0 as usize],
                "cannot infer this value's type in a kernel; add a type annotation",
            )),
        }
    }
}

fn merge(a: Info, b: Info) -> Option<Info> {
    use Info::*;
    Some(match (a, b) {
        (Unknown, x) | (x, Unknown) => x,
        (AnyInt, AnyInt) => AnyInt,
        (AnyFloat, AnyFloat) => AnyFloat,
        (AnyInt, Known(t)) | (Known(t), AnyInt) if t.is_int() => Known(t),
        (AnyFloat, Known(t)) | (Known(t), AnyFloat) if t.is_float() => Known(t),
        (Known(x), Known(y)) if x == y => Known(x),
        _ => return None,
    })
}

fn describe(i: Info) -> String {
    match i {
        Info::Unknown => "an unknown type".into(),
        Info::AnyInt => "an integer".into(),
        Info::AnyFloat => "a float".into(),
        Info::Known(t) => format!("`{t}`"),
    }
}
