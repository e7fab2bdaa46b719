//! A hint to the cache, for the passes whose accumulators outgrow it
//! (`aggregate`'s word sums and `validate`'s id set at scale 10): the
//! line a person some rows ahead will touch is asked for while this
//! person's is used.

/// Asks the cache for the line of `p` (nothing on other architectures; the
/// address need not be valid, as a prefetch never faults).
#[inline(always)]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` only hints the cache; it reads nothing and
    // does not fault, whatever the address.
    #[allow(unsafe_code)]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
