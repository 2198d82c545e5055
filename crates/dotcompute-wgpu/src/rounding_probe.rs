//! Whether a device's float division and square root are correctly rounded: Vulkan lets a
//! driver's `/` be 2.5 ulp off and its `sqrt` about 2 (lavapipe's are exact, many GPUs'
//! are not), and the math library gives the CPU's bits only where both are exact. A small
//! kernel divides and takes roots of operands of many magnitudes, and the results are
//! compared with the host's (Rust's `/` and `sqrt` are correctly rounded). Where any differs,
//! kernels get the WGSL emitter's correctly rounded helpers.

use crate::kernel::storage_entry;

/// A float width the probe checks: its WGSL names and the host's correctly rounded results.
trait ProbeFloat: Copy + bytemuck::Pod {
    /// WGSL's name of the type.
    const WGSL: &'static str;
    /// WGSL's unsigned integer of the same width, and its literal suffix.
    const BITS: (&'static str, &'static str);
    /// A normal value of random sign and mantissa and an exponent in -40..=40, from random
    /// bits.
    fn normal(random: u64) -> Self;
    /// The host's a / b and sqrt(|a|) (Rust's are correctly rounded), as bits.
    fn exact(a: Self, b: Self) -> [u64; 2];
    /// The value's bits.
    fn bits(self) -> u64;
    /// |self|.
    fn abs(self) -> Self;
}

impl ProbeFloat for f32 {
    const WGSL: &'static str = "f32";
    const BITS: (&'static str, &'static str) = ("u32", "u");
    fn normal(r: u64) -> f32 {
        let exponent = (127 - 40 + (r >> 32) % 81) as u32;
        f32::from_bits(((r as u32) & 0x807f_ffff) | (exponent << 23))
    }
    fn exact(a: f32, b: f32) -> [u64; 2] {
        [(a / b).bits(), a.abs().sqrt().bits()]
    }
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
    fn abs(self) -> f32 {
        f32::abs(self)
    }
}

impl ProbeFloat for f64 {
    const WGSL: &'static str = "f64";
    const BITS: (&'static str, &'static str) = ("u64", "lu");
    fn normal(r: u64) -> f64 {
        // The exponent from the top bits, the mantissa from the rest (shared bits only
        // correlate the two, which the probe does not need to avoid).
        let exponent = 1023 - 40 + (r >> 52) % 81;
        f64::from_bits((r & 0x800f_ffff_ffff_ffff) | (exponent << 52))
    }
    fn exact(a: f64, b: f64) -> [u64; 2] {
        [(a / b).to_bits(), a.abs().sqrt().to_bits()]
    }
    fn bits(self) -> u64 {
        self.to_bits()
    }
    fn abs(self) -> f64 {
        f64::abs(self)
    }
}

/// Operand pairs: 4,096 of them, of every exponent whose quotient and root stay normal.
fn operands<T: ProbeFloat>() -> (Vec<T>, Vec<T>) {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..4096)
        .map(|_| (T::normal(next()), T::normal(next()).abs()))
        .unzip()
}

/// The probe kernel: `out[2i] = a[i] / b[i]`, `out[2i + 1] = sqrt(|a[i]|)`; with
/// `simulate_inexact`, both 2 ulp off (tests only).
fn source<T: ProbeFloat>(simulate_inexact: bool) -> String {
    let (n, (bits, sfx)) = (T::WGSL, T::BITS);
    let (div, root) = if simulate_inexact {
        (
            format!("bitcast<{n}>(bitcast<{bits}>(a[i] / b[i]) + 2{sfx})"),
            format!("bitcast<{n}>(bitcast<{bits}>(sqrt(abs(a[i]))) + 2{sfx})"),
        )
    } else {
        ("a[i] / b[i]".into(), "sqrt(abs(a[i]))".into())
    };
    format!(
        "@group(0) @binding(0) var<storage, read> a: array<{n}>;\n\
         @group(0) @binding(1) var<storage, read> b: array<{n}>;\n\
         @group(0) @binding(2) var<storage, read_write> out: array<{n}>;\n\
         @compute @workgroup_size(64)\n\
         fn main(@builtin(global_invocation_id) id: vec3<u32>) {{\n\
         \x20   let i = id.x;\n\
         \x20   if i >= arrayLength(&a) {{ return; }}\n\
         \x20   out[2u * i] = {div};\n\
         \x20   out[2u * i + 1u] = {root};\n\
         }}\n"
    )
}

