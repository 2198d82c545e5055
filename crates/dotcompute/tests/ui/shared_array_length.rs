use dotcompute::prelude::*;

const N: usize = 64;

#[kernel]
fn k(out: &mut [f32]) {
    let mut tile = shared_array::<f32, N>();
    tile[local_id_x()] = 1.0;
    out[global_id()] = tile[0];
}

fn main() {}
