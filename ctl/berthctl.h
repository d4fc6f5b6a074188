/* berthctl.h: what the berthctl commands (one file each, like crun) share. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1,    /* the request failed / the input is invalid */
        EXIT_USAGE = 2,     /* bad command line */
        EXIT_UNREACHABLE = 3, /* cannot reach berthd */
};

#define BERTH_SOCKET_DEFAULT "/run/berth/berth.sock"

struct global_options {
        const char *socket; /* --socket / BERTH_SOCKET */
};

struct command {
        const char *name;
        const char *summary;
        int (*run)(const struct global_options *g, int argc, char **argv);
};

/* Prints "berthctl COMMAND: error: ..." and "Try 'berthctl COMMAND --help'."
 * to stderr; returns EXIT_USAGE for convenience. */
int usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The usage error for what getopt_long() just refused (c is '?' or ':';
 * the option strings start with ':' and opterr is 0): names the option. */
int option_error(const char *command, int c, char **argv);
/* Between min and max operands after the options (argv[optind...]);
 * what names the missing one. EXIT_OK or a usage error. */
int check_operands(const char *command, int argc, char **argv, int min, int max, const char *what);

/* COMMAND [-h] SERVICE: -1 with *ret_name set to go on, else the exit
 * status to return (after --help: EXIT_OK). */
/* Parses a command that has no option but --help. Returns an exit status to
 * return (help printed, or a usage error reported through on_bad_option,
 * default option_error), or -1 to go on with the operands at optind. */
int parse_help_only(const char *command, int argc, char **argv, void (*help_fn)(void),
                    int (*on_bad_option)(const char *command, int c, char **argv));
int parse_service_command(const char *command, int argc, char **argv, void (*help_fn)(void), const char **ret_name);

int cmd_validate(const struct global_options *g, int argc, char **argv);
int cmd_version(const struct global_options *g, int argc, char **argv);
int cmd_deploy(const struct global_options *g, int argc, char **argv);
int cmd_ps(const struct global_options *g, int argc, char **argv);
int cmd_inspect(const struct global_options *g, int argc, char **argv);
int cmd_scale(const struct global_options *g, int argc, char **argv);
int cmd_stop(const struct global_options *g, int argc, char **argv);
int cmd_start(const struct global_options *g, int argc, char **argv);
int cmd_restart(const struct global_options *g, int argc, char **argv);
int cmd_delete(const struct global_options *g, int argc, char **argv);
int cmd_events(const struct global_options *g, int argc, char **argv);
int cmd_rollout(const struct global_options *g, int argc, char **argv);

/* Follows the rollouts of the named services until each is complete (exit
 * 0) or one failed (exit 1); ctl/rollout.c. */
int rollout_wait(const struct global_options *g, const char *const *names, size_t n);
int cmd_logs(const struct global_options *g, int argc, char **argv);
