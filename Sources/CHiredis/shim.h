#ifndef FLASHSALE_CHIREDIS_SHIM_H
#define FLASHSALE_CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>
#include <unistd.h>

/// redisCommandArgv with its reply typed: a redisReply tree to free with freeReplyObject, or
/// NULL when the context failed (its err and errstr say how).
static inline redisReply *chiredis_command(redisContext *c, int argc, const char **argv, const size_t *argvlen) {
    return (redisReply *)redisCommandArgv(c, argc, argv, argvlen);
}

/// redisReconnect, safe to repeat: hiredis 0.14 closes the old socket but keeps its number when
/// the new connect fails before making a socket (getaddrinfo), so the next reconnect or redisFree
/// would close that number again, by then perhaps another file's. hiredis takes fd 0 for none.
static inline int chiredis_reconnect(redisContext *c) {
    if (c->fd > 0) {
        close(c->fd);
        c->fd = -1;
    }
    return redisReconnect(c);
}

/// The context's error text (errstr is a char array Swift imports as a tuple).
static inline const char *chiredis_errstr(const redisContext *c) {
    return c->errstr;
}

#endif
