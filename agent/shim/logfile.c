/* logfile.c: CRI records, run files, rotation, retention (see logfile.h).
 *
 * On the data path of every replica: one clock reading per input chunk,
 * memchr for newlines, records built in one large buffer and written in big
 * chunks; no stdio, no allocation after the first output. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logfile.h"
#include "macro.h"

#define NAME_MAX_LEN 48

_printf_(2, 3) static void lf_log(struct logfile *lf, const char *fmt, ...) {
        char buf[512];
        va_list ap;

        if (!lf->ops.log)
                return;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        lf->ops.log(lf->ops.userdata, buf);
}

static ssize_t lf_write(struct logfile *lf, const void *buf, size_t n) {
        return lf->ops.write ? lf->ops.write(lf->fd, buf, n, lf->ops.userdata) : write(lf->fd, buf, n);
}

static void lf_now(struct logfile *lf, struct timespec *ts) {
        if (lf->ops.now)
                lf->ops.now(ts, lf->ops.userdata);
        else
                clock_gettime(CLOCK_REALTIME, ts);
}

/* ------------------------------------------------------------ names, time */

static void run_name(char buf[static NAME_MAX_LEN], uint64_t run, uint64_t piece) {
        if (piece)
                snprintf(buf, NAME_MAX_LEN, "%08" PRIu64 ".log.%" PRIu64, run, piece);
        else
                snprintf(buf, NAME_MAX_LEN, "%08" PRIu64 ".log", run);
}

static int parse_digits(const char *s, size_t n, uint64_t *ret) {
        uint64_t v = 0;

        if (n == 0 || n > 19)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t) (s[i] - '0');
        }
        *ret = v;
        return 0;
}

int logfile_parse_name(const char *name, uint64_t *ret_run, uint64_t *ret_piece) {
        const char *dot = strchr(name, '.');
        uint64_t run, piece = 0;

        if (!dot || dot - name < 8 || parse_digits(name, (size_t) (dot - name), &run) < 0 || run == 0)
                return -EINVAL;
        if (strncmp(dot, ".log", 4) != 0)
                return -EINVAL;
        if (dot[4] == '.') {
                if (dot[5] == '0' || parse_digits(dot + 5, strlen(dot + 5), &piece) < 0 || piece == 0)
                        return -EINVAL;
        } else if (dot[4] != 0)
                return -EINVAL;
        *ret_run = run;
        *ret_piece = piece;
        return 0;
}

static void put2(char *p, unsigned v) {
        p[0] = (char) ('0' + v / 10);
        p[1] = (char) ('0' + v % 10);
}

/* "YYYY-MM-DDTHH:MM:SS" of a time_t, proleptic Gregorian (Hinnant's
 * civil_from_days): no locale, no lock, no tz file. */
static void format_seconds(time_t t, char *p) {
        int64_t days = (int64_t) t / 86400, rem = (int64_t) t % 86400;
        if (rem < 0) {
                rem += 86400;
                days--;
        }
        int64_t z = days + 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned) (z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t y = (int64_t) yoe + era * 400;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        unsigned d = doy - (153 * mp + 2) / 5 + 1;
        unsigned m = mp < 10 ? mp + 3 : mp - 9;
        if (m <= 2)
                y++;
        if (y < 0 || y > 9999)
                y = y < 0 ? 0 : 9999; /* fixed width above all */
        put2(p, (unsigned) (y / 100));
        put2(p + 2, (unsigned) (y % 100));
        p[4] = '-';
        put2(p + 5, m);
        p[7] = '-';
        put2(p + 8, d);
        p[10] = 'T';
        put2(p + 11, (unsigned) (rem / 3600));
        p[13] = ':';
        put2(p + 14, (unsigned) (rem / 60 % 60));
        p[16] = ':';
        put2(p + 17, (unsigned) (rem % 60));
}

static void format_nanos(long ns, char *p) {
        p[0] = '.';
        for (int i = 9; i >= 1; i--) {
                p[i] = (char) ('0' + ns % 10);
                ns /= 10;
        }
        p[10] = 'Z';
}

void logfile_format_timestamp(const struct timespec *ts, char buf[static LOGFILE_TS_LEN]) {
        format_seconds(ts->tv_sec, buf);
        format_nanos(ts->tv_nsec, buf + 19);
}

/* The prefix of the records of this input: "<ts> stdout F ". */
static void set_prefix(struct logfile *lf, enum log_stream s) {
        struct timespec ts;

        lf_now(lf, &ts);
        if (!lf->prefix_valid || ts.tv_sec != lf->prefix_sec) {
                format_seconds(ts.tv_sec, lf->prefix);
                lf->prefix_sec = ts.tv_sec;
                lf->prefix_valid = true;
        }
        format_nanos(ts.tv_nsec, lf->prefix + 19);
        memcpy(lf->prefix + LOGFILE_TS_LEN, s == LOG_STDOUT ? " stdout F " : " stderr F ", 10);
}

/* ------------------------------------------------------------ files */

