#ifndef CREDITLINE_CLINUX_SHIM_H
#define CREDITLINE_CLINUX_SHIM_H
// Linux-only calls that the Glibc module does not export: epoll, eventfd, accept4, malloc_trim.
#include <malloc.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

// accept4 is declared only under _GNU_SOURCE, and defining that here would change struct layouts
// against the Glibc module's view of the same headers; so it is declared directly.
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

// One call returns a non-blocking, close-on-exec socket.
static inline int clinux_accept_nonblocking(int fd) {
    return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}
#endif
