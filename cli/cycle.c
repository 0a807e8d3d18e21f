/*
 * cycle.c - DragonFly's cycle file (cycle.h), shared by mirror-read and
 * the maintenance commands.  DragonFly writes its structures in host
 * order and runs on little-endian machines only, so the file is
 * little-endian field by field.
 */
#include "cycle.h"
#include "ctl.h"
#include "hammer.h"
#include "fuse/ctl_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define CYCLE_SIZE	(HAMMER_CTL_KEY_BYTES + 8u)

void hammer_cycle_key_start(struct hammer_base_elm *k)
{
	memset(k, 0, sizeof(*k));
	k->localization = HAMMER_MIN_ONDISK_LOCALIZATION;
	k->obj_id = HAMMER_MIN_OBJID;
	k->key = HAMMER_MIN_KEY;
	k->create_tid = 1;
	k->rec_type = HAMMER_MIN_RECTYPE;
}

int hammer_cycle_key_is_start(const struct hammer_base_elm *k)
{
	struct hammer_base_elm s;
	hammer_cycle_key_start(&s);
	return k->localization == s.localization && k->obj_id == s.obj_id &&
	       k->key == s.key && k->create_tid == s.create_tid &&
	       k->delete_tid == s.delete_tid && k->rec_type == s.rec_type &&
	       k->obj_type == s.obj_type && k->btype == s.btype;
}

int hammer_cycle_get(const char *path, struct hammer_base_elm *key, hammer_tid_t *tid,
		     FILE *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* no file yet: nothing to take */
	uint8_t b[CYCLE_SIZE];
	size_t have = 0;
	while (have < sizeof(b)) {
		ssize_t n = read(fd, b + have, sizeof(b) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(err, "cycle-file %s: read failed %s\n", path, strerror(errno));
			close(fd);
			return 0;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	if (have < HAMMER_CTL_KEY_BYTES) {
		fprintf(err, "cycle-file %s: clearing old version\n", path);
		remove(path);
		return 0;
	}
	hammer_ctl_key_unpack(b, key);
	if (have < CYCLE_SIZE) {
		fprintf(err, "cycle-file %s: Warning, malformed\n", path);
		return 1;
	}
	uint64_t t = 0;
	for (int i = 7; i >= 0; i--)
		t = (t << 8) | b[HAMMER_CTL_KEY_BYTES + (unsigned)i];
	*tid = t;
	return 1;
}

void hammer_cycle_put(const char *path, const struct hammer_base_elm *key,
		      hammer_tid_t tid, FILE *err)
{
	uint8_t b[CYCLE_SIZE];
	hammer_ctl_key_pack(key, b);
	for (int i = 0; i < 8; i++)
		b[HAMMER_CTL_KEY_BYTES + (unsigned)i] = (uint8_t)(tid >> (8 * i));
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		fprintf(err, "Warning: Unable to write to %s: %s\n", path, strerror(errno));
		return;
	}
	size_t off = 0;
	while (off < sizeof(b)) {
		ssize_t n = write(fd, b + off, sizeof(b) - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(err, "Warning: Unable to write to %s: %s\n", path,
				strerror(n < 0 ? errno : EIO));
			break;
		}
		off += (size_t)n;
	}
	close(fd);
}

void hammer_cycle_arg(const struct hammer_opts *o, char *out, size_t size)
{
	out[0] = '\0';
	struct hammer_base_elm k;
	hammer_tid_t tid = 0;
	if (!o->cyclefile || !hammer_cycle_get(o->cyclefile, &k, &tid, o->err) ||
	    hammer_cycle_key_is_start(&k))
		return;
	uint8_t b[HAMMER_CTL_KEY_BYTES];
	char hex[2 * HAMMER_CTL_KEY_BYTES + 1];
	hammer_ctl_key_pack(&k, b);
	hammer_ctl_hex_encode(b, sizeof(b), hex);
	snprintf(out, size, " %s", hex);
}

int hammer_cycle_after(const struct hammer_opts *o, const struct hammer_ctl_reply *r,
		       int64_t *obj, uint32_t *loc)
{
	char hex[2 * HAMMER_CTL_KEY_BYTES + 8];
	uint8_t b[HAMMER_CTL_KEY_BYTES];
	struct hammer_base_elm k;
	if (!hammer_ctl_get(r, "resume", hex, sizeof(hex)) ||
	    hammer_ctl_hex_decode(hex, b, sizeof(b)) || hex[2 * sizeof(b)]) {
		if (o->cyclefile)
			remove(o->cyclefile);	/* ran to the end: start over next time */
		return 0;
	}
	hammer_ctl_key_unpack(b, &k);
	*obj = k.obj_id;
	*loc = k.localization;
	if (o->cyclefile)
		hammer_cycle_put(o->cyclefile, &k, 0, o->err);
	return 1;
}
