use dotcompute::prelude::*;

#[kernel]
fn k(x: &[f32], out: &mut [f32]) {
    let mut tile = shared_array::<f32, 64>();
    let i = global_id();
    tile[local_id_x()] = x[i];
    if x[i] > 0.0 {
        barrier();
    }
    out[i] = tile[0];
}

fn main() {}
