//! The fault record GPU kernels write (`dotcompute_ir::emit::abi`): eight `u32`s (code,
//! parameter, index low and high, launch id), decoded into the report of the launch that
//! wrote it. Shared by the GPU backends so that a fault reads the same on every device.

use crate::definition::KernelDefinition;
use crate::fault::KernelFault;
use crate::launch_tracker::FaultReport;
use dotcompute_ir::emit::abi::fault_codes;

/// What a backend remembers of a launch to name its fault.
#[derive(Clone, Copy, Debug)]
pub struct LaunchInfo<'a> {
    /// The kernel.
    pub kernel: &'static KernelDefinition,
    /// Each parameter's buffer length (0 for scalars).
    pub buffer_lens: &'a [u64],
    /// The kernel's `panic!` messages, by number.
    pub traps: &'a [String],
}

/// The fault in a launch's own record, or `None` when it ran cleanly (code 0);
/// `accelerator` names the device in the message (formatted only when there is a fault).
/// (The record's launch id, word 4, is the tracker's to check.)
pub fn fault_from_record(
    record: &[u32],
    launch: LaunchInfo<'_>,
    accelerator: &dyn std::fmt::Display,
) -> Option<FaultReport> {
    let word = |i: usize| record.get(i).copied().unwrap_or(0);
    let code = word(0);
    if code == 0 {
        return None;
    }
    let param = word(1);
    let index = u64::from(word(2)) | (u64::from(word(3)) << 32);
    let fault = match code {
        fault_codes::OUT_OF_BOUNDS => KernelFault::OutOfBounds {
            param,
            index,
            len: launch.buffer_lens.get(param as usize).copied().unwrap_or(0),
        },
        fault_codes::ARRAY_OUT_OF_BOUNDS => KernelFault::ArrayOutOfBounds {
            array: param,
            index,
            len: launch
                .kernel
                .ir()
                .ok()
                .and_then(|k| k.array(param))
                .map_or(0, |(_, len, _)| u64::from(len)),
        },
        fault_codes::DIVISION_BY_ZERO => KernelFault::DivisionByZero,
        fault_codes::DIVISION_OVERFLOW => KernelFault::DivisionOverflow,
        fault_codes::INVALID_CLAMP => KernelFault::InvalidClamp,
        fault_codes::ZERO_STEP => KernelFault::ZeroStep,
        fault_codes::LOOP_LIMIT => KernelFault::LoopLimit,
        _ => KernelFault::Panic {
            message: launch
                .traps
                .get(index as usize)
                .cloned()
                .unwrap_or_else(|| format!("fault code {code}"))
                .into(),
        },
    };
    let message = fault.describe(&|s| launch.kernel.subject_name(s));
    Some(FaultReport {
        kernel: launch.kernel.name().to_string(),
        accelerator: accelerator.to_string(),
        message,
        fault,
    })
}
