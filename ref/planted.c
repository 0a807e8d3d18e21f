/*
 * planted.c - which planted bug is active (see planted.h).  Built only into
 * the crash suite's self-test copy of the library.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planted.h"

enum hammer_plant hammer_planted(void)
{
	static int known;
	static enum hammer_plant which;
	if (known)
		return which;
	static const char *const names[] = {
		[HAMMER_PLANT_UNDO_SKIP] = "undo-skip",
		[HAMMER_PLANT_NO_BARRIER] = "no-barrier",
		[HAMMER_PLANT_BAD_SEQ] = "bad-seq",
		[HAMMER_PLANT_REDO_DROP] = "redo-drop",
		[HAMMER_PLANT_CRC_UNSET] = "crc-unset",
		[HAMMER_PLANT_CONFIG_SPLIT] = "config-split",
		[HAMMER_PLANT_REBLOCK_SPLIT] = "reblock-split",
	};
	const char *v = getenv("HAMMER_PLANT");
	which = HAMMER_PLANT_NONE;
	if (v && *v) {
		for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(v, names[i]))
				which = (enum hammer_plant)i;
		if (which == HAMMER_PLANT_NONE) {
			fprintf(stderr, "HAMMER_PLANT=%s: not a planted bug (undo-skip, "
				"no-barrier, bad-seq, redo-drop, crc-unset, config-split, reblock-split)\n", v);
			exit(2);
		}
	}
	known = 1;
	return which;
}
