/* log-query-lib.c: the helper of bench/log-query (built as bench/log-query-lib).
 *
 *   log-query-lib gen DIR MIB SPAN_SEC
 *       writes DIR/00000001.log: MIB MiB of 100-byte CRI records (stdout and
 *       stderr), times evenly spread over the SPAN_SEC seconds before now,
 *       in 1 MiB writes (the contract format, as the shim writes it).
 *   log-query-lib lib DIR ROUNDS
 *       the library alone (lib/crilog.c): ROUNDS times open + --tail 10 and
 *       open + --since 1m, each read to the end; prints
 *       "tail10 MEDIAN_US MAX_US LINES BYTES_READ" and the same for since1m. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crilog.h"
#include "macro.h"
#include "util.h"

#define LINE 100

static int gen(const char *dir, uint64_t mib, uint64_t span) {
        char path[4096];
        snprintf(path, sizeof path, "%s/00000001.log", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
                fprintf(stderr, "log-query-lib: cannot create %s: %m\n", path);
                return 1;
        }
        uint64_t lines = mib * 1024 * 1024 / LINE;
        uint64_t now = now_realtime_usec() * 1000, start = now - span * 1000000000ULL;
        uint64_t step = span * 1000000000ULL / lines;
        size_t cap = 1024 * 1024, len = 0;
        char *buf = malloc(cap + 2 * LINE);
        char ts[CRI_TIME_LEN + 1];
        if (!buf)
                return 1;
        for (uint64_t i = 0; i < lines; i++) {
                /* 30 + 1 + 6 + 3 + content = 100 bytes with the newline */
                int n = snprintf(buf + len, 2 * LINE, "%s %s F line %012" PRIu64 " %s\n",
                                 cri_format_time(start + i * step, ts), i % 10 == 9 ? "stderr" : "stdout", i,
                                 "of the 1 GiB bench log, padded to one hundred bytes ...");
                len += (size_t) n;
                if (len >= cap) {
                        if (write(fd, buf, len) != (ssize_t) len) {
                                fprintf(stderr, "log-query-lib: write %s: %m\n", path);
                                return 1;
                        }
                        len = 0;
                }
        }
        if (len > 0 && write(fd, buf, len) != (ssize_t) len) {
                fprintf(stderr, "log-query-lib: write %s: %m\n", path);
                return 1;
        }
        free(buf);
        close(fd);
        printf("%" PRIu64 " lines\n", lines);
        return 0;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static int lib(const char *dir, unsigned rounds) {
        for (int mode = 0; mode < 2; mode++) {
                uint64_t *us = calloc(rounds, sizeof *us), lines = 0, bytes = 0;
                if (!us)
                        return 1;
                for (unsigned i = 0; i < rounds; i++) {
                        struct crilog_reader *r = NULL;
                        uint64_t t0 = now_monotonic_usec();
                        int q = crilog_reader_open(dir, NULL, &r);
                        if (q < 0) {
                                fprintf(stderr, "log-query-lib: cannot open %s: %s\n", dir, strerror(-q));
                                return 1;
                        }
                        if (mode == 0)
                                q = crilog_reader_seek_tail(r, 10);
                        else {
                                uint64_t since = now_realtime_usec() * 1000 - 60 * 1000000000ULL;
                                q = crilog_reader_seek_since(r, since);
                                crilog_reader_set_bounds(r, since, UINT64_MAX);
                        }
                        struct crilog_line l;
                        lines = 0;
                        while (q >= 0 && (q = crilog_reader_next(r, &l)) > 0)
                                lines++;
                        if (q < 0) {
                                fprintf(stderr, "log-query-lib: reading %s: %s\n", dir, strerror(-q));
                                return 1;
                        }
                        bytes = crilog_reader_bytes_read(r);
                        crilog_reader_free(r);
                        us[i] = now_monotonic_usec() - t0;
                }
                qsort(us, rounds, sizeof *us, cmp_u64);
                printf("%s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", mode == 0 ? "tail10" : "since1m",
                       us[(rounds - 1) / 2], us[rounds - 1], lines, bytes);
                free(us);
        }
        return 0;
}

int main(int argc, char **argv) {
        if (argc == 5 && streq(argv[1], "gen"))
                return gen(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
        if (argc == 4 && streq(argv[1], "lib"))
                return lib(argv[2], (unsigned) MAX(1, atoi(argv[3])));
        fprintf(stderr, "Usage: log-query-lib gen DIR MIB SPAN_SEC | log-query-lib lib DIR ROUNDS\n");
        return 2;
}
