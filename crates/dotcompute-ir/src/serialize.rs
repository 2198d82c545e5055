//! The serialized form of the IR: what the macro bakes into a binary.

use crate::error::IrError;
use crate::program::{IR_FORMAT_VERSION, Kernel};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct EncodedRef<'a> {
    version: u32,
    kernel: &'a Kernel,
}

#[derive(Deserialize)]
struct Encoded {
    version: u32,
    kernel: Kernel,
}

impl Kernel {
    /// Encodes the kernel (with the format version) into compact bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let encoded = EncodedRef {
            version: IR_FORMAT_VERSION,
            kernel: self,
        };
        // Encoding plain data into a Vec cannot fail: postcard only fails on writer errors
        // and on types serde cannot express, and the IR has neither.
        postcard::to_allocvec(&encoded).unwrap_or_default()
    }

    /// Decodes bytes made by [`Kernel::to_bytes`] of the same IR version.
    ///
    /// ```
    /// # use dotcompute_ir::*;
    /// let k = Kernel { name: "noop".into(), params: vec![], locals: vec![], body: vec![],
    ///                  functions: vec![], bounds_checks: BoundsChecks::Checked,
    ///                  shared: vec![], private: vec![] };
    /// assert_eq!(Kernel::from_bytes(&k.to_bytes()).unwrap(), k);
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Kernel, IrError> {
        let encoded: Encoded =
            postcard::from_bytes(bytes).map_err(|e| IrError::Decode(e.to_string()))?;
        if encoded.version != IR_FORMAT_VERSION {
            return Err(IrError::Decode(format!(
                "IR format version {} was written by another DotCompute version (this one reads {})",
                encoded.version, IR_FORMAT_VERSION
            )));
        }
        Ok(encoded.kernel)
    }
}
