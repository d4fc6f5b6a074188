/* client.c: berthctl's side of the control API: one libcurl easy handle per
 * request over berthd's unix socket (CURLOPT_UNIX_SOCKET_PATH, the host part
 * of the URL is ignored), driven by a multi handle so a follow stream can be
 * ended by SIGINT through a self-pipe, without waiting for the next
 * heartbeat.
 *
 * libcurl's own messages are kept out of the "cannot connect" case: for a
 * unix socket it says "Failed to connect to localhost port 80", which points
 * the user at the wrong thing. We name the socket and the errno instead. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "berthctl.h"
#include "client.h"
#include "macro.h"

/* ---- SIGINT ------------------------------------------------------------ */

static volatile sig_atomic_t interrupted;
static int interrupt_pipe[2] = { -1, -1 };

static void on_signal(int sig) {
        int saved = errno;
        interrupted = 1;
        if (interrupt_pipe[1] >= 0)
                (void) !write(interrupt_pipe[1], "x", 1);
        errno = saved;
}

int client_catch_sigint(void) {
        if (interrupt_pipe[0] < 0 && pipe2(interrupt_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        /* no SA_RESTART: a blocking write to a stuck terminal is cut short too */
        struct sigaction sa = { .sa_handler = on_signal };
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
                return -errno;
        return 0;
}

bool client_interrupted(void) {
        return interrupted;
}

/* ---- pure helpers ------------------------------------------------------ */

void client_connect_message(const char *socket, int error, char *buf, size_t size) {
        const char *hint = "";
        switch (error) {
        case ENOENT:
        case ECONNREFUSED:
        case ENOTSOCK:
        case ETIMEDOUT:
                hint = "; is berthd running? (systemctl status berthd)";
                break;
        case EACCES:
        case EPERM:
                hint = " (are you in group berth?)";
                break;
        case ENAMETOOLONG:
                hint = " (a socket path has at most 107 bytes)";
                break;
        }
        snprintf(buf, size, "cannot connect to berthd at %s: %s%s", socket,
                 error > 0 ? strerror(error) : "unknown error", hint);
}

static const char *status_reason(long status) {
        static const struct {
                long status;
                const char *reason;
        } table[] = {
                { 400, "Bad Request" },        { 403, "Forbidden" },
                { 404, "Not Found" },          { 405, "Method Not Allowed" },
                { 409, "Conflict" },           { 413, "Content Too Large" },
                { 415, "Unsupported Media Type" }, { 422, "Unprocessable Content" },
                { 500, "Internal Server Error" }, { 503, "Service Unavailable" },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (table[i].status == status)
                        return table[i].reason;
        return NULL;
}

int client_parse_json(const char *body, size_t size, struct json_object **ret) {
        if (!body || size == 0 || size > INT32_MAX)
                return -EBADMSG;
        struct json_tokener *tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        struct json_object *o = json_tokener_parse_ex(tok, body, (int) size);
        enum json_tokener_error e = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        if (!o && e == json_tokener_continue) {
                /* a bare number at the very end needs a final call with the
                 * terminating NUL: everything was consumed then */
                o = json_tokener_parse_ex(tok, "", 1);
                e = json_tokener_get_error(tok);
                end = size;
        }
        json_tokener_free(tok);
        if (e != json_tokener_success) {
                json_object_put(o);
                return -EBADMSG;
        }
        for (; end < size; end++)
                if (!strchr(" \t\r\n", body[end]) && body[end] != '\0') {
                        json_object_put(o);
                        return -EBADMSG;
                }
        *ret = o; /* may be NULL: the body was "null" */
        return 0;
}

/* Appends s to the malloc'ed string *p. */
static int append_str(char **p, size_t *len, const char *s, size_t n) {
        char *q = realloc(*p, *len + n + 1);
        if (!q)
                return -ENOMEM;
        memcpy(q + *len, s, n);
        *len += n;
        q[*len] = '\0';
        *p = q;
        return 0;
}

char *client_error_message(long status, const char *body, size_t size) {
        struct json_object *o = NULL, *e, *m, *details;
        char *out = NULL;
        size_t len = 0;

        if (client_parse_json(body, size, &o) >= 0 && json_object_is_type(o, json_type_object) &&
            json_object_object_get_ex(o, "error", &e) && json_object_is_type(e, json_type_object) &&
            json_object_object_get_ex(e, "message", &m) && json_object_is_type(m, json_type_string)) {
                const char *msg = json_object_get_string(m);
                int r = append_str(&out, &len, msg, strlen(msg));
                if (r >= 0 && json_object_object_get_ex(e, "details", &details) &&
                    json_object_is_type(details, json_type_array))
                        for (size_t i = 0; r >= 0 && i < json_object_array_length(details); i++) {
                                struct json_object *d = json_object_array_get_idx(details, i);
                                const char *s = json_object_is_type(d, json_type_string)
                                                        ? json_object_get_string(d)
                                                        : json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN);
                                /* berthd repeats the first manifest error as the message */
                                if (streq(s, msg))
                                        continue;
                                r = append_str(&out, &len, "\n  ", 3);
                                if (r >= 0)
                                        r = append_str(&out, &len, s, strlen(s));
                        }
                json_object_put(o);
                if (r < 0) {
                        free(out);
                        return NULL;
                }
                return out;
        }
        json_object_put(o);

        /* not our error shape (a proxy, an older berthd): status and the first line */
        const char *reason = status_reason(status);
        char head[64];
        snprintf(head, sizeof head, "HTTP %ld%s%s", status, reason ? " " : "", reason ? reason : "");
        if (append_str(&out, &len, head, strlen(head)) < 0)
                return NULL;
        if (body) {
                size_t skip = 0, n;
                while (skip < size && strchr(" \t\r\n", body[skip]) && body[skip])
                        skip++;
                for (n = 0; skip + n < size && body[skip + n] != '\n' && body[skip + n] != '\r' && body[skip + n]; n++)
                        ;
                if (n > 200)
                        n = 200;
                if (n > 0 && (append_str(&out, &len, ": ", 2) < 0 || append_str(&out, &len, body + skip, n) < 0)) {
                        free(out);
                        return NULL;
                }
        }
        return out;
}

int client_exit_status(int r, const struct client_error *err, long status) {
        if (r < 0) {
                if (err && (err->failure == CLIENT_FAILURE_CONNECT || err->failure == CLIENT_FAILURE_TIMEOUT))
                        return EXIT_UNREACHABLE;
                return EXIT_FAILED;
        }
        return status >= 200 && status < 300 ? EXIT_OK : EXIT_FAILED;
}

char *client_escape(const char *s) {
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(s);
        char *out = malloc(3 * n + 1), *p = out;
        if (!out)
                return NULL;
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~", c))
                        *p++ = (char) c;
                else {
                        *p++ = '%';
                        *p++ = hex[c >> 4];
                        *p++ = hex[c & 15];
                }
        }
        *p = '\0';
        return out;
}

char *client_service_path(const char *name, const char *suffix) {
        _cleanup_free_ char *e = client_escape(name);
        char *p;
        if (!e || asprintf(&p, "/v1/services/%s%s", e, suffix ? suffix : "") < 0)
                return NULL;
        return p;
}

/* ---- the transfer ------------------------------------------------------ */

struct transfer {
        CURL *h;
        const struct client_request *req;
        char *buf; /* the body, or (streaming) the current line */
        size_t len, allocated;
        bool decided, streaming, stopped;
        int error; /* -EFBIG, -ENOMEM: why the write callback refused */
};

static int buffer_append(struct transfer *t, const char *p, size_t n, size_t max) {
        if (t->len + n > max)
                return -EFBIG;
        if (t->len + n + 1 > t->allocated) {
                size_t a = MAX(t->allocated * 2, t->len + n + 1);
                a = MAX(a, (size_t) 4096);
                char *q = realloc(t->buf, a);
                if (!q)
                        return -ENOMEM;
                t->buf = q;
                t->allocated = a;
        }
        memcpy(t->buf + t->len, p, n);
        t->len += n;
        t->buf[t->len] = '\0';
        return 0;
}

static int deliver_line(struct transfer *t) {
        if (t->len > 0 && t->buf[t->len - 1] == '\r')
                t->buf[--t->len] = '\0';
        int r = 0;
        if (t->len > 0) /* an empty line is a heartbeat */
                r = t->req->on_line(t->buf, t->len, t->req->userdata);
        t->len = 0;
        if (t->buf)
                t->buf[0] = '\0';
        return r;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *userdata) {
        struct transfer *t = userdata;
        size_t n = size * nmemb;

        if (!t->decided) {
                /* the status line has been read when the body starts */
                long status = 0;
                (void) curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status);
                t->streaming = t->req->on_line && status >= 200 && status < 300;
                t->decided = true;
        }
        if (!t->streaming) {
                t->error = buffer_append(t, p, n, CLIENT_BODY_MAX);
                return t->error < 0 ? 0 : n;
        }
        for (size_t i = 0; i < n;) {
                const char *nl = memchr(p + i, '\n', n - i);
                size_t chunk = nl ? (size_t) (nl - (p + i)) : n - i;
                t->error = buffer_append(t, p + i, chunk, CLIENT_LINE_MAX);
                if (t->error < 0)
                        return 0;
                i += chunk;
                if (!nl)
                        break;
                i++;
                if (deliver_line(t) < 0) {
                        t->stopped = true;
                        return 0;
                }
        }
        if (t->req->on_chunk_end)
                t->req->on_chunk_end(t->req->userdata);
        return n;
}

