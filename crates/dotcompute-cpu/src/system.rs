//! What the CPU backend reports about this machine.

/// The CPU's model name, e.g. `AMD EPYC 7B13`.
pub fn cpu_name() -> String {
    proc_field("/proc/cpuinfo", "model name")
        .or_else(|| proc_field("/proc/cpuinfo", "Model"))
        .unwrap_or_else(|| format!("{} CPU", std::env::consts::ARCH))
}

/// The CPU's vendor, e.g. `AuthenticAMD`.
pub fn cpu_vendor() -> String {
    proc_field("/proc/cpuinfo", "vendor_id").unwrap_or_else(|| "unknown".into())
}

/// Total system memory in bytes, or 0 when unknown.
pub fn memory_bytes() -> u64 {
    proc_field("/proc/meminfo", "MemTotal")
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

fn proc_field(path: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}
