use dotcompute::prelude::*;

#[kernel]
fn k(out: &mut [u32]) {
    let mut flags = shared_array::<u32, 64>();
    let lid = local_id_x();
    let mut k = 0;
    while k < lid {
        flags[lid] = k as u32;
        barrier();
        k += 1;
    }
    out[global_id()] = flags[0];
}

fn main() {}
