use dotcompute::prelude::*;

#[kernel]
fn k(x: &[f32], out: &mut [f32]) {
    let i = global_id();
    let mut s = 0.0;
    if x[i] > 0.0 {
        s = subgroup_add(x[i]);
    }
    out[i] = s;
}

fn main() {}
