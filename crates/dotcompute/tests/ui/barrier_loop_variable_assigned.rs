use dotcompute::prelude::*;

#[kernel]
fn k(n: u32, out: &mut [u32]) {
    let mut t = shared_array::<u32, 64>();
    for mut step in 0..n {
        for _ in 0..2u32 {
            t[local_id_x()] = step;
            barrier();
            step += 1;
        }
    }
    out[global_id()] = t[0];
}

fn main() {}
