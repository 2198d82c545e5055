use dotcompute::prelude::*;

fn main() -> Result<(), dotcompute::Error> {
    let dc = ComputeService::new()?;
    let acc = dc.best_accelerator()?;
    let xs = dc.buffer_from_slice(&[1.0f32])?;
    let _ = dotcompute::query!(acc.query(0..=9).sum())?;
    let _ = dotcompute::query!(acc.query(&xs).zip(0..1).map(|x: f32, i| x).sum())?;
    Ok(())
}
