use dotcompute::prelude::*;

fn main() -> Result<(), dotcompute::Error> {
    let dc = ComputeService::new()?;
    let acc = dc.best_accelerator()?;
    let xs = dc.buffer_from_slice(&[1.0f32])?;
    let _ = dotcompute::query!(acc.query(&xs).reduce(0.0, |a: f32, b| a + b))?;
    let _ = dotcompute::query!(acc.query(&xs).reduce(|| 0.0f32, |a, b| a + b))?;
    let _ = dotcompute::query!(acc.query(&xs).map(|x: f32| x).reduce(|| 0.0f32, |a, b| a < b))?;
    let _ = dotcompute::query!(acc.query(&xs).zip(&xs).reduce(|| 0.0f32, |a: f32, b| a + b))?;
    let _ = dotcompute::query!(acc.query(&xs).min_by_key(|x: f32| x > 0.0))?;
    let _ = dotcompute::query!(acc.query(&xs).distinct())?;
    let _ = dotcompute::query!(acc.query(&xs).enumerate().distinct())?;
    let _ = dotcompute::query!(acc.query(&xs).map(|x: f32| x).scan(|a, b| a + b))?;
    Ok(())
}
