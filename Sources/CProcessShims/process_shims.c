#define _GNU_SOURCE
#include "process_shims.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static const int stop_signals[] = {SIGTERM, SIGINT, SIGUSR1};
static const int stop_signal_count = sizeof stop_signals / sizeof stop_signals[0];
/// Set by the signal handler in whichever serving thread the stop landed in, read by every
/// serving thread: a lock-free atomic, which a handler may store to.
static atomic_int stop_requested = 0;
/// The thread's signal mask with the stop signals unblocked: ppoll's mask while it waits.
static sigset_t mask_during_wait;

static void request_stop(int signo) {
    (void)signo;
    stop_requested = 1;
}

static int stop_signal_pending(void) {
    sigset_t pending;
    sigpending(&pending);
    for (int i = 0; i < stop_signal_count; i++) {
        if (sigismember(&pending, stop_signals[i])) {
            return 1;
        }
    }
    return 0;
}

int flashsale_become_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

/// The parent when the program was loaded, before any Swift code ran: a parent that dies
/// between then and flashsale_set_parent_death_signal is noticed.
static pid_t parent_at_load;

__attribute__((constructor)) static void record_parent_at_load(void) {
    parent_at_load = getppid();
}

/// True when no process `pid` is left but a zombie (or none at all).
static int is_gone(pid_t pid) {
    char path[32];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *file = fopen(path, "re");
    if (file == NULL) {
        return errno == ENOENT;
    }
    char line[512];
    size_t got = fread(line, 1, sizeof line - 1, file);
    fclose(file);
    line[got] = 0;
    // pid (comm) S ...: the state follows the last ')', as comm may hold one.
    const char *close = strrchr(line, ')');
    return close != NULL && close[1] == ' ' && close[2] == 'Z';
}

int flashsale_set_parent_death_signal(int signo) {
    if (prctl(PR_SET_PDEATHSIG, signo, 0, 0, 0) != 0) {
        return -1;
    }
    if (getppid() != parent_at_load) {
        return 1;  // It died after the program was loaded, before the signal was armed.
    }
    // It may have died before the program was loaded, between fork and the constructor
    // (dynamic loading takes a while): then parent_at_load is the reaper this process was
    // re-parented to (init, a subreaper), whose death would come late or never. The parent
    // that forked this process left it in its own process group, or made it the leader of a
    // new one; the reaper is an ancestor of the parent, so in another group. A parent in
    // another group whose leader is gone is the reaper of a parent (the leader) that died.
    pid_t group = getpgrp();
    if (group != getpid() && getpgid(parent_at_load) != group && is_gone(group)) {
        return 1;
    }
    return 0;
}

/// What the child reports through the pipe when a step before execve (or execve) fails.
struct spawn_failure {
    int step;
    int error;
};

static const char *const spawn_steps[] = {"setpgid", "prctl(PR_SET_PDEATHSIG)", "getppid", "sigprocmask", "execve"};

/// The child's side: only async-signal-safe calls, as the parent may have other threads.
static void spawn_child(
    int report, const char *path, char *const argv[], char *const envp[], int death_signal, pid_t parent) {
    struct spawn_failure failure = {0, 0};
    struct sigaction defaults;
    memset(&defaults, 0, sizeof defaults);
    defaults.sa_handler = SIG_DFL;
    sigemptyset(&defaults.sa_mask);
    // Every signal at its default: handlers do not survive execve anyway, ignored signals
    // would, and a handler of the parent must not run in the child before it.
    for (int signo = 1; signo < NSIG; signo++) {
        sigaction(signo, &defaults, NULL);  // fails harmlessly for SIGKILL, SIGSTOP and glibc's own
    }
    sigset_t empty;
    sigemptyset(&empty);
    if (setpgid(0, 0) != 0) {
        failure = (struct spawn_failure){0, errno};
    } else if (death_signal != 0 && prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0) != 0) {
        failure = (struct spawn_failure){1, errno};
    } else if (death_signal != 0 && getppid() != parent) {
        // The parent died before the signal was armed: nobody is left to stop this process.
        failure = (struct spawn_failure){2, ESRCH};
    } else if (sigprocmask(SIG_SETMASK, &empty, NULL) != 0) {
        failure = (struct spawn_failure){3, errno};
    } else {
        execve(path, argv, envp);
        failure = (struct spawn_failure){4, errno};
    }
    while (write(report, &failure, sizeof failure) == -1 && errno == EINTR) {
    }
    _exit(127);
}

pid_t flashsale_spawn(
    const char *path, char *const argv[], char *const envp[], int death_signal, const char **failed_call) {
    *failed_call = "pipe2";
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        return -1;
    }
    // All signals blocked across fork, so none reaches a handler of the parent in the child.
    sigset_t all, before;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &before);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        close(report[0]);
        spawn_child(report[1], path, argv, envp, death_signal, parent);
    }
    int fork_error = errno;
    pthread_sigmask(SIG_SETMASK, &before, NULL);
    close(report[1]);
    if (pid < 0) {
        close(report[0]);
        *failed_call = "fork";
        errno = fork_error;
        return -1;
    }
    // The write end closes on execve: zero bytes means the program runs.
    struct spawn_failure failure;
    ssize_t got;
    do {
        got = read(report[0], &failure, sizeof failure);
    } while (got == -1 && errno == EINTR);
    close(report[0]);
    if (got != (ssize_t)sizeof failure) {
        return pid;
    }
    while (waitpid(pid, NULL, 0) == -1 && errno == EINTR) {
    }
    *failed_call = spawn_steps[failure.step];
    errno = failure.error;
    return -1;
}

int flashsale_install_stop_signals(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = request_stop;
    sigemptyset(&action.sa_mask);
    sigset_t stops;
    sigemptyset(&stops);
    for (int i = 0; i < stop_signal_count; i++) {
        if (sigaction(stop_signals[i], &action, NULL) != 0) {
            return -1;
        }
        sigaddset(&stops, stop_signals[i]);
    }
    sigset_t before;
    int rc = pthread_sigmask(SIG_BLOCK, &stops, &before);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    mask_during_wait = before;
    for (int i = 0; i < stop_signal_count; i++) {
        sigdelset(&mask_during_wait, stop_signals[i]);
    }
    return 0;
}

int flashsale_wait_readable_or_stop(int fd) {
    struct pollfd listener = {.fd = fd, .events = POLLIN, .revents = 0};
    for (;;) {
        if (stop_requested) {
            return 0;
        }
        // A stop signal pending while fd is readable is not delivered by ppoll: look for it.
        int rc = ppoll(&listener, 1, NULL, &mask_during_wait);
        if (rc > 0) {
            // Another serving thread that took the stop shuts the socket's reading side, which
            // wakes this one readable: the flag tells it to stop too.
            return (stop_requested || stop_signal_pending()) ? 0 : 1;
        }
        if (rc < 0 && errno != EINTR) {
            return -1;
        }
    }
}
