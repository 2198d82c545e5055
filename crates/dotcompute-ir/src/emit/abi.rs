//! The launch ABI the GPU emitters share: the parameter block's slots and the fault record's
//! codes, so that one host-side implementation serves WGSL, CUDA and OpenCL C alike.
//!
//! The fault record is eight `u32`s: code, parameter, index (low, high), launch id; a kernel
//! writes the first fault of a launch with a compare-exchange on the code.

/// Where each value lives in the parameter block: slot `k` is bytes `8k..8k+8`, values
/// little-endian at the start of their slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamsLayout {
    /// Total bytes. Kernel parameter `i` (a scalar's value, a buffer's element count as
    /// `u64`) is in slot [`slots::param`]`(i)`.
    pub size: u32,
}

/// Fixed slots of the parameter block.
pub mod slots {
    /// Grid size x, y, z (`u64` each): slots 0, 1, 2.
    pub const GRID: u32 = 0;
    /// Group size x, y, z (`u64` each): slots 3, 4, 5.
    pub const GROUP: u32 = 3;
    /// Total work items (`u64`).
    pub const TOTAL: u32 = 6;
    /// Launch id (`u32`, the slot's low half), copied into the fault record; in the high half,
    /// where the launch's fault record starts in the record array, in `u32` words (OpenCL,
    /// which binds the whole array to every launch; 0 elsewhere).
    pub const LAUNCH_ID: u32 = 7;
    /// `-0.0f32`, added to every float product (see the module docs on contraction).
    pub const NEG_ZERO_F32: u32 = 8;
    /// `-0.0f64`, likewise.
    pub const NEG_ZERO_F64: u32 = 9;
    /// First parameter slot.
    pub const FIRST_PARAM: u32 = 10;

    /// The slot of kernel parameter `index`.
    pub const fn param(index: usize) -> u32 {
        FIRST_PARAM + index as u32
    }
}

/// Fault codes written by the module.
pub mod fault_codes {
    /// Out-of-bounds access (param, index).
    pub const OUT_OF_BOUNDS: u32 = 1;
    /// Integer division or remainder by zero.
    pub const DIVISION_BY_ZERO: u32 = 2;
    /// Integer `MIN / -1`.
    pub const DIVISION_OVERFLOW: u32 = 3;
    /// `clamp` with bad bounds.
    pub const INVALID_CLAMP: u32 = 4;
    /// `step_by(0)`.
    pub const ZERO_STEP: u32 = 5;
    /// `panic!`: the index field holds the message number (the program's `traps`).
    pub const PANIC: u32 = 6;
    /// Out-of-bounds access of a shared or private array (the parameter field holds the
    /// array's number: shared arrays first, then private ones; see `Kernel::array`).
    pub const ARRAY_OUT_OF_BOUNDS: u32 = 7;
    /// The driver ended a loop early (see `WgslOptions::loop_limit_check`): the item's results
    /// cannot be trusted.
    pub const LOOP_LIMIT: u32 = 8;
}
