//! The parameter block GPU kernels read (`dotcompute_ir::emit::abi`): grid, group size, work
//! items, launch id, and each parameter (a scalar's value, a buffer's element count) in its
//! 8-byte slot. Filled here, once, for every GPU backend.

use crate::backend::{BufferBinding, LaunchArg};
use crate::grid::Grid;
use crate::scalar::ScalarValue;
use dotcompute_ir::emit::abi::slots;

/// A launch's parameter block, and the lengths of its buffers (for naming a fault).
#[derive(Clone, Debug)]
pub struct ParameterBlock {
    slots: Vec<u64>,
    buffer_lens: Vec<u64>,
}

/// A scalar's little-endian bytes at the start of a slot.
fn slot_of(v: ScalarValue) -> u64 {
    let mut slot = [0u8; 8];
    let bytes: &[u8] = match &v {
        ScalarValue::I32(x) => &x.to_le_bytes(),
        ScalarValue::U32(x) => &x.to_le_bytes(),
        ScalarValue::I64(x) => &x.to_le_bytes(),
        ScalarValue::U64(x) => &x.to_le_bytes(),
        ScalarValue::F32(x) => &x.to_le_bytes(),
        ScalarValue::F64(x) => &x.to_le_bytes(),
    };
    slot[..bytes.len()].copy_from_slice(bytes);
    u64::from_le_bytes(slot)
}

impl ParameterBlock {
    /// The block of a launch over `grid` (`work_items` of them) with `args`, `size_bytes`
    /// long (the emitted program's layout size).
    pub fn new(size_bytes: u32, grid: &Grid, work_items: u64, args: &[LaunchArg<'_>]) -> Self {
        let mut slots = vec![0u64; (size_bytes as usize).div_ceil(8)];
        let mut put = |slot: u32, value: u64| {
            if let Some(s) = slots.get_mut(slot as usize) {
                *s = value;
            }
        };
        let dims = grid.dims();
        let group = grid.group_size_or_default();
        for axis in 0..3 {
            put(slots::GRID + axis as u32, dims[axis]);
            put(slots::GROUP + axis as u32, group[axis]);
        }
        put(slots::TOTAL, work_items);
        // Added to float products by WGSL against contraction (see `emit::wgsl`).
        put(slots::NEG_ZERO_F32, u64::from((-0.0f32).to_bits()));
        put(slots::NEG_ZERO_F64, (-0.0f64).to_bits());
        let mut buffer_lens = vec![0u64; args.len()];
        for (i, arg) in args.iter().enumerate() {
            let value = match arg {
                LaunchArg::Scalar(v) => slot_of(*v),
                LaunchArg::Buffer(BufferBinding::Device { len, .. })
                | LaunchArg::Buffer(BufferBinding::Host { len, .. }) => {
                    buffer_lens[i] = *len;
                    *len
                }
            };
            put(slots::param(i), value);
        }
        ParameterBlock { slots, buffer_lens }
    }

    /// Sets the launch id the kernel copies into the fault record.
    pub fn set_launch_id(&mut self, id: u32) {
        if let Some(s) = self.slots.get_mut(slots::LAUNCH_ID as usize) {
            *s = (*s & !u64::from(u32::MAX)) | u64::from(id);
        }
    }

    /// Sets where the launch's fault record starts in the device's record array, in `u32`
    /// words, for kernels bound to the whole array (OpenCL's).
    pub fn set_fault_offset(&mut self, words: u32) {
        if let Some(s) = self.slots.get_mut(slots::LAUNCH_ID as usize) {
            *s = (*s & u64::from(u32::MAX)) | (u64::from(words) << 32);
        }
    }

    /// The block's bytes (little-endian slots).
    pub fn bytes(&self) -> &[u8] {
        bytemuck::cast_slice(&self.slots)
    }

    /// The block's slots, for APIs that take a pointer to it.
    pub fn slots_mut(&mut self) -> &mut [u64] {
        &mut self.slots
    }

    /// Each parameter's buffer length (0 for scalars).
    pub fn buffer_lens(&self) -> &[u64] {
        &self.buffer_lens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_land_in_their_slots() {
        let grid = Grid::d2(10, 3);
        let args = [
            LaunchArg::Scalar(ScalarValue::F32(1.5)),
            LaunchArg::Scalar(ScalarValue::I32(-2)),
        ];
        let mut block = ParameterBlock::new(8 * 12, &grid, 30, &args);
        block.set_fault_offset(24);
        block.set_launch_id(7);
        let slot = |k: u32| {
            let at = 8 * k as usize;
            u64::from_le_bytes(block.bytes()[at..at + 8].try_into().unwrap_or_default())
        };
        assert_eq!([slot(0), slot(1), slot(2)], [10, 3, 1]);
        assert_eq!([slot(3), slot(4), slot(5)], [64, 1, 1]);
        assert_eq!(slot(slots::TOTAL), 30);
        assert_eq!(slot(slots::LAUNCH_ID), 7 | (24 << 32));
        assert_eq!(slot(slots::param(0)), u64::from(1.5f32.to_bits()));
        // A 32-bit value in the low half, the high half zero.
        assert_eq!(slot(slots::param(1)), u64::from((-2i32) as u32));
        assert_eq!(block.buffer_lens(), [0, 0]);
    }
}
