use dotcompute::prelude::*;

#[kernel]
fn k(x: &[u32], out: &mut [u32]) {
    let i = global_id();
    let mut total = 0u32;
    for r in 0..4u32 {
        let s = subgroup_add(x[i] + r);
        if s > 100 {
            break;
        }
        total += s;
    }
    out[i] = total;
}

fn main() {}
