/* newfs.c: being written */
