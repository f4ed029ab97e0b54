//! A process's memory as Linux reports it in `/proc/<pid>/status`, shared by
//! the load and soak examples.

/// A memory line of the process's status (`"VmRSS:"`, `"VmHWM:"`) in MiB;
/// NaN where it cannot be read.
pub fn memory_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
