#define _GNU_SOURCE
#include "process_shims.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

enum { listening_state = 10 }; /* TCP_LISTEN, which unix sockets report too */

int flashsale_sock_diag_open(void) {
    return socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
}

long flashsale_unix_listen_queue(int diag_fd, int listener) {
    struct pollfd ready = {.fd = listener, .events = POLLIN};
    int polled = poll(&ready, 1, 0);
    if (polled < 0) return -errno;
    if (polled == 0) return 0; /* nothing waits: no need to ask the kernel how much */

    struct stat status;
    if (fstat(listener, &status) != 0) return -errno;
    struct {
        struct nlmsghdr header;
        struct unix_diag_req request;
    } message;
    memset(&message, 0, sizeof message);
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST;
    message.request.sdiag_family = AF_UNIX;
    message.request.udiag_states = 1u << listening_state;
    message.request.udiag_ino = (__u32)status.st_ino;
    message.request.udiag_show = UDIAG_SHOW_RQLEN;
    message.request.udiag_cookie[0] = INET_DIAG_NOCOOKIE;
    message.request.udiag_cookie[1] = INET_DIAG_NOCOOKIE;
    if (send(diag_fd, &message, sizeof message, 0) < 0) return -errno;

    long buffer[256]; /* long-aligned, as the netlink headers inside it need */
    ssize_t received = recv(diag_fd, buffer, sizeof buffer, 0);
    if (received < 0) return -errno;
    struct nlmsghdr *reply = (struct nlmsghdr *)buffer;
    int remaining = (int)received;
    if (!NLMSG_OK(reply, remaining)) return -EBADMSG;
    if (reply->nlmsg_type == NLMSG_ERROR) {
        int error = ((struct nlmsgerr *)NLMSG_DATA(reply))->error;
        return error != 0 ? error : -ENOENT;
    }
    struct unix_diag_msg *socket_info = NLMSG_DATA(reply);
    int attributes_length = (int)reply->nlmsg_len - (int)NLMSG_LENGTH(sizeof *socket_info);
    for (struct rtattr *attribute = (struct rtattr *)(socket_info + 1); RTA_OK(attribute, attributes_length);
         attribute = RTA_NEXT(attribute, attributes_length)) {
        if (attribute->rta_type == UNIX_DIAG_RQLEN) {
            return (long)((struct unix_diag_rqlen *)RTA_DATA(attribute))->udiag_rqueue;
        }
    }
    return -ENODATA;
}
