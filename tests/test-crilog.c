/* test-crilog.c: the CRI log reader (lib/crilog.c) and the logs wire format
 * (lib/logwire.c): strict record parsing, the run/piece order, P/F joining,
 * garbage and torn records, follow across rotation and a new run, and that
 * --since/--tail on a multi-MiB file read a bounded number of bytes. Every
 * test builds its own log directory in the contract format in a tmpdir. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "crilog.h"
#include "logwire.h"
#include "macro.h"

#define T0 UINT64_C(1795737600000000000) /* 2026-11-27T00:00:00Z */
#define SEC UINT64_C(1000000000)

static char dir[256];

static void make_dir(void) {
        snprintf(dir, sizeof dir, "/tmp/test-crilog.XXXXXX");
        assert_non_null(mkdtemp(dir));
}

static void remove_dir(void) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static int open_log(const char *name, int flags) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0600);
        assert_true(fd >= 0);
        return fd;
}

static void rec(int fd, uint64_t t, const char *stream, char tag, const char *content) {
        char ts[CRI_TIME_LEN + 1];
        char *s = NULL;
        int n = asprintf(&s, "%s %s %c%s%s\n", cri_format_time(t, ts), stream, tag, content ? " " : "",
                         content ? content : "");
        assert_true(n > 0);
        assert_int_equal(write(fd, s, (size_t) n), n);
        free(s);
}

static void raw(int fd, const char *s) {
        assert_int_equal(write(fd, s, strlen(s)), (ssize_t) strlen(s));
}

static void do_rename(const char *a, const char *b) {
        char pa[512], pb[512];
        snprintf(pa, sizeof pa, "%s/%s", dir, a);
        snprintf(pb, sizeof pb, "%s/%s", dir, b);
        assert_int_equal(rename(pa, pb), 0);
}

/* All lines until 0, each as "LINE" with "|P" when partial, joined by '\n'. */
static char *drain(struct crilog_reader *r) {
        char *out = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&out, &n);
        struct crilog_line l;
        int q;
        while ((q = crilog_reader_next(r, &l)) > 0)
                fprintf(f, "%.*s%s\n", (int) l.len, l.data, l.partial ? "|P" : "");
        assert_int_equal(q, 0);
        fclose(f);
        return out;
}

static struct crilog_reader *open_reader(bool previous, bool follow) {
        struct crilog_options o = { .previous = previous, .follow = follow };
        struct crilog_reader *r = NULL;
        assert_int_equal(crilog_reader_open(dir, &o, &r), 0);
        return r;
}

/* ---------------------------------------------------------------- parsing */

