//! A Mandelbrot image, one work item per pixel, written to `mandelbrot.png`.
//!
//! `cargo run --release -p dotcompute-examples --example mandelbrot [width height max_iter]`

use dotcompute::prelude::*;
use std::fs::File;
use std::io::BufWriter;

/// Escape-time iterations of one point (a helper: scalars in, one scalar out).
#[kernel_fn]
fn escape_time(cx: f64, cy: f64, max_iter: u32) -> u32 {
    let mut x = 0.0;
    let mut y = 0.0;
    let mut i = 0;
    while i < max_iter {
        let x2 = x * x;
        let y2 = y * y;
        if x2 + y2 > 4.0 {
            break;
        }
        y = 2.0 * x * y + cy;
        x = x2 - y2 + cx;
        i += 1;
    }
    i
}

/// One pixel of the image; the grid is width x height.
#[kernel]
fn mandelbrot(x0: f64, y0: f64, step: f64, max_iter: u32, out: &mut [u32]) {
    let px = global_id_x();
    let py = global_id_y();
    let cx = x0 + px as f64 * step;
    let cy = y0 + py as f64 * step;
    out[py * global_size_x() + px] = escape_time(cx, cy, max_iter);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (width, height, max_iter) = match args[..] {
        [w, h, m] => (w as usize, h as usize, m),
        _ => (1600, 1200, 500),
    };
    let dc = ComputeService::new()?;
    let acc = dc.best_accelerator()?;
    let mut iterations = dc.buffer_zeroed::<u32>(width * height)?;
    let step = 3.0 / height as f64;
    let started = std::time::Instant::now();
    mandelbrot::launch(
        &acc,
        (width, height),
        -2.25,
        -1.5,
        step,
        max_iter,
        &mut iterations,
    )?;
    println!(
        "{width}x{height}, {max_iter} iterations, on {}: {:.1} ms",
        acc.info(),
        started.elapsed().as_secs_f64() * 1e3
    );

    let pixels: Vec<u8> = iterations
        .read()?
        .iter()
        .flat_map(|&i| color(i, max_iter))
        .collect();
    let file = BufWriter::new(File::create("mandelbrot.png")?);
    let mut encoder = png::Encoder::new(file, width as u32, height as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(&pixels)?;
    println!("wrote mandelbrot.png");
    Ok(())
}

/// A smooth palette: black inside the set, blue to orange outside.
fn color(i: u32, max_iter: u32) -> [u8; 3] {
    if i >= max_iter {
        return [0, 0, 0];
    }
    let t = (i as f64 / max_iter as f64).sqrt();
    let r = (9.0 * (1.0 - t) * t * t * t * 255.0) as u8;
    let g = (15.0 * (1.0 - t) * (1.0 - t) * t * t * 255.0) as u8;
    let b = (8.5 * (1.0 - t) * (1.0 - t) * (1.0 - t) * t * 255.0) as u8;
    [r, g, b]
}
