/* inspect.c: being written */
