use dotcompute::prelude::*;

#[kernel]
fn k(a: &[f32]) -> f32 {
    a[0]
}

fn main() {}
