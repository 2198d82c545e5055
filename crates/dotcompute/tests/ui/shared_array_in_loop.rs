use dotcompute::prelude::*;

#[kernel]
fn k(out: &mut [f32]) {
    for _ in 0..2 {
        let mut tile = shared_array::<f32, 64>();
        tile[local_id_x()] = 1.0;
        out[global_id()] = tile[0];
    }
}

fn main() {}
