/* client.h: berthctl's HTTP/1.1 client for berthd's control API (libcurl
 * over the unix socket, docs/api.md).
 *
 * Two layers: client_do() performs one request and reports what happened
 * (a response with any status, or why there was none) without printing;
 * client_call() and client_stream() are what the commands use: they print
 * "berthctl: error: ..." and return the exit status (berthctl.h). The
 * message builders and the exit-status mapping are pure, for
 * tests/test-ctl.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

struct global_options;

/* A reply larger than this is refused (10000 replicas are ~5 MB). */
#define CLIENT_BODY_MAX (64u * 1024 * 1024)
/* One line of a stream (an event) longer than this ends the stream. */
#define CLIENT_LINE_MAX (1024u * 1024)
/* Requests other than streams give up after this long. */
#define CLIENT_TIMEOUT_MS 60000L
#define CLIENT_CONNECT_TIMEOUT_MS 5000L

/* Called for each non-empty line of a 2xx streamed reply (the event
 * stream's "\n" heartbeats are skipped). line is NUL-terminated, without
 * the newline. Return < 0 to end the stream (client_do() then returns 0). */
typedef int (*client_line_fn)(const char *line, size_t len, void *userdata);

struct client_request {
        const char *method;         /* "GET", "POST", "DELETE" */
        const char *path;           /* "/v1/services/web?dryRun=1", escaped (client_escape) */
        const char *body;           /* NULL: no body */
        size_t body_size;
        const char *content_type;   /* NULL with a body: application/json */
        const char *const *headers; /* extra "Name: value" lines, NULL-terminated; may be NULL */
        long timeout_ms;            /* 0: CLIENT_TIMEOUT_MS; < 0: none (follow streams) */
        client_line_fn on_line;     /* set: stream the reply line by line */
        /* streams: called after each piece of data libcurl hands over (a good
         * moment to flush buffered output); may be NULL */
        void (*on_chunk_end)(void *userdata);
        void *userdata;
        bool interruptible;         /* SIGINT ends the request cleanly (see client_catch_sigint) */
};

struct client_response {
        long status;              /* HTTP status */
        char *body;               /* the reply (for a 2xx stream: empty), NUL-terminated */
        size_t body_size;
        bool interrupted;         /* SIGINT ended it (interruptible requests) */
};

enum client_failure {
        CLIENT_FAILURE_NONE,
        CLIENT_FAILURE_CONNECT,   /* berthd is not there: exit 3 */
        CLIENT_FAILURE_TIMEOUT,   /* berthd did not answer in time: exit 3 */
        CLIENT_FAILURE_PROTOCOL,  /* broken reply, too large, out of memory: exit 1 */
};

struct client_error {
        enum client_failure failure;
        int error;                /* errno (connect(): ENOENT, ECONNREFUSED, EACCES, ...) */
        char message[512];        /* the one-line message, without "berthctl: error: " */
};

/* Performs one request. Returns 0 when a reply came (whatever its status;
 * ret filled, free it with client_response_done), or -errno with err filled. */
int client_do(const char *socket, const struct client_request *req, struct client_response *ret,
              struct client_error *err);
void client_response_done(struct client_response *r);

/* The commands' calls. Each prints its own error and returns the exit status.
 *
 * client_call: method + path, body (JSON, not consumed; NULL: none). On a 2xx
 * reply *ret (may be NULL) gets the parsed JSON body. */
int client_call(const struct global_options *g, const char *method, const char *path, struct json_object *body,
                struct json_object **ret);
/* client_call on /v1/services/NAME + suffix (NULL or "": the service itself). */
int client_service_call(const struct global_options *g, const char *method, const char *name, const char *suffix,
                        struct json_object *body, struct json_object **ret);
/* client_call_raw: any request (deploy sends YAML). */
int client_call_raw(const struct global_options *g, const struct client_request *req, struct json_object **ret);
/* client_stream: GET path, on_line per line, until the server ends the reply,
 * on_line returns < 0, or (interruptible) SIGINT: all three are success. */
int client_stream(const struct global_options *g, const char *path, client_line_fn on_line, void *userdata,
                  bool follow);

/* The same for any prepared stream request (req->on_line set). */
int client_stream_request(const struct global_options *g, const struct client_request *req);

/* SIGINT (and SIGTERM) from now on end an interruptible request instead of
 * the process. */
int client_catch_sigint(void);
bool client_interrupted(void);

/* A path segment, percent-encoded (RFC 3986 unreserved characters kept). */
char *client_escape(const char *s);

/* "/v1/services/NAME" + suffix ("/scale", "" ...), NAME escaped. */
char *client_service_path(const char *name, const char *suffix);

/* ---- pure helpers (tests/test-ctl.c) ---------------------------------- */

/* "cannot connect to berthd at PATH: No such file or directory; is berthd
 * running? (systemctl status berthd)"; EACCES: "...: Permission denied (are
 * you in group berth?)". */
void client_connect_message(const char *socket, int error, char *buf, size_t size);
/* The message of an error reply: {"error":{"code","message","details":[..]}}
 * gives "message" and each detail on its own line below it, indented by two
 * spaces (a detail equal to the message is left out: berthd repeats the
 * first manifest error there); anything else "HTTP STATUS REASON" plus the
 * body's first line.
 * Returns a new string (NULL: out of memory). */
char *client_error_message(long status, const char *body, size_t size);
/* The exit status for a client_do() result: r < 0 with err (connect and
 * timeout: 3, else 1), or the reply's status (2xx: 0, else 1). */
int client_exit_status(int r, const struct client_error *err, long status);
/* Parses a whole reply as one JSON value (strict). -EBADMSG when it is not. */
int client_parse_json(const char *body, size_t size, struct json_object **ret);
