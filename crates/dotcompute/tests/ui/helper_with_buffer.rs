use dotcompute::prelude::*;

#[kernel_fn]
fn helper(a: &[f32]) -> f32 {
    a[0]
}

fn _use() -> f32 {
    helper(&[1.0])
}

fn main() {}
