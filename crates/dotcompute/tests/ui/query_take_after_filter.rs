use dotcompute::prelude::*;

fn main() -> Result<(), dotcompute::Error> {
    let dc = ComputeService::new()?;
    let acc = dc.best_accelerator()?;
    let xs = dc.buffer_from_slice(&[1.0f32])?;
    let _ = dotcompute::query!(
        acc.query(&xs)
            .zip(&xs)
            .filter(|x: f32, y: f32| x > y)
            .take(10)
            .map(|x, y| x + y)
            .sum()
    )?;
    Ok(())
}
