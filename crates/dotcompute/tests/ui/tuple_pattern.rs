use dotcompute::prelude::*;

#[kernel]
fn k(out: &mut [f32]) {
    let (x, y) = (1.0f32, 2.0f32);
    out[0] = x + y;
}

fn main() {}
