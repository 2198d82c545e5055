use dotcompute::prelude::*;

#[kernel]
fn k(out: &mut [u32]) {
    'outer: for i in 0..4u32 {
        for j in 0..4u32 {
            if i * j > 3 {
                break 'outer;
            }
        }
    }
    out[0] = 1;
}

fn main() {}
