//! Giving freed memory back to the operating system.
//!
//! glibc's allocator keeps freed heap pages for reuse, and after a burst of large allocations
//! (1 MB request bodies, say) its thresholds rise so that even those stay in the heap: the
//! process's resident size then stays at its peak long after the memory is free. Where the
//! fake frees a lot at once (the journal cleared), it asks the allocator to return free pages.

/// Returns free heap pages to the system (glibc only; elsewhere a no-op).
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of the allocator's own heaps; it takes no
    // pointer and is thread-safe (it locks each arena).
    unsafe {
        libc::malloc_trim(0);
    }
}
