/* logwire.h: the wire format of GET /v1/services/NAME/logs (docs/api.md):
 * one JSON object per line (NDJSON),
 *   {"replica":0,"time":"2026-11-27T03:52:23.123456789Z","stream":"stdout","line":"..."}
 * plus "partial":true on a piece of a line longer than CRILOG_LINE_MAX (the
 * rest follows in the next messages of that replica and stream). An empty
 * line is a heartbeat. The line is the service's bytes as a JSON string:
 * bytes that are not valid UTF-8 become U+FFFD (as Docker's json-file
 * does), control characters are escaped.
 *
 * berthd encodes, berthctl decodes; both directions are hand-written for
 * speed (a 1 GiB log is ten million lines) and tested in tests/test-crilog.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crilog.h"

/* The most bytes logwire_encode() writes for content of len bytes. */
#define LOGWIRE_MAX(len) (6 * (len) + 128)

/* Writes the message and its '\n' to out (LOGWIRE_MAX(l->len) bytes);
 * returns the length. */
size_t logwire_encode(char *out, unsigned replica, const struct crilog_line *l);

struct logwire_msg {
        unsigned replica;
        uint64_t time;           /* ns */
        char time_str[CRI_TIME_LEN + 1];
        enum cri_stream stream;
        bool partial;
        char *line;              /* decoded in place into the caller's buffer */
        size_t len;
};

/* Parses one message (without its '\n'). s is modified: the line is
 * unescaped in place (it only shrinks). Keys may come in any order; unknown
 * keys with string, number, true/false/null values are ignored. -EBADMSG. */
int logwire_decode(char *s, size_t len, struct logwire_msg *ret);
