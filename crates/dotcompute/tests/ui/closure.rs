use dotcompute::prelude::*;

#[kernel]
fn k(out: &mut [f32]) {
    let f = |x: f32| x * 2.0;
    out[global_id()] = f(1.0);
}

fn main() {}
