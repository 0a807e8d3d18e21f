/*
 * ctl_snap.h - the snapshot, config and history verbs of the control
 * socket (ctl_snap.c, protocol in ctl_proto.h), called by ctl.c's
 * dispatcher.
 */
#ifndef HAMMER_FUSE_CTL_SNAP_H
#define HAMMER_FUSE_CTL_SNAP_H

#include <stddef.h>

struct hfuse;

/*
 * Serve `verb` (arguments `args`, "" for none) when it is one of
 * snap-add, snap-del, snap-list, config-get, config-set, history: returns
 * 0 with the whole reply (status line and body) in a malloc'd *reply of
 * *len bytes (NULL, 0 when out of memory), or -1 when the verb is not one
 * of them.  `priv`: the client is root or the mounting user.
 */
int hfuse_ctl_snap(struct hfuse *h, int priv, const char *verb,
		   const char *args, char **reply, size_t *len);

#endif
