/* crilog.c: see crilog.h. The reader keeps one list of open files (the
 * run's pieces, then its active file, then whatever follow mode found
 * later), a read buffer, and one join buffer per stream for P records.
 * Positions are (file index, byte offset); seeking only moves forward. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crilog.h"
#include "macro.h"

#define NSEC_PER_SEC 1000000000ULL

const char *cri_stream_to_string(enum cri_stream s) {
        return s == CRI_STDERR ? "stderr" : "stdout";
}

/* ---- time ---------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned) (y - era * 400);
        unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t) doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned) (z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t yy = (int64_t) yoe + era * 400;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        *d = doy - (153 * mp + 2) / 5 + 1;
        *m = mp < 10 ? mp + 3 : mp - 9;
        *y = yy + (*m <= 2);
}

static bool is_leap(int64_t y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m) {
        static const unsigned dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* n decimal digits at s; -1 if one is not a digit */
static int64_t digits(const char *s, size_t n) {
        int64_t v = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        return v;
}

/* "YYYY-MM-DDTHH:MM:SS" at s (19 bytes) -> seconds since the epoch */
static int parse_date_time(const char *s, uint64_t *ret) {
        if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
                return -EINVAL;
        int64_t y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2), h = digits(s + 11, 2),
                mi = digits(s + 14, 2), se = digits(s + 17, 2);
        if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59)
                return -EINVAL;
        if ((unsigned) d > days_in_month(y, (unsigned) mo))
                return -EINVAL;
        int64_t days = days_from_civil(y, (unsigned) mo, (unsigned) d);
        *ret = (uint64_t) days * 86400 + (uint64_t) (h * 3600 + mi * 60 + se);
        return 0;
}

int cri_parse_time(const char *s, size_t len, uint64_t *ret_ns) {
        uint64_t secs;
        if (len != CRI_TIME_LEN || s[19] != '.' || s[29] != 'Z' || s[10] != 'T')
                return -EINVAL;
        if (parse_date_time(s, &secs) < 0)
                return -EINVAL;
        int64_t ns = digits(s + 20, 9);
        if (ns < 0)
                return -EINVAL;
        if (secs > (UINT64_MAX - (uint64_t) ns) / NSEC_PER_SEC)
                return -ERANGE;
        *ret_ns = secs * NSEC_PER_SEC + (uint64_t) ns;
        return 0;
}

static void put2(char *p, unsigned v) {
        p[0] = (char) ('0' + v / 10 % 10);
        p[1] = (char) ('0' + v % 10);
}

char *cri_format_time(uint64_t ns, char *buf) {
        uint64_t secs = ns / NSEC_PER_SEC, frac = ns % NSEC_PER_SEC;
        int64_t y;
        unsigned m, d;
        civil_from_days((int64_t) (secs / 86400), &y, &m, &d);
        unsigned sod = (unsigned) (secs % 86400);
        /* by hand: this runs once per line sent */
        memcpy(buf, "0000-00-00T00:00:00.000000000Z", CRI_TIME_LEN + 1);
        put2(buf, (unsigned) (y / 100 % 100));
        put2(buf + 2, (unsigned) (y % 100));
        put2(buf + 5, m);
        put2(buf + 8, d);
        put2(buf + 11, sod / 3600);
        put2(buf + 14, sod / 60 % 60);
        put2(buf + 17, sod % 60);
        for (int i = 28; i >= 20; i--) {
                buf[i] = (char) ('0' + frac % 10);
                frac /= 10;
        }
        return buf;
}

static int parse_rfc3339(const char *s, uint64_t *ret) {
        size_t n = strlen(s);
        uint64_t secs, frac = 0;

        if (n < 20 || parse_date_time(s, &secs) < 0)
                return -EINVAL;
        const char *p = s + 19;
        if (*p == '.') {
                p++;
                unsigned nd = 0;
                for (; *p >= '0' && *p <= '9'; p++, nd++)
                        if (nd < 9)
                                frac = frac * 10 + (uint64_t) (*p - '0');
                if (nd == 0)
                        return -EINVAL;
                for (; nd < 9; nd++)
                        frac *= 10;
        }
        int64_t off = 0;
        if (*p == 'Z' || *p == 'z')
                p++;
        else if (*p == '+' || *p == '-') {
                if (strlen(p) != 6 || p[3] != ':')
                        return -EINVAL;
                int64_t h = digits(p + 1, 2), mi = digits(p + 4, 2);
                if (h < 0 || h > 23 || mi < 0 || mi > 59)
                        return -EINVAL;
                off = (h * 3600 + mi * 60) * (*p == '+' ? 1 : -1);
                p += 6;
        } else
                return -EINVAL;
        if (*p)
                return -EINVAL;
        /* local time = UTC + offset */
        if (off > 0 && secs < (uint64_t) off)
                return -ERANGE;
        secs = (uint64_t) ((int64_t) secs - off);
        if (secs > (UINT64_MAX - frac) / NSEC_PER_SEC)
                return -ERANGE;
        *ret = secs * NSEC_PER_SEC + frac;
        return 0;
}

