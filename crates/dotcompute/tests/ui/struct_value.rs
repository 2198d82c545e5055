use dotcompute::prelude::*;

struct P {
    x: f32,
}

#[kernel]
fn k(out: &mut [f32]) {
    let p = P { x: 1.0 };
    out[0] = p.x;
}

fn main() {}
