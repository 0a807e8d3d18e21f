/*
 * cmd_show.c - `hammer show [lo[:objid[:rectype[:key[:tid]]]]]
 * [filter,nofilter,obfuscate,indent]`: dump and verify the B-tree.
 *
 * Output follows DragonFly's: a node line with two flag characters
 * (B = bad; M mirror_tid, C count, U type, I unreadable; ours: L loop,
 * D too deep), element lines with a "G------" column (B bad, L/R outside
 * the parent's bounds, T bad type, C bad child/parent link or no data,
 * M mirror_tid), "icrc="/"ocrc=" naming the CRC that matched, fill=
 * zone:volume:layer1:layer2:offset=percent, and a decode of each record.
 * Every problem is counted ("N bad nodes/elms/records") and the dump goes
 * on; any bad count makes the exit status 2.
 */
#include "hammer.h"

#include <stdlib.h>
#include <string.h>

#define FLAG_TOOFARLEFT		0x01
#define FLAG_TOOFARRIGHT	0x02
#define FLAG_BADTYPE		0x04
#define FLAG_BADCHILDPARENT	0x08
#define FLAG_BADMIRRORTID	0x10

struct show {
	struct hammer_opts *o;
	struct hammer_volset *vs;
	struct hammer_rdcache nc, pc, dc, lc;	/* nodes, child peeks, data, lookups */
	struct hammer_zone_stats stats;
	int want_stats;
	struct hammer_u64map seen;
	/* search filter */
	struct hammer_base_elm base;
	int limit, filter, obfuscate, indent;
	int depth;
	long bad_node, bad_elm, bad_rec, bad_fill;
	int oom;
};

static const char *indent(const struct show *s)
{
	static const char tabs[] = "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";
	int d = s->indent ? s->depth : 0;
	if (d < 0)
		d = 0;
	if (d > 16)
		d = 16;
	return tabs + 16 - d;
}

static void print_fill(struct show *s, hammer_off_t off)
{
	struct hammer_blockmap_layer1 l1;
	struct hammer_blockmap_layer2 l2;
	hammer_off_t res;
	FILE *f = s->o->out;
	fprintf(f, "z%u:v%u:%llu:%llu:%llu=", hammer_zone_of(off), hammer_vol_of(off),
		(unsigned long long)hammer_layer1_index(off),
		(unsigned long long)hammer_layer2_index(off),
		(unsigned long long)(off & HAMMER_BIGBLOCK_MASK64));
	struct hammer_err e = { 0 };
	int lk = hammer_inspect_lookup(s->vs, &s->lc, off, &l1, &l2, &res, &e);
	if (lk) {
		fprintf(f, "B%d", lk);
		/* ours: DragonFly neither explains nor counts these */
		fprintf(s->o->err, "hammer: freemap lookup for %016llx failed: %s\n",
			(unsigned long long)off, e.msg);
		s->bad_fill++;
		return;
	}
	int64_t fill = (int64_t)l2.bytes_free * 100 / HAMMER_BIGBLOCK_SIZE;
	fprintf(f, "%d%%", (int)(100 - fill));
}

