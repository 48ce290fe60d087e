#define _GNU_SOURCE
#include "process_shims.h"

#include "sock_diag.h"

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
#include <sys/time.h>

enum { listening_state = 10 }; /* TCP_LISTEN, which unix sockets report too */

int flashsale_sock_diag_open(void) {
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return -1;
    /* The kernel answers at once; the bound only keeps a lost reply from hanging a request. */
    struct timeval timeout = {.tv_sec = 0, .tv_usec = 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
}

/* The accept-queue length in one reply to request `sequence` about socket `inode`, -EAGAIN for
   a reply to another request (left over from a call that gave up), or another -errno. */
static long parse_reply(const struct nlmsghdr *reply, int length, __u32 sequence, __u32 inode) {
    if (!NLMSG_OK(reply, length)) return -EBADMSG;
    if (reply->nlmsg_seq != sequence) return -EAGAIN;
    if (reply->nlmsg_type == NLMSG_ERROR) {
        if (reply->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) return -EBADMSG;
        int error = ((const struct nlmsgerr *)NLMSG_DATA(reply))->error;
        return error != 0 ? error : -ENOENT;
    }
    if (reply->nlmsg_type != SOCK_DIAG_BY_FAMILY || reply->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg))) {
        return -EBADMSG;
    }
    const struct unix_diag_msg *socket_info = NLMSG_DATA(reply);
    if (socket_info->udiag_ino != inode) return -EBADMSG;
    const struct unix_diag_rqlen *queue =
        flashsale_diag_attribute(reply, sizeof *socket_info, UNIX_DIAG_RQLEN, sizeof(struct unix_diag_rqlen), NULL);
    if (queue != NULL) return (long)queue->udiag_rqueue;
    return -ENODATA;
}

long flashsale_unix_listen_queue(int diag_fd, int listener) {
    /* Per thread: a function's door asks on its own netlink socket beside the serving thread. */
    static _Thread_local __u32 last_sequence = 0;
    struct pollfd ready = {.fd = listener, .events = POLLIN};
    int polled = poll(&ready, 1, 0);
    if (polled < 0) return -errno;
    if (polled == 0) return 0; /* nothing waits: no need to ask the kernel how much */

    struct stat status;
    if (fstat(listener, &status) != 0) return -errno;
    __u32 sequence = ++last_sequence;
    struct {
        struct nlmsghdr header;
        struct unix_diag_req request;
    } message;
    memset(&message, 0, sizeof message);
    message.request.sdiag_family = AF_UNIX;
    message.request.udiag_states = 1u << listening_state;
    message.request.udiag_ino = (__u32)status.st_ino;
    message.request.udiag_show = UDIAG_SHOW_RQLEN;
    message.request.udiag_cookie[0] = INET_DIAG_NOCOOKIE;
    message.request.udiag_cookie[1] = INET_DIAG_NOCOOKIE;
    long sent = flashsale_diag_send(diag_fd, &message, sizeof message, 0, sequence);
    if (sent < 0) return sent;

    /* Replies to earlier calls that timed out may still be queued: skip them, a few at most. */
    for (int attempt = 0; attempt < 4; attempt++) {
        long buffer[256]; /* long-aligned, as the netlink headers inside it need */
        ssize_t received = recv(diag_fd, buffer, sizeof buffer, 0);
        if (received < 0) return -errno;
        long result = parse_reply((const struct nlmsghdr *)buffer, (int)received, sequence, (__u32)status.st_ino);
        if (result != -EAGAIN) return result;
    }
    return -EAGAIN;
}
