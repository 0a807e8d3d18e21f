/*
 * ctl.h - the client side of hammer-fuse's control socket
 * (fuse/ctl_proto.h): how `hammer CMD PATH` reaches a mounted file system.
 */
#ifndef HAMMER_CLI_CTL_H
#define HAMMER_CLI_CTL_H

#include <stdio.h>

struct hammer_ctl_reply {
	int status;		/* 0 or a positive errno from the daemon */
	char msg[256];		/* its message */
	char body[4096];	/* "key=value\n" lines */
};

/*
 * Send `verb` to the hammer-fuse mount holding `path`.  Returns 0 when the
 * daemon answered (look at r->status), or -1 after printing to `err` why it
 * could not be reached.
 */
int hammer_ctl_call(const char *path, const char *verb,
		    struct hammer_ctl_reply *r, FILE *err);
/*
 * Streaming verbs (mirror-read, mirror-write): connect to the mount holding
 * `path`, send `verb`, read only the status line into r (no timeouts: a
 * stream may pause for long).  Returns the connected socket when the
 * status is 0, -2 when the daemon refused (r->status, r->msg), or -1
 * after printing to `err` why it could not be reached.
 */
int hammer_ctl_open(const char *path, const char *verb,
		    struct hammer_ctl_reply *r, FILE *err);
/*
 * Read a whole reply (status line, key=value lines, end of file) from a
 * connection opened with hammer_ctl_open, then close it.  0, or -1 when
 * the connection ended without a well-formed status line (r->msg says).
 */
int hammer_ctl_finish(int fd, struct hammer_ctl_reply *r);
/* One line (without its '\n') from fd, byte by byte: its length, or -1. */
int hammer_ctl_read_line(int fd, char *buf, size_t size);

/* The value of `key` in the reply body, or NULL. */
const char *hammer_ctl_get(const struct hammer_ctl_reply *r, const char *key,
			   char *buf, size_t size);

#endif
