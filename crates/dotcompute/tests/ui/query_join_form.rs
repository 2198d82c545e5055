use dotcompute::prelude::*;

fn main() -> Result<(), dotcompute::Error> {
    let dc = ComputeService::new()?;
    let acc = dc.best_accelerator()?;
    let xs = dc.buffer_from_slice(&[1.0f32])?;
    let ys = dc.buffer_from_slice(&[1u32])?;
    let _ = dotcompute::query!(
        acc.query(&xs)
            .filter(|x: f32| x > 0.0)
            .take(3)
            .join(&ys, |x| x as u32, |y: u32| y)
    )?;
    let _ = dotcompute::query!(acc.query(&xs).join(&ys, |x: f32| x, |y: u32| y))?;
    let _ = dotcompute::query!(acc.query(&xs).join(&ys, |x: f32| x as u32))?;
    let _ = dotcompute::query!(acc.query(&xs).join(&ys, |x: f32| x > 0.0, |y: u32| y > 0))?;
    Ok(())
}
