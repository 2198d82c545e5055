use dotcompute::prelude::*;

#[kernel]
fn k(n: u64, out: &mut [f32]) {
    let mut tile = shared_array::<f32, 64>();
    if global_id() as u64 >= n {
        return;
    }
    tile[local_id_x()] = 1.0;
    barrier();
    out[global_id()] = tile[0];
}

fn main() {}
