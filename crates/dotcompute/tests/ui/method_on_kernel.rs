use dotcompute::prelude::*;

#[kernel]
fn k(self_len: u64, out: &mut [u32]) {
    out[0] = (self_len as u32).pow(2);
}

fn main() {}