/* Why connect() failed, when libcurl did not keep the errno. */
static int probe_connect(const char *socket_path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strncpy(sa.sun_path, socket_path, sizeof sa.sun_path - 1);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return errno;
        return ECONNREFUSED; /* it answers now: it was not accepting before */
}

static int fail(struct client_error *err, enum client_failure f, int error, const char *fmt, ...)
        _printf_(4, 5);
static int fail(struct client_error *err, enum client_failure f, int error, const char *fmt, ...) {
        va_list ap;
        err->failure = f;
        err->error = error;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        return -error;
}

static void curl_cleanup_at_exit(void) {
        curl_global_cleanup();
}

static int curl_setup(void) {
        static bool done;
        if (done)
                return 0;
        /* plain HTTP over a unix socket: no TLS initialisation needed */
        if (curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK)
                return -ENOMEM;
        atexit(curl_cleanup_at_exit);
        done = true;
        return 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup)
DEFINE_TRIVIAL_CLEANUP_FUNC(CURLM *, curl_multi_cleanup)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_slist *, curl_slist_free_all)

static int add_header(struct curl_slist **l, const char *h) {
        struct curl_slist *n = curl_slist_append(*l, h);
        if (!n)
                return -ENOMEM;
        *l = n;
        return 0;
}

int client_do(const char *socket, const struct client_request *req, struct client_response *ret,
              struct client_error *err) {
        _cleanup_(curl_easy_cleanupp) CURL *h = NULL;
        _cleanup_(curl_multi_cleanupp) CURLM *multi = NULL;
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_free_ char *url = NULL;
        char curl_err[CURL_ERROR_SIZE] = "";
        struct transfer t = { .req = req };
        CURLcode cc = CURLE_OK;
        bool was_interrupted = false;
        int r;

        *err = (struct client_error) {};
        if (strlen(socket) >= sizeof(((struct sockaddr_un *) NULL)->sun_path)) {
                client_connect_message(socket, ENAMETOOLONG, err->message, sizeof err->message);
                err->failure = CLIENT_FAILURE_CONNECT;
                err->error = ENAMETOOLONG;
                return -ENAMETOOLONG;
        }
        if (curl_setup() < 0 || !(h = curl_easy_init()) || !(multi = curl_multi_init()) ||
            asprintf(&url, "http://localhost%s", req->path) < 0) {
                url = NULL;
                return fail(err, CLIENT_FAILURE_PROTOCOL, ENOMEM, "out of memory");
        }
        t.h = h;

        r = add_header(&headers, "Accept: application/json");
        if (r >= 0)
                r = add_header(&headers, "Expect:"); /* no 100-continue round trip */
        if (r >= 0 && req->body) {
                _cleanup_free_ char *ct = NULL;
                if (asprintf(&ct, "Content-Type: %s", req->content_type ? req->content_type : "application/json") < 0)
                        r = -ENOMEM;
                else
                        r = add_header(&headers, ct);
        } else if (r >= 0)
                r = add_header(&headers, "Content-Type:"); /* not curl's form default on an empty POST */
        for (size_t i = 0; r >= 0 && req->headers && req->headers[i]; i++)
                r = add_header(&headers, req->headers[i]);
        if (r < 0)
                return fail(err, CLIENT_FAILURE_PROTOCOL, ENOMEM, "out of memory");

        long timeout = req->timeout_ms == 0 ? CLIENT_TIMEOUT_MS : req->timeout_ms;
        if (curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, socket) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_USERAGENT, "berthctl/" BERTH_VERSION) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_WRITEDATA, &t) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CLIENT_CONNECT_TIMEOUT_MS) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout > 0 ? timeout : 0L) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http") != CURLE_OK)
                return fail(err, CLIENT_FAILURE_PROTOCOL, EINVAL, "cannot set up the request (libcurl)");
        if (streq(req->method, "GET"))
                (void) curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        else if (req->body || !streq(req->method, "DELETE")) {
                /* POST without a body still sends Content-Length: 0 */
                (void) curl_easy_setopt(h, CURLOPT_POST, 1L);
                (void) curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) (req->body ? req->body_size : 0));
                (void) curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        }

        if (curl_multi_add_handle(multi, h) != CURLM_OK)
                return fail(err, CLIENT_FAILURE_PROTOCOL, ENOMEM, "cannot set up the request (libcurl)");
        for (int running = 1;;) {
                CURLMcode mc = curl_multi_perform(multi, &running);
                if (mc != CURLM_OK) {
                        curl_multi_remove_handle(multi, h);
                        free(t.buf);
                        return fail(err, CLIENT_FAILURE_PROTOCOL, EIO, "request to berthd failed: %s",
                                    curl_multi_strerror(mc));
                }
                if (!running)
                        break;
                if (req->interruptible && interrupted) {
                        was_interrupted = true;
                        break;
                }
                struct curl_waitfd extra = { .fd = interrupt_pipe[0], .events = CURL_WAIT_POLLIN };
                bool use_extra = req->interruptible && interrupt_pipe[0] >= 0;
                mc = curl_multi_poll(multi, use_extra ? &extra : NULL, use_extra ? 1 : 0, 1000, NULL);
                if (mc != CURLM_OK) {
                        curl_multi_remove_handle(multi, h);
                        free(t.buf);
                        return fail(err, CLIENT_FAILURE_PROTOCOL, EIO, "request to berthd failed: %s",
                                    curl_multi_strerror(mc));
                }
                if (req->interruptible && interrupted) {
                        was_interrupted = true;
                        break;
                }
        }
        if (!was_interrupted) {
                int left;
                CURLMsg *msg;
                while ((msg = curl_multi_info_read(multi, &left)))
                        if (msg->msg == CURLMSG_DONE && msg->easy_handle == h)
                                cc = msg->data.result;
        }

        long status = 0;
        (void) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        long os_errno = 0;
        (void) curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
        curl_multi_remove_handle(multi, h);

        if (cc == CURLE_WRITE_ERROR && t.stopped)
                cc = CURLE_OK; /* on_line asked to end the stream */

        if (was_interrupted || cc == CURLE_OK) {
                /* a last line without its newline */
                if (cc == CURLE_OK && !was_interrupted && t.streaming && !t.stopped && t.len > 0)
                        (void) deliver_line(&t);
                if (t.streaming) {
                        t.len = 0;
                        if (t.buf)
                                t.buf[0] = '\0';
                }
                if (!t.buf && !(t.buf = strdup(""))) /* always a string */
                        return fail(err, CLIENT_FAILURE_PROTOCOL, ENOMEM, "out of memory");
                *ret = (struct client_response) {
                        .status = status,
                        .body = TAKE_PTR(t.buf),
                        .body_size = t.len,
                        .interrupted = was_interrupted,
                };
                return 0;
        }
        free(t.buf);

        switch (cc) {
        case CURLE_COULDNT_CONNECT: {
                int e = os_errno > 0 ? (int) os_errno : probe_connect(socket);
                err->failure = CLIENT_FAILURE_CONNECT;
                err->error = e;
                client_connect_message(socket, e, err->message, sizeof err->message);
                return -e;
        }
        case CURLE_OPERATION_TIMEDOUT:
                if (status == 0 && os_errno == 0 && strstr(curl_err, "onnect"))
                        return fail(err, CLIENT_FAILURE_TIMEOUT, ETIMEDOUT,
                                    "cannot connect to berthd at %s: timed out after %ld s; is berthd running? "
                                    "(systemctl status berthd)",
                                    socket, CLIENT_CONNECT_TIMEOUT_MS / 1000);
                return fail(err, CLIENT_FAILURE_TIMEOUT, ETIMEDOUT, "berthd at %s did not answer within %ld s", socket,
                            timeout / 1000);
        case CURLE_WRITE_ERROR:
                if (t.error == -EFBIG)
                        return fail(err, CLIENT_FAILURE_PROTOCOL, EFBIG, "berthd's reply is too large (more than %u bytes%s)",
                                    t.streaming ? CLIENT_LINE_MAX : CLIENT_BODY_MAX, t.streaming ? " in one line" : "");
                if (t.error == -ENOMEM)
                        return fail(err, CLIENT_FAILURE_PROTOCOL, ENOMEM, "out of memory");
                break;
        case CURLE_PARTIAL_FILE:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
                if (t.streaming)
                        return fail(err, CLIENT_FAILURE_PROTOCOL, ECONNRESET,
                                    "berthd at %s closed the stream (did berthd stop?)", socket);
                return fail(err, CLIENT_FAILURE_PROTOCOL, ECONNRESET,
                            "the connection to berthd at %s was closed before the reply was complete", socket);
        default:
                break;
        }
        return fail(err, CLIENT_FAILURE_PROTOCOL, EIO, "request to berthd at %s failed: %s", socket,
                    curl_err[0] ? curl_err : curl_easy_strerror(cc));
}

