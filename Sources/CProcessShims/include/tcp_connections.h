#ifndef FLASHSALE_TCP_CONNECTIONS_H
#define FLASHSALE_TCP_CONNECTIONS_H

#include <sys/types.h>

/// One TCP connection to a local port, as sock_diag reports it.
struct flashsale_tcp_connection {
    /// The peer's address: 4 bytes for AF_INET, 16 for AF_INET6.
    unsigned char address[16];
    int family;
    /// The socket's inode, as /proc/PID/fd names it ("socket:[inode]"); 0 while it waits in
    /// the accept queue.
    unsigned int inode;
    /// Bytes the peer has acknowledged: what the server has delivered on the connection.
    unsigned long long bytes_acked;
    /// Bytes received from the peer: what the client has sent on the connection.
    unsigned long long bytes_received;
};

/// The established (or half-closed by the peer) TCP connections whose local port is `port`,
/// of `family` (AF_INET, AF_INET6, or 0 for both), asked through `diag_fd`
/// (flashsale_sock_diag_open). Writes at most `capacity` into `connections` and returns how
/// many there are (more than `capacity` means ask again with room for them), or -errno. The
/// kernel walks every TCP socket of the family to answer, TIME_WAIT ones included: about
/// 5 ms for 30,000 on a small virtual machine.
long flashsale_tcp_connections(
    int diag_fd, int family, unsigned short port, struct flashsale_tcp_connection *connections, long capacity);

/// pidfd_open(2): a descriptor for process `pid`, or -1 with errno set.
int flashsale_pidfd_open(pid_t pid);

/// pidfd_getfd(2): a copy, in this process, of descriptor `fd` of the process `pidfd` names
/// (ptrace access to it is needed: a child of this process running as the same user), or -1
/// with errno set.
int flashsale_pidfd_getfd(int pidfd, int fd);

#endif
