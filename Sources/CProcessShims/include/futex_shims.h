#ifndef FLASHSALE_FUTEX_SHIMS_H
#define FLASHSALE_FUTEX_SHIMS_H

#include <stdint.h>

/// Sleeps while the 32-bit word at `word` (in memory shared between processes, so not a
/// private futex) still holds `expected`, for at most `timeout_ns` nanoseconds. futex(2) is
/// reached through syscall(2), which is variadic, so Swift cannot call it directly.
/// Returns 0 when woken, or -1 with errno set: EAGAIN (the word had changed), ETIMEDOUT,
/// EINTR.
int flashsale_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns);

/// Wakes every process sleeping on `word`. Returns how many were woken, or -1 with errno set.
int flashsale_futex_wake_all(uint32_t *word);

#endif
