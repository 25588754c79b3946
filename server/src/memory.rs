//! Giving freed memory back to the system. glibc keeps what a burst freed (a class leaving a
//! live lesson, a thousand documents falling asleep) in its heaps for reuse; on a Pi that
//! memory is better back with the system until the next burst.

/// Returns the allocator's free pages to the kernel. Blocking (it walks the heaps): call it
/// from `spawn_blocking`, after a burst has quietened, not per request.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn release_freed() {
    // SAFETY: malloc_trim only returns free pages of the allocator's own heaps to the kernel;
    // it touches no memory in use and has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_freed() {}
