//! The wgpu backend of DotCompute: Vulkan, Metal, DX12 (and GL) devices.
