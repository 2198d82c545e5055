//! Indexed places: buffers, work-group shared arrays (`shared_array::<T, N>()`) and private
//! arrays (`[v; N]`).

use super::calls::is_intrinsic_call;
use super::{Binding, Lowerer, err, strip_parens, unsupported};
use crate::hir::{HExpr, HExprKind, HStmt};
use crate::infer::TyVar;
use crate::signature::scalar_type;
use dotcompute_ir::{Access, ParamId, ParamKind, PrivateId, ScalarType, SharedArray, SharedId};
use syn::spanned::Spanned;

impl Lowerer<'_> {
    /// `let mut name = shared_array::<T, N>();`: declares a work-group shared array.
    pub(super) fn shared_array(
        &mut self,
        local: &syn::Local,
        call: &syn::ExprCall,
    ) -> syn::Result<()> {
        let span = call.span();
        if self.ret.is_some() {
            return Err(err(
                span,
                "shared arrays are declared in the kernel body, not in helpers",
            ));
        }
        // The kernel's own block: the parameters' scope and the body's.
        if self.scopes.len() != 2 || self.loop_depth != 0 {
            return Err(err(
                span,
                "declare shared arrays at the top of the kernel body: there is one per work-group for the whole launch, not one per block or loop iteration",
            ));
        }
        let name = match &local.pat {
            syn::Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.to_string(),
            other => {
                return Err(err(
                    other.span(),
                    "bind a shared array to a name: `let mut tile = shared_array::<f32, 256>();`",
                ));
            }
        };
        if !call.args.is_empty() {
            return Err(err(
                span,
                "`shared_array` takes no arguments: the element type and length go in `::<T, N>`",
            ));
        }
        let generics = match &call.func.as_ref() {
            syn::Expr::Path(p) => p
                .path
                .segments
                .last()
                .map(|s| s.arguments.clone())
                .unwrap_or(syn::PathArguments::None),
            _ => syn::PathArguments::None,
        };
        let usage = "write `shared_array::<T, N>()` with T a buffer element type and N an integer literal (e.g. `shared_array::<f32, 256>()`)";
        let syn::PathArguments::AngleBracketed(args) = generics else {
            return Err(err(span, usage));
        };
        let args: Vec<&syn::GenericArgument> = args.args.iter().collect();
        let (elem, len) = match args.as_slice() {
            [
                syn::GenericArgument::Type(t),
                syn::GenericArgument::Const(n),
            ] => (t, n),
            // `N` written as a plain literal parses as a const argument; a path (a `const`
            // item) parses as a type and is not accepted: the length must be visible here.
            _ => return Err(err(span, usage)),
        };
        let elem_ty = scalar_type(elem)
            .filter(|t| t.is_buffer_element())
            .ok_or_else(|| err(elem.span(), usage))?;
        let len = match strip_parens(len) {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(i),
                ..
            }) => i.base10_parse::<u32>().ok().filter(|n| *n > 0),
            _ => None,
        }
        .ok_or_else(|| {
            err(
                len.span(),
                "the length of a shared array is an integer literal from 1 to u32::MAX",
            )
        })?;
        if self.shared.iter().any(|a| a.name == name) || self.params.iter().any(|p| p.ident == name)
        {
            return Err(err(
                local.pat.span(),
                format!("`{name}` is already declared; give each shared array its own name"),
            ));
        }
        let id = SharedId(self.shared.len() as u32);
        self.shared.push(SharedArray {
            name: name.clone(),
            elem: elem_ty,
            len,
        });
        self.bind(&name, Binding::Shared(id));
        Ok(())
    }

    /// `let mut acc = [value; N];`: a private array, one per work item.
    pub(super) fn private_array(
        &mut self,
        local: &syn::Local,
        r: &syn::ExprRepeat,
        out: &mut Vec<HStmt>,
    ) -> syn::Result<()> {
        let span = r.span();
        if self.ret.is_some() {
            return Err(unsupported(
                span,
                "an array in a helper",
                "declare arrays in the kernel body (helpers take and return scalars)",
            ));
        }
        let (pat, annotation) = match &local.pat {
            syn::Pat::Type(t) => (&*t.pat, Some(&*t.ty)),
            p => (p, None),
        };
        let name = match pat {
            syn::Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.to_string(),
            other => {
                return Err(err(
                    other.span(),
                    "bind an array to a name: `let mut acc = [0.0f32; 8];`",
                ));
            }
        };
        let len = match strip_parens(&r.len) {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(i),
                ..
            }) => i.base10_parse::<u32>().ok().filter(|n| *n > 0),
            _ => None,
        }
        .ok_or_else(|| {
            err(
                r.len.span(),
                "the length of a kernel array is an integer literal from 1 to u32::MAX (`[0.0f32; 8]`)",
            )
        })?;
        let value = self.expr(&r.expr)?;
        if let Some(syn::Type::Array(a)) = annotation {
            let st = scalar_type(&a.elem)
                .ok_or_else(|| err(a.elem.span(), "array elements are scalars"))?;
            self.types.require(value.ty, st, a.elem.span())?;
        }
        // Arrays are per kernel in the IR: a name used twice gets a suffix.
        let taken = |n: &str, l: &Self| {
            l.private.iter().any(|(p, _, _, _)| p == n)
                || l.shared.iter().any(|a| a.name == n)
                || l.params.iter().any(|p| p.ident == n)
        };
        let mut ir_name = name.clone();
        let mut k = 1;
        while taken(&ir_name, self) {
            ir_name = format!("{name}_{k}");
            k += 1;
        }
        let id = PrivateId(self.private.len() as u32);
        self.private.push((ir_name, value.ty, len, span));
        out.push(HStmt::PrivateInit { array: id, value });
        self.bind(&name, Binding::Private(id));
        Ok(())
    }

    /// The buffer parameter or shared array an indexed expression names, with its element
    /// type.
    pub(super) fn indexed_of(
        &mut self,
        e: &syn::Expr,
        write: bool,
    ) -> syn::Result<(Indexed, TyVar)> {
        let span = e.span();
        if let syn::Expr::Path(p) = strip_parens(e)
            && let Some(ident) = p.path.get_ident()
        {
            match self.lookup(&ident.to_string()) {
                Some(Binding::Shared(id)) => {
                    let elem = self.shared[id.0 as usize].elem;
                    return Ok((Indexed::Shared(id), self.types.known(elem, span)));
                }
                Some(Binding::Private(id)) => {
                    return Ok((Indexed::Private(id), self.private[id.0 as usize].1));
                }
                _ => {}
            }
        }
        let (buffer, elem) = self.buffer_of(e, write)?;
        Ok((Indexed::Buffer(buffer), self.types.known(elem, span)))
    }

    /// The buffer parameter an expression names.
    pub(super) fn buffer_of(
        &mut self,
        e: &syn::Expr,
        write: bool,
    ) -> syn::Result<(ParamId, ScalarType)> {
        let span = e.span();
        let name = match strip_parens(e) {
            syn::Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
            _ => None,
        }
        .ok_or_else(|| err(span, "only buffer parameters can be indexed in kernels"))?;
        let Some(Binding::Param(id)) = self.lookup(&name) else {
            return Err(err(
                span,
                format!("`{name}` is not a buffer parameter; only buffers can be indexed"),
            ));
        };
        match self.params[id.0 as usize].ir.kind {
            ParamKind::Buffer { elem, access } => {
                if write && access == Access::Read {
                    return Err(err(
                        span,
                        format!(
                            "`{name}` is a read-only buffer (`&[{elem}]`); declare it `&mut [{elem}]` to write it"
                        ),
                    ));
                }
                Ok((id, elem))
            }
            ParamKind::Scalar(t) => Err(err(
                span,
                format!("`{name}` is a scalar `{t}`, not a buffer"),
            )),
        }
    }
}