/* Go's time.ParseDuration, without a sign: "1h30m", "1.5s", "300ms". */
static int parse_duration(const char *s, uint64_t *ret) {
        static const struct {
                const char *unit;
                uint64_t ns;
        } units[] = {
                { "ns", 1ULL },           { "us", 1000ULL },          { "\xc2\xb5s", 1000ULL },
                { "ms", 1000000ULL },     { "s", NSEC_PER_SEC },      { "m", 60 * NSEC_PER_SEC },
                { "h", 3600 * NSEC_PER_SEC },
        };
        long double total = 0;

        if (!*s)
                return -EINVAL;
        if (streq(s, "0")) {
                *ret = 0;
                return 0;
        }
        while (*s) {
                const char *start = s;
                long double v = 0, scale = 1;
                bool any = false;
                for (; *s >= '0' && *s <= '9'; s++, any = true)
                        v = v * 10 + (*s - '0');
                if (*s == '.') {
                        s++;
                        for (; *s >= '0' && *s <= '9'; s++, any = true) {
                                scale /= 10;
                                v += (*s - '0') * scale;
                        }
                }
                if (!any || s == start)
                        return -EINVAL;
                size_t best = 0;
                uint64_t mult = 0;
                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        size_t l = strlen(units[i].unit);
                        if (strncmp(s, units[i].unit, l) == 0 && l > best) {
                                best = l;
                                mult = units[i].ns;
                        }
                }
                if (best == 0)
                        return -EINVAL;
                s += best;
                total += v * (long double) mult;
                if (total > (long double) INT64_MAX)
                        return -ERANGE;
        }
        *ret = (uint64_t) total;
        return 0;
}

int cri_parse_user_time(const char *s, uint64_t now_ns, uint64_t *ret_ns) {
        uint64_t d;
        if (!s || !*s)
                return -EINVAL;
        if (strlen(s) >= 20 && s[4] == '-')
                return parse_rfc3339(s, ret_ns);
        int r = parse_duration(s, &d);
        if (r < 0)
                return r;
        *ret_ns = d >= now_ns ? 0 : now_ns - d;
        return 0;
}

/* ---- records ------------------------------------------------------------- */

int cri_parse_record(const char *line, size_t len, struct cri_record *ret) {
        /* TIME SP STREAM SP TAG [SP CONTENT] */
        if (len < CRI_TIME_LEN + 1 + 6 + 1 + 1)
                return -EINVAL;
        if (line[CRI_TIME_LEN] != ' ' || line[CRI_TIME_LEN + 7] != ' ')
                return -EINVAL;
        const char *st = line + CRI_TIME_LEN + 1;
        enum cri_stream stream;
        if (memcmp(st, "stdout", 6) == 0)
                stream = CRI_STDOUT;
        else if (memcmp(st, "stderr", 6) == 0)
                stream = CRI_STDERR;
        else
                return -EINVAL;
        char tag = line[CRI_TIME_LEN + 8];
        if (tag != 'F' && tag != 'P')
                return -EINVAL;
        size_t rest = CRI_TIME_LEN + 9;
        if (len > rest && line[rest] != ' ')
                return -EINVAL;
        uint64_t t;
        if (cri_parse_time(line, CRI_TIME_LEN, &t) < 0)
                return -EINVAL;
        *ret = (struct cri_record) {
                .time = t,
                .stream = stream,
                .partial = tag == 'P',
                .content = len > rest ? line + rest + 1 : line + len,
                .len = len > rest ? len - rest - 1 : 0,
        };
        return 0;
}

/* The time of a record by its first bytes only (what the binary search
 * needs): the time, and the stream name so that a garbage line that
 * happens to start with a date is not taken. */
static int peek_time(const char *s, size_t len, uint64_t *ret) {
        if (len < CRI_TIME_LEN + 8 || s[CRI_TIME_LEN] != ' ' || s[CRI_TIME_LEN + 7] != ' ')
                return -EINVAL;
        if (memcmp(s + CRI_TIME_LEN + 1, "stdout", 6) != 0 && memcmp(s + CRI_TIME_LEN + 1, "stderr", 6) != 0)
                return -EINVAL;
        return cri_parse_time(s, CRI_TIME_LEN, ret);
}

