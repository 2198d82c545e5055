//! The smallest complete program: write a kernel as a Rust function, launch it on the best
//! accelerator, read the result.
//!
//! `cargo run --release -p dotcompute-examples --example quickstart`

use dotcompute::prelude::*;

/// `y = alpha * x + y`, one work item per element.
#[kernel]
fn saxpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    let i = global_id();
    y[i] = alpha * x[i] + y[i];
}

fn main() -> Result<(), dotcompute::Error> {
    let dc = ComputeService::new()?;
    let acc = dc.best_accelerator()?;
    println!("running on {}", acc.info());

    let n = 1 << 20;
    let xs: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let x = dc.buffer_from_slice(&xs)?;
    let mut y = dc.buffer_from_slice(&vec![1.0f32; n])?;

    saxpy::launch(&acc, n, 2.0, &x, &mut y)?;

    let out = y.to_vec()?;
    assert!(
        out.iter()
            .enumerate()
            .all(|(i, &v)| v == 2.0 * i as f32 + 1.0)
    );
    println!("y[0..4] = {:?}, y[{}] = {}", &out[..4], n - 1, out[n - 1]);

    // A fault is an error naming the kernel, the buffer and the index; nothing crashes.
    let short = dc.buffer_zeroed::<f32>(10)?;
    match saxpy::launch(&acc, n, 2.0, &short, &mut y) {
        Err(err) => println!("as expected: {err}"),
        Ok(()) => println!("unexpected: the launch should have faulted"),
    }

    for s in dc.statistics() {
        println!(
            "{} on {}: {} launches, mean {:?}",
            s.kernel,
            s.accelerator,
            s.launches.launches,
            s.launches.mean()
        );
    }
    Ok(())
}
