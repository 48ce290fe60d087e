#define _GNU_SOURCE
#include "mapping_guard.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>

/// How many mappings one process can guard at once (a function process maps one segment,
/// two while it reopens one; a test process a few per test running).
enum { guard_capacity = 256 };

enum { range_free, range_changing, range_active };

/// One guarded range. The handler reads these with atomics only: no lock, no allocation.
struct guarded_range {
    _Atomic int state;
    _Atomic uintptr_t start;
    _Atomic size_t length;
    _Atomic bool faulted;
    /// Handlers looking at this range now; unregistering waits for them.
    _Atomic int handlers;
};

static struct guarded_range ranges[guard_capacity];
/// The SIGBUS action before ours, read before ours is installed and never changed after.
static struct sigaction previous;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_errno;

/// Maps zero pages over the active range holding `address`; true when it did.
static bool contain(uintptr_t address) {
    for (int i = 0; i < guard_capacity; i++) {
        struct guarded_range *range = &ranges[i];
        if (atomic_load_explicit(&range->state, memory_order_relaxed) != range_active) continue;
        // Sequentially consistent, as unregister's state store and load of handlers: either it
        // sees this handler and waits, or this handler sees the range leave and skips it.
        atomic_fetch_add(&range->handlers, 1);
        bool contained = false;
        if (atomic_load(&range->state) == range_active) {
            uintptr_t start = atomic_load_explicit(&range->start, memory_order_relaxed);
            size_t length = atomic_load_explicit(&range->length, memory_order_relaxed);
            if (address - start < length) {
                // mmap is one system call on Linux (glibc's wrapper takes no lock), safe here.
                void *zeros = mmap((void *)start, length, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
                contained = zeros != MAP_FAILED;
                // Set after the remap: a thread that sees it reopens and unmaps a range no
                // handler will map over again.
                if (contained) atomic_store_explicit(&range->faulted, true, memory_order_release);
            }
        }
        atomic_fetch_sub(&range->handlers, 1);
        if (contained) return true;
    }
    return false;
}

/// Hands the signal to the action installed before ours.
static void pass_on(int signo, siginfo_t *info, void *context) {
    bool sent = info->si_code <= 0;
    if (previous.sa_flags & SA_SIGINFO) {
        previous.sa_sigaction(signo, info, context);
    } else if (previous.sa_handler == SIG_IGN && sent) {
        return;
    } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(signo);
    } else {
        struct sigaction fallback = {.sa_handler = SIG_DFL};
        sigaction(signo, &fallback, NULL);
    }
    // Left at the default action (as the Swift runtime's crash reporter leaves it), a fault recurs
    // when the instruction runs again and kills the process; a sent signal does not recur, so it
    // is raised again, blocked until this handler returns.
    struct sigaction now;
    if (sent && sigaction(signo, NULL, &now) == 0 && !(now.sa_flags & SA_SIGINFO) && now.sa_handler == SIG_DFL) {
        raise(signo);
    }
}

static void on_sigbus(int signo, siginfo_t *info, void *context) {
    int saved_errno = errno;
    // A positive si_code is a fault the kernel raised, whose si_addr is the address; a
    // signal sent with kill or raise carries no address.
    bool contained = info->si_code > 0 && contain((uintptr_t)info->si_addr);
    errno = saved_errno;
    if (!contained) pass_on(signo, info, context);
}

static void install(void) {
    struct sigaction action = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_ONSTACK};
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGBUS, NULL, &previous) != 0 || sigaction(SIGBUS, &action, NULL) != 0) install_errno = errno;
}

int flashsale_mapping_guard_register(void *start, size_t length) {
    int error = pthread_once(&install_once, install);
    if (error == 0) error = install_errno;
    if (error != 0) {
        errno = error;
        return -1;
    }
    for (int i = 0; i < guard_capacity; i++) {
        int expected = range_free;
        if (atomic_compare_exchange_strong(&ranges[i].state, &expected, range_changing)) {
            atomic_store_explicit(&ranges[i].start, (uintptr_t)start, memory_order_relaxed);
            atomic_store_explicit(&ranges[i].length, length, memory_order_relaxed);
            atomic_store_explicit(&ranges[i].faulted, false, memory_order_relaxed);
            atomic_store(&ranges[i].state, range_active);
            return i;
        }
    }
    errno = EMFILE;
    return -1;
}

void flashsale_mapping_guard_unregister(int slot) {
    struct guarded_range *range = &ranges[slot];
    atomic_store(&range->state, range_changing);
    while (atomic_load(&range->handlers) != 0) sched_yield();
    atomic_store(&range->state, range_free);
}

bool flashsale_mapping_guard_faulted(int slot) {
    return atomic_load_explicit(&ranges[slot].faulted, memory_order_relaxed);
}
