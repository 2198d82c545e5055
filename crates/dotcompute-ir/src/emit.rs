//! Code emitters: one module per target language, each a pure function of the IR.

pub mod abi;
pub mod c_family;
pub mod cuda;
pub mod hip;
pub mod opencl;
pub mod rust;
pub mod wgsl;
