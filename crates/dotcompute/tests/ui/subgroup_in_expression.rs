use dotcompute::prelude::*;

#[kernel]
fn k(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    out[i] = subgroup_add(x[i]) * 2.0;
}

fn main() {}
