use dotcompute::prelude::*;

const SCALE: f32 = 2.0;

#[kernel]
fn k(out: &mut [f32]) {
    out[global_id()] = SCALE;
}

fn main() {}
