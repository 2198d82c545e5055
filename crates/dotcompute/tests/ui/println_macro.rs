use dotcompute::prelude::*;

#[kernel]
fn k(out: &mut [f32]) {
    println!("hello from work item {}", global_id());
    out[0] = 1.0;
}

fn main() {}
