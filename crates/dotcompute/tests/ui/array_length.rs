use dotcompute::prelude::*;

#[kernel]
fn k(n: u32, out: &mut [f32]) {
    let mut acc = [0.0f32; n];
    acc[0] = 1.0;
    out[0] = acc[0];
}

fn main() {}
