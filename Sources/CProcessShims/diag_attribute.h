#ifndef FLASHSALE_DIAG_ATTRIBUTE_H
#define FLASHSALE_DIAG_ATTRIBUTE_H

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stddef.h>

/* The payload of the first attribute of `type` holding at least `least` bytes in a sock_diag
   `reply` whose fixed part is `fixed` bytes long, its length in `*length`; NULL when none. */
static inline const void *flashsale_diag_attribute(const struct nlmsghdr *reply, size_t fixed, unsigned short type,
                                                   size_t least, size_t *length) {
    int remaining = (int)reply->nlmsg_len - (int)NLMSG_LENGTH(fixed);
    for (const struct rtattr *attribute = (const struct rtattr *)((const char *)NLMSG_DATA(reply) + NLMSG_ALIGN(fixed));
         RTA_OK(attribute, remaining); attribute = RTA_NEXT(attribute, remaining)) {
        if (attribute->rta_type == type && RTA_PAYLOAD(attribute) >= least) {
            *length = RTA_PAYLOAD(attribute);
            return RTA_DATA(attribute);
        }
    }
    return NULL;
}

#endif
