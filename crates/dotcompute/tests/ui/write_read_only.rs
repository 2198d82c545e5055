use dotcompute::prelude::*;

#[kernel]
fn k(a: &[f32]) {
    a[global_id()] = 1.0;
}

fn main() {}
