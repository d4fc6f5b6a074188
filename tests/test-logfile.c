/* test-logfile.c: the shim's log writer (agent/shim/logfile.c): CRI records,
 * P/F splitting, run files, rotation, retention, dropped output. A fake
 * clock and an injectable writer; files in a fresh temporary directory. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

#include "logfile.h"
#include "macro.h"

struct fx {
        char dir[64];
        struct logfile lf;
        struct timespec now;
        /* the writer: fails with fail_errno once budget bytes are written (budget < 0: never) */
        int64_t budget;
        int fail_errno;
        size_t writes;
        char logged[4096];
        /* journal mode */
        char journal[65536];
        int journal_error;
};

static struct fx *cur;

static ssize_t fake_write(int fd, const void *buf, size_t n, void *userdata) {
        struct fx *f = userdata;

        f->writes++;
        if (f->budget >= 0) {
                if (f->budget == 0) {
                        errno = f->fail_errno;
                        return -1;
                }
                n = MIN(n, (size_t) f->budget);
                f->budget -= (int64_t) n;
        }
        return write(fd, buf, n);
}

static void fake_now(struct timespec *ret, void *userdata) {
        struct fx *f = userdata;
        *ret = f->now;
}

static void fake_log(void *userdata, const char *line) {
        struct fx *f = userdata;
        size_t l = strlen(f->logged);
        snprintf(f->logged + l, sizeof f->logged - l, "%s\n", line);
}

static int fake_record(void *userdata, enum log_stream s, bool partial, const char *content, size_t len) {
        struct fx *f = userdata;
        size_t l = strlen(f->journal);
        if (f->journal_error)
                return -f->journal_error;
        snprintf(f->journal + l, sizeof f->journal - l, "%s %c %.*s|", s == LOG_STDOUT ? "out" : "err",
                 partial ? 'P' : 'F', (int) len, content);
        return 0;
}

