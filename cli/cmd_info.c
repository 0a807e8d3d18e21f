/* cmd_info.c: being written */
