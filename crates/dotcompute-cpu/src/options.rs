//! Settings of the CPU backend.

use dotcompute_core::cpu_abi::SimdLevel;

/// How the CPU backend runs kernels.
///
/// ```
/// use dotcompute_cpu::CpuOptions;
/// let opts = CpuOptions { threads: Some(2), ..CpuOptions::default() };
/// assert_eq!(opts.inline_budget_ns, 20_000);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuOptions {
    /// Worker threads of a dedicated pool; `None` shares rayon's global pool (every core by
    /// default, `RAYON_NUM_THREADS` to change it) with the rest of the program.
    pub threads: Option<usize>,
    /// SIMD level to run with; `None` uses the best this CPU has. Asking for more than the CPU
    /// has is an error when the backend starts.
    pub simd: Option<SimdLevel>,
    /// Launches expected to take less than this (from earlier launches of the same kernel)
    /// run on the caller's thread: waking the pool costs more than they do.
    pub inline_budget_ns: u64,
    /// Launches of a kernel never timed before run inline below this many work items.
    pub inline_work_items: u64,
    /// Items per subgroup for subgroup operations: a power of two from 1 to 64 (16 by
    /// default: one AVX-512 vector of `f32`). Kernels must work at any subgroup size, since
    /// GPUs differ; this setting lets them be tested at several. (Float sums and scans have
    /// the same bits as a GPU's for the same size, not across sizes.)
    pub subgroup_size: u32,
}

impl Default for CpuOptions {
    fn default() -> Self {
        CpuOptions {
            threads: None,
            simd: None,
            inline_budget_ns: 20_000,
            inline_work_items: 4096,
            subgroup_size: dotcompute_core::cpu_abi::DEFAULT_SUBGROUP_SIZE as u32,
        }
    }
}
