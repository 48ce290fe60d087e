#ifndef FLASHSALE_LOG_SHIMS_H
#define FLASHSALE_LOG_SHIMS_H

/// openlog(ident, LOG_PID, LOG_DAEMON) with a copy of `ident` kept for the life of the
/// process (openlog keeps the pointer it is given).
void flashsale_openlog(const char *ident);

/// syslog(priority, "%s", message): syslog is variadic, so Swift cannot call it, and the
/// message is never taken as a format.
void flashsale_syslog(int priority, const char *message);

#endif
