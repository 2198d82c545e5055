use dotcompute::prelude::*;

#[kernel_fn]
fn first(x: f32) -> f32 {
    let acc = [x; 4];
    acc[0]
}

#[kernel]
fn k(out: &mut [f32]) {
    out[0] = first(1.0);
}

fn main() {}
