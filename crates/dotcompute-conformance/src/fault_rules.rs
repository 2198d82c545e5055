//! Who is told of a fault, checked the same way on every backend (see
//! `Accelerator::synchronize` for the rules): a fault belongs to the launch that caused it,
//! reads of what that launch wrote report it until the buffer is written again, reads of
//! anything else never do, and `synchronize()` returns each fault once.
//!
//! Stamp the checks out for a backend with [`fault_rule_tests!`](crate::fault_rule_tests).

// Test checks: a broken rule fails the calling #[test] by panicking.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::faulting::{divide, explode, shifted_copy};
use dotcompute::prelude::*;
use dotcompute::{Error, KernelFault};

/// Adds `scale * x[i]` to `y[i]`: reads `x`, so a fault of `x`'s writer reaches it.
#[kernel]
pub fn accumulate(scale: i32, x: &[i32], y: &mut [i32]) {
    let i = global_id();
    y[i] += scale * x[i];
}

fn expect_division_by_zero(result: Result<Vec<i32>, Error>, what: &str) {
    match result {
        Err(e) => assert_eq!(
            e.fault(),
            Some(&KernelFault::DivisionByZero),
            "{what}: expected the division fault, got {e}"
        ),
        Ok(v) => panic!("{what}: expected the division fault, read {v:?}"),
    }
}

/// Takes every fault `synchronize()` holds (GPUs), so that later checks start clean.
fn drain(acc: &Accelerator) {
    for _ in 0..10_000 {
        if acc.synchronize().is_ok() {
            return;
        }
    }
    panic!("synchronize() keeps failing: {:?}", acc.synchronize());
}

/// Clean and faulting launches in flight together: each output reports exactly its own
/// launch's fault, again on every read, until it is written again.
pub fn reads_report_only_their_writers_fault(dc: &ComputeService, acc: &Accelerator) {
    let a = dc.buffer_from_slice(&[12i32, 24, 36, 48]).unwrap();
    let twos = dc.buffer_from_slice(&[2i32; 4]).unwrap();
    let zero_at_2 = dc.buffer_from_slice(&[1i32, 1, 0, 1]).unwrap();
    let mut outs: Vec<UnifiedBuffer<i32>> = (0..6).map(|_| dc.buffer_zeroed(4).unwrap()).collect();
    // Launches 1, 3 and 5 fault; on a GPU all six are in flight before the first read.
    for (k, out) in outs.iter_mut().enumerate() {
        let divisor = if k % 2 == 1 { &zero_at_2 } else { &twos };
        // On the CPU a launch reports its own fault at once.
        let launched = divide::launch(acc, 4, &a, divisor, out);
        if let Err(e) = launched {
            assert_eq!(e.fault(), Some(&KernelFault::DivisionByZero), "{e}");
            assert_eq!(k % 2, 1, "launch {k} did not fault: {e}");
        }
    }
    for _ in 0..2 {
        for (k, out) in outs.iter().enumerate() {
            if k % 2 == 1 {
                expect_division_by_zero(out.to_vec(), &format!("output {k}"));
            } else {
                assert_eq!(out.to_vec().unwrap(), [6, 12, 18, 24], "output {k}");
            }
        }
    }
    // Written again by a clean launch, or by the host: readable again.
    divide::launch(acc, 4, &a, &twos, &mut outs[1]).unwrap();
    assert_eq!(outs[1].to_vec().unwrap(), [6, 12, 18, 24]);
    outs[3].copy_from_slice(&[7, 7, 7, 7]).unwrap();
    assert_eq!(outs[3].to_vec().unwrap(), [7, 7, 7, 7]);
    expect_division_by_zero(outs[5].to_vec(), "output 5, untouched");
    // The write guard shows the contents too: it reports the fault as well.
    assert!(outs[5].write().is_err());
    drain(acc);
}

