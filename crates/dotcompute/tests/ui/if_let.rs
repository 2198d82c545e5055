use dotcompute::prelude::*;

#[kernel]
fn k(a: &[u32], out: &mut [u32]) {
    if let 0 = a[0] {
        out[0] = 1;
    }
}

fn main() {}
