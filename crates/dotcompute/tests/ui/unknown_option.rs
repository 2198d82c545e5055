use dotcompute::prelude::*;

#[kernel(fast_math)]
fn k(out: &mut [f32]) {
    out[0] = 1.0;
}

fn main() {}
