/* crilog.h: reading a replica's logs in the CRI format the shim writes
 * (docs/api.md, "Logs"): berthd's logs endpoint and the tests use it.
 *
 * Layout of one replica's log directory (STATE/logs/SVC/SVC-IDX/):
 *   RUN.log       the active file of run RUN (8+ decimal digits, +1 per run);
 *                 the highest RUN is the current run, the one below the previous
 *   RUN.log.K     rotated pieces of that run (K = 1, 2, ...; smaller K older;
 *                 never renamed once made; the oldest may vanish at any time)
 *   shim.log      the shim's own diagnostics: ignored here
 * A run's content, in order: its pieces by ascending K, then RUN.log.
 * Each file holds whole records "<time> <stdout|stderr> <F|P> <content>\n",
 * time RFC 3339 UTC with exactly 9 fractional digits (30 bytes), times
 * nondecreasing in a replica. P records are 16 KiB pieces of a long line,
 * ended by an F record; the reader joins them into one line.
 *
 * What this promises:
 *  - Seeking (since, tail) never reads whole files: a binary search over byte
 *    offsets (records have a fixed-width time) and a backwards block scan;
 *    crilog_reader_bytes_read() tells what it cost.
 *  - Every file is opened once and read through its fd, so a rotation
 *    (rename) or the deletion of a piece during the read loses nothing that
 *    was opened; a piece gone before it was opened (ENOENT) is skipped.
 *  - A torn last record (no newline yet) is not returned until it is whole.
 *  - Lines that are not CRI records are skipped (and counted), never fatal.
 *  - Without follow the reader stops at the size the files had when it was
 *    opened (a snapshot), so a writer faster than the reader cannot keep it
 *    going forever.
 *  - Follow mode: at EOF the reader notices a rotation (RUN.log is another
 *    file now: the old one is read to its end, then the pieces made since,
 *    then the new RUN.log) and a new run (a higher RUN.log appeared: the old
 *    run is finished, the new one read from its start). The caller decides
 *    when to look again (berthd: inotify on the directory).
 * No policy, no logging; errors are -errno. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "2026-11-27T03:52:23.123456789Z" */
#define CRI_TIME_LEN 30
/* A joined line longer than this is handed out in pieces of this size with
 * partial set (the rest follows), so memory per reader stays bounded. */
#define CRILOG_LINE_MAX (128u * 1024)
/* Read size for backward scans and the binary search's last step. */
#define CRILOG_BLOCK (64u * 1024)
/* A reader's read buffer: a record (16 KiB of content at most, as the shim
 * writes them) always fits; a longer "line" is not a record and is skipped.
 * Small, because berthd holds one per replica of a request. */
#define CRILOG_BUF (32u * 1024)

enum cri_stream {
        CRI_STDOUT,
        CRI_STDERR,
        _CRI_STREAM_MAX,
};

const char *cri_stream_to_string(enum cri_stream s);

struct cri_record {
        uint64_t time;         /* ns since the epoch */
        enum cri_stream stream;
        bool partial;          /* P: more of this line follows */
        const char *content;   /* points into the parsed line */
        size_t len;
};

/* One record, without its '\n'. Strict: exactly the 30-byte time, one
 * space, "stdout" or "stderr", one space, 'F' or 'P', then either nothing
 * (an empty line) or one space and the content. -EINVAL otherwise. */
int cri_parse_record(const char *line, size_t len, struct cri_record *ret);
/* The 30-byte fixed-width time (-EINVAL unless exactly that form). */
int cri_parse_time(const char *s, size_t len, uint64_t *ret_ns);
/* Writes the 30-byte form and a NUL (buf >= 31 bytes). */
char *cri_format_time(uint64_t ns, char *buf);

/* A time a user gives: RFC 3339 ("2026-11-27T03:52:23Z", any fraction up to
 * ns, "Z" or "+hh:mm"/"-hh:mm") or a Go duration ("10m", "1h30m", "1.5h",
 * "90s", "250ms"; units ns us µs ms s m h) meaning that long before now_ns.
 * -EINVAL / -ERANGE. */
int cri_parse_user_time(const char *s, uint64_t now_ns, uint64_t *ret_ns);

/* The runs found in dir, ascending. *ret may be NULL when there is none. */
int crilog_list_runs(int dirfd, uint64_t **ret, size_t *ret_n);

struct crilog_line {
        uint64_t time;           /* the time of the line's last record */
        enum cri_stream stream;
        bool partial;            /* more of this line follows (see CRILOG_LINE_MAX) */
        const char *data;        /* valid until the next crilog_reader_next() */
        size_t len;
};

struct crilog_reader;

/* Tests count and fake reads here; NULL: pread(2). */
typedef ssize_t (*crilog_pread_fn)(int fd, void *buf, size_t n, off_t offset);

struct crilog_options {
        bool previous;           /* the run before the current one */
        bool follow;             /* keep going at EOF (rotation, new runs) */
        crilog_pread_fn pread;
};

/* Opens the current (or previous) run of the replica directory dir.
 * -ENOENT: no such directory, or no such run. */
int crilog_reader_open(const char *dir, const struct crilog_options *opts, struct crilog_reader **ret);
struct crilog_reader *crilog_reader_free(struct crilog_reader *r);

/* Positioning, before the first crilog_reader_next(). Both only move
 * forward, so since and tail combine (the later start wins). */
/* At the first record with time >= since, or earlier at the P records
 * just before it (a long line that ends at or after since is whole). */
int crilog_reader_seek_since(struct crilog_reader *r, uint64_t since);
/* At the first record of the last n lines of the run. */
int crilog_reader_seek_tail(struct crilog_reader *r, uint64_t n);
/* Lines after until (ns) end the reader (lines before since are skipped). */
void crilog_reader_set_bounds(struct crilog_reader *r, uint64_t since, uint64_t until);

/* The next line: 1 and *ret filled; 0 nothing more now (follow: maybe
 * later; else crilog_reader_done() is true); -errno. */
int crilog_reader_next(struct crilog_reader *r, struct crilog_line *ret);
/* Follow mode: take hold of the files of the current run that appeared
 * since (pieces rotated away from the active file, the new active file)
 * now, whatever is still unread before them: the writer deletes the oldest
 * pieces after maxFiles rotations, and a file held open stays readable. Call
 * it when the directory changes (inotify). Holds at most CRILOG_HELD_MAX
 * files ahead of the one being read (a follower that far behind may still
 * lose pieces). Returns 1 when files were taken, 0 when none, -errno. */
#define CRILOG_HELD_MAX 64
int crilog_reader_refresh(struct crilog_reader *r);

/* No more lines will ever come (EOF without follow, or until passed). */
bool crilog_reader_done(const struct crilog_reader *r);

uint64_t crilog_reader_bytes_read(const struct crilog_reader *r);
/* Lines that were not CRI records, skipped so far. */
uint64_t crilog_reader_bad_lines(const struct crilog_reader *r);
/* The run being read. */
uint64_t crilog_reader_run(const struct crilog_reader *r);