static void test_crilog_parse_record(void **state) {
        struct cri_record rec;
        const char *ok = "2026-11-27T03:52:23.123456789Z stdout F hello world";
        assert_int_equal(cri_parse_record(ok, strlen(ok), &rec), 0);
        assert_int_equal(rec.stream, CRI_STDOUT);
        assert_false(rec.partial);
        assert_int_equal(rec.len, 11);
        assert_memory_equal(rec.content, "hello world", 11);
        char ts[CRI_TIME_LEN + 1];
        assert_string_equal(cri_format_time(rec.time, ts), "2026-11-27T03:52:23.123456789Z");

        const char *p = "2026-11-27T03:52:23.000000000Z stderr P  two  spaces ";
        assert_int_equal(cri_parse_record(p, strlen(p), &rec), 0);
        assert_int_equal(rec.stream, CRI_STDERR);
        assert_true(rec.partial);
        assert_int_equal(rec.len, strlen(" two  spaces "));

        const char *empty = "2026-11-27T03:52:23.000000000Z stdout F";
        assert_int_equal(cri_parse_record(empty, strlen(empty), &rec), 0);
        assert_int_equal(rec.len, 0);

        static const char *bad[] = {
                "",
                "garbage",
                "2026-11-27T03:52:23.12345678Z stdout F short fraction",
                "2026-11-27T03:52:23.123456789 stdout F no Z",
                "2026-11-27 03:52:23.123456789Z stdout F space for T",
                "2026-13-27T03:52:23.123456789Z stdout F month 13",
                "2026-02-29T03:52:23.123456789Z stdout F not a leap year",
                "2026-11-27T24:00:00.000000000Z stdout F hour 24",
                "2026-11-27T03:52:23.123456789Z stdin F bad stream",
                "2026-11-27T03:52:23.123456789Z stdout X bad tag",
                "2026-11-27T03:52:23.123456789Z stdout Fnospace",
                "2026-11-27T03:52:23.123456789Z  stdout F two spaces",
                "2026-11-27T03:52:23.12345678aZ stdout F letter",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (cri_parse_record(bad[i], strlen(bad[i]), &rec) == 0)
                        fail_msg("accepted: \"%s\"", bad[i]);
        const char *leap = "2028-02-29T00:00:00.000000000Z stdout F leap";
        assert_int_equal(cri_parse_record(leap, strlen(leap), &rec), 0);
}

static void test_crilog_time_roundtrip(void **state) {
        char ts[CRI_TIME_LEN + 1];
        uint64_t v;
        for (uint64_t t = 0; t < UINT64_C(4102444800) * SEC; t += UINT64_C(86399999999937)) {
                cri_format_time(t, ts);
                assert_int_equal(strlen(ts), CRI_TIME_LEN);
                assert_int_equal(cri_parse_time(ts, CRI_TIME_LEN, &v), 0);
                assert_true(v == t);
        }
}

static void test_crilog_user_time(void **state) {
        uint64_t v, now = T0 + 3600 * SEC;
        assert_int_equal(cri_parse_user_time("2026-11-27T00:00:00Z", now, &v), 0);
        assert_true(v == T0);
        assert_int_equal(cri_parse_user_time("2026-11-27T01:00:00+01:00", now, &v), 0);
        assert_true(v == T0);
        assert_int_equal(cri_parse_user_time("2026-11-26T23:00:00.5-01:00", now, &v), 0);
        assert_true(v == T0 + SEC / 2);
        assert_int_equal(cri_parse_user_time("2026-11-27T00:00:00.123456789Z", now, &v), 0);
        assert_true(v == T0 + 123456789);
        assert_int_equal(cri_parse_user_time("10m", now, &v), 0);
        assert_true(v == now - 600 * SEC);
        assert_int_equal(cri_parse_user_time("1h30m", now, &v), 0);
        assert_true(v == 0 + now - 5400 * SEC);
        assert_int_equal(cri_parse_user_time("1.5s", now, &v), 0);
        assert_true(v == now - 1500000000);
        assert_int_equal(cri_parse_user_time("250ms", now, &v), 0);
        assert_true(v == now - 250000000);
        assert_int_equal(cri_parse_user_time("0", now, &v), 0);
        assert_true(v == now);
        assert_int_equal(cri_parse_user_time("1000000h", now, &v), 0);
        assert_true(v == 0);
        static const char *bad[] = { "", "10", "m", "10x", "-10m", "1h 30m", "2026-11-27T00:00:00",
                                     "2026-11-27T00:00:00+1:00", "2026-11-27X00:00:00Z", "yesterday" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (cri_parse_user_time(bad[i], now, &v) == 0)
                        fail_msg("accepted: \"%s\"", bad[i]);
}

/* ---------------------------------------------------------------- files */

static void test_crilog_run_order(void **state) {
        make_dir();
        int fd = open_log("00000001.log", 0);
        rec(fd, T0 + 1, "stdout", 'F', "old run");
        close(fd);
        fd = open_log("00000002.log.1", 0);
        rec(fd, T0 + 10, "stdout", 'F', "piece 1");
        close(fd);
        fd = open_log("00000002.log.2", 0);
        rec(fd, T0 + 11, "stdout", 'F', "piece 2");
        close(fd);
        fd = open_log("00000002.log.10", 0);
        rec(fd, T0 + 12, "stdout", 'F', "piece 10");
        close(fd);
        fd = open_log("00000002.log", 0);
        rec(fd, T0 + 13, "stderr", 'F', "active");
        close(fd);
        fd = open_log("shim.log", 0);
        raw(fd, "shim diagnostics, not records\n");
        close(fd);
        fd = open_log("00000002.log.x", 0);
        close(fd);

        struct crilog_reader *r = open_reader(false, false);
        assert_true(crilog_reader_run(r) == 2);
        char *out = drain(r);
        assert_string_equal(out, "piece 1\npiece 2\npiece 10\nactive\n");
        assert_true(crilog_reader_done(r));
        free(out);
        crilog_reader_free(r);

        r = open_reader(true, false);
        out = drain(r);
        assert_string_equal(out, "old run\n");
        free(out);
        crilog_reader_free(r);

        /* no run before the first */
        do_rename("00000001.log", "old");
        struct crilog_options o = { .previous = true };
        assert_int_equal(crilog_reader_open(dir, &o, &r), -ENOENT);
        remove_dir();
        assert_int_equal(crilog_reader_open(dir, NULL, &r), -ENOENT);
}

static void test_crilog_join_and_garbage(void **state) {
        make_dir();
        int fd = open_log("00000001.log", 0);
        rec(fd, T0 + 1, "stdout", 'P', "hel");
        rec(fd, T0 + 2, "stderr", 'F', "err between");
        raw(fd, "this is not a record\n");
        raw(fd, "\n");
        raw(fd, "2026-11-27T00:00:00.000000000Z stdout Q bad tag\n");
        rec(fd, T0 + 3, "stdout", 'P', "lo ");
        rec(fd, T0 + 4, "stdout", 'F', "world");
        rec(fd, T0 + 5, "stdout", 'F', NULL);
        rec(fd, T0 + 6, "stdout", 'F', "tab\there");
        raw(fd, "2026-11-27T00:00:00.000000007Z stdout F torn, no newline");
        close(fd);

        struct crilog_reader *r = open_reader(false, false);
        char *out = drain(r);
        assert_string_equal(out, "err between\nhello world\n\ntab\there\n");
        assert_int_equal(crilog_reader_bad_lines(r), 3);
        free(out);
        crilog_reader_free(r);
        remove_dir();
}

static void test_crilog_long_line(void **state) {
        make_dir();
        int fd = open_log("00000001.log", 0);
        size_t total = 3 * CRILOG_LINE_MAX + 1000, piece = 16 * 1024;
        char *want = malloc(total + 1);
        for (size_t i = 0; i < total; i++)
                want[i] = (char) ('a' + i % 26);
        want[total] = 0;
        for (size_t off = 0; off < total; off += piece) {
                size_t n = MIN(piece, total - off);
                char save = want[off + n];
                want[off + n] = 0;
                rec(fd, T0 + off, "stdout", off + n < total ? 'P' : 'F', want + off);
                want[off + n] = save;
        }
        rec(fd, T0 + total, "stdout", 'F', "next");
        close(fd);

        struct crilog_reader *r = open_reader(false, false);
        struct crilog_line l;
        size_t got = 0;
        unsigned fragments = 0;
        for (;;) {
                assert_int_equal(crilog_reader_next(r, &l), 1);
                assert_true(l.len <= CRILOG_LINE_MAX);
                assert_memory_equal(l.data, want + got, l.len);
                got += l.len;
                fragments++;
                if (!l.partial)
                        break;
        }
        assert_true(got == total);
        assert_true(fragments >= 4);
        assert_int_equal(crilog_reader_next(r, &l), 1);
        assert_memory_equal(l.data, "next", 4);
        assert_int_equal(crilog_reader_next(r, &l), 0);
        crilog_reader_free(r);
        free(want);
        remove_dir();
}

static void test_crilog_follow(void **state) {
        make_dir();
        int fd = open_log("00000001.log", O_APPEND);
        rec(fd, T0 + 1, "stdout", 'F', "one");
        raw(fd, "2026-11-27T00:00:00.000000002Z stdout F tw");

        struct crilog_reader *r = open_reader(false, true);
        char *out = drain(r);
        assert_string_equal(out, "one\n");
        free(out);
        assert_false(crilog_reader_done(r));

        /* the torn record completes */
        raw(fd, "o\n");
        out = drain(r);
        assert_string_equal(out, "two\n");
        free(out);

        /* rotation: more data, then rename, then a new active file */
        rec(fd, T0 + 3, "stdout", 'F', "three");
        do_rename("00000001.log", "00000001.log.1");
        int fd2 = open_log("00000001.log", O_APPEND);
        rec(fd2, T0 + 4, "stdout", 'F', "four");
        out = drain(r);
        assert_string_equal(out, "three\nfour\n");
        free(out);

        /* two rotations before the reader looks; the oldest piece is deleted */
        rec(fd2, T0 + 5, "stdout", 'F', "five");
        do_rename("00000001.log", "00000001.log.2");
        close(fd2);
        fd2 = open_log("00000001.log", O_APPEND);
        rec(fd2, T0 + 6, "stdout", 'F', "six");
        do_rename("00000001.log", "00000001.log.3");
        close(fd2);
        char p[512];
        snprintf(p, sizeof p, "%s/00000001.log.1", dir);
        assert_int_equal(unlink(p), 0);
        fd2 = open_log("00000001.log", O_APPEND);
        rec(fd2, T0 + 7, "stdout", 'F', "seven");
        out = drain(r);
        assert_string_equal(out, "five\nsix\nseven\n");
        free(out);

        /* a restart: a new run with a line the old run never ended */
        rec(fd2, T0 + 8, "stdout", 'P', "unended");
        int fd3 = open_log("00000002.log", O_APPEND);
        rec(fd3, T0 + 9, "stdout", 'F', "new run");
        out = drain(r);
        assert_string_equal(out, "unended\nnew run\n");
        free(out);
        assert_true(crilog_reader_run(r) == 2);
        out = drain(r);
        assert_string_equal(out, "");
        free(out);

        close(fd);
        close(fd2);
        close(fd3);
        crilog_reader_free(r);
        remove_dir();
}

/* A follower far behind a writer that rotates and deletes the oldest pieces
 * (maxFiles 2): refreshed at each rotation (what berthd does on inotify) it
 * holds every piece before the writer deletes it and reads every line; not
 * refreshed, it finds the deleted pieces gone. */
static void rotate_and_delete(int *fd, uint64_t *t, unsigned k, bool refresh, struct crilog_reader *r) {
        char name[32], p[512];
        for (int i = 0; i < 3; i++)
                rec(*fd, ++*t, "stdout", 'F', "x");
        snprintf(name, sizeof name, "00000001.log.%u", k);
        do_rename("00000001.log", name);
        close(*fd);
        *fd = open_log("00000001.log", O_APPEND);
        if (refresh)
                assert_true(crilog_reader_refresh(r) >= 0);
        if (k >= 2) { /* retention: the piece before this one goes */
                snprintf(p, sizeof p, "%s/00000001.log.%u", dir, k - 1);
                assert_int_equal(unlink(p), 0);
        }
}

static void check_refresh(bool refresh, size_t want_lines) {
        make_dir();
        int fd = open_log("00000001.log", O_APPEND);
        uint64_t t = T0;
        rec(fd, ++t, "stdout", 'F', "x");
        struct crilog_reader *r = open_reader(false, true);
        struct crilog_line l;
        assert_int_equal(crilog_reader_next(r, &l), 1); /* it has started, then falls behind */
        for (unsigned k = 1; k <= 5; k++)
                rotate_and_delete(&fd, &t, k, refresh, r);
        rec(fd, ++t, "stdout", 'F', "x");
        char *out = drain(r);
        size_t n = 0;
        for (char *c = out; *c; c++)
                n += *c == '\n';
        assert_int_equal(n, want_lines);
        free(out);
        if (refresh) /* nothing refreshed without a rotation */
                assert_int_equal(crilog_reader_refresh(r), 0);
        close(fd);
        crilog_reader_free(r);
        remove_dir();
}

static void test_crilog_follow_refresh(void **state) {
        check_refresh(true, 5 * 3 + 1);
        /* without: piece 1 was its open active file, piece 5 is still there,
         * but pieces 2-4 were deleted before it looked: 9 lines lost */
        check_refresh(false, 5 * 3 + 1 - 9);
}

/* The writer acts between the reader's EOF read and its look at the
 * directory: the end of a long line goes to the old run's file and the
 * next run starts. The old file must be read to its end first. */
static int race_fd = -1;
static void (*race_action)(void);
static ssize_t racing_pread(int fd, void *buf, size_t n, off_t off) {
        ssize_t k = pread(fd, buf, n, off);
        if (k == 0 && race_fd >= 0) {
                race_action();
                race_fd = -1;
        }
        return k;
}

static void race_new_run(void) {
        rec(race_fd, T0 + 11, "stdout", 'F', "whole");
        int fd4 = open_log("00000002.log", O_APPEND);
        rec(fd4, T0 + 12, "stdout", 'F', "next run");
        close(fd4);
}

static void race_rotation(void) {
        /* last write, rename, new active file: all before the reader looks */
        rec(race_fd, T0 + 11, "stdout", 'F', "last before rotation");
        do_rename("00000001.log", "00000001.log.1");
        int fd4 = open_log("00000001.log", O_APPEND);
        rec(fd4, T0 + 12, "stdout", 'F', "first after rotation");
        close(fd4);
}

static void test_crilog_follow_race(void **state) {
        make_dir();
        int fd = open_log("00000001.log", O_APPEND);
        rec(fd, T0 + 10, "stdout", 'P', "half ");
        struct crilog_options o = { .follow = true, .pread = racing_pread };
        struct crilog_reader *r = NULL;
        assert_int_equal(crilog_reader_open(dir, &o, &r), 0);
        char *out = drain(r);
        assert_string_equal(out, "");
        free(out);
        race_fd = fd;
        race_action = race_new_run;
        out = drain(r);
        assert_string_equal(out, "half whole\nnext run\n");
        free(out);
        assert_true(crilog_reader_run(r) == 2);
        close(fd);
        crilog_reader_free(r);
        remove_dir();

        make_dir();
        fd = open_log("00000001.log", O_APPEND);
        rec(fd, T0 + 10, "stdout", 'F', "before");
        assert_int_equal(crilog_reader_open(dir, &o, &r), 0);
        out = drain(r);
        assert_string_equal(out, "before\n");
        free(out);
        race_fd = fd;
        race_action = race_rotation;
        out = drain(r);
        assert_string_equal(out, "last before rotation\nfirst after rotation\n");
        free(out);
        close(fd);
        crilog_reader_free(r);
        remove_dir();
}

static void test_crilog_until_since_small(void **state) {
        make_dir();
        int fd = open_log("00000001.log.1", 0);
        for (int i = 0; i < 10; i++) {
                char s[16];
                snprintf(s, sizeof s, "%d", i);
                rec(fd, T0 + (uint64_t) i * SEC, "stdout", 'F', s);
        }
        close(fd);
        fd = open_log("00000001.log", 0);
        for (int i = 10; i < 20; i++) {
                char s[16];
                snprintf(s, sizeof s, "%d", i);
                rec(fd, T0 + (uint64_t) i * SEC, "stdout", 'F', s);
        }
        close(fd);

        struct crilog_reader *r = open_reader(false, false);
        assert_int_equal(crilog_reader_seek_since(r, T0 + 5 * SEC), 0);
        crilog_reader_set_bounds(r, T0 + 5 * SEC, T0 + 12 * SEC);
        char *out = drain(r);
        assert_string_equal(out, "5\n6\n7\n8\n9\n10\n11\n12\n");
        assert_true(crilog_reader_done(r));
        free(out);
        crilog_reader_free(r);

        /* since beyond the end: nothing */
        r = open_reader(false, false);
        assert_int_equal(crilog_reader_seek_since(r, T0 + 100 * SEC), 0);
        out = drain(r);
        assert_string_equal(out, "");
        free(out);
        crilog_reader_free(r);

        /* tail across the piece boundary, tail and since combined */
        r = open_reader(false, false);
        assert_int_equal(crilog_reader_seek_tail(r, 12), 0);
        out = drain(r);
        assert_string_equal(out, "8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n");
        free(out);
        crilog_reader_free(r);
        r = open_reader(false, false);
        assert_int_equal(crilog_reader_seek_tail(r, 5), 0);
        assert_int_equal(crilog_reader_seek_since(r, T0 + 2 * SEC), 0);
        out = drain(r);
        assert_string_equal(out, "15\n16\n17\n18\n19\n");
        free(out);
        crilog_reader_free(r);
        r = open_reader(false, false);
        assert_int_equal(crilog_reader_seek_tail(r, 100), 0);
        out = drain(r);
        assert_int_equal(strlen(out), 10 * 2 + 10 * 3);
        free(out);
        crilog_reader_free(r);
        r = open_reader(false, false);
        assert_int_equal(crilog_reader_seek_tail(r, 0), 0);
        out = drain(r);
        assert_string_equal(out, "");
        free(out);
        crilog_reader_free(r);
        remove_dir();
}

static void test_crilog_since_long_line(void **state) {
        make_dir();
        int fd = open_log("00000001.log", 0);
        rec(fd, T0 + 1 * SEC, "stdout", 'F', "before");
        rec(fd, T0 + 2 * SEC, "stdout", 'P', "long ");
        rec(fd, T0 + 3 * SEC, "stdout", 'P', "line ");
        rec(fd, T0 + 4 * SEC, "stdout", 'F', "ends later");
        rec(fd, T0 + 5 * SEC, "stdout", 'F', "after");
        close(fd);
        /* since in the middle of the long line: the line is whole */
        struct crilog_reader *r = open_reader(false, false);
        assert_int_equal(crilog_reader_seek_since(r, T0 + 3 * SEC), 0);
        crilog_reader_set_bounds(r, T0 + 3 * SEC, UINT64_MAX);
        char *out = drain(r);
        assert_string_equal(out, "long line ends later\nafter\n");
        free(out);
        crilog_reader_free(r);
        r = open_reader(false, false);
        assert_int_equal(crilog_reader_seek_since(r, T0 + 5 * SEC), 0);
        crilog_reader_set_bounds(r, T0 + 5 * SEC, UINT64_MAX);
        out = drain(r);
        assert_string_equal(out, "after\n");
        free(out);
        crilog_reader_free(r);
        remove_dir();
}

static void test_crilog_snapshot(void **state) {
        make_dir();
        int fd = open_log("00000001.log", O_APPEND);
        rec(fd, T0 + 1, "stdout", 'F', "one");
        struct crilog_reader *r = open_reader(false, false);
        /* written after the reader was opened: not part of its snapshot */
        rec(fd, T0 + 2, "stdout", 'F', "two");
        char *out = drain(r);
        assert_string_equal(out, "one\n");
        assert_true(crilog_reader_done(r));
        free(out);
        crilog_reader_free(r);
        /* tail and since seek within the snapshot too */
        r = open_reader(false, false);
        rec(fd, T0 + 3, "stdout", 'F', "three");
        assert_int_equal(crilog_reader_seek_tail(r, 1), 0);
        out = drain(r);
        assert_string_equal(out, "two\n");
        free(out);
        crilog_reader_free(r);
        r = open_reader(false, false);
        rec(fd, T0 + 4, "stdout", 'F', "four");
        assert_int_equal(crilog_reader_seek_since(r, T0 + 3), 0);
        out = drain(r);
        assert_string_equal(out, "three\n");
        free(out);
        crilog_reader_free(r);
        close(fd);
        remove_dir();
}

/* Random mixtures of records, pieces of records, random bytes and long
 * lines: every seek and read must terminate without a crash (ASan) and
 * hand out only lines that came from records. */
static void test_crilog_garbage(void **state) {
        unsigned seed = 12345;
        for (int round = 0; round < 30; round++) {
                make_dir();
                int fd = open_log("00000001.log", 0);
                size_t cap = 256 * 1024, len = 0;
                char *buf = malloc(cap + 64 * 1024);
                char ts[CRI_TIME_LEN + 1];
                uint64_t t = T0;
                while (len < cap) {
                        int kind = rand_r(&seed) % 8;
                        t += (uint64_t) (rand_r(&seed) % 1000);
                        if (kind <= 3)
                                len += (size_t) sprintf(buf + len, "%s %s %c rec%d\n", cri_format_time(t, ts),
                                                        kind & 1 ? "stderr" : "stdout", kind == 2 ? 'P' : 'F', kind);
                        else if (kind == 4) {
                                /* a record cut anywhere */
                                int n = sprintf(buf + len, "%s stdout F cut\n", cri_format_time(t, ts));
                                len += (size_t) (rand_r(&seed) % n);
                        } else if (kind == 5) {
                                size_t n = (size_t) (rand_r(&seed) % 200);
                                for (size_t i = 0; i < n; i++)
                                        buf[len++] = (char) (rand_r(&seed) % 256);
                        } else if (kind == 6) {
                                size_t n = (size_t) (rand_r(&seed) % (48 * 1024));
                                memset(buf + len, 'g', n);
                                len += n;
                                buf[len++] = '\n';
                        } else
                                buf[len++] = '\n';
                }
                assert_int_equal(write(fd, buf, len), (ssize_t) len);
                free(buf);
                close(fd);

                for (int q = 0; q < 4; q++) {
                        struct crilog_reader *r = open_reader(false, false);
                        if (q == 1)
                                assert_int_equal(crilog_reader_seek_tail(r, (uint64_t) (rand_r(&seed) % 50)), 0);
                        if (q == 2) {
                                uint64_t since = T0 + (uint64_t) (rand_r(&seed) % (int) (t - T0 + 1));
                                assert_int_equal(crilog_reader_seek_since(r, since), 0);
                                crilog_reader_set_bounds(r, since, UINT64_MAX);
                        }
                        if (q == 3)
                                crilog_reader_set_bounds(r, 0, T0 + (t - T0) / 2);
                        struct crilog_line l;
                        int k;
                        while ((k = crilog_reader_next(r, &l)) > 0)
                                assert_true(l.len <= CRILOG_LINE_MAX);
                        assert_int_equal(k, 0);
                        assert_true(crilog_reader_done(r));
                        crilog_reader_free(r);
                }
                remove_dir();
        }
}

/* ---------------------------------------------------------------- big file */

static uint64_t n_reads;
static ssize_t counting_pread(int fd, void *buf, size_t n, off_t off) {
        n_reads++;
        return pread(fd, buf, n, off);
}

#define BIG_LINES 80000u /* ~8 MiB */

static void write_big(void) {
        make_dir();
        int fd = open_log("00000001.log", 0);
        size_t cap = 1 << 20, len = 0;
        char *buf = malloc(cap);
        char ts[CRI_TIME_LEN + 1];
        for (unsigned i = 0; i < BIG_LINES; i++) {
                /* 3 lines per ms, some garbage, a long line now and then */
                uint64_t t = T0 + (uint64_t) i * 333333;
                if (len + 40000 > cap) {
                        assert_int_equal(write(fd, buf, len), (ssize_t) len);
                        len = 0;
                }
                if (i % 1000 == 999)
                        len += (size_t) sprintf(buf + len, "garbage line %u\n", i);
                if (i % 5000 == 77) {
                        len += (size_t) sprintf(buf + len, "%s stdout P ", cri_format_time(t, ts));
                        memset(buf + len, 'x', 16384);
                        len += 16384;
                        buf[len++] = '\n';
                }
                len += (size_t) sprintf(buf + len, "%s %s F line %07u padding to about a hundred bytes .........................\n",
                                        cri_format_time(t, ts), i % 7 ? "stdout" : "stderr", i);
        }
        assert_int_equal(write(fd, buf, len), (ssize_t) len);
        free(buf);
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        assert_true(st.st_size > 8 * 1000 * 1000);
        close(fd);
}

static void test_crilog_big_since(void **state) {
        write_big();
        for (unsigned target = 0; target < BIG_LINES; target += 7919) {
                struct crilog_options o = { .pread = counting_pread };
                struct crilog_reader *r = NULL;
                assert_int_equal(crilog_reader_open(dir, &o, &r), 0);
                uint64_t since = T0 + (uint64_t) target * 333333;
                n_reads = 0;
                assert_int_equal(crilog_reader_seek_since(r, since), 0);
                uint64_t seek_bytes = crilog_reader_bytes_read(r);
                if (seek_bytes > 256 * 1024 || n_reads > 200)
                        fail_msg("since: %" PRIu64 " bytes in %" PRIu64 " reads", seek_bytes, n_reads);
                crilog_reader_set_bounds(r, since, UINT64_MAX);
                struct crilog_line l;
                assert_int_equal(crilog_reader_next(r, &l), 1);
                char want[32];
                snprintf(want, sizeof want, "line %07u", target);
                if (target % 5000 == 77)
                        assert_true(l.len == 16384 + strlen(want) + 57 - 0 || l.len > 16384);
                else
                        assert_memory_equal(l.data, want, strlen(want));
                assert_true(l.time == since);
                crilog_reader_free(r);
        }
        remove_dir();
}

static void test_crilog_big_tail(void **state) {
        write_big();
        struct crilog_options o = { .pread = counting_pread };
        struct crilog_reader *r = NULL;
        assert_int_equal(crilog_reader_open(dir, &o, &r), 0);
        n_reads = 0;
        assert_int_equal(crilog_reader_seek_tail(r, 10), 0);
        assert_true(crilog_reader_bytes_read(r) <= CRILOG_BLOCK);
        assert_true(n_reads <= 2);
        for (unsigned i = BIG_LINES - 10; i < BIG_LINES; i++) {
                struct crilog_line l;
                char want[32];
                assert_int_equal(crilog_reader_next(r, &l), 1);
                snprintf(want, sizeof want, "line %07u", i);
                assert_memory_equal(l.data, want, strlen(want));
        }
        struct crilog_line l;
        assert_int_equal(crilog_reader_next(r, &l), 0);
        assert_true(crilog_reader_bytes_read(r) <= 2 * CRILOG_BLOCK);
        crilog_reader_free(r);

        /* the whole file, in order, without the garbage */
        assert_int_equal(crilog_reader_open(dir, NULL, &r), 0);
        unsigned n = 0;
        while (crilog_reader_next(r, &l) > 0)
                n++;
        assert_int_equal(n, BIG_LINES);
        assert_int_equal(crilog_reader_bad_lines(r), BIG_LINES / 1000);
        crilog_reader_free(r);
        remove_dir();
}

/* ---------------------------------------------------------------- wire */

static void test_logwire_roundtrip(void **state) {
        static const char *contents[] = {
                "plain", "", "quote \" backslash \\ slash /", "ctl \x01\x1f\t\r\n\b\f end",
                "utf8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\x7f del",
        };
        for (size_t i = 0; i < ELEMENTSOF(contents); i++) {
                struct crilog_line l = { .time = T0 + 42, .stream = i % 2 ? CRI_STDERR : CRI_STDOUT,
                                         .partial = i == 2, .data = contents[i], .len = strlen(contents[i]) };
                char buf[LOGWIRE_MAX(64)];
                size_t n = logwire_encode(buf, (unsigned) i * 7, &l);
                assert_true(n <= sizeof buf);
                assert_int_equal(buf[n - 1], '\n');
                assert_null(memchr(buf, '\n', n - 1));
                struct logwire_msg m;
                assert_int_equal(logwire_decode(buf, n - 1, &m), 0);
                assert_int_equal(m.replica, i * 7);
                assert_true(m.time == T0 + 42);
                assert_int_equal(m.stream, l.stream);
                assert_int_equal(m.partial, l.partial);
                assert_int_equal(m.len, l.len);
                assert_memory_equal(m.line, contents[i], l.len);
        }
        /* invalid UTF-8 becomes U+FFFD */
        struct crilog_line l = { .time = T0, .data = "a\xff\xc3(b\xed\xa0\x80", .len = 8 };
        char buf[LOGWIRE_MAX(9)];
        size_t n = logwire_encode(buf, 1, &l);
        struct logwire_msg m;
        assert_int_equal(logwire_decode(buf, n - 1, &m), 0);
        assert_int_equal(m.len, 1 + 3 + 3 + 2 + 9);
        assert_memory_equal(m.line, "a\xef\xbf\xbd\xef\xbf\xbd(b", 9);

        /* other key orders, unknown keys, escapes from elsewhere */
        char other[] = "{ \"line\" : \"x\\u00e9\\ud83d\\ude00\", \"future\": [1], \"replica\":3, "
                       "\"time\":\"2026-11-27T00:00:00.000000000Z\", \"stream\":\"stderr\"}";
        assert_int_equal(logwire_decode(other, strlen(other), &m), -EBADMSG); /* arrays are not skipped */
        char other2[] = "{ \"line\" : \"x\\u00e9\\ud83d\\ude00\", \"future\": \"s\", \"n\": null, \"replica\":3, "
                        "\"time\":\"2026-11-27T00:00:00.000000000Z\", \"stream\":\"stderr\"}";
        assert_int_equal(logwire_decode(other2, strlen(other2), &m), 0);
        assert_int_equal(m.replica, 3);
        assert_int_equal(m.stream, CRI_STDERR);
        assert_int_equal(m.len, 1 + 2 + 4);
        assert_memory_equal(m.line, "x\xc3\xa9\xf0\x9f\x98\x80", 7);

        static const char *bad[] = {
                "", "{}", "[]", "{\"replica\":1}", "{\"replica\":1,\"time\":\"x\",\"line\":\"\"}",
                "{\"replica\":1,\"time\":\"2026-11-27T00:00:00.000000000Z\",\"line\":\"unterminated}",
                "{\"replica\":1,\"time\":\"2026-11-27T00:00:00.000000000Z\",\"line\":\"\"} trailing",
                "{\"replica\":-1,\"time\":\"2026-11-27T00:00:00.000000000Z\",\"line\":\"\"}",
                "{\"replica\":1,\"time\":\"2026-11-27T00:00:00.000000000Z\",\"line\":\"\\q\"}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *s = strdup(bad[i]);
                if (logwire_decode(s, strlen(s), &m) == 0)
                        fail_msg("accepted: %s", bad[i]);
                free(s);
        }

        /* every truncation of a valid message is refused; random bytes never crash */
        struct crilog_line ok = { .time = T0, .data = "a \"quoted\" \\ \xc3\xa9 line", .len = 21 };
        char full[LOGWIRE_MAX(21)];
        size_t fn = logwire_encode(full, 5, &ok) - 1;
        for (size_t cut = 0; cut < fn; cut++) {
                char *s = malloc(cut + 1);
                memcpy(s, full, cut);
                if (logwire_decode(s, cut, &m) == 0)
                        fail_msg("accepted a truncation at %zu: %.*s", cut, (int) cut, full);
                free(s);
        }
        unsigned seed = 7;
        for (int i = 0; i < 20000; i++) {
                char s[64];
                size_t rn = (size_t) (rand_r(&seed) % sizeof s);
                memcpy(s, full, MIN(rn, fn));
                for (size_t k = 0; k < rn; k++)
                        if (rand_r(&seed) % 8 == 0)
                                s[k] = (char) (rand_r(&seed) % 256);
                char *copy = malloc(rn + 1);
                memcpy(copy, s, rn);
                (void) logwire_decode(copy, rn, &m);
                free(copy);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_crilog_parse_record),
                cmocka_unit_test(test_crilog_time_roundtrip),
                cmocka_unit_test(test_crilog_user_time),
                cmocka_unit_test(test_crilog_run_order),
                cmocka_unit_test(test_crilog_join_and_garbage),
                cmocka_unit_test(test_crilog_long_line),
                cmocka_unit_test(test_crilog_follow),
                cmocka_unit_test(test_crilog_follow_race),
                cmocka_unit_test(test_crilog_follow_refresh),
                cmocka_unit_test(test_crilog_until_since_small),
                cmocka_unit_test(test_crilog_since_long_line),
                cmocka_unit_test(test_crilog_snapshot),
                cmocka_unit_test(test_crilog_garbage),
                cmocka_unit_test(test_crilog_big_since),
                cmocka_unit_test(test_crilog_big_tail),
                cmocka_unit_test(test_logwire_roundtrip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
