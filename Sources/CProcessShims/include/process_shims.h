#ifndef FLASHSALE_PROCESS_SHIMS_H
#define FLASHSALE_PROCESS_SHIMS_H

/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are re-parented to the calling
/// process, which can then reap them. prctl is variadic, so Swift cannot call it directly.
/// Returns 0, or -1 with errno set.
int flashsale_become_child_subreaper(void);

/// Makes SIGTERM, SIGINT and SIGUSR1 (libfcgi's graceful-stop signal) set the stop flag,
/// and blocks them in the calling thread: from then on they are delivered only inside
/// flashsale_wait_readable_or_stop. Returns 0, or -1 with errno set.
int flashsale_install_stop_signals(void);

/// Waits until `fd` is readable, with the stop signals unblocked only for the wait (ppoll),
/// so a stop never lands in the middle of other work. A stop signal already pending wins
/// over a readable `fd`, so a process under constant load still stops. Returns 1 when `fd`
/// is readable, 0 when a stop was requested, -1 with errno set on error.
int flashsale_wait_readable_or_stop(int fd);

/// A NETLINK_SOCK_DIAG socket for flashsale_unix_listen_queue, or -1 with errno set.
int flashsale_sock_diag_open(void);

/// How many connections wait in the accept queue of `listener`, a listening unix stream
/// socket, asked through `diag_fd` (sock_diag with UDIAG_SHOW_RQLEN; ioctl(SIOCINQ) refuses
/// listeners). 0 without asking the kernel when poll says nothing waits. Returns -errno on
/// failure (-ENOENT when `listener` is not a listening unix socket).
long flashsale_unix_listen_queue(int diag_fd, int listener);

#endif
