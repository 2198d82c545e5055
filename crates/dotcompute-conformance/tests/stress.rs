//! Many threads launching on every accelerator present at once (the CPU, lavapipe in CI, a
//! CUDA GPU where there is one): every result checked, every fault where it belongs.
//! `scripts/stress.sh SECONDS` runs the same for as long as asked.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute::{BackendKind, ComputeService};
use dotcompute_conformance::stress::{self, StressOptions};
use dotcompute_cuda::CudaPlugin;
use dotcompute_wgpu::WgpuPlugin;
use std::time::Duration;

#[test]
fn many_threads_on_every_accelerator_get_their_own_results_and_faults() {
    let dc = ComputeService::builder()
        .plugin(Box::new(WgpuPlugin::default()))
        .plugin(Box::new(CudaPlugin::default()))
        .build()
        .unwrap();
    let accelerators: Vec<_> = dc
        .accelerators()
        .into_iter()
        .filter(|a| a.info().capabilities.int64)
        .collect();
    let backends: Vec<_> = accelerators.iter().map(|a| a.id().backend).collect();
    assert!(backends.contains(&BackendKind::Cpu));
    if std::env::var("DOTCOMPUTE_REQUIRE_WGPU").as_deref() == Ok("1") {
        assert!(
            backends.contains(&BackendKind::Wgpu),
            "no wgpu adapter: {backends:?}"
        );
    }
    eprintln!(
        "stressing {}",
        accelerators
            .iter()
            .map(|a| a.id().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let options = StressOptions {
        duration: Duration::from_secs(8),
        threads: 12,
        max_len: 70_000,
        seed: 0x5eed,
    };
    // A deadlock fails the test instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(stress::run(&dc, &accelerators, &options));
    });
    let report = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the stress run did not finish: a deadlock?");
    eprintln!("{report}");
    assert!(report.is_clean(), "{report}\n{:#?}", report.problems);
    assert!(report.launches > 100, "{report}");
    assert!(report.faults_made > 0, "{report}");
}
