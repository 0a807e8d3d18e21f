/* checkmap.c: being written */
