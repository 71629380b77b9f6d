//! What the binary cost, for the benches: CPU time and peak memory of the child processes.

/// CPU seconds (user + system) of the children this process has waited for — the binary — and
/// the largest peak RSS among them, in MiB.
pub fn children() -> (f64, f64) {
    // SAFETY: getrusage only writes into the struct we hand it.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (seconds(usage.ru_utime) + seconds(usage.ru_stime), usage.ru_maxrss as f64 / 1024.0)
}
