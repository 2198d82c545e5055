use dotcompute::prelude::*;

#[kernel]
fn k(a: Vec<f32>, out: &mut [f32]) {
    out[0] = a[0];
}

fn main() {}
