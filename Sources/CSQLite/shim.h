#ifndef FLASHSALE_CSQLITE_SHIM_H
#define FLASHSALE_CSQLITE_SHIM_H

#include <sqlite3.h>
#include <stdint.h>
#include <unistd.h>

/// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift cannot import.
static inline sqlite3_destructor_type csqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

/// Extended result codes defined as expressions (`SQLITE_CONSTRAINT | (8<<8)`), which Swift
/// does not import.
static const int csqlite_constraint_primarykey = SQLITE_CONSTRAINT_PRIMARYKEY;
static const int csqlite_constraint_unique = SQLITE_CONSTRAINT_UNIQUE;
static const int csqlite_constraint_check = SQLITE_CONSTRAINT_CHECK;

/// The busy handler of `csqlite_busy_wait`: retries every 100 µs until `timeout_ms` (passed as
/// the context pointer) is spent, counting the sleeps, so the wait is at least the timeout.
static inline int csqlite_retry_briefly(void *timeout_ms, int attempts) {
    if ((int64_t)attempts * 100 >= (int64_t)(intptr_t)timeout_ms * 1000) return 0;
    usleep(100);
    return 1;
}

/// Waits for another connection's lock in 100 µs steps instead of sqlite3_busy_timeout's
/// 1, 2, 5, 10… ms: order commits hold the write lock for a fraction of a millisecond, so the
/// built-in steps leave the lock idle while waiters sleep.
static inline int csqlite_busy_wait(sqlite3 *db, int timeout_ms) {
    return sqlite3_busy_handler(db, csqlite_retry_briefly, (void *)(intptr_t)timeout_ms);
}

/// Syncs the write-ahead log of `db`'s main database to disk (fdatasync through SQLite's own
/// VFS, via SQLITE_FCNTL_JOURNAL_POINTER). SQLITE_MISUSE when the connection has no WAL open.
/// Answers xSync's extended code itself (the connection's error state is not set by it), and on
/// failure puts the errno the VFS recorded for the log file in `sys_errno` (0 if none).
static inline int csqlite_sync_wal(sqlite3 *db, int *sys_errno) {
    *sys_errno = 0;
    sqlite3_file *wal = NULL;
    int rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
    if (rc != SQLITE_OK) return rc;
    if (wal == NULL || wal->pMethods == NULL) return SQLITE_MISUSE;
    rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
    if (rc != SQLITE_OK) {
        int last = 0;
        if (wal->pMethods->xFileControl(wal, SQLITE_FCNTL_LAST_ERRNO, &last) == SQLITE_OK) *sys_errno = last;
    }
    return rc;
}

#endif
