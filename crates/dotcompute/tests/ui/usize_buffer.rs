use dotcompute::prelude::*;

#[kernel]
fn k(idx: &[usize], out: &mut [f32]) {
    out[idx[0]] = 1.0;
}

fn main() {}
