use dotcompute::prelude::*;

#[kernel_fn]
fn fact(n: u32) -> u32 {
    if n == 0 { 1 } else { n * fact(n - 1) }
}

#[kernel]
fn k(out: &mut [u32]) {
    out[0] = fact(5);
}

fn main() {}
