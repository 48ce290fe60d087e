#define _GNU_SOURCE
#include "process_shims.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

static const int stop_signals[] = {SIGTERM, SIGINT, SIGUSR1};
static const int stop_signal_count = sizeof stop_signals / sizeof stop_signals[0];
static volatile sig_atomic_t stop_requested = 0;
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
            return stop_signal_pending() ? 0 : 1;
        }
        if (rc < 0 && errno != EINTR) {
            return -1;
        }
    }
}
