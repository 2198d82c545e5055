//! Whether a device's float division and square root are correctly rounded: Vulkan lets a
//! driver's `/` be 2.5 ulp off and its `sqrt` about 2 (lavapipe's are exact, many GPUs'
//! are not), and the math library gives the CPU's bits only where both are exact. A small
//! kernel divides and takes roots of operands of many magnitudes, and the results are
//! compared with the host's (Rust's `/` and `sqrt` are correctly rounded). Where any differs,
//! kernels get the WGSL emitter's correctly rounded helpers.

use crate::kernel::storage_entry;

/// Operand pairs: 4,096 of them, of every exponent whose quotient and root stay normal.
fn operands() -> (Vec<f32>, Vec<f32>) {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut normal = move || {
        let r = next();
        // Exponents 2^-40 .. 2^40, any mantissa and sign.
        let exponent = (127 - 40 + (r >> 32) % 81) as u32;
        f32::from_bits(((r as u32) & 0x807f_ffff) | (exponent << 23))
    };
    (0..4096).map(|_| (normal(), normal().abs())).unzip()
}

/// The probe kernel: `out[2i] = a[i] / b[i]`, `out[2i + 1] = sqrt(|a[i]|)`; with
/// `simulate_inexact`, both 2 ulp off (tests only).
fn source(simulate_inexact: bool) -> String {
    let (div, root) = if simulate_inexact {
        (
            "bitcast<f32>(bitcast<u32>(a[i] / b[i]) + 2u)",
            "bitcast<f32>(bitcast<u32>(sqrt(abs(a[i]))) + 2u)",
        )
    } else {
        ("a[i] / b[i]", "sqrt(abs(a[i]))")
    };
    format!(
        "@group(0) @binding(0) var<storage, read> a: array<f32>;\n\
         @group(0) @binding(1) var<storage, read> b: array<f32>;\n\
         @group(0) @binding(2) var<storage, read_write> out: array<f32>;\n\
         @compute @workgroup_size(64)\n\
         fn main(@builtin(global_invocation_id) id: vec3<u32>) {{\n\
         \x20   let i = id.x;\n\
         \x20   if i >= arrayLength(&a) {{ return; }}\n\
         \x20   out[2u * i] = {div};\n\
         \x20   out[2u * i + 1u] = {root};\n\
         }}\n"
    )
}

/// Runs the probe: `Ok(true)` when every quotient and root is the correctly rounded one.
/// `exact_spirv`: the device takes kernels as SPIR-V with exact float operations (as the
/// kernels themselves will be), else as WGSL.
pub(crate) fn exact_division_and_sqrt(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    exact_spirv: bool,
    simulate_inexact: bool,
) -> Result<bool, String> {
    let (a, b) = operands();
    let src = source(simulate_inexact);
    let words = if exact_spirv {
        Some(crate::spirv::exact_spirv(&src)?)
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
    let bytes = |v: &[f32]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
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
    let (buf_a, buf_b) = (input(&bytes(&a)), input(&bytes(&b)));
    let out_bytes = 8 * a.len() as u64;
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
    let got: Vec<f32> = crate::device::read_mapped(device, &readback, index, out_bytes)?
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok(all_correctly_rounded(&a, &b, &got))
}

/// Whether `got` holds the correctly rounded a / b and sqrt(|a|), interleaved.
fn all_correctly_rounded(a: &[f32], b: &[f32], got: &[f32]) -> bool {
    got.len() == 2 * a.len()
        && a.iter()
            .zip(b)
            .zip(got.chunks_exact(2))
            .all(|((&x, &y), r)| {
                r[0].to_bits() == (x / y).to_bits() && r[1].to_bits() == x.abs().sqrt().to_bits()
            })
}

/// Whether the device's kernels need the correctly rounded helpers: forced by
/// `DOTCOMPUTE_WGPU_CORRECT_ROUNDING=1` (or `=0`), else probed; a probe that cannot run is
/// logged and answered "yes" (correct results over speed).
pub(crate) fn needs_correct_rounding(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    exact_spirv: bool,
    simulate_inexact: bool,
    adapter: &str,
) -> bool {
    match std::env::var("DOTCOMPUTE_WGPU_CORRECT_ROUNDING").as_deref() {
        Ok("1") => return true,
        Ok("0") => return false,
        _ => {}
    }
    match exact_division_and_sqrt(device, queue, exact_spirv, simulate_inexact) {
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

    #[test]
    fn the_check_accepts_exact_results_and_refuses_one_ulp_off() {
        let (a, b) = operands();
        let exact: Vec<f32> = a
            .iter()
            .zip(&b)
            .flat_map(|(&x, &y)| [x / y, x.abs().sqrt()])
            .collect();
        assert!(all_correctly_rounded(&a, &b, &exact));
        for k in [0, 1, 2 * 4095 + 1] {
            let mut off = exact.clone();
            off[k] = f32::from_bits(off[k].to_bits() + 1);
            assert!(!all_correctly_rounded(&a, &b, &off), "{k}");
        }
        assert!(!all_correctly_rounded(&a, &b, &exact[1..]));
    }

    #[test]
    fn the_operands_keep_quotients_and_roots_normal() {
        let (a, b) = operands();
        for (x, y) in a.iter().zip(&b) {
            assert!((x / y).is_normal() && x.abs().sqrt().is_normal());
        }
    }
}
