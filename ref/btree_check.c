/* btree_check.c: being written */
