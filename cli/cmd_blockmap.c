/* cmd_blockmap.c: being written */
