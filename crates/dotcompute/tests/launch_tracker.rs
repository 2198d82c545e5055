//! The launch tracker that the asynchronous backends (wgpu, CUDA) share, driven directly, for
//! orderings the backends' own tests cannot force.

use dotcompute::prelude::*;
use dotcompute::{BackendKind, ComputeService};
use dotcompute_core::launch_tracker::{LaunchTracker, TrackedLaunch};
use std::sync::{Arc, mpsc};
use std::time::Duration;

#[kernel]
fn copy(x: &[f32], y: &mut [f32]) {
    let i = global_id();
    y[i] = x[i];
}

/// Records of a one-slot tracker, none faulted.
fn clean_records() -> Result<Vec<u32>, dotcompute::Error> {
    Ok(vec![0; 8])
}

/// With every slot taken by a collection running on another thread, a new launch waits for
/// that collection instead of reporting that no fault record is free.
#[test]
fn a_launch_waits_for_the_collection_that_holds_every_slot() {
    let dc = ComputeService::new().unwrap();
    let cpu = dc.accelerator(BackendKind::Cpu).unwrap();
    let tracker = Arc::new(LaunchTracker::<()>::new(cpu.info(), 1, 32));
    let register = |tracker: &LaunchTracker<()>| {
        let launch = TrackedLaunch::new(cpu.id(), Default::default());
        tracker
            .register(
                &launch,
                copy::definition(),
                vec![],
                Arc::new(vec![]),
                (),
                || tracker.collect(|_, _| Ok(()), |(), _| clean_records()),
            )
            .map(|registration| registration.submitted())
    };
    register(&tracker).unwrap();

    let (inside, reading) = mpsc::channel();
    let collecting = {
        let tracker = tracker.clone();
        std::thread::spawn(move || {
            tracker.collect(
                |_, _| Ok(()),
                |(), _| {
                    inside.send(()).unwrap();
                    std::thread::sleep(Duration::from_millis(200));
                    clean_records()
                },
            )
        })
    };
    reading.recv().unwrap();
    register(&tracker).expect("the launch waits for the running collection");
    collecting.join().unwrap().unwrap();
}
