#define _GNU_SOURCE
#include "process_shims.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

static volatile sig_atomic_t stop_requested = 0;

static void request_stop(int signo) {
    (void)signo;
    stop_requested = 1;
}

int flashsale_become_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int flashsale_install_stop_signals(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = request_stop;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGTERM, &action, NULL) != 0 || sigaction(SIGINT, &action, NULL) != 0) {
        return -1;
    }
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    int rc = pthread_sigmask(SIG_BLOCK, &stops, NULL);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}

int flashsale_stop_requested(void) {
    return stop_requested;
}

int flashsale_wait_readable_or_stop(int fd) {
    sigset_t during_wait;
    pthread_sigmask(SIG_SETMASK, NULL, &during_wait);
    sigdelset(&during_wait, SIGTERM);
    sigdelset(&during_wait, SIGINT);
    struct pollfd listener = {.fd = fd, .events = POLLIN, .revents = 0};
    for (;;) {
        if (stop_requested) {
            return 0;
        }
        int rc = ppoll(&listener, 1, NULL, &during_wait);
        if (rc > 0) {
            return 1;
        }
        if (rc < 0 && errno != EINTR) {
            return -1;
        }
    }
}
