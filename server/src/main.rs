//! The `hookline` binary: the allocator setting, the async runtime, then the CLI.

use std::process::ExitCode;

fn main() -> ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    return_large_buffers_to_the_kernel();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    runtime.block_on(hookline::cli::run())
}

/// Buffers of 1 MiB and more (a large payload, its envelope, its body) are mapped from the
/// kernel and given back when freed. glibc otherwise raises this threshold after the first
/// such free and keeps later large buffers in its heaps, so a process that once handled a
/// 10 MB event stays tens of megabytes larger (`hookline bench`: a 10 MB event's peak above
/// resting went from 71 MB to 47 MB).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_buffers_to_the_kernel() {
    // SAFETY: mallopt only sets an allocator parameter; it runs before any other thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
