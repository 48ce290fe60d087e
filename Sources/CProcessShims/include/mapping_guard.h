#ifndef FLASHSALE_MAPPING_GUARD_H
#define FLASHSALE_MAPPING_GUARD_H

#include <stdbool.h>
#include <stddef.h>

/// Guards the shared file mapping [start, start + length): a SIGBUS inside it (its file was
/// truncated, or a page could not be written) is contained by mapping anonymous zero pages
/// over the whole range, so the faulting access runs again and succeeds, and the range is
/// marked faulted. Any other SIGBUS goes to the handler installed before (the Swift
/// runtime's backtracer) or the default action. The first call installs the handler.
/// Returns the range's slot, or -1 with errno set (EMFILE when every slot is taken).
int flashsale_mapping_guard_register(void *start, size_t length);

/// Stops guarding the range of `slot`, waiting for a handler still remapping it; call it
/// before munmap, so that no handler maps over memory the process has since reused.
void flashsale_mapping_guard_unregister(int slot);

/// Whether a fault in the range of `slot` was contained: its memory is no longer the file's.
/// One relaxed atomic load.
bool flashsale_mapping_guard_faulted(int slot);

#endif
