//! The canonical kernel hash: the key of every compiled-kernel cache.

use crate::program::Kernel;
use sha2::{Digest, Sha256};
use std::fmt;

/// A stable hash of a kernel's IR: equal for equal programs, on every machine and compiler,
/// and different whenever the program or the IR format version differs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KernelHash(pub [u8; 32]);

impl KernelHash {
    /// The hash of a kernel: SHA-256 of its serialized form (which includes the format version).
    pub fn of(kernel: &Kernel) -> KernelHash {
        KernelHash(Sha256::digest(kernel.to_bytes()).into())
    }

    /// The first 8 bytes as 16 hex digits, for logs.
    pub fn short(&self) -> String {
        self.0[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Display for KernelHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for KernelHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KernelHash({})", self.short())
    }
}
