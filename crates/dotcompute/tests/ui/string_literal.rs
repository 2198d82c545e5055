use dotcompute::prelude::*;

#[kernel]
fn k(out: &mut [f32]) {
    let name = "kernel";
    out[0] = 1.0;
}

fn main() {}
