//! Unified buffers across the CPU and a wgpu device: data moves only when the other side
//! needs it, and device copies come from a per-device pool.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod support;

use dotcompute::prelude::*;

#[kernel]
fn add_one(data: &mut [u32]) {
    let i = global_id();
    data[i] += 1;
}

#[kernel]
fn double_into(src: &[f32], dst: &mut [f32]) {
    let i = global_id();
    dst[i] = src[i] * 2.0;
}

#[test]
fn a_buffer_moves_between_cpu_and_device_as_it_is_written() {
    let Some((dc, cpu, gpu)) = support::cpu_and_wgpu() else {
        return;
    };
    let n = 1000;
    let mut data = dc.buffer_zeroed::<u32>(n).unwrap();
    for round in 0..3u32 {
        add_one::launch(&gpu, n, &mut data).unwrap();
        add_one::launch(&gpu, n, &mut data).unwrap();
        add_one::launch(&cpu, n, &mut data).unwrap();
        let expected = 3 * (round + 1);
        assert!(
            data.to_vec().unwrap().iter().all(|&v| v == expected),
            "round {round}"
        );
    }
    // Host writes make the device copy stale; the next launch uploads them.
    {
        let mut host = data.write().unwrap();
        host[7] = 100;
    }
    add_one::launch(&gpu, n, &mut data).unwrap();
    let got = data.to_vec().unwrap();
    assert_eq!(got[7], 101);
    assert_eq!(got[8], 10);
    // Overwriting a buffer whose current copy is on the device downloads nothing.
    add_one::launch(&gpu, n, &mut data).unwrap();
    let downloads = data.transfers().downloads;
    data.copy_from_slice(&vec![40; n]).unwrap();
    assert_eq!(data.transfers().downloads, downloads);
    add_one::launch(&gpu, n, &mut data).unwrap();
    assert!(data.to_vec().unwrap().iter().all(|&v| v == 41));
}

#[test]
fn data_moves_once_per_change_and_odd_sizes_survive() {
    let Some((dc, _, gpu)) = support::cpu_and_wgpu() else {
        return;
    };
    // 3 elements of 4 bytes, 1 element, and a length that is not a multiple of anything.
    for n in [1usize, 3, 1001, 65_537] {
        let src: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let src = dc.buffer_from_slice(&src).unwrap();
        let mut dst = dc.buffer_zeroed::<f32>(n).unwrap();
        double_into::launch(&gpu, n, &src, &mut dst).unwrap();
        double_into::launch(&gpu, n, &src, &mut dst).unwrap();
        let got = dst.to_vec().unwrap();
        assert!(
            got.iter().enumerate().all(|(i, &v)| v == 2.0 * i as f32),
            "n = {n}"
        );
        let _ = dst.to_vec().unwrap();
        // Reading an input the device only read needs no download.
        assert_eq!(src.to_vec().unwrap().len(), n);
        let bytes = 4 * n as u64;
        let src_moves = src.transfers();
        assert_eq!((src_moves.uploads, src_moves.downloads), (1, 0), "n = {n}");
        assert_eq!(src_moves.bytes_uploaded, bytes);
        // The output's (zeroed) host copy is uploaded once, and downloaded once.
        let dst_moves = dst.transfers();
        assert_eq!((dst_moves.uploads, dst_moves.downloads), (1, 1), "n = {n}");
        assert_eq!(dst_moves.bytes_downloaded, bytes);
    }
}

#[test]
fn device_copies_come_from_a_pool_that_reuses_them() {
    let Some((dc, _, gpu)) = support::cpu_and_wgpu() else {
        return;
    };
    let before = gpu.memory_statistics().expect("wgpu devices have a pool");
    for _ in 0..4 {
        let mut data = dc.buffer_zeroed::<u32>(4096).unwrap();
        add_one::launch(&gpu, 4096, &mut data).unwrap();
        assert!(data.to_vec().unwrap().iter().all(|&v| v == 1));
    }
    let after = gpu.memory_statistics().unwrap();
    assert_eq!(after.requests - before.requests, 4, "{after:?}");
    // The first copy is made; the other three reuse it.
    assert!(after.hits - before.hits >= 3, "{after:?}");
    assert_eq!(after.bytes_in_use, before.bytes_in_use, "{after:?}");
    assert!(after.bytes_cached >= 4096 * 4, "{after:?}");
}

#[test]
fn the_cpu_has_no_device_pool_and_moves_nothing() {
    let dc = ComputeService::builder().without_wgpu().build().unwrap();
    let cpu = dc.accelerator(BackendKind::Cpu).unwrap();
    assert!(cpu.memory_statistics().is_none());
    // CPU kernels use the host copy: nothing moves.
    let mut data = dc.buffer_zeroed::<u32>(64).unwrap();
    add_one::launch(&cpu, 64, &mut data).unwrap();
    assert_eq!(data.to_vec().unwrap(), [1; 64]);
    assert_eq!(data.transfers(), dotcompute::TransferStatistics::default());
}

#[test]
fn kernels_are_timed_on_the_device_where_it_has_timestamps() {
    let Some((dc, _, gpu)) = support::cpu_and_wgpu() else {
        return;
    };
    let has_timestamps = gpu.info().capabilities.device_timing;
    let mut data = dc.buffer_zeroed::<u32>(1 << 16).unwrap();
    for _ in 0..3 {
        add_one::launch(&gpu, 1 << 16, &mut data).unwrap();
    }
    gpu.synchronize().unwrap();
    let stats = dc
        .statistics()
        .into_iter()
        .find(|s| s.kernel == "add_one" && s.accelerator == gpu.id().to_string())
        .unwrap();
    assert_eq!(stats.launches.launches, 3);
    if !has_timestamps {
        assert!(stats.device.is_none(), "{stats:?}");
        return;
    }
    let device = stats.device.expect("timestamps are on");
    assert_eq!(device.timed_launches, 3, "{device:?}");
    assert!(device.min > std::time::Duration::ZERO, "{device:?}");
    assert!(
        device.min <= device.mean() && device.mean() <= device.max,
        "{device:?}"
    );
    // Timing continues after a synchronisation (slots are reused).
    add_one::launch(&gpu, 1 << 16, &mut data).unwrap();
    assert!(data.to_vec().unwrap().iter().all(|&v| v == 4));
    let again = dc
        .statistics()
        .into_iter()
        .find(|s| s.kernel == "add_one" && s.accelerator == gpu.id().to_string())
        .unwrap();
    assert_eq!(again.device.unwrap().timed_launches, 4);
}

#[test]
fn a_read_only_launch_works_while_the_host_reads_the_buffer() {
    let Some((dc, _, gpu)) = support::cpu_and_wgpu() else {
        return;
    };
    let n = 256;
    let src = dc.buffer_from_slice(&vec![1.5f32; n]).unwrap();
    let mut dst = dc.buffer_zeroed::<f32>(n).unwrap();
    // On another thread with a deadline, so that a deadlock fails the test instead of
    // hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(|| {
            let guard = src.read().unwrap();
            let launched = double_into::launch(&gpu, n, &src, &mut dst);
            let first = guard[0];
            drop(guard);
            let _ = tx.send((launched, first));
        });
        let (launched, first) = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("a launch reading a buffer the host is reading must not deadlock");
        launched.unwrap();
        assert_eq!(first, 1.5);
    });
    assert!(dst.to_vec().unwrap().iter().all(|&v| v == 3.0));
}
