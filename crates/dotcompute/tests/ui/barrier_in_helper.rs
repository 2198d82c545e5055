use dotcompute::prelude::*;

#[kernel_fn]
fn sync_and_double(x: f32) -> f32 {
    barrier();
    x * 2.0
}

#[kernel]
fn k(out: &mut [f32]) {
    out[global_id()] = sync_and_double(1.0);
}

fn main() {}
