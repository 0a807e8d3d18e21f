/*
 * planted.h - known bugs the crash suite must catch (issue: planted bugs).
 *
 * The normal library contains none of this: PLANTED(x) is the constant 0
 * and the compiler drops the planted branches.  The crash suite's self test
 * links a second copy of the library built with -DHAMMER_PLANTED_BUGS
 * (meson option planted_bugs), where PLANTED(x) is true when the
 * environment variable HAMMER_PLANT names bug x:
 *
 *   undo-skip    the flusher leaves out one UNDO record in four
 *   no-barrier   no disk cache flush between the FIFO and the volume header
 *   bad-seq      each flush cycle's first FIFO record skips a sequence number
 *   redo-drop    REDO WRITE records are not laid (fsync still takes the
 *                fast path)
 *   crc-unset    every fifth UNDO/REDO record goes out with hdr_crc 0
 *   config-split replacing a PFS's cleanup config ends a flush cycle
 *                between removing the old record and inserting the new one
 *   reblock-split a reblock ends a flush cycle between pointing a record
 *                at the copy of its data and freeing the old bytes
 */
#ifndef HAMMER_PLANTED_H
#define HAMMER_PLANTED_H

enum hammer_plant {
	HAMMER_PLANT_NONE,
	HAMMER_PLANT_UNDO_SKIP,
	HAMMER_PLANT_NO_BARRIER,
	HAMMER_PLANT_BAD_SEQ,
	HAMMER_PLANT_REDO_DROP,
	HAMMER_PLANT_CRC_UNSET,
	HAMMER_PLANT_CONFIG_SPLIT,
	HAMMER_PLANT_REBLOCK_SPLIT,
};

#ifdef HAMMER_PLANTED_BUGS
enum hammer_plant hammer_planted(void);
#define PLANTED(x) (hammer_planted() == HAMMER_PLANT_##x)
#else
#define PLANTED(x) 0
#endif

#endif
