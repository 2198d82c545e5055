//! Kernel and helper signatures: which parameters, of which types.

use dotcompute_ir::{Access, Param, ParamKind, ScalarType};
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, Pat, ReturnType, Signature, Type};

/// A kernel parameter, with what the typed launch needs.
pub struct KernelParam {
    pub ident: syn::Ident,
    pub ir: Param,
    /// The type as written (`usize`, `f32`, ...); for buffers the element type.
    pub rust_ty: Type,
    /// `mut x: T`: the body may assign it.
    pub mutable: bool,
    pub span: Span,
}

/// A helper's parameters and return type.
#[derive(Clone)]
pub struct HelperSignature {
    pub params: Vec<(syn::Ident, ScalarType, bool)>,
    pub ret: ScalarType,
}

/// The scalar type a Rust type names, if it names one.
pub fn scalar_type(ty: &Type) -> Option<ScalarType> {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            let ident = p.path.get_ident()?;
            ScalarType::from_rust_name(&ident.to_string())
        }
        Type::Paren(p) => scalar_type(&p.elem),
        Type::Group(g) => scalar_type(&g.elem),
        _ => None,
    }
}

const TYPES_HELP: &str =
    "kernel scalars are `f32`, `f64`, `i32`, `u32`, `i64`, `u64`, `usize` or `isize`";

/// Rejects what no kernel or helper may be: generic, async, const, unsafe, extern, variadic,
/// or a method.
pub fn check_shape(sig: &Signature, what: &str) -> syn::Result<()> {
    let err = |span: Span, msg: String| Err(syn::Error::new(span, msg));
    if let Some(t) = &sig.asyncness {
        return err(t.span(), format!("{what}s cannot be `async`"));
    }
    if let Some(t) = &sig.constness {
        return err(t.span(), format!("{what}s cannot be `const fn`"));
    }
    if let Some(t) = &sig.unsafety {
        return err(
            t.span(),
            format!(
                "{what}s cannot be `unsafe fn`; to skip bounds checks write `#[kernel(unchecked)]`"
            ),
        );
    }
    if let Some(abi) = &sig.abi {
        return err(abi.span(), format!("{what}s cannot have an `extern` ABI"));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return err(
            sig.generics.span(),
            format!("generic {what}s are not supported; write one {what} per element type"),
        );
    }
    if let Some(v) = &sig.variadic {
        return err(v.span(), format!("{what}s cannot be variadic"));
    }
    Ok(())
}

fn param_ident(pat: &Pat) -> syn::Result<(syn::Ident, bool)> {
    match pat {
        Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
            Ok((p.ident.clone(), p.mutability.is_some()))
        }
        other => Err(syn::Error::new(
            other.span(),
            "kernel parameters must be plain names (`x: f32`); patterns are not supported",
        )),
    }
}

/// The parameters of a kernel.
pub fn kernel_params(sig: &Signature) -> syn::Result<Vec<KernelParam>> {
    check_shape(sig, "kernel")?;
    if let ReturnType::Type(_, ty) = &sig.output {
        return Err(syn::Error::new(
            ty.span(),
            "kernels cannot return a value; write results into a `&mut [T]` parameter",
        ));
    }
    let mut params = Vec::new();
    for input in &sig.inputs {
        let typed = match input {
            FnArg::Receiver(r) => {
                return Err(syn::Error::new(
                    r.span(),
                    "kernels cannot take `self`; write a free function",
                ));
            }
            FnArg::Typed(t) => t,
        };
        let (ident, mutable) = param_ident(&typed.pat)?;
        let (kind, rust_ty) = param_kind(&typed.ty)?;
        params.push(KernelParam {
            ir: Param {
                name: ident.to_string(),
                kind,
            },
            ident,
            rust_ty,
            mutable,
            span: typed.span(),
        });
    }
    Ok(params)
}

fn param_kind(ty: &Type) -> syn::Result<(ParamKind, Type)> {
    match ty {
        Type::Reference(r) => {
            let access = if r.mutability.is_some() {
                Access::ReadWrite
            } else {
                Access::Read
            };
            let Type::Slice(slice) = &*r.elem else {
                return Err(syn::Error::new(
                    r.elem.span(),
                    "kernel buffers are slices: `&[T]` to read, `&mut [T]` to write",
                ));
            };
            match scalar_type(&slice.elem) {
                Some(t) if t.is_buffer_element() && !is_pointer_sized(&slice.elem) => {
                    Ok((ParamKind::Buffer { elem: t, access }, (*slice.elem).clone()))
                }
                Some(_) if is_pointer_sized(&slice.elem) => Err(syn::Error::new(
                    slice.elem.span(),
                    "buffers of `usize`/`isize` are not supported (their size differs between host and devices); use `u64`/`i64`",
                )),
                _ => Err(syn::Error::new(
                    slice.elem.span(),
                    "buffer elements must be `f32`, `f64`, `i32`, `u32`, `i64` or `u64`",
                )),
            }
        }
        other => match scalar_type(other) {
            Some(ScalarType::Bool) => Err(syn::Error::new(
                other.span(),
                "`bool` parameters are not supported yet; pass a `u32` that is 0 or 1",
            )),
            Some(t) => Ok((ParamKind::Scalar(t), other.clone())),
            None => Err(syn::Error::new(
                other.span(),
                format!(
                    "unsupported kernel parameter type: {TYPES_HELP}, or a buffer `&[T]` / `&mut [T]`"
                ),
            )),
        },
    }
}

fn is_pointer_sized(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.is_ident("usize") || p.path.is_ident("isize"))
}

/// The signature of a `#[kernel_fn]` helper.
pub fn helper_signature(sig: &Signature) -> syn::Result<HelperSignature> {
    check_shape(sig, "kernel helper")?;
    let ret = match &sig.output {
        ReturnType::Type(_, ty) => scalar_type(ty).ok_or_else(|| {
            syn::Error::new(
                ty.span(),
                format!("helpers return one scalar: {TYPES_HELP}, or `bool`"),
            )
        })?,
        ReturnType::Default => {
            return Err(syn::Error::new(
                sig.ident.span(),
                "kernel helpers take scalars and return one scalar (they cannot write buffers)",
            ));
        }
    };
    let mut params = Vec::new();
    for input in &sig.inputs {
        let typed = match input {
            FnArg::Receiver(r) => {
                return Err(syn::Error::new(r.span(), "helpers cannot take `self`"));
            }
            FnArg::Typed(t) => t,
        };
        let (ident, mutable) = param_ident(&typed.pat)?;
        let ty = scalar_type(&typed.ty).ok_or_else(|| {
            syn::Error::new(
                typed.ty.span(),
                format!("helper parameters are scalars: {TYPES_HELP}, or `bool` (buffers stay in the kernel)"),
            )
        })?;
        params.push((ident, ty, mutable));
    }
    Ok(HelperSignature { params, ret })
}
