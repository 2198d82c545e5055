use dotcompute::prelude::*;

fn main() -> Result<(), dotcompute::Error> {
    let dc = ComputeService::new()?;
    let acc = dc.best_accelerator()?;
    let xs = dc.buffer_from_slice(&[1.0f32])?;
    let k = 3u32;
    let _ = dotcompute::query!(acc.query(&xs).map(|x: f32| x + k as f32).sum())?;
    Ok(())
}
