#ifndef FLASHSALE_CFASTCGI_SHIM_H
#define FLASHSALE_CFASTCGI_SHIM_H

// libfcgi's request API (FCGX_*). Only the non-variadic calls are used: FCGX_PutStr and
// FCGX_GetStr rather than FCGX_FPrintF.
#include <fcgiapp.h>

#endif
