use dotcompute::prelude::*;

fn plain(x: f32) -> f32 {
    x + 1.0
}

#[kernel]
fn k(out: &mut [f32]) {
    out[0] = plain(1.0);
}

fn main() {}
