use dotcompute::prelude::*;

#[kernel]
fn k(out: &mut [f32]) {
    let mut acc = [0.0f32; 1048576];
    acc[0] = 1.0;
    out[0] = acc[0];
}

fn main() {}
