#ifndef FLASHSALE_CSQLITE_SHIM_H
#define FLASHSALE_CSQLITE_SHIM_H

#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift cannot import.
static inline sqlite3_destructor_type csqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

/// Extended result codes defined as expressions (`SQLITE_CONSTRAINT | (8<<8)`), which Swift
/// does not import.
static const int csqlite_constraint_primarykey = SQLITE_CONSTRAINT_PRIMARYKEY;
static const int csqlite_constraint_unique = SQLITE_CONSTRAINT_UNIQUE;
static const int csqlite_constraint_check = SQLITE_CONSTRAINT_CHECK;

#endif