void client_response_done(struct client_response *r) {
        free(r->body);
        *r = (struct client_response) {};
}

/* ---- what the commands call ------------------------------------------- */

static void print_error(const char *message) {
        fprintf(stderr, "berthctl: error: %s\n", message);
}

/* Prints the error of a non-2xx reply; returns EXIT_FAILED. */
static int reply_error(const struct client_response *resp) {
        _cleanup_free_ char *m = client_error_message(resp->status, resp->body, resp->body_size);
        print_error(m ? m : "out of memory");
        return EXIT_FAILED;
}

int client_service_call(const struct global_options *g, const char *method, const char *name, const char *suffix,
                        struct json_object *body, struct json_object **ret) {
        _cleanup_free_ char *path = client_service_path(name, suffix);
        if (!path) {
                print_error("out of memory");
                return EXIT_FAILED;
        }
        return client_call(g, method, path, body, ret);
}

int client_call_raw(const struct global_options *g, const struct client_request *req, struct json_object **ret) {
        struct client_response resp = {};
        struct client_error err;
        int r = client_do(g->socket, req, &resp, &err);
        if (r < 0) {
                print_error(err.message);
                return client_exit_status(r, &err, 0);
        }
        int status = client_exit_status(0, NULL, resp.status);
        if (status != EXIT_OK) {
                reply_error(&resp);
                client_response_done(&resp);
                return status;
        }
        if (ret) {
                struct json_object *o = NULL;
                if (client_parse_json(resp.body, resp.body_size, &o) < 0) {
                        fprintf(stderr, "berthctl: error: berthd's reply to %s %s is not JSON\n", req->method, req->path);
                        client_response_done(&resp);
                        return EXIT_FAILED;
                }
                *ret = o;
        }
        client_response_done(&resp);
        return EXIT_OK;
}

