use dotcompute::prelude::*;

#[kernel]
fn k(out: &mut [u32]) {
    let mut flags = shared_array::<u32, 64>();
    for step in 0..8u32 {
        if out[global_id()] == step {
            break;
        }
        flags[local_id_x()] = step;
        barrier();
    }
    out[global_id()] = flags[0];
}

fn main() {}