/// `synchronize()` returns every fault once, oldest first, then `Ok`.
pub fn synchronize_reports_each_fault_once(dc: &ComputeService, acc: &Accelerator) {
    acc.synchronize().unwrap();
    let a = dc.buffer_from_slice(&[1i32; 4]).unwrap();
    let zero = dc.buffer_zeroed::<i32>(4).unwrap();
    let mut out = dc.buffer_zeroed::<i32>(4).unwrap();
    let mut flags = dc.buffer_zeroed::<u32>(4).unwrap();
    let first = divide::launch(acc, 4, &a, &zero, &mut out);
    let second = explode::launch(acc, 4, 0, &mut flags);
    if first.is_err() {
        // The CPU reported both at the launches; it keeps nothing for synchronize().
        assert!(second.is_err());
        acc.synchronize().unwrap();
        return;
    }
    second.unwrap();
    let err = acc.synchronize().unwrap_err();
    assert!(err.to_string().contains("kernel `divide`"), "{err}");
    let err = acc.synchronize().unwrap_err();
    assert!(err.to_string().contains("kernel `explode`"), "{err}");
    acc.synchronize().unwrap();
    // Reading a faulted buffer does not take its fault from synchronize(), nor the reverse.
    divide::launch(acc, 4, &a, &zero, &mut out).unwrap();
    expect_division_by_zero(out.to_vec(), "out");
    assert!(acc.synchronize().is_err());
    expect_division_by_zero(out.to_vec(), "out, after synchronize");
    acc.synchronize().unwrap();
    // An acknowledged fault is the reader's: synchronize() no longer returns it, reads do.
    divide::launch(acc, 4, &a, &zero, &mut out).unwrap();
    assert_eq!(
        out.wait().unwrap_err().fault(),
        Some(&KernelFault::DivisionByZero)
    );
    out.acknowledge_fault();
    acc.synchronize().unwrap();
    expect_division_by_zero(out.to_vec(), "out, acknowledged");
}

/// A launch that reads a buffer whose writer faulted has undefined inputs: it reports that
/// fault (at once when the fault is known, else through reads of what it wrote).
pub fn readers_of_a_faulted_buffer_report_its_fault(dc: &ComputeService, acc: &Accelerator) {
    let a = dc.buffer_from_slice(&[10i32; 4]).unwrap();
    let zero = dc.buffer_zeroed::<i32>(4).unwrap();
    let mut x = dc.buffer_zeroed::<i32>(4).unwrap();
    let mut y = dc.buffer_zeroed::<i32>(4).unwrap();
    let _ = divide::launch(acc, 4, &a, &zero, &mut x);
    // Queued behind the faulting launch (GPU) or after it (CPU).
    let launched = accumulate::launch(acc, 4, 1, &x, &mut y);
    let read = launched.and_then(|()| y.to_vec());
    expect_division_by_zero(read, "y, computed from the faulted x");
    // Now the fault is known: a launch reading x fails before it runs.
    let mut z = dc.buffer_zeroed::<i32>(4).unwrap();
    let err = accumulate::launch(acc, 4, 1, &x, &mut z).unwrap_err();
    assert_eq!(err.fault(), Some(&KernelFault::DivisionByZero), "{err}");
    assert_eq!(z.to_vec().unwrap(), [0; 4], "nothing ran");
    assert!(err.to_string().contains("copy_from_slice"), "{err}");
    // A kernel that reads its `&mut` buffer (`y[i] += ...`) reads undefined data too ...
    let ones = dc.buffer_from_slice(&[1i32; 4]).unwrap();
    let mut w = dc.buffer_zeroed::<i32>(4).unwrap();
    let _ = divide::launch(acc, 4, &a, &zero, &mut w);
    let launched = accumulate::launch(acc, 4, 1, &ones, &mut w);
    expect_division_by_zero(
        launched.and_then(|()| w.to_vec()),
        "w, updated after its fault",
    );
    assert!(accumulate::launch(acc, 4, 1, &ones, &mut w).is_err());
    // ... until the host overwrites it; a kernel that only stores into it writes it anew.
    w.copy_from_slice(&[5; 4]).unwrap();
    accumulate::launch(acc, 4, 1, &ones, &mut w).unwrap();
    assert_eq!(w.to_vec().unwrap(), [6; 4]);
    let _ = divide::launch(acc, 4, &a, &zero, &mut w);
    let twos = dc.buffer_from_slice(&[2i32; 4]).unwrap();
    divide::launch(acc, 4, &a, &twos, &mut w).unwrap();
    assert_eq!(w.to_vec().unwrap(), [5; 4]);
    drain(acc);
}

