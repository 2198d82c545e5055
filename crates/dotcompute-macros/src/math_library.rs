//! The math library linked into kernels: `x.exp()` on a float becomes a call of the library's
//! `exp_f32` (or `exp_f64`), a helper function of the kernel like a `#[kernel_fn]`, so that
//! every backend runs the same operations (see the `dotcompute-math` crate).
//!
//! The library's source is lowered once per compilation, by the same lowering as kernels, and
//! each kernel gets the functions it calls (with the functions those call), ahead of its own
//! helpers. `#[kernel(fast_math)]` kernels are not linked: they keep the devices' functions.

use crate::lower::{self, Helpers};
use crate::scan;
use crate::signature;
use dotcompute_ir::{ExprKind, Function, FunctionId, Kernel, MathFn, ScalarType};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The library, lowered.
struct Library {
    /// Every function, callees before callers; `Call`s refer to positions in this list.
    functions: Vec<Function>,
    /// Which function implements a math method on a float type.
    implements: HashMap<(MathFn, ScalarType), usize>,
}

fn library() -> Result<&'static Library, String> {
    static LIBRARY: OnceLock<Result<Library, String>> = OnceLock::new();
    LIBRARY
        .get_or_init(lower_library)
        .as_ref()
        .map_err(Clone::clone)
}

/// Lowers every function of the library's source, callees first.
fn lower_library() -> Result<Library, String> {
    let mut items: Vec<syn::ItemFn> = Vec::new();
    for source in dotcompute_math::SOURCES {
        let file = syn::parse_file(source).map_err(|e| format!("math library source: {e}"))?;
        items.extend(file.items.into_iter().filter_map(|item| match item {
            syn::Item::Fn(f) => Some(f),
            _ => None,
        }));
    }
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for (i, f) in items.iter().enumerate() {
        if by_name.insert(f.sig.ident.to_string(), i).is_some() {
            return Err(format!("two functions named `{}`", f.sig.ident));
        }
    }
    // Callees before callers (the library has no recursion: `#[kernel]` rejects it anyway).
    fn visit(
        i: usize,
        items: &[syn::ItemFn],
        by_name: &HashMap<String, usize>,
        done: &mut Vec<bool>,
        order: &mut Vec<usize>,
    ) {
        if done[i] {
            return;
        }
        done[i] = true;
        for callee in scan::helper_calls(&items[i].block) {
            if let Some(&c) = by_name.get(&lower::path_key(&callee)) {
                visit(c, items, by_name, done, order);
            }
        }
        order.push(i);
    }
    let mut done = vec![false; items.len()];
    let mut order = Vec::with_capacity(items.len());
    for i in 0..items.len() {
        visit(i, &items, &by_name, &mut done, &mut order);
    }
    let mut helpers: Helpers = HashMap::new();
    let mut functions = Vec::with_capacity(order.len());
    let mut position = HashMap::new();
    for &i in &order {
        let item = &items[i];
        let name = item.sig.ident.to_string();
        let failed = |e: syn::Error| format!("math library function `{name}`: {e}");
        let sig = signature::helper_signature(&item.sig).map_err(failed)?;
        let function = lower::lower_helper(item, &sig, &helpers, false).map_err(failed)?;
        position.insert(name.clone(), functions.len());
        helpers.insert(name, (FunctionId(functions.len() as u32), sig));
        functions.push(function);
    }
    let mut implements = HashMap::new();
    for (method, ty, name) in dotcompute_math::FUNCTIONS {
        let func =
            MathFn::from_method_name(method).ok_or_else(|| format!("no math method `{method}`"))?;
        let ty = ScalarType::from_rust_name(ty).ok_or_else(|| format!("no type `{ty}`"))?;
        let &at = position
            .get(*name)
            .ok_or_else(|| format!("no library function `{name}`"))?;
        implements.insert((func, ty), at);
    }
    Ok(Library {
        functions,
        implements,
    })
}

/// The library function implementing `func` on `args`, if the library has one.
fn implementation(library: &Library, func: MathFn, args: &[dotcompute_ir::Expr]) -> Option<usize> {
    let ty = args.first()?.ty;
    library.implements.get(&(func, ty)).copied()
}

