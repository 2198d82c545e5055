use dotcompute::prelude::*;

#[kernel]
fn k(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    let s = subgroup_add(x[i] > 0.0);
    out[i] = if s { 1.0 } else { 0.0 };
}

fn main() {}
