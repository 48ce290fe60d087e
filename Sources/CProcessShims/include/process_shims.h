#ifndef FLASHSALE_PROCESS_SHIMS_H
#define FLASHSALE_PROCESS_SHIMS_H

/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are re-parented to the calling
/// process, which can then reap them. prctl is variadic, so Swift cannot call it directly.
/// Returns 0, or -1 with errno set.
int flashsale_become_child_subreaper(void);

#endif
