/* blockmap.c: being written */
