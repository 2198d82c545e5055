//! Launch overhead and the cold start of a process (and the hidden probe command it runs).

use super::opencl_peer::OpenClLaunchPeer;
use super::{Contender, Runner, Work, sync};
use crate::CliError;
use dotcompute::{Accelerator, ComputeService, Grid};
use dotcompute_conformance::kernels;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

/// Launch overhead: a kernel on a 1-element grid.
pub(super) fn launch_latency(
    r: &mut Runner,
    dc: &ComputeService,
    accs: &[Accelerator],
) -> Result<(), CliError> {
    if !r.wants("launch") {
        return Ok(());
    }
    let batch: u64 = if r.quick { 2_000 } else { 20_000 };
    let mut contenders = Vec::new();
    for acc in accs {
        if let Some(peer) = OpenClLaunchPeer::new(acc)? {
            contenders.push(Contender::peer(
                &format!("OpenCL API, minimal host program ({})", acc.id()),
                move || peer.run(batch),
            ));
        }
        let mut out = dc.buffer_zeroed::<u64>(1)?;
        contenders.push(Contender::dotcompute(acc, move || {
            for _ in 0..batch {
                kernels::iota::launch(acc, Grid::d1(1), &mut out)?;
            }
            sync(acc)
        }));
    }
    contenders.push(Contender::peer("rayon::join (empty)", move || {
        for _ in 0..batch {
            rayon::join(|| black_box(()), || black_box(()));
        }
        Ok(())
    }));
    r.race(
        "launch_1_item",
        &format!("{batch} launches"),
        batch,
        Work::Launches(batch),
        contenders,
    )
}

/// Cold start: a fresh process to its first kernel result, against a process that does
/// nothing.
pub(super) fn cold_start(r: &mut Runner) -> Result<(), CliError> {
    if !r.wants("cold_start") {
        return Ok(());
    }
    let exe = std::env::current_exe()?;
    let spawn = |arg: &'static str| {
        let exe = exe.clone();
        move || -> Result<(), CliError> {
            let out = std::process::Command::new(&exe).arg(arg).output()?;
            if out.status.success() {
                Ok(())
            } else {
                Err(CliError::Message(format!(
                    "`dotcompute {arg}` failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                )))
            }
        }
    };
    let probe = spawn("cold-start-probe");
    let baseline = spawn("--version");
    let contenders = vec![
        Contender {
            name: "dotcompute".into(),
            accelerator: Some("cpu:0".into()),
            run: Box::new(probe),
        },
        Contender::peer("process only (--version)", baseline),
    ];
    r.race(
        "cold_start",
        "spawn to first result",
        1,
        Work::Process,
        contenders,
    )
}

/// The hidden `cold-start-probe` command: a service, a buffer, one kernel, the result.
pub fn cold_start_probe(process_start: Instant) -> Result<ExitCode, CliError> {
    let dc = ComputeService::new()?;
    let acc = dc.accelerator(dotcompute::BackendKind::Cpu)?;
    let a = dc.buffer_from_slice(&[1.0f32, 2.0, 3.0])?;
    let b = dc.buffer_from_slice(&[10.0f32, 20.0, 30.0])?;
    let mut out = dc.buffer_zeroed::<f32>(3)?;
    kernels::vector_add::launch(&acc, 3, &a, &b, &mut out)?;
    let result = out.to_vec()?;
    let micros = process_start.elapsed().as_micros();
    if result != [11.0, 22.0, 33.0] {
        return Err(CliError::Message(format!("wrong result {result:?}")));
    }
    println!("{micros}");
    Ok(ExitCode::SUCCESS)
}
