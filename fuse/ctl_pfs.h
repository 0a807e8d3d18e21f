/*
 * ctl_pfs.h - the pfs-* verbs of the control socket (ctl_pfs.c, protocol
 * in ctl_proto.h), called by ctl.c's dispatcher.
 */
#ifndef HAMMER_FUSE_CTL_PFS_H
#define HAMMER_FUSE_CTL_PFS_H

#include <stddef.h>
#include <sys/socket.h>

struct hfuse;

struct hfuse_ctl_out {
	int err;		/* 0 or a positive errno */
	char msg[256];		/* "" for strerror(err) / "ok" */
	char body[1024];	/* "key=value\n" lines */
};

/*
 * Serve `verb` (with its arguments `args`, "" for none) when it is one of
 * the pfs-* verbs: returns 0 with *out filled, or -1 when the verb is not
 * one of them (the caller answers it).  `priv`: the client is root or the
 * mounting user.
 */
int hfuse_ctl_pfs(struct hfuse *h, const struct ucred *cr, int priv,
		  const char *verb, const char *args, struct hfuse_ctl_out *out);

#endif
