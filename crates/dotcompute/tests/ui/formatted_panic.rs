use dotcompute::prelude::*;

#[kernel]
fn k(out: &mut [f32]) {
    let i = global_id();
    if i > 10 {
        panic!("bad id {}", i);
    }
    out[i] = 1.0;
}

fn main() {}
