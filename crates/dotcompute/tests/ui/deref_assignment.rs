use dotcompute::prelude::*;

#[kernel]
fn k(out: &mut [f32]) {
    let mut x = 1.0f32;
    let r = &mut x;
    *r = 2.0;
    out[0] = x;
}

fn main() {}
