/* btree.c: being written */
