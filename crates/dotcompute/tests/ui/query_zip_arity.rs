use dotcompute::prelude::*;

fn main() -> Result<(), dotcompute::Error> {
    let dc = ComputeService::new()?;
    let acc = dc.best_accelerator()?;
    let xs = dc.buffer_from_slice(&[1.0f32])?;
    let ys = dc.buffer_from_slice(&[2.0f32])?;
    let _ = dotcompute::query!(acc.query(&xs).zip(&ys).map(|x: f32| x * 2.0).sum())?;
    let _ = dotcompute::query!(acc.query(&xs).zip(&ys).filter(|x: f32, y: f32| x > y).sum())?;
    Ok(())
}
