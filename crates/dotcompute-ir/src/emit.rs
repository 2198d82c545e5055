//! Code emitters: one module per target language, each a pure function of the IR.

pub mod rust;
pub mod wgsl;
