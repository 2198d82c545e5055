//! `dc.auto()`: queries placed by the cost model on measured or given figures, with the
//! decision and its reason kept by the service. (A device chosen over the CPU:
//! `dotcompute-wgpu`'s `tests/placement.rs`.)
#![allow(clippy::unwrap_used)] // tests fail by panicking

use dotcompute::prelude::*;
use dotcompute::query;

/// Measured figures are finite and positive; the CPU moves nothing.
#[test]
fn the_cpu_is_measured() {
    let dc = ComputeService::new().unwrap();
    let cpu = dc.accelerator(BackendKind::Cpu).unwrap();
    let p = dc.profile(&cpu).unwrap();
    assert!(p.bandwidth.is_finite() && p.bandwidth > 1e8, "{p:?}");
    assert!(p.launch_latency > 0.0 && p.launch_latency < 0.1, "{p:?}");
    assert!(p.upload.is_infinite() && p.download.is_infinite());
    // Measured once: the second call gives the same figures.
    assert_eq!(dc.profile(&cpu).unwrap(), p);
}

/// A small query stays on the CPU, and the decision says why.
#[test]
fn small_queries_stay_on_the_cpu() {
    let dc = ComputeService::new().unwrap();
    let xs = dc.buffer_from_slice(&[1.0f32, 2.0, 3.0, 4.0]).unwrap();
    let k = 3.0f32;
    let total = query!(dc.auto().query(&xs).map(|x: f32| x * k).sum()).unwrap();
    assert_eq!(total, 30.0);
    let decisions = dc.placements();
    assert_eq!(decisions.len(), 1);
    let d = &decisions[0];
    assert_eq!(d.accelerator.backend, BackendKind::Cpu);
    assert!(d.reason.starts_with("cpu:0 is fastest"), "{}", d.reason);
    assert!(
        d.estimates
            .iter()
            .any(|(id, _)| id.backend == BackendKind::Cpu)
    );
    // Chains without closures and split chains are placed too, once per stage.
    assert_eq!(query!(dc.auto().query(&xs).count()).unwrap(), 4);
    let first: UnifiedBuffer<f32> = query!(
        dc.auto()
            .query(&xs)
            .filter(|x: f32| x > 1.0)
            .take(2)
            .collect()
    )
    .unwrap();
    assert_eq!(first.to_vec().unwrap(), [2.0, 3.0]);
    assert_eq!(dc.placements().len(), 4);
    // A range's indices count in the traffic (8 bytes each), though nothing moves.
    let total = query!(dc.auto().query(0..1000u64).map(|i| i * 2).sum()).unwrap();
    assert_eq!(total, 999 * 1000);
    let d = dc.placements().pop().unwrap();
    assert!(d.reason.contains("0 B moved"), "{}", d.reason);
    assert!(d.reason.contains("7.8 KiB read"), "{}", d.reason);
}
