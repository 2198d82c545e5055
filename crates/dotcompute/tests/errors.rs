//! What bad input gets: a clear `Error`, nothing lost, the process alive.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute::backend::{BackendPlugin, Device};
use dotcompute::cpu_abi::CpuLaunch;
use dotcompute::ir::{BoundsChecks, Kernel as IrKernel, KernelHash};
use dotcompute::prelude::*;
use dotcompute::{BackendStatus, Error, KernelDefinition, KernelFault, PoolConfig};
use dotcompute_conformance::faulting::{divide, explode, shifted_copy};
use std::sync::Arc;

#[kernel]
fn copy(src: &[f32], dst: &mut [f32]) {
    let i = global_id();
    dst[i] = src[i];
}

#[kernel]
fn checked_assert(out: &mut [u32]) {
    let i = global_id();
    assert!(i < 3, "only three work items allowed");
    out[i] = 2;
}

#[kernel]
fn bad_clamp(lo: f32, hi: f32, out: &mut [f32]) {
    out[0] = out[0].clamp(lo, hi);
}

#[kernel]
fn stepper(step: usize, out: &mut [u32]) {
    let mut n = 0u32;
    for _ in (0..10usize).step_by(step) {
        n += 1;
    }
    out[0] = n;
}

#[kernel(unchecked)]
fn raw_copy(src: &[f32], dst: &mut [f32]) {
    let i = global_id();
    dst[i] = src[i];
}

fn service() -> (ComputeService, Accelerator) {
    let dc = ComputeService::new().unwrap();
    let acc = dc.accelerator(BackendKind::Cpu).unwrap();
    (dc, acc)
}

#[test]
fn launch_by_name_checks_argument_count() {
    let (dc, acc) = service();
    dc.register(&copy).unwrap();
    let src = dc.buffer_from_slice(&[1.0f32; 4]).unwrap();
    let err = dc
        .launch_by_name(&acc, "copy", 4, &mut [KernelArg::buffer(&src)])
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ArgumentCount {
                expected: 2,
                found: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "kernel `copy` takes 2 argument(s), but 1 were passed"
    );
}

#[test]
fn launch_by_name_checks_types_and_access() {
    let (dc, acc) = service();
    dc.register(&copy).unwrap();
    let src = dc.buffer_from_slice(&[1.0f32; 4]).unwrap();
    let mut ints = dc.buffer_zeroed::<u32>(4).unwrap();
    let mut dst = dc.buffer_zeroed::<f32>(4).unwrap();

    // Element type.
    let err = dc
        .launch_by_name(
            &acc,
            "copy",
            4,
            &mut [KernelArg::buffer(&src), KernelArg::buffer_mut(&mut ints)],
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("parameter `dst` is `&mut [f32]`"),
        "{err}"
    );
    assert!(
        err.to_string().contains("a writable buffer of u32"),
        "{err}"
    );

    // A scalar for a buffer.
    let err = dc
        .launch_by_name(
            &acc,
            "copy",
            4,
            &mut [KernelArg::scalar(1.0f32), KernelArg::buffer_mut(&mut dst)],
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("parameter `src` is `&[f32]`, but a scalar f32 was passed"),
        "{err}"
    );

    // Access mode: the kernel writes `dst`, so a read-only binding is refused.
    let dst_ro = dc.buffer_zeroed::<f32>(4).unwrap();
    let err = dc
        .launch_by_name(
            &acc,
            "copy",
            4,
            &mut [KernelArg::buffer(&src), KernelArg::buffer(&dst_ro)],
        )
        .unwrap_err();
    assert!(matches!(err, Error::ArgumentMismatch { .. }), "{err}");
    assert!(err.to_string().contains("the kernel writes it"), "{err}");

    // Nothing was lost: the buffers still hold their data, and a correct launch works.
    dc.launch_by_name(
        &acc,
        "copy",
        4,
        &mut [KernelArg::buffer(&src), KernelArg::buffer_mut(&mut dst)],
    )
    .unwrap();
    assert_eq!(dst.to_vec().unwrap(), [1.0; 4]);
}

#[test]
fn unknown_and_duplicate_kernel_names_are_errors() {
    let (dc, acc) = service();
    let err = dc.launch_by_name(&acc, "nope", 1, &mut []).unwrap_err();
    assert!(matches!(err, Error::UnknownKernel { .. }), "{err}");
    assert!(err.to_string().contains("none are registered"), "{err}");
    dc.register(&copy).unwrap();
    dc.register(&copy).unwrap(); // the same kernel twice is fine
    let err = dc.launch_by_name(&acc, "nope", 1, &mut []).unwrap_err();
    assert!(err.to_string().contains("registered: copy"), "{err}");
}

