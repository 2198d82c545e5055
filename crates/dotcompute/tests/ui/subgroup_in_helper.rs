use dotcompute::prelude::*;

#[kernel_fn]
fn total(x: f32) -> f32 {
    let s = subgroup_add(x);
    s
}

#[kernel]
fn k(out: &mut [f32]) {
    out[global_id()] = total(1.0);
}

fn main() {}
