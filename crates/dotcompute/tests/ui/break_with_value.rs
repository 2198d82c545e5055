use dotcompute::prelude::*;

#[kernel]
fn k(out: &mut [u32]) {
    let mut i = 0u32;
    let found = loop {
        i += 1;
        if i > 10 {
            break i;
        }
    };
    out[0] = found;
}

fn main() {}
