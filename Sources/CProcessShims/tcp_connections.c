#define _GNU_SOURCE
#include "tcp_connections.h"

#include "sock_diag.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { established = 1, close_wait = 8 }; /* TCP_ESTABLISHED, TCP_CLOSE_WAIT */

/* Adds one reply's connection to `connections` when its local port is `port`. */
static void add_connection(const struct nlmsghdr *reply, __be16 port, struct flashsale_tcp_connection *connections,
                           long capacity, long *count) {
    if (reply->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) return;
    const struct inet_diag_msg *socket_info = NLMSG_DATA(reply);
    if (socket_info->id.idiag_sport != port) return;
    if (*count < capacity) {
        struct flashsale_tcp_connection *connection = &connections[*count];
        memset(connection, 0, sizeof *connection);
        connection->family = socket_info->idiag_family;
        memcpy(connection->address, socket_info->id.idiag_dst, socket_info->idiag_family == AF_INET ? 4 : 16);
        connection->inode = socket_info->idiag_inode;
        size_t length = 0;
        const void *payload = flashsale_diag_attribute(
            reply, sizeof *socket_info, INET_DIAG_INFO, offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(__u64),
            &length);
        if (payload != NULL) {
            struct tcp_info info;
            memset(&info, 0, sizeof info);
            memcpy(&info, payload, length < sizeof info ? length : sizeof info);
            connection->bytes_acked = info.tcpi_bytes_acked;
            connection->bytes_received = info.tcpi_bytes_received;
        }
    }
    (*count)++;
}

/* One dump of `family`'s TCP sockets; 0 or -errno. */
static long dump(int diag_fd, int family, __be16 port, struct flashsale_tcp_connection *connections, long capacity,
                 long *count) {
    static _Thread_local __u32 last_sequence = 0;
    __u32 sequence = ++last_sequence;
    struct {
        struct nlmsghdr header;
        struct inet_diag_req_v2 request;
    } message;
    memset(&message, 0, sizeof message);
    message.request.sdiag_family = (__u8)family;
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = (1u << established) | (1u << close_wait);
    message.request.idiag_ext = 1u << (INET_DIAG_INFO - 1);
    message.request.id.idiag_sport = port; /* the kernel skips other ports' sockets */
    message.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    message.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    long sent = flashsale_diag_send(diag_fd, &message, sizeof message, NLM_F_DUMP, sequence);
    if (sent < 0) return sent;
    while (1) {
        long buffer[8192]; /* long-aligned, as the netlink headers inside it need */
        ssize_t received = recv(diag_fd, buffer, sizeof buffer, 0);
        if (received < 0 && errno == EINTR) continue;
        if (received < 0) return -errno;
        int length = (int)received;
        for (const struct nlmsghdr *reply = (const struct nlmsghdr *)buffer; NLMSG_OK(reply, length);
             reply = NLMSG_NEXT(reply, length)) {
            if (reply->nlmsg_seq != sequence) continue; /* left over from a dump that gave up */
            if (reply->nlmsg_type == NLMSG_DONE) {
                /* A dump cut short (e.g. the kernel ran out of memory) says so in its DONE. */
                if (reply->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
                    int status;
                    memcpy(&status, NLMSG_DATA(reply), sizeof status);
                    if (status < 0) return status;
                }
                return 0;
            }
            if (reply->nlmsg_type == NLMSG_ERROR) {
                if (reply->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) return -EBADMSG;
                int error = ((const struct nlmsgerr *)NLMSG_DATA(reply))->error;
                return error != 0 ? error : -EBADMSG;
            }
            if (reply->nlmsg_type == SOCK_DIAG_BY_FAMILY) add_connection(reply, port, connections, capacity, count);
        }
    }
}

long flashsale_tcp_connections(int diag_fd, int family, unsigned short port,
                               struct flashsale_tcp_connection *connections, long capacity) {
    long count = 0;
    long result = 0;
    if (family != AF_INET6) result = dump(diag_fd, AF_INET, htons(port), connections, capacity, &count);
    if (result == 0 && family != AF_INET) result = dump(diag_fd, AF_INET6, htons(port), connections, capacity, &count);
    return result < 0 ? result : count;
}

int flashsale_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int flashsale_pidfd_getfd(int pidfd, int fd) { return (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0); }
