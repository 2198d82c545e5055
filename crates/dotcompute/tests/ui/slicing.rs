use dotcompute::prelude::*;

#[kernel]
fn k(a: &[f32], out: &mut [f32]) {
    let tail = &a[1..];
    out[0] = tail[0];
}

fn main() {}
