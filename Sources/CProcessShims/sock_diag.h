#ifndef FLASHSALE_SOCK_DIAG_H
#define FLASHSALE_SOCK_DIAG_H

/* What the listen-queue and connection-listing shims share of talking sock_diag: sending a
   request, and finding an attribute in a reply. */

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Sends `message` (`size` bytes: a netlink header, then the family's request) on `diag_fd` as a
   SOCK_DIAG_BY_FAMILY request with `flags` and `sequence`, retrying on EINTR; 0 or -errno. */
static inline long flashsale_diag_send(int diag_fd, void *message, size_t size, __u16 flags, __u32 sequence) {
    struct nlmsghdr *header = message;
    header->nlmsg_len = (__u32)size;
    header->nlmsg_type = SOCK_DIAG_BY_FAMILY;
    header->nlmsg_flags = (__u16)(NLM_F_REQUEST | flags);
    header->nlmsg_seq = sequence;
    ssize_t sent;
    do sent = send(diag_fd, message, size, 0);
    while (sent < 0 && errno == EINTR);
    return sent < 0 ? -errno : 0;
}

/* The payload of the first attribute of `type` holding at least `least` bytes in a sock_diag
   `reply` whose fixed part is `fixed` bytes long, its length in `*length` when `length` is not
   NULL; NULL when none. */
static inline const void *flashsale_diag_attribute(const struct nlmsghdr *reply, size_t fixed, unsigned short type,
                                                   size_t least, size_t *length) {
    int remaining = (int)reply->nlmsg_len - (int)NLMSG_SPACE(fixed);
    for (const struct rtattr *attribute = (const struct rtattr *)((const char *)NLMSG_DATA(reply) + NLMSG_ALIGN(fixed));
         RTA_OK(attribute, remaining); attribute = RTA_NEXT(attribute, remaining)) {
        if (attribute->rta_type == type && RTA_PAYLOAD(attribute) >= least) {
            if (length != NULL) *length = RTA_PAYLOAD(attribute);
            return RTA_DATA(attribute);
        }
    }
    return NULL;
}

#endif