static void drop(struct logfile *lf, size_t n, int error) {
        lf->dropped += n;
        if (!lf->dropping) {
                lf->dropping = true;
                lf->drop_error = error;
                lf_log(lf, "cannot write the log: %s; dropping output until writes work again", strerror(error));
        }
}

static int open_active(struct logfile *lf) {
        char name[NAME_MAX_LEN];
        struct stat st;

        run_name(name, lf->run, 0);
        lf->fd = openat(lf->dir_fd, name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
        if (lf->fd < 0) {
                int r = -errno;
                if (!lf->open_failed_logged)
                        lf_log(lf, "open %s: %s; dropping output until it can be opened", name, strerror(-r));
                lf->open_failed_logged = true;
                return r;
        }
        lf->open_failed_logged = false;
        lf->size = fstat(lf->fd, &st) == 0 ? (uint64_t) st.st_size : 0;
        return 0;
}

/* Scans the directory: deletes the runs older than the newest, returns the
 * newest run number (0: none). */
static int scan_runs(struct logfile *lf, uint64_t *ret_newest) {
        uint64_t newest = 0, run, piece;
        int fd;
        DIR *d;

        fd = openat(lf->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                close(fd);
                return r;
        }
        for (struct dirent *de; (de = readdir(d));)
                if (logfile_parse_name(de->d_name, &run, &piece) == 0 && run > newest)
                        newest = run;
        rewinddir(d);
        for (struct dirent *de; (de = readdir(d));)
                if (logfile_parse_name(de->d_name, &run, &piece) == 0 && run < newest &&
                    unlinkat(lf->dir_fd, de->d_name, 0) < 0 && errno != ENOENT)
                        lf_log(lf, "delete old log %s: %s", de->d_name, strerror(errno));
        closedir(d);
        *ret_newest = newest;
        return 0;
}

/* Renames the active file to the next piece, reopens, enforces max_files. */
static void rotate(struct logfile *lf) {
        char name[NAME_MAX_LEN], piece[NAME_MAX_LEN];

        run_name(name, lf->run, 0);
        run_name(piece, lf->run, lf->next_piece);
        if (renameat(lf->dir_fd, name, lf->dir_fd, piece) < 0) {
                /* keep writing to the same file; try again after another max_size */
                if (!lf->rename_failed_logged)
                        lf_log(lf, "rotate %s: %s; the file grows past the size limit", name, strerror(errno));
                lf->rename_failed_logged = true;
                lf->size = 0;
                return;
        }
        lf->rename_failed_logged = false;
        lf->next_piece++;
        lf->fd = safe_close(lf->fd);
        (void) open_active(lf);
        while (lf->next_piece - lf->first_piece + 1 > lf->max_files) {
                run_name(piece, lf->run, lf->first_piece);
                if (unlinkat(lf->dir_fd, piece, 0) < 0 && errno != ENOENT)
                        lf_log(lf, "delete %s: %s", piece, strerror(errno));
                lf->first_piece++;
        }
}

static int open_new_run(struct logfile *lf);

int logfile_flush(struct logfile *lf) {
        size_t off = 0, keep;
        int error = 0;

        if (lf->out_len == 0)
                return 0;
        if (lf->fd < 0) {
                /* the run's file could not be opened (or the directory read) so far */
                int r = lf->run == 0 ? open_new_run(lf) : open_active(lf);
                if (r < 0) {
                        drop(lf, lf->out_len, -r);
                        lf->out_len = 0;
                        return r;
                }
        }
        while (off < lf->out_len) {
                ssize_t w = lf_write(lf, lf->out + off, lf->out_len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        error = w < 0 ? errno : EIO;
                        break;
                }
                off += (size_t) w;
        }
        if (off == lf->out_len) {
                lf->size += off;
                lf->out_len = 0;
                if (lf->dropping) {
                        lf->dropping = false;
                        lf_log(lf, "writing the log works again (%" PRIu64 " bytes dropped so far)", lf->dropped);
                }
                return 0;
        }
        /* Cut a torn record off: only whole records stay in the file. */
        keep = 0;
        if (off > 0) {
                const char *nl = memrchr(lf->out, '\n', off);
                keep = nl ? (size_t) (nl - lf->out) + 1 : 0;
        }
        if (keep < off && ftruncate(lf->fd, (off_t) (lf->size + keep)) < 0)
                lf_log(lf, "ftruncate the log after a failed write: %s", strerror(errno));
        lf->size += keep;
        drop(lf, lf->out_len - keep, error ? error : EIO);
        lf->out_len = 0;
        return -error;
}

/* ------------------------------------------------------------ records */

static void fall_back_to_files(struct logfile *lf, int error);

/* Appends one record (content has no newline). */
static void emit(struct logfile *lf, bool partial, const char *content, size_t len, enum log_stream s) {
        size_t rec = LOGFILE_PREFIX_LEN + len + 1;

        if (lf->journal) {
                int r = lf->ops.record(lf->ops.userdata, s, partial, content, len);
                if (r >= 0)
                        return;
                fall_back_to_files(lf, -r);
        }
        if (lf->fd >= 0 && lf->size + lf->out_len + rec > lf->max_size && lf->size + lf->out_len > 0) {
                (void) logfile_flush(lf);
                if (lf->fd >= 0 && lf->size > 0)
                        rotate(lf);
        }
        if (lf->out_len + rec > LOGFILE_OUT_SIZE)
                (void) logfile_flush(lf);
        if (!lf->out) {
                lf->out = malloc(LOGFILE_OUT_SIZE);
                if (!lf->out) {
                        drop(lf, rec, ENOMEM);
                        return;
                }
        }
        char *p = lf->out + lf->out_len;
        memcpy(p, lf->prefix, LOGFILE_PREFIX_LEN);
        if (partial)
                p[LOGFILE_PREFIX_LEN - 2] = 'P';
        memcpy(p + LOGFILE_PREFIX_LEN, content, len);
        p[LOGFILE_PREFIX_LEN + len] = '\n';
        lf->out_len += rec;
}

static bool hold(struct logfile *lf, struct logfile_partial *pl, const char *data, size_t n) {
        if (!pl->buf) {
                pl->buf = malloc(LOGFILE_LINE_MAX);
                if (!pl->buf)
                        return false;
        }
        memcpy(pl->buf + pl->len, data, n);
        pl->len += n;
        return true;
}

void logfile_input(struct logfile *lf, enum log_stream s, const char *data, size_t n) {
        struct logfile_partial *pl = &lf->partial[s];
        const char *p = data, *end = data + n;

        if (n == 0)
                return;
        set_prefix(lf, s);
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t len = (size_t) ((nl ? nl : end) - p);

                if (pl->len > 0) {
                        size_t take;
                        if (pl->len == LOGFILE_LINE_MAX && len > 0) {
                                /* more than LOGFILE_LINE_MAX bytes without a newline */
                                emit(lf, true, pl->buf, pl->len, s);
                                pl->len = 0;
                                continue;
                        }
                        take = MIN(len, LOGFILE_LINE_MAX - pl->len);
                        if (!hold(lf, pl, p, take))
                                drop(lf, take, ENOMEM);
                        p += take;
                        if (take == len && nl) {
                                emit(lf, false, pl->buf, pl->len, s);
                                pl->len = 0;
                                p = nl + 1;
                        }
                        continue;
                }
                while (len > LOGFILE_LINE_MAX) {
                        emit(lf, true, p, LOGFILE_LINE_MAX, s);
                        p += LOGFILE_LINE_MAX;
                        len -= LOGFILE_LINE_MAX;
                }
                if (nl) {
                        emit(lf, false, p, len, s);
                        p = nl + 1;
                } else {
                        if (!hold(lf, pl, p, len))
                                drop(lf, len, ENOMEM);
                        p = end;
                }
        }
}

