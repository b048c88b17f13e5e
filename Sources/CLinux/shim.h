#ifndef CREDITLINE_CLINUX_SHIM_H
#define CREDITLINE_CLINUX_SHIM_H
// Linux-only calls that the Glibc module does not export: epoll, eventfd, accept4.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

// accept4 is declared only under _GNU_SOURCE; one call returns a non-blocking, close-on-exec socket.
static inline int clinux_accept_nonblocking(int fd) {
    return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}
#endif
