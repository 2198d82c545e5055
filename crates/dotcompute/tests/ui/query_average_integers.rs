use dotcompute::prelude::*;

fn main() -> Result<(), dotcompute::Error> {
    let dc = ComputeService::new()?;
    let acc = dc.best_accelerator()?;
    let ids = dc.buffer_from_slice(&[1u32, 2])?;
    let _ = dotcompute::query!(acc.query(&ids).map(|v: u32| v * 2).average())?;
    let _ = dotcompute::query!(acc.query(&ids).average())?;
    Ok(())
}
