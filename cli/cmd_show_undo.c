/* cmd_show_undo.c: being written */
