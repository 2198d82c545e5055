use dotcompute::prelude::*;

fn main() -> Result<(), dotcompute::Error> {
    let dc = ComputeService::new()?;
    let acc = dc.best_accelerator()?;
    let xs = dc.buffer_from_slice(&[1.0f32])?;
    let positive = true;
    let _ = dotcompute::query!(acc.query(&xs).filter(|x: f32| positive && x > 0.0).count())?;
    Ok(())
}
