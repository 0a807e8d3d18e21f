/*
 * cmd_remote.c - `hammer ssh-remote COMMANDS TARGET` (hammer(8)), meant as
 * the forced command of a key in ~/.ssh/authorized_keys:
 *
 *     command="hammer ssh-remote mirror-read,mirror-write /pfs/" ssh-ed25519 ...
 *
 * sshd puts what the client asked for in SSH_ORIGINAL_COMMAND.  Its first
 * word must name hammer (contain "hammer"); the rest becomes the argument
 * list of a new hammer run with -R COMMANDS -T TARGET in front, so main()
 * refuses any command not in the comma-separated COMMANDS and mirror-read
 * or mirror-write refuse a path that does not begin with TARGET or has a
 * ".." component (pfs_common.c, hpfs_check_restrict).
 *
 * Differences from DragonFly: the program run is this one
 * (/proc/self/exe), not /sbin/hammer; empty words (two blanks in a row)
 * are dropped instead of being passed on as empty arguments; more than
 * 256 words is an error rather than a silent cut.
 */
#include "hammer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_ssh_remote(struct hammer_opts *o, int argc, char **argv);

#define REMOTE_MAX_WORDS	256

int cmd_ssh_remote(struct hammer_opts *o, int argc, char **argv)
{
	(void)o;
	if (argc != 3) {
		fprintf(stderr, "usage: hammer ssh-remote <command[,command...]> <target-path>\n");
		return HAMMER_EXIT_USAGE;
	}
	const char *env = getenv("SSH_ORIGINAL_COMMAND");
	if (!env) {
		fprintf(stderr, "hammer: SSH_ORIGINAL_COMMAND env missing\n");
		return HAMMER_EXIT_USAGE;
	}
	char *line = strdup(env);
	if (!line) {
		fprintf(stderr, "hammer: out of memory\n");
		return HAMMER_EXIT_USAGE;
	}
	/* 5 words in front, the request's words after its first, a NULL */
	char *nav[5 + REMOTE_MAX_WORDS + 1];
	int n = 0;
	nav[n++] = "hammer";
	nav[n++] = "-R";
	nav[n++] = argv[1];
	nav[n++] = "-T";
	nav[n++] = argv[2];
	const char *blanks = " \t\r\n";
	char *save = NULL;
	char *word = strtok_r(line, blanks, &save);
	if (!word) {
		fprintf(stderr, "hammer: hammer-remote: null command\n");
		free(line);
		return HAMMER_EXIT_USAGE;
	}
	if (!strstr(word, "hammer")) {
		fprintf(stderr, "hammer: hammer-remote: Command not 'hammer'\n");
		free(line);
		return HAMMER_EXIT_USAGE;
	}
	while ((word = strtok_r(NULL, blanks, &save)) != NULL) {
		if (n == 5 + REMOTE_MAX_WORDS) {
			fprintf(stderr, "hammer: hammer-remote: more than %d arguments\n",
				REMOTE_MAX_WORDS);
			free(line);
			return HAMMER_EXIT_USAGE;
		}
		nav[n++] = word;
	}
	nav[n] = NULL;
	fflush(stdout);
	fflush(stderr);
	execv("/proc/self/exe", nav);
	fprintf(stderr, "hammer: hammer-remote: execv failed: %s\n", strerror(errno));
	free(line);
	return HAMMER_EXIT_USAGE;
}
