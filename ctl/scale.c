/* scale.c: `berthctl scale SERVICE N`: sets spec.replicas. berthd starts or
 * stops replicas right away (highest index first when scaling down). The
 * range (0..10000) is berthd's to check; here N must be a plain decimal
 * number, so "3x" or "-1" are usage errors that name the argument. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "berthctl.h"
#include "client.h"
#include "macro.h"
#include "output.h"

static void scale_help(void) {
        printf("Usage: berthctl scale SERVICE N\n"
               "\n"
               "Run N replicas of SERVICE (0 to 10000). Scaling up starts the new replicas\n"
               "at once; scaling down stops the highest-numbered ones (stop signal, grace\n"
               "period, then kill) and removes them. 0 keeps the service with no replica.\n"
               "\n"
               "Options:\n"
               "  -h, --help  show this help\n"
               "\n"
               "Exit status: 0 ok, 1 the request failed (e.g. no such service, N too large),\n"
               "2 usage error (N is not a number), 3 cannot reach berthd.\n");
}

/* A replica count: decimal digits only. */
static int parse_count(const char *s, int64_t *ret) {
        if (!*s)
                return -EINVAL;
        int64_t v = 0;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                if (v > (INT64_MAX - (*p - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (*p - '0');
        }
        *ret = v;
        return 0;
}

static bool looks_negative(const char *s) {
        if (!s || s[0] != '-' || !s[1])
                return false;
        for (s++; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

/* "scale web -1": getopt sees an option; say what is really wrong */
static int scale_bad_option(const char *command, int c, char **argv) {
        if (optind > 0 && looks_negative(argv[optind - 1]))
                return usage_error(command, "replica count \"%s\" is negative: give 0 or more", argv[optind - 1]);
        return option_error(command, c, argv);
}

int cmd_scale(const struct global_options *g, int argc, char **argv) {
        int r = parse_help_only("scale", argc, argv, scale_help, scale_bad_option);
        if (r >= 0)
                return r;
        r = check_operands("scale", argc, argv, 1, 2, "service name");
        if (r != EXIT_OK)
                return r;
        if (argc - optind < 2)
                return usage_error("scale", "missing the replica count (berthctl scale %s N)", argv[optind]);
        const char *name = argv[optind], *count = argv[optind + 1];
        if (!*name)
                return usage_error("scale", "the service name is empty");
        int64_t n;
        r = parse_count(count, &n);
        if (r == -ERANGE)
                return usage_error("scale", "replica count \"%s\" is too large", count);
        if (r < 0)
                return usage_error("scale", "replica count \"%s\" is not a number", count);

        _cleanup_free_ char *path = client_service_path(name, "/scale");
        struct json_object *body = json_object_new_object(), *service = NULL;
        if (!path || !body) {
                json_object_put(body);
                fprintf(stderr, "berthctl: error: out of memory\n");
                return EXIT_FAILED;
        }
        json_object_object_add(body, "replicas", json_object_new_int64(n));
        r = client_call(g, "POST", path, body, &service);
        json_object_put(body);
        if (r != EXIT_OK)
                return r;

        struct json_object *replicas;
        int64_t desired = n;
        if (json_object_object_get_ex(service, "replicas", &replicas))
                (void) json_get_int(replicas, "desired", &desired);
        bool stopped = json_object_object_get_ex(service, "stopped", &replicas) && json_object_get_boolean(replicas);
        printf("%s: scaled to %" PRId64 " replica%s%s\n", name, desired, desired == 1 ? "" : "s",
               stopped ? " (the service is stopped: 'berthctl start' runs them)" : "");
        json_object_put(service);
        return EXIT_OK;
}
