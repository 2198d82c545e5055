//! The conformance suite on the CPU backend with every launch checked against the IR
//! interpreter (`dotcompute_conformance::differential`): each kernel the cases launch must
//! write the interpreter's bits and fault where it faults, at the best SIMD level and at
//! the generic one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use dotcompute::{CpuOptions, SimdLevel};
use dotcompute_conformance::{Env, conformance_tests};

mod best {
    use super::*;
    conformance_tests!(|| Env::cpu_checked(CpuOptions::default()));
}

mod generic {
    use super::*;
    conformance_tests!(|| Env::cpu_checked(CpuOptions {
        simd: Some(SimdLevel::Generic),
        subgroup_size: 4,
        ..CpuOptions::default()
    }));
}

/// The check itself: a CPU device that flips one bit of what a kernel writes, and one that
/// reports a fault the kernel does not make, are both caught, naming what differs.
mod detection {
    use dotcompute::backend::{
        BackendPlugin, BufferBinding, CompiledKernel, Device, LaunchArg, LaunchError, MemorySpace,
    };
    use dotcompute::launch_tracker::TrackedLaunch;
    use dotcompute::{
        AcceleratorInfo, BackendKind, ComputeService, CpuOptions, CpuPlugin, Error, Grid,
        KernelDefinition, KernelFault,
    };
    use dotcompute_conformance::differential::DifferentialPlugin;
    use dotcompute_conformance::kernels;
    use std::sync::Arc;

    /// What the broken device does wrong.
    #[derive(Clone, Copy)]
    enum Defect {
        /// Flips the lowest bit of element 3 of the last writable buffer.
        FlipBit,
        /// Reports a division by zero after running the kernel.
        SpuriousFault,
    }

    struct Broken(Defect);
    struct BrokenDevice(Arc<dyn Device>, Defect);
    struct BrokenKernel(Arc<dyn CompiledKernel>, Defect);

    impl BackendPlugin for Broken {
        fn name(&self) -> &str {
            "cpu"
        }
        fn backend(&self) -> BackendKind {
            BackendKind::Cpu
        }
        fn discover(&self) -> Result<Vec<Arc<dyn Device>>, Error> {
            let cpu = CpuPlugin::new(CpuOptions::default()).discover()?;
            Ok(cpu
                .into_iter()
                .map(|d| Arc::new(BrokenDevice(d, self.0)) as Arc<dyn Device>)
                .collect())
        }
    }

    impl Device for BrokenDevice {
        fn info(&self) -> &AcceleratorInfo {
            self.0.info()
        }
        fn compile(&self, k: &'static KernelDefinition) -> Result<Arc<dyn CompiledKernel>, Error> {
            Ok(Arc::new(BrokenKernel(self.0.compile(k)?, self.1)))
        }
        fn synchronize(&self) -> Result<(), Error> {
            self.0.synchronize()
        }
        fn memory_space(&self) -> MemorySpace {
            MemorySpace::Host
        }
    }

    impl CompiledKernel for BrokenKernel {
        unsafe fn launch(
            &self,
            grid: &Grid,
            work_items: u64,
            args: &[LaunchArg<'_>],
            tracked: Option<&Arc<TrackedLaunch>>,
        ) -> Result<(), LaunchError> {
            // SAFETY: the caller's guarantees are passed on.
            unsafe { self.0.launch(grid, work_items, args, tracked) }?;
            match self.1 {
                Defect::SpuriousFault => Err(KernelFault::DivisionByZero.into()),
                Defect::FlipBit => {
                    if let Some(LaunchArg::Buffer(BufferBinding::Host { ptr, len, .. })) =
                        args.iter().rev().find(|a| {
                            matches!(
                                a,
                                LaunchArg::Buffer(BufferBinding::Host { writable: true, .. })
                            )
                        })
                    {
                        assert!(*len > 3);
                        // SAFETY: the buffer has more than 3 elements of at least one byte,
                        // and the launch owns it until it returns.
                        unsafe { *ptr.add(12) ^= 1 };
                    }
                    Ok(())
                }
            }
        }
    }

    fn run_vector_add(defect: Defect) -> Error {
        let dc = ComputeService::builder()
            .without_cpu()
            .without_wgpu()
            .without_cuda()
            .without_opencl()
            .plugin(Box::new(DifferentialPlugin::new(Box::new(Broken(defect)))))
            .build()
            .unwrap();
        let acc = dc.accelerator(BackendKind::Cpu).unwrap();
        let a = dc.buffer_from_slice(&[1.0f32; 8]).unwrap();
        let b = dc.buffer_from_slice(&[2.0f32; 8]).unwrap();
        let mut out = dc.buffer_zeroed::<f32>(8).unwrap();
        kernels::vector_add::launch(&acc, 8, &a, &b, &mut out)
            .and_then(|()| acc.synchronize())
            .expect_err("the broken device must be caught")
    }

    #[test]
    fn a_flipped_bit_is_caught() {
        let message = run_vector_add(Defect::FlipBit).to_string();
        assert!(
            message.contains("kernel `vector_add`")
                && message.contains("buffer `out` element 3")
                && message.contains("the interpreter F32(3.0)"),
            "{message}"
        );
    }

    #[test]
    fn a_spurious_fault_is_caught() {
        let message = run_vector_add(Defect::SpuriousFault).to_string();
        assert!(
            message.contains("the backend faults (integer division or remainder by zero), the interpreter does not"),
            "{message}"
        );
    }
}