/// Replaces every call of a math method the library implements by a call of the library's
/// function, and puts the functions used (and those they call) ahead of the kernel's helpers.
/// Returns how many library functions lead `kernel.functions` (the CPU emitter speculates only
/// with those, never with a user helper of the same name).
pub fn link(kernel: &mut Kernel) -> Result<usize, String> {
    // The library is lowered only for kernels that call it.
    let mut calls_library = false;
    let mut find = |e: &mut dotcompute_ir::Expr| {
        if let ExprKind::Math { func, args } = &e.kind
            && let Some(ty) = args.first().map(|a| a.ty.rust_name())
        {
            calls_library |= dotcompute_math::FUNCTIONS
                .iter()
                .any(|(method, t, _)| *method == func.method_name() && *t == ty);
        }
    };
    dotcompute_ir::walk_exprs_mut(&mut kernel.body, &mut find);
    for f in &mut kernel.functions {
        dotcompute_ir::walk_exprs_mut(&mut f.body, &mut find);
    }
    if !calls_library {
        return Ok(0);
    }
    let library = library()?;
    let mut used = vec![false; library.functions.len()];
    let mut mark = |e: &mut dotcompute_ir::Expr| {
        if let ExprKind::Math { func, args } = &e.kind
            && let Some(i) = implementation(library, *func, args)
        {
            used[i] = true;
        }
    };
    dotcompute_ir::walk_exprs_mut(&mut kernel.body, &mut mark);
    for f in &mut kernel.functions {
        dotcompute_ir::walk_exprs_mut(&mut f.body, &mut mark);
    }
    // What the used functions call: callees come first, so one pass from the end suffices.
    for i in (0..used.len()).rev() {
        if used[i] {
            for callee in calls(&library.functions[i]) {
                used[callee] = true;
            }
        }
    }
    let mut new_position = vec![u32::MAX; used.len()];
    let mut linked: Vec<Function> = Vec::new();
    for (i, function) in library.functions.iter().enumerate() {
        if used[i] {
            new_position[i] = linked.len() as u32;
            let mut function = function.clone();
            dotcompute_ir::walk_exprs_mut(&mut function.body, &mut |e| {
                if let ExprKind::Call { function, .. } = &mut e.kind {
                    function.0 = new_position[function.0 as usize];
                }
            });
            linked.push(function);
        }
    }
    let shift = linked.len() as u32;
    let mut rewrite = |e: &mut dotcompute_ir::Expr| {
        if let ExprKind::Call { function, .. } = &mut e.kind {
            function.0 += shift;
        }
        if let ExprKind::Math { func, args } = &mut e.kind
            && let Some(i) = implementation(library, *func, args)
        {
            let args = std::mem::take(args);
            e.kind = ExprKind::Call {
                function: FunctionId(new_position[i]),
                args,
            };
        }
    };
    dotcompute_ir::walk_exprs_mut(&mut kernel.body, &mut rewrite);
    for f in &mut kernel.functions {
        dotcompute_ir::walk_exprs_mut(&mut f.body, &mut rewrite);
    }
    linked.append(&mut kernel.functions);
    kernel.functions = linked;
    Ok(shift as usize)
}

/// The library functions `function` calls directly.
fn calls(function: &Function) -> Vec<usize> {
    let mut out = Vec::new();
    dotcompute_ir::walk_stmts(&function.body, &mut |s| {
        dotcompute_ir::stmt_exprs(s, &mut |e| {
            e.walk(&mut |e| {
                if let ExprKind::Call { function, .. } = &e.kind {
                    out.push(function.0 as usize);
                }
            })
        })
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_lowers_and_implements_what_it_lists() {
        let library = library().unwrap();
        assert_eq!(library.implements.len(), dotcompute_math::FUNCTIONS.len());
        // Library functions call only earlier ones, and never a device math function that
        // the library replaces (that would be the device's approximation after all).
        for (i, f) in library.functions.iter().enumerate() {
            for callee in calls(f) {
                assert!(callee < i, "`{}` calls a later function", f.name);
            }
            dotcompute_ir::walk_stmts(&f.body, &mut |s| {
                dotcompute_ir::stmt_exprs(s, &mut |e| {
                    e.walk(&mut |e| {
                        if let ExprKind::Math { func, args } = &e.kind {
                            assert!(
                                !func.is_transcendental()
                                    && implementation(library, *func, args).is_none(),
                                "`{}` calls the device's `{}`",
                                f.name,
                                func.method_name()
                            );
                        }
                    })
                })
            });
        }
    }
}
