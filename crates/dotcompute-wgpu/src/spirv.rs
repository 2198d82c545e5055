//! Kernels as SPIR-V in which every float operation is exact.
//!
//! WGSL cannot say "evaluate this float expression as written", and Vulkan drivers apply
//! algebraic identities that IEEE arithmetic does not have to operations SPIR-V leaves
//! unmarked: Mesa's NIR folds `1 - (1 - t)` to `t` and `(a + b) - a` to `b`. Measured on
//! lavapipe: a Black-Scholes kernel whose `normal_cdf` returns `1 - w` gave prices 2,576 ulp
//! away from the CPU's. SPIR-V's `NoContraction` decoration marks an operation exact (Mesa
//! then neither folds nor fuses it), so on Vulkan the kernel's WGSL is translated by naga
//! (the translator wgpu itself uses), every float operation gets the decoration, and the
//! module goes to the driver as it is (wgpu's passthrough shaders).

/// SPIR-V opcodes of the float operations that get `NoContraction`.
const FLOAT_OPS: [u32; 8] = [
    127, // OpFNegate
    129, // OpFAdd
    131, // OpFSub
    133, // OpFMul
    136, // OpFDiv
    140, // OpFRem
    141, // OpFMod
    142, // OpVectorTimesScalar
];
const OP_DECORATE: u32 = 71;
const NO_CONTRACTION: u32 = 42;
/// Opcodes that may start the annotation section (decorations), where ours go.
const ANNOTATIONS: [u32; 5] = [71, 72, 73, 74, 75];
/// Type declarations (OpTypeVoid to OpTypeForwardPointer): the section after the annotations
/// starts with one of them.
const TYPE_DECLARATIONS: std::ops::RangeInclusive<u32> = 19..=39;

/// The kernel's WGSL as SPIR-V for compute entry point `main`, with every float operation
/// decorated `NoContraction`. `subgroups`: the kernel uses subgroup operations, which need
/// SPIR-V 1.3 (naga writes 1.0 unless told, and the module is passed to the driver as is).
pub(crate) fn exact_spirv(wgsl: &str, subgroups: bool) -> Result<Vec<u32>, String> {
    let module = naga::front::wgsl::parse_str(wgsl).map_err(|e| e.emit_to_string(wgsl))?;
    let info = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .map_err(|e| e.emit_to_string(wgsl))?;
    let defaults = naga::back::spv::Options::default();
    let options = naga::back::spv::Options {
        flags: naga::back::spv::WriterFlags::empty(),
        // The kernels zero their shared arrays themselves (the WGSL emitter's
        // `shared_zeroing`), in parallel; naga's zeroing costs lavapipe minutes to compile.
        zero_initialize_workgroup_memory: naga::back::spv::ZeroInitializeWorkgroupMemoryMode::None,
        lang_version: if subgroups {
            (1, 3)
        } else {
            defaults.lang_version
        },
        ..defaults
    };
    let pipeline = naga::back::spv::PipelineOptions {
        shader_stage: naga::ShaderStage::Compute,
        entry_point: "main".into(),
    };
    let words = naga::back::spv::write_vec(&module, &info, &options, Some(&pipeline))
        .map_err(|e| e.to_string())?;
    mark_float_ops_exact(&words)
}

/// Adds `OpDecorate %r NoContraction` for the result `%r` of every float operation, at the
/// start of the annotation section.
fn mark_float_ops_exact(words: &[u32]) -> Result<Vec<u32>, String> {
    const HEADER: usize = 5;
    if words.len() < HEADER {
        return Err("SPIR-V module without a header".into());
    }
    let mut results = Vec::new();
    let mut insert_at = None;
    let mut at = HEADER;
    while at < words.len() {
        let count = (words[at] >> 16) as usize;
        let opcode = words[at] & 0xffff;
        if count == 0 || at + count > words.len() {
            return Err(format!("malformed SPIR-V instruction at word {at}"));
        }
        if insert_at.is_none()
            && (ANNOTATIONS.contains(&opcode) || TYPE_DECLARATIONS.contains(&opcode))
        {
            insert_at = Some(at);
        }
        // Arithmetic instructions: opcode, result type, result id, operands.
        if FLOAT_OPS.contains(&opcode) && count >= 4 {
            results.push(words[at + 2]);
        }
        at += count;
    }
    let insert_at = insert_at.ok_or("SPIR-V module without types")?;
    let mut out = Vec::with_capacity(words.len() + 3 * results.len());
    out.extend_from_slice(&words[..insert_at]);
    for id in results {
        out.extend_from_slice(&[(3 << 16) | OP_DECORATE, id, NO_CONTRACTION]);
    }
    out.extend_from_slice(&words[insert_at..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_float_operation_is_decorated_once() {
        let wgsl = "@group(0) @binding(0) var<storage, read_write> b: array<f32>;\n\
                    @compute @workgroup_size(1) fn main() { b[0] = (b[1] + b[2]) * b[3] - b[4] / b[5]; }";
        let words = exact_spirv(wgsl, false).unwrap();
        let mut decorated = Vec::new();
        let mut float_ops = Vec::new();
        let mut at = 5;
        while at < words.len() {
            let count = (words[at] >> 16) as usize;
            let op = words[at] & 0xffff;
            if op == OP_DECORATE && words[at + 2] == NO_CONTRACTION {
                decorated.push(words[at + 1]);
            }
            if FLOAT_OPS.contains(&op) {
                float_ops.push(words[at + 2]);
            }
            at += count;
        }
        assert_eq!(float_ops.len(), 4, "add, mul, div, sub");
        decorated.sort_unstable();
        float_ops.sort_unstable();
        assert_eq!(decorated, float_ops);
    }

    #[test]
    fn subgroup_kernels_are_spirv_1_3() {
        let wgsl = "@group(0) @binding(0) var<storage, read_write> b: array<u32>;\n\
                    @compute @workgroup_size(64) fn main(@builtin(subgroup_invocation_id) l: u32) { b[l] = subgroupShuffleXor(l, 1u); }";
        // The header's second word is the version: 0x00MMmm00.
        assert_eq!(exact_spirv(wgsl, true).unwrap()[1], 0x0001_0300);
        let plain = "@group(0) @binding(0) var<storage, read_write> b: array<f32>;\n\
                     @compute @workgroup_size(1) fn main() { b[0] = b[1]; }";
        assert_eq!(exact_spirv(plain, false).unwrap()[1], 0x0001_0000);
    }
}