static void fx_init(struct fx *f, uint64_t max_size, unsigned max_files, bool journal) {
        struct logfile_ops ops = {
                .write = fake_write, .now = fake_now, .log = fake_log, .userdata = f,
                .record = journal ? fake_record : NULL,
        };
        int dfd;

        memset(f, 0, sizeof *f);
        cur = f;
        strcpy(f->dir, "/tmp/test-logfile-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        f->now = (struct timespec) { .tv_sec = 1795751543, .tv_nsec = 123456789 }; /* 2026-11-27T03:52:23Z */
        f->budget = -1;
        dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        logfile_init(&f->lf, dfd, max_size, max_files, &ops);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void fx_done(struct fx *f) {
        logfile_done(&f->lf);
        nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static char *fx_read(struct fx *f, const char *name) {
        char path[128];
        struct stat st;
        char *buf;
        int fd;

        snprintf(path, sizeof path, "%s/%s", f->dir, name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        assert_int_equal(fstat(fd, &st), 0);
        buf = malloc((size_t) st.st_size + 1);
        assert_non_null(buf);
        assert_int_equal(read(fd, buf, (size_t) st.st_size), st.st_size);
        buf[st.st_size] = 0;
        close(fd);
        return buf;
}

static bool fx_exists(struct fx *f, const char *name) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", f->dir, name);
        return access(path, F_OK) == 0;
}

/* The names in the directory, sorted, space-separated. */
static char *fx_list(struct fx *f) {
        struct dirent **v;
        int n = scandir(f->dir, &v, NULL, alphasort);
        char *out = calloc(1, 4096);

        assert_true(n >= 0);
        assert_non_null(out);
        for (int i = 0; i < n; i++) {
                if (v[i]->d_name[0] != '.') {
                        if (out[0])
                                strcat(out, " ");
                        strcat(out, v[i]->d_name);
                }
                free(v[i]);
        }
        free(v);
        return out;
}

static void input(struct fx *f, enum log_stream s, const char *text) {
        logfile_input(&f->lf, s, text, strlen(text));
}

#define TS "2026-11-27T03:52:23.123456789Z"

/* Checks that a file holds only well-formed records; returns the number of
 * records, and their contents (P pieces joined) one per line in *ret_lines
 * when asked. */
static size_t check_records(const char *data, char **ret_lines) {
        size_t n = 0, len = strlen(data);
        char *lines = calloc(1, len + 1), *o = lines;
        const char *p = data;

        assert_non_null(lines);
        while (*p) {
                const char *nl = strchr(p, '\n');
                assert_non_null(nl); /* every record ends with a newline */
                assert_true(nl - p >= LOGFILE_PREFIX_LEN);
                assert_int_equal(p[4], '-');
                assert_int_equal(p[10], 'T');
                assert_int_equal(p[19], '.');
                assert_int_equal(p[29], 'Z');
                assert_int_equal(p[30], ' ');
                assert_true(memcmp(p + 31, "stdout ", 7) == 0 || memcmp(p + 31, "stderr ", 7) == 0);
                assert_true(p[38] == 'F' || p[38] == 'P');
                assert_int_equal(p[39], ' ');
                assert_true(nl - p - LOGFILE_PREFIX_LEN <= LOGFILE_LINE_MAX);
                memcpy(o, p + LOGFILE_PREFIX_LEN, (size_t) (nl - p - LOGFILE_PREFIX_LEN));
                o += nl - p - LOGFILE_PREFIX_LEN;
                if (p[38] == 'F')
                        *o++ = '\n';
                n++;
                p = nl + 1;
        }
        if (ret_lines)
                *ret_lines = lines;
        else
                free(lines);
        return n;
}

/* ------------------------------------------------------------ tests */

static void test_logfile_timestamp(void **state) {
        char b[LOGFILE_TS_LEN + 1] = {};

        logfile_format_timestamp(&(struct timespec) { 1795751543, 123456789 }, b);
        assert_string_equal(b, TS);
        logfile_format_timestamp(&(struct timespec) { 0, 0 }, b);
        assert_string_equal(b, "1970-01-01T00:00:00.000000000Z");
        logfile_format_timestamp(&(struct timespec) { 1709164800 + 86399, 5 }, b);
        assert_string_equal(b, "2024-02-29T23:59:59.000000005Z");
        logfile_format_timestamp(&(struct timespec) { 951782400, 999999999 }, b); /* 2000-02-29 */
        assert_string_equal(b, "2000-02-29T00:00:00.999999999Z");
        logfile_format_timestamp(&(struct timespec) { 4102444800, 0 }, b);
        assert_string_equal(b, "2100-01-01T00:00:00.000000000Z");
}

static void test_logfile_names(void **state) {
        uint64_t run, piece;

        assert_int_equal(logfile_parse_name("00000001.log", &run, &piece), 0);
        assert_int_equal(run, 1);
        assert_int_equal(piece, 0);
        assert_int_equal(logfile_parse_name("00000042.log.17", &run, &piece), 0);
        assert_int_equal(run, 42);
        assert_int_equal(piece, 17);
        assert_int_equal(logfile_parse_name("123456789.log", &run, &piece), 0);
        assert_int_equal(run, 123456789);
        assert_int_equal(logfile_parse_name("0000001.log", &run, &piece), -EINVAL); /* 7 digits */
        assert_int_equal(logfile_parse_name("00000000.log", &run, &piece), -EINVAL);
        assert_int_equal(logfile_parse_name("00000001.log.0", &run, &piece), -EINVAL);
        assert_int_equal(logfile_parse_name("00000001.log.", &run, &piece), -EINVAL);
        assert_int_equal(logfile_parse_name("00000001.logx", &run, &piece), -EINVAL);
        assert_int_equal(logfile_parse_name("00000001.log.1x", &run, &piece), -EINVAL);
        assert_int_equal(logfile_parse_name("shim.log", &run, &piece), -EINVAL);
        assert_int_equal(logfile_parse_name("0000000a.log", &run, &piece), -EINVAL);
}

static void test_logfile_records(void **state) {
        _cleanup_free_ char *data = NULL;
        struct fx f;

        fx_init(&f, 10 << 20, 5, false);
        assert_int_equal(logfile_start_run(&f.lf), 1);
        input(&f, LOG_STDOUT, "hello\nworld\n");
        f.now.tv_nsec = 5;
        input(&f, LOG_STDERR, "oops\n\n");
        assert_int_equal(f.writes, 0); /* buffered until the flush */
        assert_int_equal(logfile_flush(&f.lf), 0);
        assert_int_equal(f.writes, 1); /* one write for all records */
        data = fx_read(&f, "00000001.log");
        assert_string_equal(data, TS " stdout F hello\n" TS " stdout F world\n"
                                  "2026-11-27T03:52:23.000000005Z stderr F oops\n"
                                  "2026-11-27T03:52:23.000000005Z stderr F \n");
        fx_done(&f);
}

static void test_logfile_held_lines(void **state) {
        _cleanup_free_ char *data = NULL, *data2 = NULL;
        struct fx f;

        fx_init(&f, 10 << 20, 5, false);
        assert_int_equal(logfile_start_run(&f.lf), 1);
        input(&f, LOG_STDOUT, "abc");
        input(&f, LOG_STDERR, "err1\nerr-par");
        assert_int_equal(logfile_flush(&f.lf), 0);
        data = fx_read(&f, "00000001.log");
        assert_string_equal(data, TS " stderr F err1\n"); /* unterminated lines are held */
        f.now.tv_sec++;
        input(&f, LOG_STDOUT, "def\nx");
        assert_int_equal(logfile_flush(&f.lf), 0);
        free(data);
        data = fx_read(&f, "00000001.log");
        /* the record has the time of the read that completed it */
        assert_string_equal(data, TS " stderr F err1\n2026-11-27T03:52:24.123456789Z stdout F abcdef\n");
        /* the run ends: held lines are written as F */
        logfile_end_run(&f.lf);
        free(data);
        data = fx_read(&f, "00000001.log");
        assert_string_equal(data, TS " stderr F err1\n2026-11-27T03:52:24.123456789Z stdout F abcdef\n"
                                     "2026-11-27T03:52:24.123456789Z stdout F x\n"
                                     "2026-11-27T03:52:24.123456789Z stderr F err-par\n");
        /* EOF of a pipe: the same */
        input(&f, LOG_STDOUT, "tail");
        logfile_eof(&f.lf, LOG_STDOUT);
        assert_int_equal(logfile_flush(&f.lf), 0);
        data2 = fx_read(&f, "00000001.log");
        assert_non_null(strstr(data2, "stdout F tail\n"));
        fx_done(&f);
}

static char *make_line(size_t len, char c) {
        char *l = malloc(len + 2);
        assert_non_null(l);
        for (size_t i = 0; i < len; i++)
                l[i] = (char) (c + (char) (i % 23));
        l[len] = '\n';
        l[len + 1] = 0;
        return l;
}

/* One line through the logfile in chunks of `chunk` bytes; returns the file. */
static char *split_line(size_t len, size_t chunk, size_t *ret_records, char **ret_joined) {
        _cleanup_free_ char *line = make_line(len, 'a');
        char *data;
        struct fx f;

        fx_init(&f, 100 << 20, 5, false);
        assert_int_equal(logfile_start_run(&f.lf), 1);
        for (size_t off = 0; off < len + 1; off += chunk)
                logfile_input(&f.lf, LOG_STDOUT, line + off, MIN(chunk, len + 1 - off));
        assert_int_equal(logfile_flush(&f.lf), 0);
        data = fx_read(&f, "00000001.log");
        *ret_records = check_records(data, ret_joined);
        assert_string_equal(*ret_joined, line);
        fx_done(&f);
        return data;
}

static void test_logfile_split(void **state) {
        static const size_t chunks[] = { 1 << 20, 65536, 16384, 16385, 4096, 1000, 7 };
        size_t n;

        for (size_t i = 0; i < ELEMENTSOF(chunks); i++) {
                _cleanup_free_ char *d1 = NULL, *d2 = NULL, *d3 = NULL, *d4 = NULL, *d5 = NULL;
                _cleanup_free_ char *j1 = NULL, *j2 = NULL, *j3 = NULL, *j4 = NULL, *j5 = NULL;
                size_t c = chunks[i];

                /* exactly LOGFILE_LINE_MAX: one F record, however it was read */
                d1 = split_line(LOGFILE_LINE_MAX, c, &n, &j1);
                assert_int_equal(n, 1);
                assert_int_equal(d1[38], 'F');
                /* one more byte: P + F */
                d2 = split_line(LOGFILE_LINE_MAX + 1, c, &n, &j2);
                assert_int_equal(n, 2);
                assert_int_equal(d2[38], 'P');
                assert_int_equal(strlen(d2), 2 * LOGFILE_PREFIX_LEN + LOGFILE_LINE_MAX + 3);
                /* 100 KiB: 6 P records of 16 KiB, then an F of 4 KiB */
                d3 = split_line(100 * 1024, c, &n, &j3);
                assert_int_equal(n, 7);
                for (size_t r = 0; r < 6; r++)
                        assert_int_equal(d3[r * (LOGFILE_RECORD_MAX)+38], 'P');
                assert_int_equal(d3[6 * LOGFILE_RECORD_MAX + 38], 'F');
                assert_int_equal(strlen(d3), 7 * LOGFILE_PREFIX_LEN + 100 * 1024 + 7);
                /* exactly two records' worth */
                d4 = split_line(2 * LOGFILE_LINE_MAX, c, &n, &j4);
                assert_int_equal(n, 2);
                /* the empty line */
                d5 = split_line(0, c, &n, &j5);
                assert_int_equal(n, 1);
        }
}

static void test_logfile_rotation(void **state) {
        _cleanup_free_ char *names = NULL;
        uint64_t next = 0, total = 0;
        struct fx f;
        char line[64];

        /* records of 40 + 12 + 1 = 53 bytes; 1000-byte files hold 18 */
        fx_init(&f, 1000, 3, false);
        assert_int_equal(logfile_start_run(&f.lf), 1);
        for (int i = 0; i < 1000; i++) {
                snprintf(line, sizeof line, "line-%06d\n", i);
                input(&f, i % 3 ? LOG_STDOUT : LOG_STDERR, line);
                if (i % 7 == 0) /* flushes at odd places too */
                        assert_int_equal(logfile_flush(&f.lf), 0);
        }
        assert_int_equal(logfile_flush(&f.lf), 0);
        names = fx_list(&f);
        /* records of 40 + 11 + 1 = 52 bytes: 19 fit in 1000; 1000 records
         * need 53 files: pieces 1..52, the last two kept, and the active file */
        const unsigned per = 1000 / 52, pieces = (1000 + per - 1) / per - 1;
        char expect[128], p1[32], p2[32];
        snprintf(p1, sizeof p1, "00000001.log.%u", pieces - 1);
        snprintf(p2, sizeof p2, "00000001.log.%u", pieces);
        snprintf(expect, sizeof expect, "00000001.log %s %s", p1, p2);
        assert_string_equal(names, expect);
        /* every file: whole records, within max_size, numbers consecutive from
         * the oldest kept record to the last, no duplicate */
        const char *const order[] = { p1, p2, "00000001.log" };
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                _cleanup_free_ char *data = fx_read(&f, order[i]), *lines = NULL;
                assert_non_null(data);
                assert_true(strlen(data) <= 1000);
                total += check_records(data, &lines);
                for (char *p = lines; *p;) {
                        unsigned v;
                        assert_int_equal(sscanf(p, "line-%u", &v), 1);
                        if (next)
                                assert_int_equal(v, next);
                        next = v + 1;
                        p = strchr(p, '\n') + 1;
                }
        }
        assert_int_equal(next, 1000);
        assert_int_equal(total, per * 2 + 1000 - pieces * per);
        assert_int_equal(logfile_dropped(&f.lf), 0);
        fx_done(&f);
}

static void test_logfile_rotation_big_records(void **state) {
        _cleanup_free_ char *line = make_line(3 * LOGFILE_LINE_MAX, 'A'), *names = NULL;
        struct fx f;

        /* records larger than max_size: one per file, never split */
        fx_init(&f, 4096, 10, false);
        assert_int_equal(logfile_start_run(&f.lf), 1);
        logfile_input(&f.lf, LOG_STDOUT, line, strlen(line));
        logfile_input(&f.lf, LOG_STDOUT, "x\n", 2);
        assert_int_equal(logfile_flush(&f.lf), 0);
        names = fx_list(&f);
        assert_string_equal(names, "00000001.log 00000001.log.1 00000001.log.2 00000001.log.3");
        for (int k = 1; k <= 3; k++) {
                char name[32];
                snprintf(name, sizeof name, "00000001.log.%d", k);
                _cleanup_free_ char *d = fx_read(&f, name);
                assert_int_equal(check_records(d, NULL), 1);
                assert_int_equal(d[38], k < 3 ? 'P' : 'F');
        }
        _cleanup_free_ char *last = fx_read(&f, "00000001.log");
        assert_string_equal(last, TS " stdout F x\n");
        fx_done(&f);
}

static void test_logfile_max_files_one(void **state) {
        _cleanup_free_ char *names = NULL, *data = NULL;
        struct fx f;

        fx_init(&f, 100, 1, false);
        assert_int_equal(logfile_start_run(&f.lf), 1);
        input(&f, LOG_STDOUT, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"); /* 82 bytes */
        input(&f, LOG_STDOUT, "b\n");
        assert_int_equal(logfile_flush(&f.lf), 0);
        names = fx_list(&f);
        assert_string_equal(names, "00000001.log");
        data = fx_read(&f, "00000001.log");
        assert_string_equal(data, TS " stdout F b\n");
        fx_done(&f);
}

static void touch(struct fx *f, const char *name) {
        char path[128];
        int fd;
        snprintf(path, sizeof path, "%s/%s", f->dir, name);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
}

static void test_logfile_runs(void **state) {
        _cleanup_free_ char *n1 = NULL, *n2 = NULL, *n3 = NULL, *d5 = NULL, *d6 = NULL;
        struct fx f;

        fx_init(&f, 10 << 20, 5, false);
        /* left by earlier shims: numbering continues after the highest */
        touch(&f, "00000003.log");
        touch(&f, "00000003.log.1");
        touch(&f, "00000005.log.2");
        touch(&f, "00000005.log");
        touch(&f, "shim.log");
        touch(&f, "notes.txt");
        assert_int_equal(logfile_start_run(&f.lf), 6);
        n1 = fx_list(&f);
        /* runs older than the previous one (5) are gone */
        assert_string_equal(n1, "00000005.log 00000005.log.2 00000006.log notes.txt shim.log");
        input(&f, LOG_STDOUT, "run six\nlast words");
        /* the run ends: what was read before goes into its file, the held line as F */
        logfile_end_run(&f.lf);
        input(&f, LOG_STDERR, "a leftover child\n"); /* late output: still run 6 */
        assert_int_equal(logfile_start_run(&f.lf), 7);
        input(&f, LOG_STDOUT, "run seven\n");
        assert_int_equal(logfile_flush(&f.lf), 0);
        n2 = fx_list(&f);
        assert_string_equal(n2, "00000006.log 00000007.log notes.txt shim.log");
        d5 = fx_read(&f, "00000006.log");
        assert_string_equal(d5, TS " stdout F run six\n" TS " stdout F last words\n" TS " stderr F a leftover child\n");
        d6 = fx_read(&f, "00000007.log");
        assert_string_equal(d6, TS " stdout F run seven\n");
        /* a run that printed nothing still counts */
        assert_int_equal(logfile_start_run(&f.lf), 8);
        assert_int_equal(logfile_start_run(&f.lf), 9);
        n3 = fx_list(&f);
        assert_string_equal(n3, "00000008.log 00000009.log notes.txt shim.log");
        assert_false(fx_exists(&f, "00000007.log"));
        fx_done(&f);
}

static void test_logfile_drops(void **state) {
        _cleanup_free_ char *data = NULL, *lines = NULL;
        struct fx f;

        fx_init(&f, 10 << 20, 5, false);
        assert_int_equal(logfile_start_run(&f.lf), 1);
        input(&f, LOG_STDOUT, "one\n");
        assert_int_equal(logfile_flush(&f.lf), 0);
        assert_false(logfile_dropping(&f.lf));

        /* disk full: nothing fits any more */
        f.budget = 0;
        f.fail_errno = ENOSPC;
        input(&f, LOG_STDOUT, "two\nthree\n");
        assert_int_equal(logfile_flush(&f.lf), -ENOSPC);
        assert_true(logfile_dropping(&f.lf));
        assert_int_equal(logfile_dropped(&f.lf), 2 * LOGFILE_PREFIX_LEN + 4 + 6);
        assert_non_null(strstr(f.logged, "No space left on device; dropping output"));
        input(&f, LOG_STDOUT, "four\n");
        assert_int_equal(logfile_flush(&f.lf), -ENOSPC);
        assert_int_equal(logfile_dropped(&f.lf), 3 * LOGFILE_PREFIX_LEN + 4 + 6 + 5);
        /* one message per episode */
        assert_null(strstr(strstr(f.logged, "dropping output") + 1, "dropping output"));

        /* space for one and a half records: the torn one is cut off */
        f.budget = LOGFILE_PREFIX_LEN + 5 + 20;
        input(&f, LOG_STDOUT, "five\nsix-is-longer-than-twenty\nseven\n");
        assert_int_equal(logfile_flush(&f.lf), -ENOSPC);
        assert_int_equal(logfile_dropped(&f.lf),
                         3 * LOGFILE_PREFIX_LEN + 4 + 6 + 5 + 2 * LOGFILE_PREFIX_LEN + 26 + 6);
        data = fx_read(&f, "00000001.log");
        assert_string_equal(data, TS " stdout F one\n" TS " stdout F five\n");

        /* space again: the episode ends, later output is written */
        f.budget = -1;
        input(&f, LOG_STDERR, "eight\n");
        assert_int_equal(logfile_flush(&f.lf), 0);
        assert_false(logfile_dropping(&f.lf));
        assert_non_null(strstr(f.logged, "works again"));
        free(data);
        data = fx_read(&f, "00000001.log");
        assert_int_equal(check_records(data, &lines), 3);
        assert_string_equal(lines, "one\nfive\neight\n");

        /* EFBIG (RLIMIT_FSIZE) and EIO count the same way: a new episode */
        f.budget = 0;
        f.fail_errno = EFBIG;
        uint64_t before = logfile_dropped(&f.lf);
        input(&f, LOG_STDOUT, "nine\n");
        assert_int_equal(logfile_flush(&f.lf), -EFBIG);
        assert_true(logfile_dropping(&f.lf));
        assert_int_equal(logfile_dropped(&f.lf), before + LOGFILE_PREFIX_LEN + 5);
        assert_non_null(strstr(f.logged, "File too large"));
        f.budget = -1;
        fx_done(&f);
}

static void test_logfile_drops_unopenable(void **state) {
        struct fx f;

        fx_init(&f, 10 << 20, 5, false);
        assert_int_equal(logfile_start_run(&f.lf), 1);
        /* the file cannot be reopened after a rotation (a read-only
         * directory for non-root; here: the directory fd closed) */
        close(f.lf.fd);
        f.lf.fd = -1;
        int dfd = f.lf.dir_fd;
        f.lf.dir_fd = open("/proc/self/fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* not writable */
        input(&f, LOG_STDOUT, "lost\n");
        assert_true(logfile_flush(&f.lf) < 0);
        assert_int_equal(logfile_dropped(&f.lf), LOGFILE_PREFIX_LEN + 5);
        assert_true(logfile_dropping(&f.lf));
        close(f.lf.dir_fd);
        f.lf.dir_fd = dfd;
        input(&f, LOG_STDOUT, "back\n");
        assert_int_equal(logfile_flush(&f.lf), 0);
        assert_false(logfile_dropping(&f.lf));
        _cleanup_free_ char *data = fx_read(&f, "00000001.log");
        assert_string_equal(data, TS " stdout F back\n");
        fx_done(&f);
}

static void test_logfile_journal(void **state) {
        _cleanup_free_ char *long_line = make_line(LOGFILE_LINE_MAX + 3, 'a'), *names = NULL, *data = NULL;
        struct fx f;

        fx_init(&f, 10 << 20, 5, true);
        assert_int_equal(logfile_start_run(&f.lf), 0);
        input(&f, LOG_STDOUT, "to the journal\n");
        input(&f, LOG_STDERR, "err\n");
        logfile_input(&f.lf, LOG_STDOUT, long_line, strlen(long_line));
        assert_int_equal(logfile_flush(&f.lf), 0);
        assert_int_equal(strncmp(f.journal, "out F to the journal|err F err|out P abc", 40), 0);
        assert_non_null(strstr(f.journal, "|out F ijk|")); /* 16387 = 16384 + 3: the rest */
        names = fx_list(&f);
        assert_string_equal(names, ""); /* no files */

        /* the journal fails: one line in the shim's log, then files */
        f.journal_error = ECONNREFUSED;
        input(&f, LOG_STDOUT, "to a file\n");
        input(&f, LOG_STDOUT, "and another\n");
        assert_int_equal(logfile_flush(&f.lf), 0);
        assert_non_null(strstr(f.logged, "the journal refused a record (Connection refused): writing log files instead"));
        data = fx_read(&f, "00000001.log");
        assert_string_equal(data, TS " stdout F to a file\n" TS " stdout F and another\n");
        fx_done(&f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_logfile_timestamp),
                cmocka_unit_test(test_logfile_names),
                cmocka_unit_test(test_logfile_records),
                cmocka_unit_test(test_logfile_held_lines),
                cmocka_unit_test(test_logfile_split),
                cmocka_unit_test(test_logfile_rotation),
                cmocka_unit_test(test_logfile_rotation_big_records),
                cmocka_unit_test(test_logfile_max_files_one),
                cmocka_unit_test(test_logfile_runs),
                cmocka_unit_test(test_logfile_drops),
                cmocka_unit_test(test_logfile_drops_unopenable),
                cmocka_unit_test(test_logfile_journal),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
