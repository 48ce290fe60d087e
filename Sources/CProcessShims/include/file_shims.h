#ifndef FLASHSALE_FILE_SHIMS_H
#define FLASHSALE_FILE_SHIMS_H

/// fallocate(2) with mode 0 over the first `length` bytes of `fd`: allocates every block (and
/// grows the file) in the file system itself. Unlike posix_fallocate, never falls back to
/// writing zeros into the file, which would race with other processes' stores into a shared
/// mapping of it. Returns 0, or -1 with errno set (EOPNOTSUPP where the file system cannot).
/// _GNU_SOURCE is needed to declare it, so Swift cannot call it directly.
int flashsale_allocate(int fd, long long length);

#endif
