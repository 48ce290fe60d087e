#ifndef FLASHSALE_CLIBPQ_SHIM_H
#define FLASHSALE_CLIBPQ_SHIM_H

#include <libpq-fe.h>

/// Error field codes for PQresultErrorField, which libpq defines as character literals
/// ('C', 'M', 'D'): Swift imports only numeric and string macros.
static const int clibpq_diag_sqlstate = PG_DIAG_SQLSTATE;
static const int clibpq_diag_message_primary = PG_DIAG_MESSAGE_PRIMARY;
static const int clibpq_diag_message_detail = PG_DIAG_MESSAGE_DETAIL;
static const int clibpq_diag_source_function = PG_DIAG_SOURCE_FUNCTION;

#endif