/// Runs the probe in `T`: `Ok(true)` when every quotient and root is the correctly rounded
/// one. `exact_spirv`: the device takes kernels as SPIR-V with exact float operations (as
/// the kernels themselves will be), else as WGSL.
fn exact_division_and_sqrt<T: ProbeFloat>(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    exact_spirv: bool,
    simulate_inexact: bool,
) -> Result<bool, String> {
    let (a, b) = operands::<T>();
    let src = source::<T>(simulate_inexact);
    let words = if exact_spirv {
        Some(crate::spirv::exact_spirv(&src, false)?)
    } else {
        None
    };
    let ((layout, pipeline), error) = crate::error::capture(device, || {
        let module = crate::kernel::shader_module(
            device,
            "dotcompute rounding probe",
            &src,
            words.as_deref(),
            [64, 1, 1],
        );
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("dotcompute rounding probe"),
            entries: &[
                storage_entry(0, true),
                storage_entry(1, true),
                storage_entry(2, false),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("dotcompute rounding probe"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("dotcompute rounding probe"),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        (layout, pipeline)
    });
    if let Some(e) = error {
        return Err(e.to_string());
    }
    let input = |data: &[u8]| {
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("dotcompute rounding probe input"),
            size: data.len() as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        queue.write_buffer(&buffer, 0, data);
        buffer
    };
    let (buf_a, buf_b) = (
        input(bytemuck::cast_slice(&a)),
        input(bytemuck::cast_slice(&b)),
    );
    let out_bytes = 2 * std::mem::size_of_val(a.as_slice()) as u64;
    let out = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("dotcompute rounding probe output"),
        size: out_bytes,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("dotcompute rounding probe readback"),
        size: out_bytes,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("dotcompute rounding probe"),
        layout: &layout,
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: buf_a.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: buf_b.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 2,
                resource: out.as_entire_binding(),
            },
        ],
    });
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("dotcompute rounding probe"),
    });
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups((a.len() as u32).div_ceil(64), 1, 1);
    }
    encoder.copy_buffer_to_buffer(&out, 0, &readback, 0, out_bytes);
    let index = queue.submit([encoder.finish()]);
    let bytes = crate::device::read_mapped(device, &readback, index, out_bytes)?;
    // The mapped bytes need not be aligned for T.
    let got: Vec<T> = bytemuck::pod_collect_to_vec(&bytes);
    Ok(all_correctly_rounded(&a, &b, &got))
}

/// Whether `got` holds the correctly rounded a / b and sqrt(|a|), interleaved.
fn all_correctly_rounded<T: ProbeFloat>(a: &[T], b: &[T], got: &[T]) -> bool {
    got.len() == 2 * a.len()
        && a.iter()
            .zip(b)
            .zip(got.chunks_exact(2))
            .all(|((&x, &y), r)| T::exact(x, y) == [r[0].bits(), r[1].bits()])
}

/// Whether the device's kernels need the correctly rounded helpers: forced by
/// `DOTCOMPUTE_WGPU_CORRECT_ROUNDING=1` (or `=0`), else probed; a probe that cannot run is
/// logged and answered "yes" (correct results over speed).
pub(crate) fn needs_correct_rounding(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    exact_spirv: bool,
    simulate_inexact: bool,
    f64: bool,
    adapter: &str,
) -> bool {
    match std::env::var("DOTCOMPUTE_WGPU_CORRECT_ROUNDING").as_deref() {
        Ok("1") => return true,
        Ok("0") => return false,
        _ => {}
    }
    let probe = exact_division_and_sqrt::<f32>(device, queue, exact_spirv, simulate_inexact)
        .and_then(|exact_f32| {
            if exact_f32 && f64 {
                exact_division_and_sqrt::<f64>(device, queue, exact_spirv, simulate_inexact)
            } else {
                Ok(exact_f32)
            }
        });
    match probe {
        Ok(exact) => {
            if !exact {
                tracing::info!(
                    "{adapter}: float division or sqrt is not correctly rounded; kernels use correctly rounded helpers"
                );
            }
            !exact
        }
        Err(reason) => {
            tracing::warn!(
                "{adapter}: the rounding probe failed ({reason}); kernels use correctly rounded division and sqrt"
            );
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check accepts the host's results and refuses any one of them an ulp off.
    fn accepts_exact_and_refuses_one_ulp_off<T: ProbeFloat>(from_bits: fn(u64) -> T) {
        let (a, b) = operands::<T>();
        let exact: Vec<T> = a
            .iter()
            .zip(&b)
            .flat_map(|(&x, &y)| T::exact(x, y).map(from_bits))
            .collect();
        assert!(all_correctly_rounded(&a, &b, &exact));
        for k in [0, 1, 2 * 4095 + 1] {
            let mut off = exact.clone();
            off[k] = from_bits(off[k].bits() + 1);
            assert!(!all_correctly_rounded(&a, &b, &off), "{k}");
        }
        assert!(!all_correctly_rounded(&a, &b, &exact[1..]));
    }

    #[test]
    fn the_check_accepts_exact_results_and_refuses_one_ulp_off() {
        accepts_exact_and_refuses_one_ulp_off::<f32>(|b| f32::from_bits(b as u32));
        accepts_exact_and_refuses_one_ulp_off::<f64>(f64::from_bits);
    }

    #[test]
    fn the_operands_keep_quotients_and_roots_normal() {
        let (a, b) = operands::<f32>();
        for (x, y) in a.iter().zip(&b) {
            assert!((x / y).is_normal() && x.abs().sqrt().is_normal() && *y > 0.0);
        }
        let (a, b) = operands::<f64>();
        for (x, y) in a.iter().zip(&b) {
            assert!((x / y).is_normal() && x.abs().sqrt().is_normal() && *y > 0.0);
        }
    }
}
