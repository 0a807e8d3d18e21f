/* buffer.c: being written */