/// More launches in flight than a device has fault records: each still gets its own, and
/// every fault is reported where it belongs.
pub fn more_launches_than_fault_records(dc: &ComputeService, acc: &Accelerator) {
    const LAUNCHES: usize = dotcompute::backend::FAULT_SLOTS as usize + 300;
    let a = dc.buffer_from_slice(&[8i32; 16]).unwrap();
    let twos = dc.buffer_from_slice(&[2i32; 16]).unwrap();
    let zero = dc.buffer_zeroed::<i32>(16).unwrap();
    let mut outs: Vec<UnifiedBuffer<i32>> = (0..LAUNCHES)
        .map(|_| dc.buffer_zeroed(16).unwrap())
        .collect();
    let faults = |k: usize| k % 97 == 5;
    for (k, out) in outs.iter_mut().enumerate() {
        let divisor = if faults(k) { &zero } else { &twos };
        let _ = divide::launch(acc, 16, &a, divisor, out);
    }
    for (k, out) in outs.iter().enumerate() {
        if faults(k) {
            expect_division_by_zero(out.to_vec(), &format!("output {k}"));
        } else {
            assert_eq!(out.to_vec().unwrap(), [4; 16], "output {k}");
        }
    }
    drain(acc);
}

/// On an asynchronous device (wgpu, CUDA, OpenCL), launches that fault return `Ok`; the
/// fault comes back from `synchronize()` once and from reads of what the launch wrote, naming
/// the kernel's parameter, the index, the division by zero or the `panic!` message.
pub fn faults_are_named_at_synchronize_and_on_read(dc: &ComputeService, acc: &Accelerator) {
    let src = dc.buffer_from_slice(&[1.0f32; 64]).unwrap();
    let mut dst = dc.buffer_zeroed::<f32>(64).unwrap();
    shifted_copy::launch(acc, 64, 10, &src, &mut dst).unwrap();
    let err = acc.synchronize().unwrap_err();
    assert!(
        matches!(err.fault(), Some(KernelFault::OutOfBounds { index, len: 64, .. }) if (64..74).contains(index)),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("out of bounds for buffer `src` of length 64"),
        "{err}"
    );
    acc.synchronize().unwrap();

    let a = dc.buffer_from_slice(&[10, i32::MIN, 7]).unwrap();
    let b = dc.buffer_from_slice(&[2, 1, 0]).unwrap();
    let mut out = dc.buffer_zeroed::<i32>(3).unwrap();
    divide::launch(acc, 3, &a, &b, &mut out).unwrap();
    let err = out.to_vec().unwrap_err();
    assert_eq!(err.fault(), Some(&KernelFault::DivisionByZero), "{err}");
    // The read does not take the fault from synchronize(), which returns it once.
    let err = acc.synchronize().unwrap_err();
    assert_eq!(err.fault(), Some(&KernelFault::DivisionByZero), "{err}");

    let mut flags = dc.buffer_zeroed::<u32>(1 << 16).unwrap();
    explode::launch(acc, 1 << 16, 5, &mut flags).unwrap();
    let err = acc.synchronize().unwrap_err();
    assert!(
        err.to_string()
            .contains("panicked: work item beyond the limit"),
        "{err}"
    );
    explode::launch(acc, 1 << 16, 1 << 16, &mut flags).unwrap();
    assert!(flags.to_vec().unwrap().iter().all(|&v| v == 1));
}

/// Stamps out the fault-ownership checks as tests for one backend: `$setup` returns
/// `Option<(ComputeService, Accelerator)>` (`None`: skipped, and said so by the setup).
#[macro_export]
macro_rules! fault_rule_tests {
    ($setup:expr) => {
        $crate::fault_rule_tests!(@case $setup, reads_report_only_their_writers_fault);
        $crate::fault_rule_tests!(@case $setup, synchronize_reports_each_fault_once);
        $crate::fault_rule_tests!(@case $setup, readers_of_a_faulted_buffer_report_its_fault);
        $crate::fault_rule_tests!(@case $setup, more_launches_than_fault_records);
    };
    (@case $setup:expr, $check:ident) => {
        #[test]
        fn $check() {
            let setup: fn() -> Option<(dotcompute::ComputeService, dotcompute::Accelerator)> =
                $setup;
            if let Some((dc, acc)) = setup() {
                $crate::fault_rules::$check(&dc, &acc);
            }
        }
    };
}
