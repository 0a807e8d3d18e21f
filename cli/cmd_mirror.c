#include "hammer.h"
int cmd_mirror(struct hammer_opts *o, int argc, char **argv);
int cmd_mirror(struct hammer_opts *o, int argc, char **argv) { (void)o; (void)argc; (void)argv; return 1; }
