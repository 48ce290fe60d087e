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
    int rc = pthread_sigmask(SIG_BLOCK, &stops, NULL);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}

int flashsale_wait_readable_or_stop(int fd) {
    sigset_t during_wait;
    pthread_sigmask(SIG_SETMASK, NULL, &during_wait);
    for (int i = 0; i < stop_signal_count; i++) {
        sigdelset(&during_wait, stop_signals[i]);
    }
    struct pollfd listener = {.fd = fd, .events = POLLIN, .revents = 0};
    for (;;) {
        if (stop_requested || stop_signal_pending()) {
            return 0;
        }
        int rc = ppoll(&listener, 1, NULL, &during_wait);
        if (rc > 0 && !stop_signal_pending()) {
            return 1;
        }
        if (rc < 0 && errno != EINTR) {
            return -1;
        }
    }
}
