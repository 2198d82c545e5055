//! The kernel IR of DotCompute.
//!
//! Every kernel, whichever backend runs it, is first this program: a small typed tree of
//! statements and expressions ([`Kernel`]), checked by [`validate`], identified by a stable
//! [`KernelHash`], serialized into the user's binary by the `#[kernel]` macro
//! ([`Kernel::to_bytes`]), printable for humans (`Display`), and turned into code for each target
//! by the emitters in [`emit`].
//!
//! ```
//! use dotcompute_ir::*;
//!
//! // out[i] = i as f32, written by hand (the macro writes this for `#[kernel]` functions).
//! let i = Expr { ty: ScalarType::U64, kind: ExprKind::Builtin(Builtin::GlobalId(Axis::X)) };
//! let kernel = Kernel {
//!     name: "iota".into(),
//!     params: vec![Param {
//!         name: "out".into(),
//!         kind: ParamKind::Buffer { elem: ScalarType::F32, access: Access::ReadWrite },
//!     }],
//!     locals: vec![],
//!     body: vec![Stmt::Store {
//!         buffer: ParamId(0),
//!         index: i.clone(),
//!         value: Expr { ty: ScalarType::F32, kind: ExprKind::Cast(Box::new(i)) },
//!     }],
//!     functions: vec![],
//!     bounds_checks: BoundsChecks::Checked,
//!     shared: vec![],
//!     private: vec![],
//! };
//! validate(&kernel)?;
//! assert!(kernel.to_string().contains("out[global_id_x()] = (global_id_x() as f32);"));
//! assert_eq!(KernelHash::of(&kernel), KernelHash::of(&Kernel::from_bytes(&kernel.to_bytes())?));
//! # Ok::<(), IrError>(())
//! ```

pub mod affine;
pub mod cooperative;
mod display;
pub mod emit;
mod error;
mod hash;
pub mod interpret;
pub mod intrinsics;
mod program;
mod serialize;
mod types;
mod validate;

pub use error::IrError;
pub use hash::KernelHash;
pub use program::*;
pub use types::{Access, ParamKind, ScalarType};
pub use validate::validate;
