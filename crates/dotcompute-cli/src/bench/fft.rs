//! `algorithms::Fft` against FFTW (loaded at run time, planned with `FFTW_MEASURE`) on one
//! complex `f32` transform of 2^20 and of 1,000,003 (a prime) numbers.

use super::{Contender, Runner, Work, inputs};
use crate::CliError;
use crate::fftw_peer::Fftw;
use dotcompute::algorithms::Fft;
use dotcompute::{Accelerator, ComputeService};

/// Rows `fft c32`.
pub(super) fn run(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
) -> Result<(), CliError> {
    if !r.wants("fft") {
        return Ok(());
    }
    let fftw = match Fftw::load() {
        Ok(fftw) => {
            r.notes.push(
                "FFT peer: FFTW 3 single precision (libfftw3f), one thread, in place, planned \
                 with FFTW_MEASURE (at most 2 s) before timing; dotcompute's CPU transform of one \
                 buffer also runs on one thread (rustfft)"
                    .into(),
            );
            Some(fftw)
        }
        Err(why) => {
            r.notes.push(why);
            None
        }
    };
    let sizes: &[usize] = if r.quick {
        &[1 << 12, 4099]
    } else {
        &[1 << 20, 1_000_003]
    };
    for &n in sizes {
        let x: Vec<f32> = inputs(2 * n, 13);
        let accs = r.fitting(accs, 16 * n as u64, &format!("fft {n}"));
        let mut contenders = Vec::new();
        for acc in &accs {
            let mut data = dc.buffer_from_slice(&x)?;
            let plan = Fft::<f32>::new(n);
            let x = &x;
            contenders.push(Contender::dotcompute(acc, move || {
                data.copy_from_slice(x)?;
                plan.run(acc, &mut data)?;
                Ok(())
            }));
        }
        if let Some(mut plan) = fftw.as_ref().and_then(|f| f.plan(n, 2.0)) {
            let x = &x;
            contenders.push(Contender::peer("fftw", move || {
                plan.data_mut().copy_from_slice(x);
                plan.execute();
                Ok(())
            }));
        }
        let flops = (5.0 * n as f64 * (n as f64).log2()) as u64;
        r.race(
            "fft c32",
            &size_label_exact(n),
            n as u64,
            Work::Flops {
                flops,
                bytes: 16 * n as u64,
            },
            contenders,
        )?;
    }
    Ok(())
}

/// `2^k` for powers of two, else the number itself.
fn size_label_exact(n: usize) -> String {
    if n.is_power_of_two() {
        format!("2^{}", n.trailing_zeros())
    } else {
        n.to_string()
    }
}
