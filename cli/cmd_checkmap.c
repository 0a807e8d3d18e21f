/* cmd_checkmap.c: being written */
