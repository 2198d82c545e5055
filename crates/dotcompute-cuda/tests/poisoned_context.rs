//! An illegal address poisons a CUDA context for the life of the process: the accelerator
//! must say so and refuse further work, not crash. Its own test binary, since the context
//! stays poisoned (skipped without a GPU).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod support;

use dotcompute::prelude::*;

/// Writes far outside `out` when `offset` is large: only `unchecked` kernels can.
#[kernel(unchecked)]
fn wild_store(offset: u64, out: &mut [f32]) {
    let i = global_id() + offset as usize;
    out[i] = 1.0;
}

#[test]
fn an_illegal_address_poisons_the_accelerator_which_then_refuses_work() {
    let Some((dc, acc)) = support::cuda_service() else {
        return;
    };
    let mut out = dc.buffer_zeroed::<f32>(256).unwrap();
    // SAFETY: deliberately violated, to provoke the driver's illegal-address error; the
    // store lands in unmapped device memory, which the GPU traps, not in host memory.
    let launched = unsafe { wild_store::launch(&acc, 256, 1u64 << 40, &mut out) };
    let err = launched.and_then(|()| acc.synchronize()).unwrap_err();
    assert!(err.to_string().contains("poisoned"), "{err}");
    // SAFETY: one work item writing element 0 of a 256-element buffer: in bounds.
    let again = unsafe { wild_store::launch(&acc, 1, 0, &mut out) };
    let err = again.and_then(|()| acc.synchronize()).unwrap_err();
    assert!(err.to_string().contains("refuses further work"), "{err}");
}
