/* berthctl.c: the command-line client. Global options, then a command from
 * the table below, each implemented in its own file (ctl/<command>.c).
 * Every command parses its own options (getopt_long on its own argv, with
 * opterr off: option_error() says which option was wrong) and answers
 * --help; `berthctl help COMMAND` is the same as `berthctl COMMAND --help`. */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berthctl.h"
#include "macro.h"

static int cmd_help(const struct global_options *g, int argc, char **argv);

static const struct command commands[] = {
        { "deploy", "create or update services from manifests (-f FILE|DIR, --dry-run, --wait)", cmd_deploy },
        { "ps", "list replicas: state, pid, restarts, age, last exit (-o wide|json)", cmd_ps },
        { "inspect", "show a service and its replicas as JSON", cmd_inspect },
        { "scale", "set the number of replicas of a service", cmd_scale },
        { "stop", "stop every replica of a service, keep the service", cmd_stop },
        { "start", "start a stopped service again", cmd_start },
        { "restart", "replace every replica of a service (a rollout of the same spec)", cmd_restart },
        { "delete", "remove a service and its replicas", cmd_delete },
        { "rollout", "follow and steer rollouts: status, history, undo, pause, resume, restart", cmd_rollout },
        { "events", "show what berthd did (-f to follow, --since SEQ)", cmd_events },
        { "logs", "show what the replicas of a service wrote (-f, --tail, --since, -p)", cmd_logs },
        { "validate", "check manifests offline; -o json prints the canonical model", cmd_validate },
        { "version", "print the versions of berthctl and berthd", cmd_version },
        { "help", "show the help of berthctl or of a command", cmd_help },
};

int usage_error(const char *command, const char *fmt, ...) {
        va_list ap;
        fprintf(stderr, "berthctl%s%s: error: ", command ? " " : "", command ? command : "");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry 'berthctl %s%s--help'.\n", command ? command : "", command ? " " : "");
        return EXIT_USAGE;
}

int option_error(const char *command, int c, char **argv) {
        /* getopt_long has advanced optind past what it refused */
        const char *arg = optind > 0 ? argv[optind - 1] : "";
        bool long_opt = arg && strncmp(arg, "--", 2) == 0;
        if (long_opt) {
                size_t n = strcspn(arg, "=");
                if (c == ':')
                        return usage_error(command, "option %.*s needs an argument", (int) n, arg);
                if (optopt != 0) /* a long option that takes no argument got one */
                        return usage_error(command, "option %.*s takes no argument", (int) n, arg);
                return usage_error(command, "unknown option %.*s", (int) n, arg);
        }
        if (c == ':')
                return usage_error(command, "option -%c needs an argument", optopt);
        return usage_error(command, "unknown option -%c", optopt);
}

int check_operands(const char *command, int argc, char **argv, int min, int max, const char *what) {
        int n = argc - optind;
        if (n < min)
                return usage_error(command, "missing %s", what);
        if (n > max)
                return usage_error(command, "unexpected argument \"%s\"", argv[optind + max]);
        return EXIT_OK;
}

int parse_help_only(const char *command, int argc, char **argv, void (*help_fn)(void),
                    int (*on_bad_option)(const char *command, int c, char **argv)) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help_fn();
                        return EXIT_OK;
                default:
                        return (on_bad_option ? on_bad_option : option_error)(command, c, argv);
                }
        return -1;
}

int parse_service_command(const char *command, int argc, char **argv, void (*help_fn)(void), const char **ret_name) {
        int r = parse_help_only(command, argc, argv, help_fn, NULL);
        if (r >= 0)
                return r;
        r = check_operands(command, argc, argv, 1, 1, "service name");
        if (r != EXIT_OK)
                return r;
        if (!*argv[optind])
                return usage_error(command, "the service name is empty");
        *ret_name = argv[optind];
        return -1;
}

static void help(FILE *f) {
        fprintf(f,
                "Usage: berthctl [--socket PATH] COMMAND [ARGS...]\n"
                "\n"
                "Drive berthd, the berth node agent.\n"
                "\n"
                "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
        fprintf(f,
                "\n"
                "Options:\n"
                "  --socket PATH  berthd's control socket (default $BERTH_SOCKET or " BERTH_SOCKET_DEFAULT ")\n"
                "  -h, --help     show this help\n"
                "  --version      show the version\n"
                "\n"
                "Exit status: 0 ok, 1 the request failed, 2 usage error, 3 cannot reach berthd.\n"
                "'berthctl COMMAND --help' describes a command. See berthctl(1).\n");
}

static const struct command *find_command(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(commands[i].name, name))
                        return &commands[i];
        return NULL;
}

static int cmd_help(const struct global_options *g, int argc, char **argv) {
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                help(stdout);
                return EXIT_OK;
        }
        if (argc > 2)
                return usage_error("help", "unexpected argument \"%s\"", argv[2]);
        const struct command *c = find_command(argv[1]);
        if (!c)
                return usage_error(NULL, "unknown command \"%s\"", argv[1]);
        if (c->run == cmd_help)
                return cmd_help(g, 1, argv);
        optind = 0;
        return c->run(g, 2, (char *[]) { argv[1], (char *) "--help", NULL });
}

int main(int argc, char **argv) {
        struct global_options g = { .socket = getenv("BERTH_SOCKET") };
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        int c;

        if (!g.socket || !*g.socket)
                g.socket = BERTH_SOCKET_DEFAULT;

        opterr = 0; /* option_error() names the option itself */
        /* global options stop at the command name */
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0)
                switch (c) {
                case 's':
                        if (!*optarg)
                                return usage_error(NULL, "--socket needs a path");
                        g.socket = optarg;
                        break;
                case 'h':
                        help(stdout);
                        return EXIT_OK;
                case 'V':
                        optind = 0;
                        return cmd_version(&g, 1, (char *[]) { (char *) "version", NULL });
                default:
                        return option_error(NULL, c, argv);
                }

        if (optind >= argc) {
                help(stderr);
                return EXIT_USAGE;
        }

        int first = optind;
        const struct command *cmd = find_command(argv[first]);
        if (!cmd)
                return usage_error(NULL, "unknown command \"%s\"", argv[first]);
        optind = 0; /* each command parses its own options from argv[0] = its name */
        opterr = 1; /* the commands that use option_error() turn it off themselves */
        return cmd->run(&g, argc - first, argv + first);
}
