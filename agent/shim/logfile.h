/* logfile.h: the replica's log as the shim writes it: CRI records, one file
 * per run, rotation by size, retention by count. Mechanism only (the shim
 * passes the directory and the limits); the write and the clock are
 * injectable so the unit tests (tests/test-logfile.c) can fail writes and
 * fix the time.
 *
 * The files, in the replica's log directory (STATE/logs/<svc>/<svc>-<idx>/):
 *   <RUN>.log      the active file of run RUN (8+ digits, zero-padded decimal);
 *                  RUN = 1 + the highest RUN present when the run starts
 *   <RUN>.log.<K>  rotated pieces of that run, K = 1, 2, ... (older = smaller
 *                  K); a piece is never renamed again
 * A run keeps at most max_files files (its active file included: the oldest
 * pieces are deleted); when a run starts, every run older than the previous
 * one is deleted (so the current and the previous run are kept).
 *
 * Records: "<timestamp> <stdout|stderr> <F|P> <content>\n", the CRI log
 * format; timestamp RFC 3339 UTC with 9 fractional digits (fixed width, 30
 * bytes), taken once per logfile_input() (= per read(2) of a pipe). Content
 * never holds a newline. A line longer than LOGFILE_LINE_MAX bytes goes out as
 * LOGFILE_LINE_MAX-byte P records and a final F record.
 *
 * An unterminated line (no newline yet) is held in memory (per stream) until
 * its newline arrives, or until more than LOGFILE_LINE_MAX bytes of it have
 * arrived (the first LOGFILE_LINE_MAX go out as a P record), or until the run
 * ends, the pipe reaches EOF or the shim exits: then it is written as an F
 * record. A record gets the time of the read that completed it, so records
 * appear in the file in time order.
 *
 * Rotation happens before a record that would make the active file exceed
 * max_size (a file holds at least one record): the records before it are
 * written, the file is renamed to a piece and a new one opened. Records are
 * never split or duplicated across files.
 *
 * Write errors (disk full, EFBIG, EIO): output is dropped, never retried and
 * never waited for; a short write is cut back (ftruncate) to the last whole
 * record, so files only hold whole records. logfile_dropped() counts the
 * bytes of records not written; logfile_dropping() is true from the first
 * failed write until a write succeeds again (a "drop episode").
 *
 * Journal mode (ops.record set): every record goes to ops.record instead of
 * a file; when it fails, the logfile logs one line and falls back to files
 * for good. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define LOGFILE_LINE_MAX 16384                      /* content bytes per record */
#define LOGFILE_TS_LEN 30                           /* 2026-11-27T03:52:23.123456789Z */
#define LOGFILE_PREFIX_LEN (LOGFILE_TS_LEN + 10)    /* "<ts> stdout F " */
#define LOGFILE_RECORD_MAX (LOGFILE_PREFIX_LEN + LOGFILE_LINE_MAX + 1)
#define LOGFILE_OUT_SIZE (256 * 1024)               /* records are written in chunks up to this */

enum log_stream {
        LOG_STDOUT,
        LOG_STDERR,
        _LOG_STREAM_MAX,
};

struct logfile_ops {
        /* write(2) semantics (short writes, -1 + errno); NULL: write(2) */
        ssize_t (*write)(int fd, const void *buf, size_t n, void *userdata);
        /* NULL: clock_gettime(CLOCK_REALTIME) */
        void (*now)(struct timespec *ret, void *userdata);
        /* one diagnostic line (no newline); NULL: none */
        void (*log)(void *userdata, const char *line);
        /* journal mode: one record; a negative errno makes the logfile fall back to files */
        int (*record)(void *userdata, enum log_stream s, bool partial, const char *content, size_t len);
        void *userdata;
};

struct logfile_partial {
        char *buf; /* LOGFILE_LINE_MAX bytes, allocated on first use */
        size_t len;
};

struct logfile {
        struct logfile_ops ops;
        int dir_fd;            /* owned */
        int fd;                /* the active file, or -1 */
        uint64_t run;          /* current run, 0 before the first */
        uint64_t size;         /* bytes in the active file */
        uint64_t max_size;
        unsigned max_files;
        uint64_t first_piece;  /* pieces of this run still kept: [first_piece, next_piece) */
        uint64_t next_piece;
        bool journal;          /* records go to ops.record */

        char *out;             /* LOGFILE_OUT_SIZE, allocated on first use */
        size_t out_len;
        struct logfile_partial partial[_LOG_STREAM_MAX];

        /* the prefix of the current input: timestamp, stream, F */
        char prefix[LOGFILE_PREFIX_LEN];
        time_t prefix_sec;     /* the second cached in prefix[0..19] */
        bool prefix_valid;

        uint64_t dropped;      /* bytes of records not written */
        bool dropping;         /* in a drop episode */
        int drop_error;        /* errno of the first failure of the episode */
        bool open_failed_logged;
        bool rename_failed_logged;
};

/* Takes dir_fd (closes it in logfile_done). max_files >= 1, max_size >= 1. */
void logfile_init(struct logfile *lf, int dir_fd, uint64_t max_size, unsigned max_files,
                  const struct logfile_ops *ops);
/* Ends the current run (as logfile_end_run), closes everything, frees the buffers. */
void logfile_done(struct logfile *lf);

/* A new run: ends the previous one (its held lines as F records, its
 * records written, its file closed), deletes the runs older than the
 * previous one, opens <RUN>.log. Returns the run number, or -errno (the
 * output is then dropped, counted, and the file tried again at the next
 * flush). In journal mode only ends the previous run (returns 0). */
int logfile_start_run(struct logfile *lf);
/* The run ended: held lines as F records, everything written. The file stays
 * open: late output (a leftover child) goes to this run until the next one. */
void logfile_end_run(struct logfile *lf);

/* Data read from a stream's pipe: timestamped now, turned into records.
 * Writes when the output buffer fills; call logfile_flush() after a batch. */
void logfile_input(struct logfile *lf, enum log_stream s, const char *data, size_t n);
/* The stream's pipe reached EOF: its held line as an F record. */
void logfile_eof(struct logfile *lf, enum log_stream s);
/* Writes the buffered records. 0, or -errno when something was dropped. */
int logfile_flush(struct logfile *lf);

static inline uint64_t logfile_dropped(const struct logfile *lf) {
        return lf->dropped;
}
static inline bool logfile_dropping(const struct logfile *lf) {
        return lf->dropping;
}

/* Exposed for the tests. */
/* Formats ts as "YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ" (LOGFILE_TS_LEN bytes, no NUL). */
void logfile_format_timestamp(const struct timespec *ts, char buf[static LOGFILE_TS_LEN]);
/* "<RUN>.log" -> run, piece 0; "<RUN>.log.<K>" -> run, K; else -EINVAL. */
int logfile_parse_name(const char *name, uint64_t *ret_run, uint64_t *ret_piece);