/* ---------------------------------------------------- search filter */
static int parse_hex(const char *p, uint64_t max, uint64_t *out)
{
	if (!*p)
		return -1;
	uint64_t v = 0;
	for (const char *q = p; *q; q++) {
		int d;
		if (*q >= '0' && *q <= '9')
			d = *q - '0';
		else if (*q >= 'a' && *q <= 'f')
			d = *q - 'a' + 10;
		else if (*q >= 'A' && *q <= 'F')
			d = *q - 'A' + 10;
		else if ((*q == 'x' || *q == 'X') && q == p + 1 && p[0] == '0')
			continue;
		else
			return -1;
		if (v >> 60)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int init_search(struct show *s, const char *arg)
{
	memset(&s->base, 0, sizeof(s->base));
	s->limit = 0;
	if (!arg || strcmp(arg, "none") == 0)
		return 0;
	static const uint64_t max[5] = { 0xFFFFFFFFULL, ~0ULL, 0xFFFFULL, ~0ULL, ~0ULL };
	static const char *const what[5] = { "localization", "obj_id", "rec_type",
					      "key", "tid" };
	const char *p = arg;
	for (int i = 0; i < 5; i++) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		char field[32];
		uint64_t v;
		if (n >= sizeof(field) || (memcpy(field, p, n), field[n] = 0,
					    parse_hex(field, max[i], &v))) {
			fprintf(s->o->err, "hammer: show: bad %s '%.*s' in '%s' (expected "
				"hexadecimal lo[:objid[:rectype[:key[:tid]]]])\n",
				what[i], (int)n, p, arg);
			return -1;
		}
		switch (i) {
		case 0: s->base.localization = (uint32_t)v; break;
		case 1: s->base.obj_id = (int64_t)v; break;
		case 2: s->base.rec_type = (uint16_t)v; break;
		case 3: s->base.key = (int64_t)v; break;
		case 4: s->base.create_tid = v; break;
		}
		s->limit = i + 1;
		if (!colon)
			return 0;
		p = colon + 1;
	}
	fprintf(s->o->err, "hammer: show: more than five fields in '%s'\n", arg);
	return -1;
}

/* Compare an element with the filter, looking only at the given fields. */
static int search_cmp(const struct show *s, const struct hammer_base_elm *a)
{
	const struct hammer_base_elm *b = &s->base;
	if (a->localization != b->localization)
		return a->localization < b->localization ? -5 : 5;
	if (s->limit == 1)
		return 0;
	if (a->obj_id != b->obj_id)
		return a->obj_id < b->obj_id ? -4 : 4;
	if (s->limit == 2)
		return 0;
	if (a->rec_type != b->rec_type)
		return a->rec_type < b->rec_type ? -3 : 3;
	if (s->limit == 3)
		return 0;
	if (a->key != b->key)
		return a->key < b->key ? -2 : 2;
	if (s->limit == 4)
		return 0;
	return hammer_btree_cmp(a, b) > 0 ? 1 : hammer_btree_cmp(a, b) < 0 ? -1 : 0;
}

/* Internal element i covers [elms[i], elms[i+1]): does the filter miss it? */
static int out_of_range(const struct show *s, const hammer_btree_elm_t *elm)
{
	if (search_cmp(s, &elm[0].base) > 0)
		return 1;
	if (s->limit >= 5)
		return search_cmp(s, &elm[1].base) <= 0;
	return search_cmp(s, &elm[1].base) < 0;
}

/* ---------------------------------------------------------- records */
static void hexdump(FILE *f, const uint8_t *p, int len, const char *hdr)
{
	for (int i = 0; i < len; i += 16) {
		fprintf(f, "%s%04x  ", hdr, i);
		for (int j = 0; j < 16; j++) {
			if (i + j < len)
				fprintf(f, " %02x", p[i + j]);
			else
				fprintf(f, "   ");
		}
		fprintf(f, "  |");
		for (int j = 0; j < 16; j++) {
			int k = i + j;
			fputc(k >= len ? ' ' : (p[k] >= ' ' && p[k] <= '~') ? p[k] : '.', f);
		}
		fprintf(f, "|\n");
	}
}

static void hexdump_record(FILE *f, const uint8_t *p, int len, const char *hdr)
{
	/* DragonFly dumps at most one 16 KB buffer */
	int n = len > HAMMER_BUFSIZE ? HAMMER_BUFSIZE : len;
	hexdump(f, p, n, hdr);
	if (len > n)
		fprintf(f, "%s....\n", hdr);
}

static void print_record(struct show *s, const struct hammer_btree_leaf_elm *lf,
			 const uint8_t *data)
{
	FILE *f = s->o->out;
	const char *in = indent(s);
	int len = lf->data_len;
	switch (lf->base.rec_type) {
	case HAMMER_RECTYPE_UNKNOWN:
		fprintf(f, "\n%s%17s", in, "");
		fprintf(f, "unknown");
		break;
	case HAMMER_RECTYPE_INODE: {
		struct hammer_inode_data d;
		memcpy(&d, data, sizeof(d));
		hammer_inode_data_swap(&d);
		fprintf(f, "\n%s%17s", in, "");
		fprintf(f, "inode size=%lld nlinks=%lld mode=%05o uflags=%08x caps=%02x "
			"pobjid=%016llx ot=%02x\n", (long long)d.size, (long long)d.nlinks,
			d.mode, d.uflags, d.cap_flags,
			(unsigned long long)d.parent_obj_id, d.obj_type);
		fprintf(f, "%s%17s", in, "");
		fprintf(f, "      ctime=%016llx mtime=%016llx atime=%016llx",
			(unsigned long long)d.ctime, (unsigned long long)d.mtime,
			(unsigned long long)d.atime);
		if (d.ext.symlink[0])
			fprintf(f, " symlink=\"%.*s\"", HAMMER_INODE_BASESYMLEN,
				d.ext.symlink);
		break;
	}
	case HAMMER_RECTYPE_DIRENTRY: {
		int n = len - HAMMER_DIRENTRY_HDRSIZE;
		int64_t obj;
		uint32_t loc;
		memcpy(&obj, data, 8);
		memcpy(&loc, data + 8, 4);
		fprintf(f, "\n%s%17s", in, "");
		fprintf(f, "dir-entry objid=%016llx lo=%08x",
			(unsigned long long)le64toh((uint64_t)obj), le32toh(loc));
		if (!s->obfuscate && n >= 0)
			fprintf(f, " name=\"%*.*s\"", n, n,
				(const char *)data + HAMMER_DIRENTRY_HDRSIZE);
		break;
	}
	case HAMMER_RECTYPE_FIX:
		if (lf->base.key == HAMMER_FIXKEY_SYMLINK) {
			fprintf(f, "\n%s%17s", in, "");
			fprintf(f, "fix-symlink name=\"%*.*s\"", len, len,
				(const char *)data);
		}
		break;
	case HAMMER_RECTYPE_PFS: {
		struct hammer_pseudofs_data d;
		char u1[37], u2[37];
		memcpy(&d, data, sizeof(d));
		hammer_pfsd_swap(&d);
		hammer_uuid_format(&d.shared_uuid, u1);
		hammer_uuid_format(&d.unique_uuid, u2);
		fprintf(f, "\n%s%17s", in, "");
		fprintf(f, "pfs sync_beg_tid=%016llx sync_end_tid=%016llx\n",
			(unsigned long long)d.sync_beg_tid,
			(unsigned long long)d.sync_end_tid);
		fprintf(f, "%17s    shared_uuid=%s\n", "", u1);
		fprintf(f, "%17s    unique_uuid=%s\n", "", u2);
		fprintf(f, "%17s    mirror_flags=%08x label=\"%.64s\"", "",
			d.mirror_flags, d.label);
		if (d.snapshots[0])
			fprintf(f, " snapshots=\"%.64s\"", d.snapshots);
		break;
	}
	case HAMMER_RECTYPE_SNAPSHOT: {
		struct hammer_snapshot_data d;
		memcpy(&d, data, sizeof(d));
		fprintf(f, "\n%s%17s", in, "");
		fprintf(f, "snapshot tid=%016llx label=\"%.64s\"",
			(unsigned long long)le64toh(d.tid), d.label);
		break;
	}
	case HAMMER_RECTYPE_CONFIG:
		if (s->o->verbose > 2) {
			/* data is zero-padded past data_len, so text ends */
			const char *t = (const char *)data;
			size_t n = strnlen(t, (size_t)len);
			fprintf(f, "\n%s%17s", in, "");
			fprintf(f, "config text=\"\n");
			size_t a = 0;
			while (a < n) {
				size_t b = a;
				while (b < n && t[b] != '\r' && t[b] != '\n')
					b++;
				if (b > a)
					fprintf(f, "%s%17s            %.*s\n", in, "",
						(int)(b - a), t + a);
				a = b + 1;
			}
			fprintf(f, "%s%17s            \"", in, "");
		}
		break;
	case HAMMER_RECTYPE_DATA:
		if (s->o->verbose > 3) {
			fprintf(f, "\n");
			hexdump_record(f, data, len, "\t\t  ");
		}
		break;
	case HAMMER_RECTYPE_EXT:
	case HAMMER_RECTYPE_DB:
		if (s->o->verbose > 2) {
			fprintf(f, "\n");
			hexdump_record(f, data, len, "\t\t  ");
		}
		break;
	default:
		/* DragonFly asserts here; we say what we found */
		fprintf(f, "\n%s%17s", in, "");
		fprintf(f, "unknown rec_type %04x", lf->base.rec_type);
		break;
	}
}

/* ---------------------------------------------------------- elements */
static int test_lr(const hammer_btree_elm_t *elm, const hammer_btree_elm_t *lbe,
		   int rbn)
{
	if (!lbe)
		return 0;
	if (hammer_btree_cmp(&elm->base, &lbe[0].base) < 0)
		return FLAG_TOOFARLEFT;
	int c = hammer_btree_cmp(&elm->base, &lbe[1].base);
	if (rbn ? c > 0 : c >= 0)
		return FLAG_TOOFARRIGHT;
	return 0;
}

/* Does the child at `child` name `parent` as its parent? */
static int child_parent_ok(struct show *s, hammer_off_t child, hammer_off_t parent)
{
	uint64_t p;
	if (hammer_zone_of(child) != HAMMER_ZONE_BTREE_INDEX ||
	    (child & (HAMMER_BTREE_NODE_SIZE - 1)))
		return 0;
	if (hammer_inspect_read(s->vs, &s->pc, child +
				offsetof(struct hammer_node_ondisk, parent),
				&p, sizeof(p), NULL))
		return 0;
	return le64toh(p) == parent;
}

static int elm_flags(struct show *s, const struct hammer_node_ondisk *node,
		     hammer_off_t off, int i, const hammer_btree_elm_t *elm,
		     const hammer_btree_elm_t *lbe)
{
	int flags = 0;
	switch (node->type) {
	case HAMMER_BTREE_TYPE_INTERNAL: {
		hammer_off_t child = elm->internal.subtree_offset;
		if (elm->internal.mirror_tid > node->mirror_tid)
			flags |= FLAG_BADMIRRORTID;
		if (i == node->count) {
			if (child != 0)
				flags |= FLAG_BADCHILDPARENT;
			if (elm->base.btype == HAMMER_BTREE_TYPE_NONE)
				flags |= test_lr(elm, lbe, 1);
			else
				flags |= FLAG_BADTYPE;
		} else {
			if (child == 0 || !child_parent_ok(s, child, off))
				flags |= FLAG_BADCHILDPARENT;
			if (elm->base.btype == HAMMER_BTREE_TYPE_INTERNAL ||
			    elm->base.btype == HAMMER_BTREE_TYPE_LEAF)
				flags |= test_lr(elm, lbe, 0);
			else
				flags |= FLAG_BADTYPE;
		}
		break;
	}
	case HAMMER_BTREE_TYPE_LEAF:
		if (elm->leaf.data_offset == 0 || elm->leaf.data_len == 0)
			flags |= FLAG_BADCHILDPARENT;
		/* a fresh newfs root leaf legitimately has mirror_tid 0 */
		if (node->mirror_tid == 0 && !(node->parent == 0 && node->count == 2))
			flags |= FLAG_BADMIRRORTID;
		if (elm->base.create_tid && node->mirror_tid &&
		    elm->base.create_tid > node->mirror_tid)
			flags |= FLAG_BADMIRRORTID;
		if (elm->base.delete_tid && node->mirror_tid &&
		    elm->base.delete_tid > node->mirror_tid)
			flags |= FLAG_BADMIRRORTID;
		if (elm->base.btype == HAMMER_BTREE_TYPE_RECORD)
			flags |= test_lr(elm, lbe, 0);
		else
			flags |= FLAG_BADTYPE;
		break;
	default:
		flags |= FLAG_BADTYPE;
		break;
	}
	return flags;
}

static char btype_char(uint8_t t)
{
	switch (t) {
	case HAMMER_BTREE_TYPE_INTERNAL:
	case HAMMER_BTREE_TYPE_LEAF:
	case HAMMER_BTREE_TYPE_RECORD:
	case HAMMER_BTREE_TYPE_DELETED:
		return (char)t;
	default:
		return '?';
	}
}

static int is_root_beg(const struct hammer_node_ondisk *n, int i,
		       const struct hammer_base_elm *b)
{
	return n->type == HAMMER_BTREE_TYPE_INTERNAL && i == 0 &&
	       b->localization == HAMMER_MIN_ONDISK_LOCALIZATION &&
	       b->obj_id == HAMMER_MIN_OBJID && b->key == HAMMER_MIN_KEY &&
	       b->create_tid == 1 && b->delete_tid == 1 &&
	       b->rec_type == HAMMER_MIN_RECTYPE && b->obj_type == 0 &&
	       b->btype != HAMMER_BTREE_TYPE_NONE;
}

static int is_root_end(const struct hammer_node_ondisk *n, int i,
		       const struct hammer_base_elm *b)
{
	return n->type == HAMMER_BTREE_TYPE_INTERNAL && i != 0 &&
	       b->localization == HAMMER_MAX_ONDISK_LOCALIZATION &&
	       b->obj_id == HAMMER_MAX_OBJID && b->key == HAMMER_MAX_KEY &&
	       b->create_tid == HAMMER_MAX_TID && b->delete_tid == 0 &&
	       b->rec_type == HAMMER_MAX_RECTYPE && b->obj_type == 0 &&
	       b->btype == HAMMER_BTREE_TYPE_NONE;
}

static void print_elm(struct show *s, const struct hammer_node_ondisk *node,
		      hammer_off_t off, int i, const hammer_btree_elm_t *lbe,
		      const char *ext)
{
	FILE *f = s->o->out;
	const hammer_btree_elm_t *elm = &node->elms[i];
	char flagstr[8] = { 0, '-', '-', '-', '-', '-', '-', 0 };
	int flags = elm_flags(s, node, off, i, elm, lbe);
	flagstr[0] = flags ? 'B' : 'G';
	if (flags & FLAG_TOOFARLEFT)
		flagstr[2] = 'L';
	if (flags & FLAG_TOOFARRIGHT)
		flagstr[3] = 'R';
	if (flags & FLAG_BADTYPE)
		flagstr[4] = 'T';
	if (flags & FLAG_BADCHILDPARENT)
		flagstr[5] = 'C';
	if (flags & FLAG_BADMIRRORTID)
		flagstr[6] = 'M';
	if (flags)
		s->bad_elm++;

	char mark = is_root_beg(node, i, &elm->base) ? '>' :
		    is_root_end(node, i, &elm->base) ? '<' :
		    elm->base.delete_tid ? 'd' : ' ';
	const char *label = node->type == HAMMER_BTREE_TYPE_INTERNAL &&
			    i == node->count ? "RBN" : "ELM";
	const char *in = indent(s);

	fprintf(f, "%s%s %s %2d %c ", in, flagstr, label, i, btype_char(elm->base.btype));
	fprintf(f, "lo=%08x objid=%016llx rt=%02x key=%016llx tid=%016llx\n",
		elm->base.localization, (unsigned long long)elm->base.obj_id,
		elm->base.rec_type, (unsigned long long)elm->base.key,
		(unsigned long long)elm->base.create_tid);
	fprintf(f, "%s               %c del=%016llx ot=%02x", in, mark,
		(unsigned long long)elm->base.delete_tid, elm->base.obj_type);

	if (node->type == HAMMER_BTREE_TYPE_INTERNAL) {
		fprintf(f, " suboff=%016llx mirror=%016llx",
			(unsigned long long)elm->internal.subtree_offset,
			(unsigned long long)elm->internal.mirror_tid);
		if (ext)
			fprintf(f, " %s", ext);
	} else if (node->type == HAMMER_BTREE_TYPE_LEAF) {
		const struct hammer_btree_leaf_elm *lf = &elm->leaf;
		if (elm->base.btype == HAMMER_BTREE_TYPE_RECORD) {
			const char *which;
			void *data = NULL;
			struct hammer_err e = { 0 };
			fprintf(f, " dataoff=%016llx/%d",
				(unsigned long long)lf->data_offset, lf->data_len);
			/* padding covers the largest fixed record and a NUL */
			const char *p = hammer_inspect_leaf_data(s->vs, &s->dc, lf, &which,
								 &data,
								 HAMMER_CONFIG_BYTES + 1,
								 &e);
			fprintf(f, " %scrc=%08x", which, lf->data_crc);
			if (p) {
				fprintf(f, " error=%s", p);
				s->bad_rec++;
				fprintf(s->o->err, "hammer: element %d of node %016llx: %s\n",
					i, (unsigned long long)off,
					e.msg[0] ? e.msg : "record has no data");
			}
			fprintf(f, " fill=");
			print_fill(s, lf->data_offset);
			if (s->o->quiet < 2 && data)
				print_record(s, lf, data);
			free(data);
			if (s->want_stats && lf->data_len > 0 &&
			    hammer_zone_stats_add(&s->stats, lf->data_offset, lf->data_len))
				s->oom = 1;
		} else {
			fprintf(f, " badtype=%d", elm->base.btype);
		}
		if (ext)
			fprintf(f, " %s", ext);
	}
	fprintf(f, "\n");
}

/* --------------------------------------------------------------- nodes */
static void print_node(struct show *s, hammer_off_t off, hammer_tid_t mirror_tid,
		       const hammer_btree_elm_t *lbe);

static void print_node_body(struct show *s, hammer_off_t off,
			    hammer_tid_t mirror_tid, const hammer_btree_elm_t *lbe,
			    struct hammer_node_ondisk *node)
{
	FILE *f = s->o->out;
	enum hammer_crc_match crc;
	struct hammer_err e = { 0 };
	char badc = ' ', badm = ' ';

	if (hammer_inspect_node_read(s->vs, &s->nc, off, node, &crc, &e)) {
		s->bad_node++;
		fprintf(f, "%sBI   NODE %016llx (IO ERROR)\n", indent(s),
			(unsigned long long)off);
		fprintf(s->o->err, "hammer: %s\n", e.msg);
		return;
	}
	if (crc == HAMMER_CRC_BAD) {
		badc = 'B';
		fprintf(s->o->err, "hammer: B-tree node %016llx: CRC %08x does not "
			"match its contents\n", (unsigned long long)off, node->crc);
	}
	if (node->mirror_tid > mirror_tid) {
		badc = 'B';
		badm = 'M';
	}
	int max = hammer_node_max_elements(node->type);
	int count = node->count;
	if (max < 0) {
		badc = 'B';
		badm = 'U';
		max = HAMMER_BTREE_MAXELMS;	/* still show what is there */
	} else if (count < 0 || count > max) {
		badc = 'B';
		badm = 'C';
	} else if (count == 0 && node->parent != 0) {
		struct hammer_node_ondisk *pn = malloc(sizeof(*pn));
		enum hammer_crc_match pc;
		if (!pn || hammer_inspect_node_read(s->vs, &s->pc, node->parent, pn,
						    &pc, NULL) || pn->count != 1) {
			badc = 'B';
			badm = 'C';
		}
		free(pn);
	}
	if (count < 0)
		count = 0;
	if (count > max)
		count = max;
	if (node->type == HAMMER_BTREE_TYPE_INTERNAL && count > HAMMER_BTREE_INT_ELMS)
		count = HAMMER_BTREE_INT_ELMS;	/* keep the RBN inside the node */
	if (badc != ' ' || badm != ' ') {
		s->bad_node++;
		if (badm == 'C' || badm == 'U' || badm == 'M')
			fprintf(s->o->err, "hammer: B-tree node %016llx: %s\n",
				(unsigned long long)off,
				badm == 'C' ? "element count out of range" :
				badm == 'U' ? "unknown node type" :
				"mirror_tid above its parent's");
	}

	fprintf(f, "%s%c%c   NODE %016llx ", indent(s), badc, badm,
		(unsigned long long)off);
	fprintf(f, "cnt=%02d p=%016llx type=%c depth=%d mirror=%016llx", node->count,
		(unsigned long long)node->parent, node->type ? node->type : '?',
		s->depth, (unsigned long long)node->mirror_tid);
	fprintf(f, " fill=");
	print_fill(s, off);
	fprintf(f, " {\n");
	if (s->want_stats && hammer_zone_stats_add(&s->stats, off, HAMMER_BTREE_NODE_SIZE))
		s->oom = 1;

	/* print_elm uses node->count to spot the RBN: keep it in range */
	node->count = count;
	for (int i = 0; i < count; i++) {
		const char *ext = NULL;
		if (s->limit) {
			if (node->type == HAMMER_BTREE_TYPE_INTERNAL) {
				if (!out_of_range(s, &node->elms[i]))
					ext = "*";
			} else if (node->type == HAMMER_BTREE_TYPE_LEAF) {
				if (search_cmp(s, &node->elms[i].base) == 0)
					ext = "*";
			}
		}
		print_elm(s, node, off, i, lbe, ext);
	}
	if (node->type == HAMMER_BTREE_TYPE_INTERNAL)
		print_elm(s, node, off, count, lbe, NULL);
	fprintf(f, "%s     }\n", indent(s));

	if (node->type != HAMMER_BTREE_TYPE_INTERNAL)
		return;
	for (int i = 0; i < count; i++) {
		const hammer_btree_elm_t *elm = &node->elms[i];
		if (s->limit && s->filter && out_of_range(s, elm))
			continue;
		if (elm->internal.subtree_offset) {
			print_node(s, elm->internal.subtree_offset,
				   elm->internal.mirror_tid, elm);
			/* after seeking to the filter key, iterate normally */
			if (s->limit && s->filter == -1)
				s->filter = 0;
		}
	}
}

static void print_node(struct show *s, hammer_off_t off, hammer_tid_t mirror_tid,
		       const hammer_btree_elm_t *lbe)
{
	FILE *f = s->o->out;
	int isnew = 0;
	s->depth++;
	if (s->depth > HAMMER_INSPECT_MAX_DEPTH) {
		s->bad_node++;
		fprintf(f, "%sBD   NODE %016llx (deeper than %d levels)\n", indent(s),
			(unsigned long long)off, HAMMER_INSPECT_MAX_DEPTH);
		fprintf(s->o->err, "hammer: B-tree node %016llx: tree deeper than %d "
			"levels\n", (unsigned long long)off, HAMMER_INSPECT_MAX_DEPTH);
	} else if (!hammer_u64map_get(&s->seen, off, &isnew)) {
		s->oom = 1;
	} else if (!isnew) {
		s->bad_node++;
		fprintf(f, "%sBL   NODE %016llx (already visited: child pointer loop)\n",
			indent(s), (unsigned long long)off);
		fprintf(s->o->err, "hammer: B-tree node %016llx is reached twice "
			"(child pointer loop)\n", (unsigned long long)off);
	} else {
		struct hammer_node_ondisk *node = malloc(sizeof(*node));
		if (!node)
			s->oom = 1;
		else
			print_node_body(s, off, mirror_tid, lbe, node);
		free(node);
	}
	s->depth--;
}

int cmd_show(struct hammer_opts *o, int argc, char **argv)
{
	if (argc > 3) {
		fprintf(o->err, "hammer: show: too many arguments\n");
		return HAMMER_EXIT_USAGE;
	}
	struct show *s = calloc(1, sizeof(*s));
	if (!s) {
		fprintf(o->err, "hammer: out of memory\n");
		return HAMMER_EXIT_USAGE;
	}
	s->o = o;
	s->vs = o->vs;
	s->filter = -1;
	if (argc > 2) {
		const char *p = argv[2];
		while (*p) {
			size_t n = strcspn(p, ",");
			if (n == 6 && !strncmp(p, "filter", n))
				s->filter = 1;
			else if (n == 8 && !strncmp(p, "nofilter", n))
				s->filter = 0;
			else if (n == 9 && !strncmp(p, "obfuscate", n))
				s->obfuscate = 1;
			else if (n == 6 && !strncmp(p, "indent", n))
				s->indent = 1;
			else if (n) {
				fprintf(o->err, "hammer: show: unknown option '%.*s' "
					"(filter, nofilter, obfuscate, indent)\n", (int)n, p);
				free(s);
				return HAMMER_EXIT_USAGE;
			}
			p += n;
			if (*p == ',')
				p++;
		}
	}
	if (init_search(s, argc > 1 ? argv[1] : NULL)) {
		free(s);
		return HAMMER_EXIT_USAGE;
	}
	hammer_rdcache_init(&s->nc);
	hammer_rdcache_init(&s->pc);
	hammer_rdcache_init(&s->dc);
	hammer_rdcache_init(&s->lc);
	hammer_u64map_init(&s->seen);
	hammer_zone_stats_init(&s->stats);
	s->want_stats = o->verbose > 0;

	hammer_print_header(o);
	if (s->limit > 0) {
		fprintf(o->out, "arg=\"%s\"", argv[1]);
		fprintf(o->out, " lo=%08x", s->base.localization);
		if (s->limit > 1)
			fprintf(o->out, " objid=%016llx", (unsigned long long)s->base.obj_id);
		if (s->limit > 2)
			fprintf(o->out, " rt=%02x", s->base.rec_type);
		if (s->limit > 3)
			fprintf(o->out, " key=%016llx", (unsigned long long)s->base.key);
		if (s->limit > 4)
			fprintf(o->out, " tid=%016llx", (unsigned long long)s->base.create_tid);
		fprintf(o->out, "\n");
	}
	s->depth = -1;
	print_node(s, hammer_volset_root(o->vs)->vol0_btree_root, HAMMER_MAX_TID, NULL);

	if (s->want_stats)
		hammer_print_zone_stats(o, &s->stats);
	if (s->bad_node || o->verbose)
		fprintf(o->out, "%ld bad nodes\n", s->bad_node);
	if (s->bad_elm || o->verbose)
		fprintf(o->out, "%ld bad elms\n", s->bad_elm);
	if (s->bad_rec || o->verbose)
		fprintf(o->out, "%ld bad records\n", s->bad_rec);
	if (s->bad_fill)
		fprintf(o->out, "%ld bad freemap lookups\n", s->bad_fill);
	if (s->oom)
		fprintf(o->err, "hammer: out of memory; the dump is incomplete\n");
	int rc = (s->bad_node || s->bad_elm || s->bad_rec || s->bad_fill || s->oom) ?
		 HAMMER_EXIT_CORRUPT : HAMMER_EXIT_OK;
	hammer_zone_stats_free(&s->stats);
	hammer_u64map_free(&s->seen);
	free(s);
	return rc;
}
