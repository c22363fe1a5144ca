//! The allocator of a process that stays (the TUI, `remind`): kept from holding on to memory it
//! no longer uses. glibc's malloc gives each thread that allocates an arena of its own, up to
//! eight per core, and frees into them without returning pages to the system; a TUI under
//! churn, its allocations spread over the runtime's and the cache's threads, grew from 25 to 75
//! MB that way while its heap stayed near 23 MB (heaptrack). Elsewhere these do nothing.

/// Arenas at most for a process that stays: enough for the UI thread and the sync beside it.
const ARENAS: i32 = 2;

/// Call first thing in a process that stays, before other threads start.
pub fn for_long_running() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc tunable; called before other threads allocate.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
    }
}

/// Returns the free pages at the top of the heap and in the arenas to the system: after a
/// round, whose pages were allocated and freed by the thousand.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it is safe to call at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Prints this process's peak resident set size to stderr, for `bench` to read. The kernel's
/// `ru_maxrss` of a child is no use here: a spawned child starts out sharing the parent's
/// (large) memory, and that peak is what `wait4` would report.
pub fn report_peak_rss() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(kb) = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    {
        eprintln!("peak_rss_kb={kb}");
    }
}