#[test]
fn buffers_of_another_service_are_refused() {
    let (dc, acc) = service();
    let other = ComputeService::new().unwrap();
    let src = other.buffer_from_slice(&[1.0f32; 4]).unwrap();
    let mut dst = dc.buffer_zeroed::<f32>(4).unwrap();
    let err = copy::launch(&acc, 4, &src, &mut dst).unwrap_err();
    assert!(
        matches!(err, Error::ForeignBuffer { ref param, .. } if param == "src"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("belongs to another ComputeService"),
        "{err}"
    );
}

#[test]
fn zero_and_overflowing_grids_are_refused() {
    let (dc, acc) = service();
    let src = dc.buffer_from_slice(&[1.0f32; 4]).unwrap();
    let mut dst = dc.buffer_zeroed::<f32>(4).unwrap();
    for grid in [
        Grid::d1(0),
        Grid::d2(4, 0),
        Grid::d3(1, 1, 0),
        Grid::from(-3),
    ] {
        let err = copy::launch(&acc, grid, &src, &mut dst).unwrap_err();
        assert!(matches!(err, Error::InvalidGrid { .. }), "{grid:?}: {err}");
        assert!(err.to_string().contains("no work items"), "{err}");
    }
    let err = copy::launch(&acc, Grid::d3(u64::MAX, 2, 1), &src, &mut dst).unwrap_err();
    assert!(
        err.to_string().contains("more than u64::MAX work items"),
        "{err}"
    );
    let err =
        copy::launch(&acc, Grid::d1(4).with_group_size([0, 1, 1]), &src, &mut dst).unwrap_err();
    assert!(err.to_string().contains("work-group size of zero"), "{err}");
}

#[test]
fn out_of_bounds_access_names_kernel_buffer_and_index() {
    let (dc, acc) = service();
    let src = dc.buffer_from_slice(&[1.0f32; 64]).unwrap();
    let mut dst = dc.buffer_from_slice(&[5.0f32; 64]).unwrap();
    // Reads past the end of `src` for the last 10 work items.
    let err = shifted_copy::launch(&acc, 64, 10, &src, &mut dst).unwrap_err();
    match err.fault() {
        Some(KernelFault::OutOfBounds { index, len, .. }) => {
            assert!((64..74).contains(index), "{index}");
            assert_eq!(*len, 64);
        }
        other => panic!("expected an out-of-bounds fault, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.starts_with("kernel `shifted_copy` on "), "{msg}");
    assert!(
        msg.contains("out of bounds for buffer `src` of length 64"),
        "{msg}"
    );
    // Grid larger than both buffers: work item 64 reads `src[64]` before it writes, so the
    // read faults, at the first index past the end.
    let err = copy::launch(&acc, 70, &src, &mut dst).unwrap_err();
    assert_eq!(
        err.fault(),
        Some(&KernelFault::OutOfBounds {
            param: 0,
            index: 64,
            len: 64
        }),
        "{err}"
    );
    assert!(
        err.to_string().contains("out of bounds for buffer `src`"),
        "{err}"
    );
    // Large grids run in parallel: the fault still comes back as an error.
    let big = dc.buffer_zeroed::<f32>(1 << 20).unwrap();
    let mut big_out = dc.buffer_zeroed::<f32>(1 << 20).unwrap();
    let err = shifted_copy::launch(&acc, 1 << 20, 1, &big, &mut big_out).unwrap_err();
    assert!(
        matches!(err.fault(), Some(KernelFault::OutOfBounds { index, .. }) if *index == 1 << 20),
        "{err}"
    );
    // The accelerator still works.
    copy::launch(&acc, 64, &src, &mut dst).unwrap();
}

#[test]
fn integer_division_faults_are_errors() {
    let (dc, acc) = service();
    let a = dc.buffer_from_slice(&[10, i32::MIN, 7]).unwrap();
    let mut out = dc.buffer_zeroed::<i32>(3).unwrap();
    let b = dc.buffer_from_slice(&[2, 1, 0]).unwrap();
    let err = divide::launch(&acc, 3, &a, &b, &mut out).unwrap_err();
    assert_eq!(err.fault(), Some(&KernelFault::DivisionByZero), "{err}");
    let b = dc.buffer_from_slice(&[2, -1, 1]).unwrap();
    let err = divide::launch(&acc, 3, &a, &b, &mut out).unwrap_err();
    assert_eq!(err.fault(), Some(&KernelFault::DivisionOverflow), "{err}");
    let b = dc.buffer_from_slice(&[2, 2, 7]).unwrap();
    divide::launch(&acc, 3, &a, &b, &mut out).unwrap();
    assert_eq!(out.to_vec().unwrap(), [5, i32::MIN / 2, 1]);
}

/// After a fault, `to_vec` refuses the contents; `read_after_fault` gives what the work
/// items wrote, with the fault, and `wait` reports the fault without copying.
#[test]
fn contents_after_a_fault_are_readable_on_request() {
    let (dc, acc) = service();
    let a = dc.buffer_from_slice(&[10, 9, 8]).unwrap();
    let b = dc.buffer_from_slice(&[2, 0, 4]).unwrap();
    let mut out = dc.buffer_from_slice(&[-1, -1, -1]).unwrap();
    divide::launch(&acc, 3, &a, &b, &mut out).unwrap_err();
    assert_eq!(
        out.wait().unwrap_err().fault(),
        Some(&KernelFault::DivisionByZero)
    );
    assert!(out.to_vec().is_err());
    let (contents, fault) = {
        let (read, fault) = out.read_after_fault().unwrap();
        (read.to_vec(), fault)
    };
    assert_eq!(
        fault.as_ref().and_then(Error::fault),
        Some(&KernelFault::DivisionByZero)
    );
    // Item 1 stopped at its fault; item 2 ran in full or (the CPU stops a span at a fault)
    // not at all.
    assert_eq!(contents[..2], [5, -1]);
    assert!(contents[2] == 2 || contents[2] == -1, "{contents:?}");
    // Contents written anew are the buffer's again.
    out.copy_from_slice(&[1, 2, 3]).unwrap();
    out.wait().unwrap();
    let (contents, fault) = out.read_after_fault().unwrap();
    assert_eq!(*contents, [1, 2, 3]);
    assert!(fault.is_none());
}

#[test]
fn panics_in_kernels_are_errors_and_the_pool_survives() {
    let (dc, acc) = service();
    let mut out = dc.buffer_zeroed::<u32>(1 << 20).unwrap();
    // Small and large grids (inline and on the pool).
    for n in [8usize, 1 << 20] {
        let err = explode::launch(&acc, n, 5, &mut out).unwrap_err();
        assert!(
            matches!(err.fault(), Some(KernelFault::Panic { message }) if message == "work item beyond the limit"),
            "{err}"
        );
        assert!(err.to_string().contains("kernel `explode`"), "{err}");
        assert!(
            err.to_string()
                .contains("panicked: work item beyond the limit"),
            "{err}"
        );
    }
    explode::launch(&acc, 1 << 20, 1 << 20, &mut out).unwrap();
    assert!(out.to_vec().unwrap().iter().all(|&v| v == 1));

    let mut small = dc.buffer_zeroed::<u32>(8).unwrap();
    let err = checked_assert::launch(&acc, 8, &mut small).unwrap_err();
    assert!(
        err.to_string().contains("only three work items allowed"),
        "{err}"
    );
    checked_assert::launch(&acc, 3, &mut small).unwrap();
}

/// A CPU entry point that panics like a bug in backend or generated code would.
fn panicking_entry(_: &CpuLaunch<'_>, start: u64, _end: u64) -> Result<(), KernelFault> {
    if start == 0 {
        panic!("a bug in native code");
    }
    Ok(())
}

fn panicking_definition() -> &'static KernelDefinition {
    let ir = IrKernel {
        name: "native_bug".into(),
        params: vec![],
        locals: vec![],
        body: vec![],
        functions: vec![],
        bounds_checks: BoundsChecks::Checked,
        shared: vec![],
        private: vec![],
    };
    let hash = KernelHash::of(&ir);
    let bytes: &'static [u8] = Box::leak(ir.to_bytes().into_boxed_slice());
    // SAFETY: the entry point takes no arguments and accesses no buffer, matching the empty
    // parameter list of this IR.
    let def = unsafe {
        KernelDefinition::new(
            "native_bug",
            &[],
            hash,
            BoundsChecks::Checked,
            bytes,
            Some(panicking_entry),
        )
    };
    Box::leak(Box::new(def))
}

#[test]
fn rust_panics_in_native_code_are_caught() {
    let (dc, acc) = service();
    let def = panicking_definition();
    for n in [1u64, 1 << 22] {
        let err = acc.launch(def, Grid::d1(n), &mut []).unwrap_err();
        assert!(
            matches!(err.fault(), Some(KernelFault::Panic { message }) if message == "a bug in native code"),
            "{err}"
        );
    }
    // Same pool, next launch.
    let src = dc.buffer_from_slice(&[3.0f32; 5]).unwrap();
    let mut dst = dc.buffer_zeroed::<f32>(5).unwrap();
    copy::launch(&acc, 5, &src, &mut dst).unwrap();
    assert_eq!(dst.to_vec().unwrap(), [3.0; 5]);
    let stats = dc.statistics();
    let native = stats.iter().find(|s| s.kernel == "native_bug").unwrap();
    assert_eq!((native.launches.launches, native.launches.faults), (2, 2));
}

#[test]
fn clamp_and_step_faults_are_errors() {
    let (dc, acc) = service();
    let mut out = dc.buffer_from_slice(&[5.0f32]).unwrap();
    let err = bad_clamp::launch(&acc, 1, 1.0, 0.0, &mut out).unwrap_err();
    assert_eq!(err.fault(), Some(&KernelFault::InvalidClamp));
    // The kernel reads `out`, whose contents the fault left undefined: refused, saying why,
    // until the host overwrites it.
    let err = bad_clamp::launch(&acc, 1, 0.0, 1.0, &mut out).unwrap_err();
    assert_eq!(err.fault(), Some(&KernelFault::InvalidClamp));
    assert!(err.to_string().contains("buffer `out`"), "{err}");
    assert!(err.to_string().contains("copy_from_slice"), "{err}");
    out.copy_from_slice(&[5.0]).unwrap();
    let err = bad_clamp::launch(&acc, 1, f32::NAN, 0.0, &mut out).unwrap_err();
    assert_eq!(err.fault(), Some(&KernelFault::InvalidClamp));
    out.copy_from_slice(&[5.0]).unwrap();
    bad_clamp::launch(&acc, 1, 0.0, 1.0, &mut out).unwrap();
    assert_eq!(out.to_vec().unwrap(), [1.0]);

    let mut n = dc.buffer_zeroed::<u32>(1).unwrap();
    let err = stepper::launch(&acc, 1, 0, &mut n).unwrap_err();
    assert_eq!(err.fault(), Some(&KernelFault::ZeroStep));
    n.copy_from_slice(&[0]).unwrap();
    stepper::launch(&acc, 1, 3, &mut n).unwrap();
    assert_eq!(n.to_vec().unwrap(), [4]);
}

#[test]
fn unchecked_kernels_are_unsafe_to_launch_and_refused_by_name() {
    let (dc, acc) = service();
    let src = dc.buffer_from_slice(&[2.0f32; 8]).unwrap();
    let mut dst = dc.buffer_zeroed::<f32>(8).unwrap();
    // SAFETY: 8 work items read and write elements 0..8 of buffers of 8 elements.
    unsafe { raw_copy::launch(&acc, 8, &src, &mut dst) }.unwrap();
    assert_eq!(dst.to_vec().unwrap(), [2.0; 8]);
    dc.register(&raw_copy).unwrap();
    let err = dc
        .launch_by_name(
            &acc,
            "raw_copy",
            8,
            &mut [KernelArg::buffer(&src), KernelArg::buffer_mut(&mut dst)],
        )
        .unwrap_err();
    assert!(matches!(err, Error::UncheckedKernel { .. }), "{err}");
}

#[test]
fn pool_limit_is_an_error_and_nothing_is_lost() {
    let dc = ComputeService::builder()
        .host_pool(PoolConfig {
            limit: Some(1 << 20),
            ..PoolConfig::default()
        })
        .build()
        .unwrap();
    let keep = dc.buffer_from_slice(&[7u32; 1000]).unwrap();
    let err = dc.buffer_zeroed::<u8>(2 << 20).unwrap_err();
    assert!(matches!(err, Error::PoolLimit { .. }), "{err}");
    assert!(err.to_string().contains("limit exceeded"), "{err}");
    assert_eq!(keep.to_vec().unwrap(), vec![7u32; 1000]);
    assert!(dc.buffer_zeroed::<u8>(512 << 10).is_ok());
}

struct FailingPlugin;
impl BackendPlugin for FailingPlugin {
    fn name(&self) -> &str {
        "failing"
    }
    fn backend(&self) -> BackendKind {
        BackendKind::Plugin("failing")
    }
    fn discover(&self) -> Result<Vec<Arc<dyn Device>>, Error> {
        Err(Error::Backend {
            backend: "failing".into(),
            message: "no driver installed".into(),
            source: None,
        })
    }
}

struct PanickingPlugin;
impl BackendPlugin for PanickingPlugin {
    fn name(&self) -> &str {
        "panicking"
    }
    fn backend(&self) -> BackendKind {
        BackendKind::Plugin("panicking")
    }
    fn discover(&self) -> Result<Vec<Arc<dyn Device>>, Error> {
        panic!("driver crashed while probing")
    }
}

#[test]
fn failing_plugins_are_isolated_and_reported() {
    let dc = ComputeService::builder()
        .without_wgpu()
        .without_cuda()
        .without_opencl()
        .plugin(Box::new(FailingPlugin))
        .plugin(Box::new(PanickingPlugin))
        .build()
        .unwrap();
    // Discovery is lazy: nothing probed yet.
    assert!(
        dc.backend_reports()
            .iter()
            .all(|r| r.status == BackendStatus::NotProbed)
    );
    let accs = dc.accelerators();
    assert_eq!(accs.len(), 1);
    assert_eq!(accs[0].info().id.backend, BackendKind::Cpu);
    let reports = dc.backend_reports();
    let status = |name: &str| {
        reports
            .iter()
            .find(|r| r.plugin == name)
            .map(|r| r.status.clone())
    };
    assert_eq!(
        status("cpu"),
        Some(BackendStatus::Available { accelerators: 1 })
    );
    assert!(
        matches!(status("failing"), Some(BackendStatus::Unavailable { reason }) if reason.contains("no driver installed"))
    );
    assert!(
        matches!(status("panicking"), Some(BackendStatus::Unavailable { reason }) if reason.contains("driver crashed"))
    );
    // The service works, and asking for the failed backend says why it is missing.
    let err = dc.accelerator(BackendKind::Plugin("failing")).unwrap_err();
    assert!(err.to_string().contains("no driver installed"), "{err}");
    let cpu = dc.best_accelerator().unwrap();
    let src = dc.buffer_from_slice(&[1.0f32]).unwrap();
    let mut dst = dc.buffer_zeroed::<f32>(1).unwrap();
    copy::launch(&cpu, 1, &src, &mut dst).unwrap();
}

#[test]
fn a_second_plugin_for_a_backend_is_reported_not_used() {
    let dc = ComputeService::builder()
        .without_wgpu()
        .without_cuda()
        .without_opencl()
        .plugin(Box::new(FailingPlugin))
        .plugin(Box::new(FailingPlugin))
        .build()
        .unwrap();
    let _ = dc.accelerators();
    let reports: Vec<_> = dc
        .backend_reports()
        .into_iter()
        .filter(|r| r.plugin == "failing")
        .collect();
    assert_eq!(reports.len(), 2);
    assert!(
        matches!(&reports[1].status, BackendStatus::Unavailable { reason } if reason.contains("register one plugin per backend")),
        "{:?}",
        reports[1].status
    );
}

#[test]
fn a_service_without_backends_says_so() {
    let dc = ComputeService::builder()
        .without_cpu()
        .without_wgpu()
        .without_cuda()
        .without_opencl()
        .build()
        .unwrap();
    let err = dc.best_accelerator().unwrap_err();
    assert!(
        err.to_string()
            .contains("no backend plugins are registered"),
        "{err}"
    );
    let err = dc.accelerator(BackendKind::Cpu).unwrap_err();
    assert!(err.to_string().contains("is its cargo feature on"), "{err}");
}

#[test]
fn length_mismatch_on_copy_is_an_error() {
    let (dc, _) = service();
    let mut b = dc.buffer_zeroed::<f32>(3).unwrap();
    let err = b.copy_from_slice(&[1.0, 2.0]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::LengthMismatch {
                expected: 3,
                found: 2
            }
        ),
        "{err}"
    );
    b.copy_from_slice(&[1.0, 2.0, 3.0]).unwrap();
    assert_eq!(b.to_vec().unwrap(), [1.0, 2.0, 3.0]);
}
