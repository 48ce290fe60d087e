#ifndef FLASHSALE_PROCESS_SHIMS_H
#define FLASHSALE_PROCESS_SHIMS_H

#include <sys/types.h>

/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are re-parented to the calling
/// process, which can then reap them. prctl is variadic, so Swift cannot call it directly.
/// Returns 0, or -1 with errno set.
int flashsale_become_child_subreaper(void);

/// Starts `path` with `argv` and `envp` (NULL-terminated) in a process of its own, by fork and
/// execve: the leader of a new process group, with an empty signal mask and every signal at
/// its default disposition. With `death_signal` non-zero, the kernel sends it that signal
/// when the calling *thread* exits (PR_SET_PDEATHSIG), so call it from a thread that lives as
/// long as the process; a parent that died before the signal was armed makes the start fail
/// with ESRCH. Returns the pid, or -1 with errno set and `*failed_call` naming the call that
/// failed (fork, execve, prctl(PR_SET_PDEATHSIG), ...).
pid_t flashsale_spawn(
    const char *path, char *const argv[], char *const envp[], int death_signal, const char **failed_call);

/// Arms the parent-death signal of the calling process: `signo` arrives when its parent
/// (thread) exits. Returns 0; 1 when the parent died before the signal was armed, so the
/// signal will never come: the parent is no longer the one the program had when it was
/// loaded, or that one is a reaper the process was re-parented to before it was loaded (it
/// is in another process group, whose leader is gone); or -1 with errno set.
int flashsale_set_parent_death_signal(int signo);

/// Makes SIGTERM, SIGINT and SIGUSR1 (libfcgi's graceful-stop signal) set the stop flag,
/// and blocks them in the calling thread: from then on they are delivered only inside
/// flashsale_wait_readable_or_stop. Threads started after it inherit the mask. Returns 0, or
/// -1 with errno set.
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
