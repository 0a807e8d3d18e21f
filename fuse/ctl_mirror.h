/*
 * ctl_mirror.h - the streaming verbs of the control socket (ctl_mirror.c,
 * protocol in ctl_proto.h): mirror-read, mirror-write and pfs-wait, each
 * served on its own detached thread.
 */
#ifndef HAMMER_FUSE_CTL_MIRROR_H
#define HAMMER_FUSE_CTL_MIRROR_H

#include <stddef.h>
#include <sys/socket.h>

struct hfuse;

/*
 * When `verb` is one of the streaming verbs, take over connection c: a
 * thread answers it and closes it.  `pre`/`npre`: bytes the dispatcher
 * read after the request line (the start of the client's data).  Returns
 * 1 when c now belongs to the verb's thread, 0 when an answer was put in
 * line/lsize instead (a refusal: the caller sends it and closes c), -1
 * when the verb is not one of them.
 */
int hfuse_ctl_mirror(struct hfuse *h, int c, int priv, const char *verb,
		     const char *args, const void *pre, size_t npre,
		     char *line, size_t lsize);

/*
 * The mount is going away (hfuse_drain has run: engine calls are refused):
 * cut the connections of h's streaming threads and wait until they are
 * gone.
 */
void hfuse_ctl_mirror_stop(struct hfuse *h);

#endif
