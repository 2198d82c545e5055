//! Kernel arguments for launches whose types are checked at run time.

use crate::buffer::{RawBuffer, UnifiedBuffer};
use crate::scalar::{KernelScalar, ScalarValue};

/// One argument of a launch: a scalar, a buffer to read, or a buffer to write.
///
/// Typed launches (`saxpy::launch(...)`) build these for you; launches by name take them
/// directly and check each against the kernel's signature.
///
/// ```
/// # use dotcompute_core::{KernelArg, UnifiedBuffer, ServiceId, pool::{MemoryPool, PoolConfig}};
/// # let pool = MemoryPool::new(PoolConfig::default());
/// # let x = UnifiedBuffer::from_slice(&pool, ServiceId(0), &[1.0f32])?;
/// # let mut y = UnifiedBuffer::<f32>::zeroed(&pool, ServiceId(0), 1)?;
/// let args = [KernelArg::scalar(2.0f32), KernelArg::buffer(&x), KernelArg::buffer_mut(&mut y)];
/// # Ok::<(), dotcompute_core::Error>(())
/// ```
#[derive(Debug)]
pub enum KernelArg<'a> {
    /// A scalar passed by value.
    Scalar(ScalarValue),
    /// A buffer for a `&[T]` parameter.
    Buffer(&'a RawBuffer),
    /// A buffer for a `&mut [T]` parameter.
    BufferMut(&'a mut RawBuffer),
}

impl<'a> KernelArg<'a> {
    /// A scalar argument.
    pub fn scalar<T: KernelScalar>(value: T) -> KernelArg<'a> {
        KernelArg::Scalar(value.into_value())
    }

    /// A read-only buffer argument.
    pub fn buffer<T: KernelScalar>(buffer: &'a UnifiedBuffer<T>) -> KernelArg<'a> {
        KernelArg::Buffer(buffer.raw())
    }

    /// A read-write buffer argument.
    pub fn buffer_mut<T: KernelScalar>(buffer: &'a mut UnifiedBuffer<T>) -> KernelArg<'a> {
        KernelArg::BufferMut(buffer.raw_mut())
    }

    /// Describes the argument for messages, e.g. `a read-only buffer of f32`.
    pub fn describe(&self) -> String {
        let elem = |b: &RawBuffer| b.elem().map_or("non-scalar".into(), |t| t.to_string());
        match self {
            KernelArg::Scalar(v) => format!("a scalar {}", v.scalar_type()),
            KernelArg::Buffer(b) => format!("a read-only buffer of {}", elem(b)),
            KernelArg::BufferMut(b) => format!("a writable buffer of {}", elem(b)),
        }
    }
}