/* ---- file names ---------------------------------------------------------- */

/* "RUN.log" (k = 0) or "RUN.log.K" (K >= 1); RUN 8 or more digits. */
static int parse_name(const char *name, uint64_t *ret_run, uint64_t *ret_k) {
        size_t nd = strspn(name, "0123456789");
        if (nd < 8 || nd > 19 || strncmp(name + nd, ".log", 4) != 0)
                return -EINVAL;
        uint64_t run = 0, k = 0;
        for (size_t i = 0; i < nd; i++)
                run = run * 10 + (uint64_t) (name[i] - '0');
        const char *p = name + nd + 4;
        if (*p) {
                if (*p != '.' || p[1] < '1' || p[1] > '9')
                        return -EINVAL;
                p++;
                size_t kd = strspn(p, "0123456789");
                if (kd == 0 || kd > 18 || p[kd])
                        return -EINVAL;
                for (size_t i = 0; i < kd; i++)
                        k = k * 10 + (uint64_t) (p[i] - '0');
        }
        *ret_run = run;
        *ret_k = k;
        return 0;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static int push_u64(uint64_t **v, size_t *n, size_t *cap, uint64_t x) {
        if (*n == *cap) {
                size_t c = MAX(*cap * 2, (size_t) 8);
                uint64_t *q = realloc(*v, c * sizeof *q);
                if (!q)
                        return -ENOMEM;
                *v = q;
                *cap = c;
        }
        (*v)[(*n)++] = x;
        return 0;
}

/* The runs (k < 0) or the pieces K > min_k of run (k >= 0), ascending. */
static int list_names(int dirfd, bool runs, uint64_t run, uint64_t min_k, uint64_t **ret, size_t *ret_n) {
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        _cleanup_free_ uint64_t *v = NULL;
        size_t n = 0, cap = 0;
        int r = 0;
        for (struct dirent *de; (de = readdir(d));) {
                uint64_t ru, k;
                if (parse_name(de->d_name, &ru, &k) < 0)
                        continue;
                if (runs)
                        r = push_u64(&v, &n, &cap, ru);
                else if (ru == run && k > min_k)
                        r = push_u64(&v, &n, &cap, k);
                if (r < 0)
                        break;
        }
        closedir(d);
        if (r < 0)
                return r;
        if (n > 1)
                qsort(v, n, sizeof *v, cmp_u64);
        /* the same run has several files */
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
                if (m == 0 || v[m - 1] != v[i])
                        v[m++] = v[i];
        *ret = m ? TAKE_PTR(v) : NULL;
        *ret_n = m;
        return 0;
}

int crilog_list_runs(int dirfd, uint64_t **ret, size_t *ret_n) {
        return list_names(dirfd, true, 0, 0, ret, ret_n);
}

/* ---- the reader ---------------------------------------------------------- */

struct cfile {
        int fd;
        off_t limit; /* without follow: the size when opened (read no further); -1: none */
        uint64_t k; /* 0: RUN.log */
        dev_t dev;
        ino_t ino;
};

struct part {
        char *data;
        size_t len, cap;
        uint64_t time;
};

struct crilog_reader {
        int dirfd;
        struct crilog_options opts;
        uint64_t run;
        uint64_t max_k; /* the highest piece of the run seen */

        struct cfile *files;
        size_t n_files, cap_files, cur;
        off_t off; /* next read offset in files[cur] */

        char *buf;
        size_t buf_len, buf_pos, buf_cap;
        bool skipping; /* dropping a garbage line longer than the buffer */

        struct part part[_CRI_STREAM_MAX];
        int reset_part; /* the join buffer handed out last: empty it at the next call */
        size_t new_run_at; /* index of the first file of a new run (SIZE_MAX: none) */
        bool flush_run_end; /* reached it: hand out lines the old run never ended */

        uint64_t since, until;
        bool started, done;
        uint64_t bytes_read, bad_lines;
};

static ssize_t rd(struct crilog_reader *r, int fd, void *buf, size_t n, off_t off) {
        crilog_pread_fn fn = r->opts.pread ? r->opts.pread : pread;
        ssize_t k;
        do
                k = fn(fd, buf, n, off);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return -errno;
        r->bytes_read += (uint64_t) k;
        return k;
}

static void run_name(uint64_t run, uint64_t k, char *buf, size_t size) {
        if (k == 0)
                snprintf(buf, size, "%08" PRIu64 ".log", run);
        else
                snprintf(buf, size, "%08" PRIu64 ".log.%" PRIu64, run, k);
}

static int files_push(struct crilog_reader *r, const struct cfile *f) {
        if (r->n_files == r->cap_files) {
                size_t c = MAX(r->cap_files * 2, (size_t) 8);
                struct cfile *q = realloc(r->files, c * sizeof *q);
                if (!q)
                        return -ENOMEM;
                r->files = q;
                r->cap_files = c;
        }
        r->files[r->n_files++] = *f;
        return 0;
}

static bool files_have(const struct crilog_reader *r, dev_t dev, ino_t ino) {
        for (size_t i = r->cur; i < r->n_files; i++)
                if (r->files[i].dev == dev && r->files[i].ino == ino)
                        return true;
        return false;
}

static int open_file(struct crilog_reader *r, uint64_t k, struct cfile *ret) {
        char name[64];
        struct stat st;
        run_name(r->run, k, name, sizeof name);
        int fd = openat(r->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                int e = S_ISREG(st.st_mode) ? -errno : -EBADF;
                safe_close(fd);
                return e;
        }
        *ret = (struct cfile) {
                .fd = fd, .k = k, .dev = st.st_dev, .ino = st.st_ino,
                .limit = r->opts.follow ? -1 : st.st_size,
        };
        return 0;
}

/* Appends the run's files not read yet: the pieces K > max_k, then RUN.log.
 * RUN.log is opened first: if it is rotated meanwhile, it shows up among
 * the pieces with the same inode, and the pieces after it (newer) go after
 * it. Files already in the list (same inode) are left out. */
static int load_run_files(struct crilog_reader *r) {
        struct cfile active = { .fd = -1 };
        _cleanup_free_ uint64_t *ks = NULL;
        size_t n = 0;
        int q;

        q = open_file(r, 0, &active);
        if (q < 0 && q != -ENOENT)
                return q;
        if (active.fd >= 0 && files_have(r, active.dev, active.ino))
                active.fd = safe_close(active.fd);
        q = list_names(r->dirfd, false, r->run, r->max_k, &ks, &n);
        if (q < 0) {
                safe_close(active.fd);
                return q;
        }
        bool active_placed = active.fd < 0;
        for (size_t i = 0; i < n; i++) {
                struct cfile f;
                r->max_k = MAX(r->max_k, ks[i]);
                q = open_file(r, ks[i], &f);
                if (q == -ENOENT)
                        continue; /* deleted meanwhile: lost */
                if (q < 0)
                        goto fail;
                if (!active_placed && f.dev == active.dev && f.ino == active.ino) {
                        /* RUN.log was rotated into this piece since we opened it */
                        safe_close(f.fd);
                        q = files_push(r, &active);
                        if (q < 0)
                                goto fail;
                        active_placed = true;
                        continue;
                }
                if (files_have(r, f.dev, f.ino)) {
                        safe_close(f.fd);
                        continue;
                }
                q = files_push(r, &f);
                if (q < 0) {
                        safe_close(f.fd);
                        goto fail;
                }
        }
        if (!active_placed && (q = files_push(r, &active)) < 0)
                goto fail;
        return 0;
fail:
        if (!active_placed)
                safe_close(active.fd);
        return q;
}

int crilog_reader_open(const char *dir, const struct crilog_options *opts, struct crilog_reader **ret) {
        _cleanup_free_ uint64_t *runs = NULL;
        size_t n = 0;
        int q;

        struct crilog_reader *r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->dirfd = -1;
        r->reset_part = -1;
        r->new_run_at = SIZE_MAX;
        r->until = UINT64_MAX;
        if (opts)
                r->opts = *opts;
        r->buf_cap = CRILOG_BUF;
        r->buf = malloc(r->buf_cap);
        if (!r->buf) {
                q = -ENOMEM;
                goto fail;
        }
        r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (r->dirfd < 0) {
                q = -errno;
                goto fail;
        }
        q = crilog_list_runs(r->dirfd, &runs, &n);
        if (q < 0)
                goto fail;
        if (n == 0 || (r->opts.previous && n < 2)) {
                q = -ENOENT;
                goto fail;
        }
        r->run = runs[r->opts.previous ? n - 2 : n - 1];
        if (r->opts.previous)
                r->opts.follow = false; /* a finished run: nothing to follow */
        q = load_run_files(r);
        if (q < 0)
                goto fail;
        *ret = r;
        return 0;
fail:
        crilog_reader_free(r);
        return q;
}

struct crilog_reader *crilog_reader_free(struct crilog_reader *r) {
        if (!r)
                return NULL;
        for (size_t i = r->cur; i < r->n_files; i++)
                safe_close(r->files[i].fd);
        free(r->files);
        safe_close(r->dirfd);
        free(r->buf);
        for (size_t i = 0; i < _CRI_STREAM_MAX; i++)
                free(r->part[i].data);
        free(r);
        return NULL;
}

uint64_t crilog_reader_bytes_read(const struct crilog_reader *r) {
        return r->bytes_read;
}

uint64_t crilog_reader_bad_lines(const struct crilog_reader *r) {
        return r->bad_lines;
}

uint64_t crilog_reader_run(const struct crilog_reader *r) {
        return r->run;
}

bool crilog_reader_done(const struct crilog_reader *r) {
        return r->done;
}

void crilog_reader_set_bounds(struct crilog_reader *r, uint64_t since, uint64_t until) {
        r->since = since;
        r->until = until;
}

/* Moves to (idx, off) if that is later than where the reader is. */
static void move_to(struct crilog_reader *r, size_t idx, off_t off) {
        if (idx < r->cur || (idx == r->cur && off <= r->off))
                return;
        while (r->cur < idx) {
                r->files[r->cur].fd = safe_close(r->files[r->cur].fd);
                r->cur++;
        }
        r->off = off;
        r->buf_len = r->buf_pos = 0;
        r->skipping = false;
}

/* What the reader may read of f: its size, or the snapshot's. */
static int file_size(const struct cfile *f, off_t *ret) {
        struct stat st;
        if (fstat(f->fd, &st) < 0)
                return -errno;
        *ret = f->limit >= 0 ? MIN(st.st_size, f->limit) : st.st_size;
        return 0;
}

/* ---- seeking by time ----------------------------------------------------- */

#define PROBE_SIZE 4096u

/* The first record start >= from (a line start; 0 is one) that has a valid
 * time, below limit: *ret_start (limit when none) and *ret_time. */
static int probe(struct crilog_reader *r, int fd, off_t from, off_t limit, off_t *ret_start, uint64_t *ret_time) {
        char buf[PROBE_SIZE];
        off_t pos = from > 0 ? from - 1 : 0;
        bool at_start = from == 0; /* pos is a line start */

        while (pos < limit) {
                if (!at_start) {
                        /* find the end of the line pos is in */
                        ssize_t k = rd(r, fd, buf, (size_t) MIN((off_t) sizeof buf, limit - pos), pos);
                        if (k < 0)
                                return (int) k;
                        if (k == 0)
                                break;
                        char *nl = memchr(buf, '\n', (size_t) k);
                        if (!nl) {
                                pos += k;
                                continue;
                        }
                        pos += nl - buf + 1;
                        at_start = true;
                        continue;
                }
                ssize_t k = rd(r, fd, buf, CRI_TIME_LEN + 8, pos);
                if (k < 0)
                        return (int) k;
                if (k == 0)
                        break;
                if (peek_time(buf, (size_t) k, ret_time) == 0) {
                        *ret_start = pos;
                        return 0;
                }
                r->bad_lines++;
                at_start = false; /* skip this line: its '\n' is at pos or later */
        }
        *ret_start = limit;
        return 0;
}

/* In one file: the first record start with time >= since (size: none). */
static int bsearch_file(struct crilog_reader *r, int fd, off_t size, uint64_t since, off_t *ret) {
        off_t lo = 0, lim = size, ans = size, s;
        uint64_t t;
        int q;

        /* records starting before lo are older than since; ans starts one
         * that is not; nothing in [lim, ans) starts a record */
        while (lim - lo > (off_t) CRILOG_BLOCK) {
                off_t mid = lo + (lim - lo) / 2;
                q = probe(r, fd, mid, lim, &s, &t);
                if (q < 0)
                        return q;
                if (s >= lim)
                        lim = mid;
                else if (t < since)
                        lo = s + 1;
                else
                        ans = lim = s;
        }
        /* the rest, linearly, in one read: [lo - 1, lim) and the start of
         * the record that may begin just before lim */
        off_t from = lo > 0 ? lo - 1 : 0;
        size_t want = (size_t) (MIN(size, lim + CRI_TIME_LEN + 8) - from);
        _cleanup_free_ char *buf = malloc(want + 1);
        if (!buf)
                return -ENOMEM;
        ssize_t k = rd(r, fd, buf, want, from);
        if (k < 0)
                return (int) k;
        size_t n = (size_t) k, i = 0;
        if (lo > 0) {
                char *nl = memchr(buf, '\n', n);
                i = nl ? (size_t) (nl - buf) + 1 : n;
        }
        while (i < n && from + (off_t) i < lim) {
                if (peek_time(buf + i, n - i, &t) == 0 && t >= since) {
                        ans = from + (off_t) i;
                        break;
                }
                char *nl = memchr(buf + i, '\n', n - i);
                if (!nl)
                        break;
                i = (size_t) (nl - buf) + 1;
        }
        *ret = ans;
        return 0;
}

/* Moves *off (a record start) back over the P records right before it, so
 * that a long line which ends at *off or later is read whole. Reads
 * backwards in blocks; gives up beyond CRILOG_LINE_MAX * 4. */
static int back_over_partials(struct crilog_reader *r, int fd, off_t *off) {
        _cleanup_free_ char *buf = malloc(CRILOG_BLOCK);
        off_t end = *off, stop = *off > (off_t) CRILOG_LINE_MAX * 4 ? *off - (off_t) CRILOG_LINE_MAX * 4 : 0;

        if (!buf)
                return -ENOMEM;
        while (end > stop) {
                off_t start = MAX(stop, end > (off_t) CRILOG_BLOCK ? end - (off_t) CRILOG_BLOCK : 0);
                ssize_t k = rd(r, fd, buf, (size_t) (end - start), start);
                if (k <= 0)
                        return k < 0 ? (int) k : 0;
                /* buf[k - 1] is the '\n' before end; walk the lines backwards */
                size_t e = (size_t) k;
                if (buf[e - 1] != '\n')
                        return 0;
                for (;;) {
                        size_t le = e - 1, ls = le;
                        while (ls > 0 && buf[ls - 1] != '\n')
                                ls--;
                        if (ls == 0 && start > 0)
                                break; /* the line starts in an earlier block */
                        struct cri_record rec;
                        if (cri_parse_record(buf + ls, le - ls, &rec) < 0 || !rec.partial)
                                return 0;
                        *off = start + (off_t) ls;
                        if (ls == 0)
                                return 0;
                        e = ls;
                }
                if (e == (size_t) k)
                        return 0; /* one line longer than a block: not a record */
                end = start + (off_t) e;
        }
        return 0;
}

int crilog_reader_seek_since(struct crilog_reader *r, uint64_t since) {
        size_t idx = r->cur;
        off_t off = 0;
        int q;

        for (size_t i = r->n_files; i-- > r->cur;) {
                off_t size = 0, s;
                uint64_t t;
                q = file_size(&r->files[i], &size);
                if (q < 0)
                        return q;
                q = probe(r, r->files[i].fd, 0, size, &s, &t);
                if (q < 0)
                        return q;
                if (s >= size || t >= since) {
                        /* everything here is new enough (or nothing is here) */
                        idx = i;
                        off = 0;
                        continue;
                }
                q = bsearch_file(r, r->files[i].fd, size, since, &off);
                if (q < 0)
                        return q;
                q = back_over_partials(r, r->files[i].fd, &off);
                if (q < 0)
                        return q;
                idx = i;
                break;
        }
        move_to(r, idx, off);
        return 0;
}

/* ---- seeking by line count ----------------------------------------------- */

int crilog_reader_seek_tail(struct crilog_reader *r, uint64_t n) {
        _cleanup_free_ char *buf = malloc(CRILOG_BLOCK);
        uint64_t count = 0;
        int q;

        if (!buf)
                return -ENOMEM;
        for (size_t i = r->n_files; i-- > r->cur;) {
                off_t end = 0;
                q = file_size(&r->files[i], &end);
                if (q < 0)
                        return q;
                while (end > 0) {
                        off_t start = end > (off_t) CRILOG_BLOCK ? end - (off_t) CRILOG_BLOCK : 0;
                        ssize_t k = rd(r, r->files[i].fd, buf, (size_t) (end - start), start);
                        if (k < 0)
                                return (int) k;
                        if (k == 0) { /* truncated under us */
                                end = start;
                                continue;
                        }
                        size_t len = (size_t) k;
                        /* lines wholly in the block: after the first '\n' unless at 0 */
                        size_t first = 0;
                        if (start > 0) {
                                char *nl = memchr(buf, '\n', len);
                                if (!nl) {
                                        end = start; /* one huge garbage line */
                                        continue;
                                }
                                first = (size_t) (nl - buf) + 1;
                        }
                        /* walk the complete lines backwards */
                        size_t e = len;
                        while (e > first && buf[e - 1] != '\n')
                                e--; /* a torn last record */
                        while (e > first) {
                                size_t le = e - 1; /* the '\n' */
                                size_t ls = le;
                                while (ls > first && buf[ls - 1] != '\n')
                                        ls--;
                                struct cri_record rec;
                                if (cri_parse_record(buf + ls, le - ls, &rec) == 0 && !rec.partial) {
                                        if (count == n) {
                                                move_to(r, i, start + (off_t) e);
                                                return 0;
                                        }
                                        count++;
                                }
                                e = ls;
                        }
                        end = start + (off_t) first;
                        if (start == 0)
                                break;
                }
        }
        return 0; /* fewer lines than n: from the start */
}

/* ---- reading ------------------------------------------------------------- */

/* Follow mode at the end of the last file: what came since. 1: files were
 * appended (the current one is read to its end first), 0: nothing new. */
static int check_switch(struct crilog_reader *r) {
        struct stat st;
        char name[64];
        const struct cfile *last = r->n_files > r->cur ? &r->files[r->n_files - 1] : NULL;
        size_t before = r->n_files;
        int q;

        run_name(r->run, 0, name, sizeof name);
        bool have_active = fstatat(r->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
        if (have_active && (!last || st.st_dev != last->dev || st.st_ino != last->ino)) {
                /* rotated (or RUN.log appeared): the new pieces, then the new RUN.log */
                q = load_run_files(r);
                if (q < 0)
                        return q;
                return r->n_files > before;
        }

        /* a new run? The next number, or (our run is gone) any higher one */
        uint64_t next = r->run + 1;
        run_name(next, 0, name, sizeof name);
        if (fstatat(r->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (have_active)
                        return 0;
                _cleanup_free_ uint64_t *runs = NULL;
                size_t n = 0;
                q = crilog_list_runs(r->dirfd, &runs, &n);
                if (q < 0)
                        return q;
                next = 0;
                for (size_t i = 0; i < n && next == 0; i++)
                        if (runs[i] > r->run)
                                next = runs[i];
                if (next == 0)
                        return 0;
        }
        r->run = next;
        r->max_k = 0;
        q = load_run_files(r);
        if (q < 0)
                return q;
        /* the old run's last file is read to its end first */
        if (r->cur >= before)
                r->flush_run_end = true;
        else
                r->new_run_at = before;
        return 1;
}

int crilog_reader_refresh(struct crilog_reader *r) {
        struct stat st;
        char name[64];
        size_t before = r->n_files;

        if (!r->opts.follow || r->done || r->n_files == 0 || r->cur >= r->n_files ||
            r->n_files - r->cur >= CRILOG_HELD_MAX)
                return 0;
        const struct cfile *last = &r->files[r->n_files - 1];
        run_name(r->run, 0, name, sizeof name);
        if (fstatat(r->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            (st.st_dev == last->dev && st.st_ino == last->ino))
                return 0; /* no rotation since (a new run is taken at the end, as ever) */
        int q = load_run_files(r);
        if (q < 0)
                return q;
        return r->n_files > before;
}

/* More bytes into the buffer. 1: something changed (read more, or moved to
 * the next file), 0: nothing now (or done: r->done). */
static int refill(struct crilog_reader *r) {
        for (;;) {
                if (r->cur >= r->n_files) {
                        if (r->opts.follow) {
                                int q = check_switch(r);
                                if (q <= 0)
                                        return q;
                                continue;
                        }
                        r->done = true;
                        return 0;
                }
                if (r->buf_pos > 0) {
                        memmove(r->buf, r->buf + r->buf_pos, r->buf_len - r->buf_pos);
                        r->buf_len -= r->buf_pos;
                        r->buf_pos = 0;
                }
                if (r->buf_len == r->buf_cap) {
                        /* no newline in the whole buffer: not a record */
                        r->bad_lines++;
                        r->skipping = true;
                        r->buf_len = 0;
                }
                struct cfile *f = &r->files[r->cur];
                size_t want = r->buf_cap - r->buf_len;
                if (f->limit >= 0)
                        want = (size_t) MIN((off_t) want, MAX(f->limit - r->off, (off_t) 0));
                ssize_t k = want > 0 ? rd(r, f->fd, r->buf + r->buf_len, want, r->off) : 0;
                if (k < 0)
                        return (int) k;
                if (k > 0) {
                        r->buf_len += (size_t) k;
                        r->off += k;
                        return 1;
                }
                /* end of this file */
                if (r->cur + 1 < r->n_files) {
                        /* a torn record at the end of a finished file is lost */
                        if (r->buf_len > 0 || r->skipping)
                                r->bad_lines++;
                        r->buf_len = r->buf_pos = 0;
                        r->skipping = false;
                        f->fd = safe_close(f->fd);
                        r->cur++;
                        r->off = 0;
                        if (r->cur == r->new_run_at) {
                                r->new_run_at = SIZE_MAX;
                                r->flush_run_end = true;
                        }
                        continue;
                }
                if (!r->opts.follow) {
                        r->done = true; /* a torn last record stays unread */
                        return 0;
                }
                size_t n = r->n_files;
                int q = check_switch(r);
                if (q < 0)
                        return q;
                if (q == 0 || r->n_files == n)
                        return 0;
                /* the current file may have grown before it was rotated:
                 * read it once more to its end before moving on */
                return 1;
        }
}

static int part_append(struct part *p, const char *s, size_t n, uint64_t time) {
        if (p->len + n > p->cap) {
                size_t c = MAX(p->cap * 2, p->len + n);
                c = MAX(c, (size_t) 4096);
                char *q = realloc(p->data, c);
                if (!q)
                        return -ENOMEM;
                p->data = q;
                p->cap = c;
        }
        memcpy(p->data + p->len, s, n);
        p->len += n;
        p->time = time;
        return 0;
}

/* Hands out a join buffer that has something (the end of a run, or EOF). */
static int flush_parts(struct crilog_reader *r, struct crilog_line *ret, bool partial) {
        for (int s = 0; s < _CRI_STREAM_MAX; s++) {
                struct part *p = &r->part[s];
                if (p->len == 0)
                        continue;
                if (p->time < r->since) {
                        p->len = 0;
                        continue;
                }
                *ret = (struct crilog_line) {
                        .time = p->time, .stream = (enum cri_stream) s, .partial = partial,
                        .data = p->data, .len = p->len,
                };
                r->reset_part = s;
                return 1;
        }
        return 0;
}

int crilog_reader_next(struct crilog_reader *r, struct crilog_line *ret) {
        if (r->reset_part >= 0) {
                r->part[r->reset_part].len = 0;
                r->reset_part = -1;
        }
        if (r->done)
                return flush_parts(r, ret, true);

        for (;;) {
                char *line = r->buf + r->buf_pos;
                char *nl = memchr(line, '\n', r->buf_len - r->buf_pos);
                if (!nl) {
                        if (r->skipping)
                                r->buf_pos = r->buf_len;
                        int q = refill(r);
                        if (q < 0)
                                return q;
                        if (r->flush_run_end) {
                                /* a line the old run never ended */
                                r->flush_run_end = false;
                                if (flush_parts(r, ret, false))
                                        return 1;
                        }
                        if (q == 0)
                                return r->done ? flush_parts(r, ret, true) : 0;
                        continue;
                }
                size_t len = (size_t) (nl - line);
                if (r->skipping) {
                        r->skipping = false;
                        r->buf_pos += len + 1;
                        continue;
                }
                struct cri_record rec;
                if (cri_parse_record(line, len, &rec) < 0) {
                        r->bad_lines++;
                        r->buf_pos += len + 1;
                        continue;
                }
                if (rec.time > r->until) {
                        r->done = true;
                        for (int s = 0; s < _CRI_STREAM_MAX; s++)
                                r->part[s].len = 0;
                        return 0;
                }
                struct part *p = &r->part[rec.stream];
                if (p->len > 0 && p->len + rec.len > CRILOG_LINE_MAX) {
                        /* hand out what is joined so far; this record comes next time */
                        *ret = (struct crilog_line) {
                                .time = p->time, .stream = rec.stream, .partial = true,
                                .data = p->data, .len = p->len,
                        };
                        r->reset_part = (int) rec.stream;
                        if (p->time < r->since) {
                                p->len = 0;
                                r->reset_part = -1;
                                continue;
                        }
                        return 1;
                }
                r->buf_pos += len + 1;
                if (rec.partial || p->len > 0) {
                        int q = part_append(p, rec.content, rec.len, rec.time);
                        if (q < 0)
                                return q;
                        if (rec.partial)
                                continue;
                        if (rec.time < r->since) {
                                p->len = 0;
                                continue;
                        }
                        r->reset_part = (int) rec.stream;
                        *ret = (struct crilog_line) {
                                .time = rec.time, .stream = rec.stream, .data = p->data, .len = p->len,
                        };
                        return 1;
                }
                if (rec.time < r->since)
                        continue;
                /* the buffer stays as it is until the next call */
                *ret = (struct crilog_line) {
                        .time = rec.time, .stream = rec.stream, .data = rec.content, .len = rec.len,
                };
                return 1;
        }
}
