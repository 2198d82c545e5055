//! Finds the helper functions a body calls, so that the kernel macro can fetch their code.

use crate::intrinsics;
use dotcompute_ir::ScalarType;
use syn::visit::Visit;

/// The calls in a body that may be `#[kernel_fn]` helpers, as paths, in order of appearance
/// and without repeats.
pub fn helper_calls(block: &syn::Block) -> Vec<syn::Path> {
    let mut locals = Locals::default();
    locals.visit_block(block);
    let mut v = Calls::default();
    v.visit_block(block);
    // A call of a closure is not a helper: the lowering reports the closure.
    v.paths.retain(|p| {
        p.get_ident()
            .is_none_or(|i| !locals.names.contains(&i.to_string()))
    });
    v.paths
}

/// Names bound to closures inside a body (`let f = |x| ...`): calls of them are not helper
/// calls. Other locals may share a helper's name (`let norm2 = norm2(x, y);`) without hiding
/// it.
#[derive(Default)]
struct Locals {
    names: Vec<String>,
}

impl<'ast> Visit<'ast> for Locals {
    fn visit_local(&mut self, l: &'ast syn::Local) {
        let is_closure = l
            .init
            .as_ref()
            .is_some_and(|init| matches!(&*init.expr, syn::Expr::Closure(_)));
        if is_closure && let syn::Pat::Ident(p) = &l.pat {
            self.names.push(p.ident.to_string());
        }
        syn::visit::visit_local(self, l);
    }
}

#[derive(Default)]
struct Calls {
    paths: Vec<syn::Path>,
}

impl<'ast> Visit<'ast> for Calls {
    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*c.func
            && p.qself.is_none()
        {
            let segments: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let is_intrinsic = intrinsics::intrinsic_name(&segments).is_some();
            // `f32::sqrt(x)` and friends are math, not helpers.
            let is_type_method =
                segments.len() == 2 && ScalarType::from_rust_name(&segments[0]).is_some();
            let key = crate::lower::path_key(&p.path);
            if !is_intrinsic
                && !is_type_method
                && !self.paths.iter().any(|q| crate::lower::path_key(q) == key)
            {
                self.paths.push(p.path.clone());
            }
        }
        syn::visit::visit_expr_call(self, c);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // Conditions of `assert!` may call helpers too.
        if let Ok(args) = m.parse_body_with(
            syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
        ) {
            for a in &args {
                self.visit_expr(a);
            }
        }
    }
}