void logfile_eof(struct logfile *lf, enum log_stream s) {
        struct logfile_partial *pl = &lf->partial[s];

        if (pl->len == 0)
                return;
        set_prefix(lf, s);
        emit(lf, false, pl->buf, pl->len, s);
        pl->len = 0;
}

void logfile_end_run(struct logfile *lf) {
        for (int s = 0; s < _LOG_STREAM_MAX; s++)
                logfile_eof(lf, (enum log_stream) s);
        (void) logfile_flush(lf);
}

/* Opens a new run file (the previous run is over and flushed). */
static int open_new_run(struct logfile *lf) {
        uint64_t newest = 0;
        int r;

        lf->fd = safe_close(lf->fd);
        r = scan_runs(lf, &newest);
        if (r < 0) {
                lf_log(lf, "read the log directory: %s", strerror(-r));
                lf->run = 0;
                return r;
        }
        lf->run = newest + 1;
        lf->size = 0;
        lf->first_piece = lf->next_piece = 1;
        r = open_active(lf);
        return r < 0 ? r : (int) MIN(lf->run, (uint64_t) INT32_MAX);
}

static void fall_back_to_files(struct logfile *lf, int error) {
        lf->journal = false;
        lf_log(lf, "the journal refused a record (%s): writing log files instead", strerror(error));
        (void) open_new_run(lf);
}

int logfile_start_run(struct logfile *lf) {
        logfile_end_run(lf);
        if (lf->journal)
                return 0;
        return open_new_run(lf);
}

void logfile_init(struct logfile *lf, int dir_fd, uint64_t max_size, unsigned max_files,
                  const struct logfile_ops *ops) {
        *lf = (struct logfile) {
                .dir_fd = dir_fd,
                .fd = -1,
                .max_size = MAX(max_size, 1),
                .max_files = MAX(max_files, 1u),
                .first_piece = 1,
                .next_piece = 1,
        };
        if (ops)
                lf->ops = *ops;
        lf->journal = lf->ops.record != NULL;
}

void logfile_done(struct logfile *lf) {
        logfile_end_run(lf);
        lf->fd = safe_close(lf->fd);
        lf->dir_fd = safe_close(lf->dir_fd);
        free(lf->out);
        lf->out = NULL;
        for (int s = 0; s < _LOG_STREAM_MAX; s++) {
                free(lf->partial[s].buf);
                lf->partial[s] = (struct logfile_partial) {};
        }
}
