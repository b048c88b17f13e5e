#ifndef CSPAWN_H
#define CSPAWN_H
#include <spawn.h>

// glibc declares these three only under _GNU_SOURCE, which Swift's Glibc module is built without;
// cspawn.c defines it and forwards.
int cspawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);
int cspawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);
int cspawn_pipe_cloexec(int fds[2]);

#endif