/// What an indexing expression reads or writes.
#[derive(Clone, Copy)]
pub(super) enum Indexed {
    Buffer(ParamId),
    Shared(SharedId),
    Private(PrivateId),
}

/// A read of a buffer or shared array element.
pub(super) fn load(target: Indexed, index: HExpr) -> HExprKind {
    match target {
        Indexed::Buffer(buffer) => HExprKind::Load {
            buffer,
            index: Box::new(index),
        },
        Indexed::Shared(array) => HExprKind::SharedLoad {
            array,
            index: Box::new(index),
        },
        Indexed::Private(array) => HExprKind::PrivateLoad {
            array,
            index: Box::new(index),
        },
    }
}

/// A write of a buffer or shared array element.
pub(super) fn store(target: Indexed, index: HExpr, value: HExpr) -> HStmt {
    match target {
        Indexed::Buffer(buffer) => HStmt::Store {
            buffer,
            index,
            value,
        },
        Indexed::Shared(array) => HStmt::SharedStore {
            array,
            index,
            value,
        },
        Indexed::Private(array) => HStmt::PrivateStore {
            array,
            index,
            value,
        },
    }
}

/// `shared_array::<T, N>()` (or `kernel::shared_array`, `dotcompute::kernel::shared_array`).
pub(super) fn shared_array_call(e: &syn::Expr) -> Option<&syn::ExprCall> {
    match strip_parens(e) {
        syn::Expr::Call(c) if is_intrinsic_call(c, "shared_array") => Some(c),
        _ => None,
    }
}
