/* berthctl.h: what the berthctl commands (one file each, like crun) share. */
#pragma once

#include <stdbool.h>

enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1,    /* the request failed / the input is invalid */
        EXIT_USAGE = 2,     /* bad command line */
        EXIT_UNREACHABLE = 3, /* cannot reach berthd */
};

struct global_options {
        const char *socket; /* --socket / BERTH_SOCKET */
};

struct command {
        const char *name;
        const char *summary;
        int (*run)(const struct global_options *g, int argc, char **argv);
};

/* Prints "berthctl: error: ..." to stderr; returns EXIT_USAGE for convenience. */
int usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int cmd_validate(const struct global_options *g, int argc, char **argv);
int cmd_version(const struct global_options *g, int argc, char **argv);
