use dotcompute::prelude::*;

#[kernel]
fn k(mode: u32, out: &mut [f32]) {
    out[global_id()] = match mode {
        0 => 1.0,
        _ => 2.0,
    };
}

fn main() {}
