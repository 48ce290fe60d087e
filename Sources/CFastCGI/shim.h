#ifndef FLASHSALE_CFASTCGI_SHIM_H
#define FLASHSALE_CFASTCGI_SHIM_H

#include <fcgiapp.h>
#include <signal.h>
#include <string.h>

/// Runs inside a signal handler: only the async-signal-safe flag write in libfcgi.
static void cfcgi_shutdown_handler(int signo) {
    (void)signo;
    FCGX_ShutdownPending();
}

/// Makes `signo` ask libfcgi to stop accepting. No SA_RESTART, so an accept() blocked
/// waiting for the next request returns at once. Returns 0, or -1 with errno set.
static inline int cfcgi_shutdown_on_signal(int signo) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = cfcgi_shutdown_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    return sigaction(signo, &action, NULL);
}

#endif
