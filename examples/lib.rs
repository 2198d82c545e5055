//! Examples of DotCompute. Run one with
//! `cargo run --release -p dotcompute-examples --example quickstart` (or `mandelbrot`).
