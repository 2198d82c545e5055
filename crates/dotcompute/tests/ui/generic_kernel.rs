use dotcompute::prelude::*;

#[kernel]
fn k<T: Copy>(a: &[T], out: &mut [T]) {
    let i = global_id();
    out[i] = a[i];
}

fn main() {}
