//! Without an OpenCL platform the backend is absent, and its report says why in one line.
//! The check runs in a child process whose ICD loader looks for platforms in an empty folder
//! (`OCL_ICD_VENDORS`): discovery happens once per process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute::{BackendKind, BackendStatus, ComputeService};
use dotcompute_opencl::OpenClPlugin;

const CHILD: &str = "DOTCOMPUTE_OPENCL_TEST_CHILD";

#[test]
fn without_a_platform_the_backend_is_absent_with_the_reason() {
    if std::env::var_os(CHILD).is_some() {
        let dc = ComputeService::builder()
            .plugin(Box::new(OpenClPlugin::default()))
            .build()
            .unwrap();
        assert!(dc.accelerator(BackendKind::OpenCl).is_err());
        // The CPU backend is unaffected.
        assert!(dc.accelerator(BackendKind::Cpu).is_ok());
        let report = dc
            .backend_reports()
            .into_iter()
            .find(|r| r.backend == BackendKind::OpenCl)
            .unwrap();
        let BackendStatus::Unavailable { reason } = &report.status else {
            panic!("{report:?}");
        };
        assert!(reason.contains("OpenCL is not available"), "{reason}");
        assert!(!reason.contains('\n'), "one line: {reason}");
        return;
    }
    let empty = std::env::temp_dir().join(format!("dotcompute-no-icd-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "without_a_platform_the_backend_is_absent_with_the_reason",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env("OCL_ICD_VENDORS", &empty)
        // It would name platforms' libraries directly, past the folder.
        .env_remove("OCL_ICD_FILENAMES")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir(&empty);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
