/* cmd_show.c: being written */
