#include "log_shims.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

void flashsale_openlog(const char *ident) {
    static char *kept = NULL;
    char *copy = strdup(ident);
    if (copy == NULL) return;
    openlog(copy, LOG_PID, LOG_DAEMON);
    free(kept);
    kept = copy;
}

void flashsale_syslog(int priority, const char *message) {
    syslog(priority, "%s", message);
}