int client_call(const struct global_options *g, const char *method, const char *path, struct json_object *body,
                struct json_object **ret) {
        const char *text = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
                                                                                JSON_C_TO_STRING_NOSLASHESCAPE)
                                : NULL;
        struct client_request req = {
                .method = method,
                .path = path,
                .body = text,
                .body_size = text ? strlen(text) : 0,
        };
        return client_call_raw(g, &req, ret);
}

int client_stream(const struct global_options *g, const char *path, client_line_fn on_line, void *userdata,
                  bool follow) {
        struct client_request req = {
                .method = "GET",
                .path = path,
                .timeout_ms = follow ? -1 : 0,
                .on_line = on_line,
                .userdata = userdata,
                .interruptible = true,
        };
        return client_stream_request(g, &req);
}

int client_stream_request(const struct global_options *g, const struct client_request *req) {
        struct client_response resp = {};
        struct client_error err;
        int r = client_do(g->socket, req, &resp, &err);
        if (r < 0) {
                if (client_interrupted())
                        return EXIT_OK; /* Ctrl-C while the reply was being refused or cut */
                print_error(err.message);
                return client_exit_status(r, &err, 0);
        }
        int status = EXIT_OK;
        if (resp.status != 0 && (resp.status < 200 || resp.status >= 300))
                status = reply_error(&resp);
        client_response_done(&resp);
        return status;
}
