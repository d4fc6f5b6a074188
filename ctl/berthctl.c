/* berthctl.c: the command-line client. Global options, then a command from
 * the table below, each implemented in its own file (ctl/<command>.c). */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berthctl.h"
#include "macro.h"

static const struct command commands[] = {
        { "validate", "check manifests offline; -o json prints the canonical model", cmd_validate },
        { "version", "print berthctl's version", cmd_version },
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
                "  --socket PATH  berthd's control socket (default $BERTH_SOCKET or /run/berth/berth.sock)\n"
                "  -h, --help     show this help\n"
                "  --version      show the version\n"
                "\n"
                "Exit status: 0 ok, 1 the request failed, 2 usage error, 3 cannot reach berthd.\n"
                "'berthctl COMMAND --help' describes a command. See berthctl(1).\n");
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
                g.socket = "/run/berth/berth.sock";

        /* global options stop at the command name */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 's':
                        g.socket = optarg;
                        break;
                case 'h':
                        help(stdout);
                        return EXIT_OK;
                case 'V':
                        return cmd_version(&g, 1, (char *[]) { (char *) "version", NULL });
                default:
                        fprintf(stderr, "Try 'berthctl --help'.\n");
                        return EXIT_USAGE;
                }

        if (optind >= argc) {
                help(stderr);
                return EXIT_USAGE;
        }

        int first = optind;
        const char *name = argv[first];
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(commands[i].name, name)) {
                        optind = 0; /* each command parses its own options from argv[0] = its name */
                        return commands[i].run(&g, argc - first, argv + first);
                }
        return usage_error(NULL, "unknown command \"%s\"", name);
}
