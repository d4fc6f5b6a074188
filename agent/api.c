/* api.c: the control API's server: the unix socket (bound here or passed by
 * systemd), libmicrohttpd in external epoll mode driven by the sd-event loop,
 * the life of a request (access check, limits, body, reply, audit).
 * Endpoints are in api-endpoints.c, the event stream in api-events.c.
 *
 * libmicrohttpd runs only when the loop says so: its epoll fd is an sd-event
 * io source, its next timeout one timer re-armed after every MHD_run, and a
 * defer source runs it after a suspended stream is resumed (a resume does
 * not wake its epoll fd). No thread ever touches berthd's state. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>
#include <systemd/sd-daemon.h>

#include "api-internal.h"
#include "events.h"
#include "log.h"
#include "manager.h"
#include "model-json.h"
#include "util.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

/* ---- replies ----------------------------------------------------------- */

static void audit(struct api_request *req) {
        struct api *a = req->api;
        if (!api_method_is_mutating(req->method))
                return;
        struct json_object *extra = json_object_new_object();
        if (extra) {
                json_object_object_add(extra, "uid", req->have_cred ? json_object_new_int64(req->uid) : NULL);
                json_object_object_add(extra, "pid", req->have_cred ? json_object_new_int64(req->pid) : NULL);
                json_object_object_add(extra, "method", json_object_new_string(req->method_str));
                json_object_object_add(extra, "path", json_object_new_string(req->path ?: ""));
                json_object_object_add(extra, "status", json_object_new_int((int) req->status));
        }
        events_emit(manager_events(a->m), "Request", NULL, -1, extra, "%s %s: %u", req->method_str,
                    req->path ?: "", req->status);
}

enum MHD_Result api_reply(struct api_request *req, unsigned status, struct MHD_Response *resp) {
        enum MHD_Result ret;

        if (!resp)
                return MHD_NO; /* out of memory: drop the connection */
        if (req->responded) {
                MHD_destroy_response(resp);
                return MHD_YES;
        }
        ret = MHD_queue_response(req->conn, status, resp);
        MHD_destroy_response(resp);
        req->responded = true;
        if (req->c)
                req->c->busy = true;
        req->status = status;
        if (ret != MHD_YES)
                log_debug("Control API: cannot queue the reply to %s %s.", req->method_str, req->path ?: "");
        audit(req);
        return ret;
}

static struct MHD_Response *response_from_string(const char *s, size_t len) {
        /* body + "\n": every reply ends with a newline */
        char *copy = malloc(len + 1);
        if (!copy)
                return NULL;
        memcpy(copy, s, len);
        copy[len] = '\n';
        struct MHD_Response *resp = MHD_create_response_from_buffer(len + 1, copy, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(copy);
                return NULL;
        }
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        return resp;
}

enum MHD_Result api_reply_json(struct api_request *req, unsigned status, struct json_object *o) {
        size_t len = 0;
        const char *s = o ? json_object_to_json_string_length(o, BERTH_JSON_PLAIN, &len) : NULL;
        if (!s) {
                json_object_put(o);
                return api_reply_error(req, 500, "Internal", NULL, "out of memory");
        }
        struct MHD_Response *resp = response_from_string(s, len);
        json_object_put(o);
        return api_reply(req, status, resp);
}

enum MHD_Result api_reply_error(struct api_request *req, unsigned status, const char *code,
                                struct json_object *details, const char *fmt, ...) {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);

        struct json_object *o = json_object_new_object(), *e = json_object_new_object();
        if (!o || !e) {
                json_object_put(o);
                json_object_put(e);
                json_object_put(details);
                /* a static reply, so even now the client learns something */
                static const char oom[] = "{\"error\":{\"code\":\"Internal\",\"message\":\"out of memory\"}}\n";
                return api_reply(req, 500,
                                 MHD_create_response_from_buffer(sizeof oom - 1, (void *) oom, MHD_RESPMEM_PERSISTENT));
        }
        json_object_object_add(e, "code", json_object_new_string(code));
        json_object_object_add(e, "message", json_object_new_string(msg));
        if (details)
                json_object_object_add(e, "details", details);
        json_object_object_add(o, "error", e);

        size_t len = 0;
        const char *s = json_object_to_json_string_length(o, BERTH_JSON_PLAIN, &len);
        struct MHD_Response *resp = s ? response_from_string(s, len) : NULL;
        json_object_put(o);
        if (resp && status == 405 && req->route >= 0)
                (void) MHD_add_response_header(resp, "Allow", api_route_allow_header((enum api_route) req->route));
        return api_reply(req, status, resp);
}

enum MHD_Result api_reply_manager_error(struct api_request *req, int r, const struct api_error *err) {
        if (err && err->status >= 400 && err->status <= 599 && err->code)
                return api_reply_error(req, (unsigned) err->status, err->code, NULL, "%s", err->message);
        return api_reply_error(req, 500, "Internal", NULL, "%s", strerror(r < 0 ? -r : EIO));
}

/* ---- access ------------------------------------------------------------ */

/* The peer's supplementary groups: SO_PEERGROUPS (the groups it had when it
 * connected), else /proc/PID/status. *ret may be NULL with *ret_n 0. */
static int peer_groups(int fd, pid_t pid, gid_t **ret, size_t *ret_n) {
        socklen_t len = 64 * sizeof(gid_t);
        for (int attempt = 0; attempt < 4; attempt++) {
                _cleanup_free_ gid_t *v = malloc(len ? len : sizeof(gid_t));
                if (!v)
                        return -ENOMEM;
                socklen_t l = len;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, v, &l) == 0) {
                        *ret_n = l / sizeof(gid_t);
                        *ret = TAKE_PTR(v);
                        return 0;
                }
                if (errno != ERANGE)
                        break;
                if (l <= len) /* the kernel tells the size it needs */
                        l = len * 2;
                len = l;
        }

        /* older kernels: what the process has now */
        char path[64];
        _cleanup_free_ char *status = NULL;
        snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
        int r = read_full_file(path, 64 * 1024, &status, NULL);
        if (r < 0)
                return r;
        return api_parse_status_groups(status, ret, ret_n);
}

/* Fills req's credentials; true when the peer may use the API. */
static bool check_peer(struct api_request *req) {
        struct api *a = req->api;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct ucred uc;
        socklen_t l = sizeof uc;

        if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &uc, &l) < 0 || l != sizeof uc) {
                log_debug_errno(errno, "Control API: no peer credentials: %m; refusing.");
                return false;
        }
        req->have_cred = true;
        req->uid = uc.uid;
        req->gid = uc.gid;
        req->pid = uc.pid;
        if (api_peer_allowed(uc.uid, uc.gid, NULL, 0, a->socket_gid))
                return true;

        _cleanup_free_ gid_t *groups = NULL;
        size_t n = 0;
        int r = peer_groups(ci->connect_fd, uc.pid, &groups, &n);
        if (r < 0)
                log_debug_errno(r, "Control API: cannot read the groups of pid %d: %m.", (int) uc.pid);
        return api_peer_allowed(uc.uid, uc.gid, groups, n, a->socket_gid);
}

/* ---- the request's life ------------------------------------------------ */

static struct api_request *request_new(struct api *a, struct MHD_Connection *conn, const char *url,
                                       const char *method) {
        struct api_request *req = calloc(1, sizeof *req);
        if (!req)
                return NULL;
        req->api = a;
        req->conn = conn;
        req->method = api_method_from_string(method);
        snprintf(req->method_str, sizeof req->method_str, "%s", method ?: "");
        /* the path ends up in events and replies: keep it bounded */
        req->path = strndup(url ?: "", 512);
        if (!req->path) {
                free(req);
                return NULL;
        }
        req->route = api_route_find(req->path, req->name, sizeof req->name);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        req->c = ci ? ci->socket_context : NULL;
        return req;
}

static void request_free(struct api_request *req) {
        if (!req)
                return;
        api_body_done(&req->body);
        free(req->path);
        free(req);
}

/* First call: headers only. Everything that can be refused without the body
 * is refused here; the reply then goes out without reading the body (and
 * libmicrohttpd closes the connection). */
static enum MHD_Result request_start(struct api_request *req) {
        if (!check_peer(req)) {
                const char *who = "the peer";
                char buf[64];
                if (req->have_cred) {
                        snprintf(buf, sizeof buf, "uid %u", (unsigned) req->uid);
                        who = buf;
                }
                log_debug("Control API: %s (pid %d) refused: not root and not in group %s.", who, (int) req->pid,
                          req->api->socket_group);
                return api_reply_error(req, 403, "Forbidden", NULL, "%s is not root and not in group %s", who,
                                       req->api->socket_group);
        }
        if (req->route < 0)
                return api_reply_error(req, 404, "NotFound", NULL, "no such endpoint: %s (see docs/api.md)",
                                       req->path);
        if (!api_route_allows((enum api_route) req->route, req->method))
                return api_reply_error(req, 405, "MethodNotAllowed", NULL, "%s is not allowed on %s (allowed: %s)",
                                       req->method_str, req->path,
                                       api_route_allow_header((enum api_route) req->route));

        const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int r = api_content_length_check(cl, API_BODY_MAX);
        if (r == -EFBIG)
                return api_reply_error(req, 413, "PayloadTooLarge", NULL,
                                       "the request body is %s bytes, more than the limit of %d", cl, API_BODY_MAX);
        if (r < 0)
                return api_reply_error(req, 400, "BadRequest", NULL, "invalid Content-Length: %s", cl);
        return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **con_cls) {
        struct api *a = cls;
        struct api_request *req = *con_cls;

        if (!req) {
                req = request_new(a, conn, url, method);
                if (!req)
                        return MHD_NO;
                *con_cls = req;
                return request_start(req);
        }

        if (*upload_data_size > 0) {
                size_t n = *upload_data_size;
                *upload_data_size = 0;
                if (req->responded)
                        return MHD_YES; /* answered already: drop the rest */
                int r = api_body_append(&req->body, upload_data, n, API_BODY_MAX);
                if (r == -EFBIG) {
                        /* no Content-Length (chunked): nothing is kept beyond the limit;
                         * the rest is read and dropped so the client gets its 413 at
                         * the end, up to a point: a client still sending after that
                         * is cut off */
                        if (req->body.received > API_BODY_DISCARD_MAX) {
                                log_debug("Control API: %s %s: body beyond %d bytes, closing.", req->method_str,
                                          req->path, API_BODY_DISCARD_MAX);
                                return MHD_NO;
                        }
                        return MHD_YES;
                }
                if (r < 0)
                        return api_reply_error(req, 500, "Internal", NULL, "out of memory");
                return MHD_YES;
        }

        /* the whole request is in */
        if (req->responded)
                return MHD_YES;
        if (req->c)
                req->c->busy = true;
        if (req->body.too_large)
                return api_reply_error(req, 413, "PayloadTooLarge", NULL,
                                       "the request body is larger than the limit of %d bytes", API_BODY_MAX);
        return api_dispatch(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
        struct api *a = cls;
        struct api_request *req = *con_cls;

        if (!req)
                return;
        *con_cls = NULL;
        if (req->c) {
                req->c->busy = false;
                if (req->c->hup_seen)
                        /* the client is done sending: let libmicrohttpd see EOF now */
                        (void) shutdown(req->c->fd, SHUT_RD);
        }
        if (req->shutdown_after) {
                /* the reply is out (or the client left): now stop, outside libmicrohttpd */
                a->shutdown_stop_services = req->stop_services;
                (void) sd_event_source_set_enabled(a->shutdown_source, SD_EVENT_ONESHOT);
        }
        request_free(req);
}

static int on_hangup(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct api_conn *c = userdata;

        /* level-triggered and we act once: off until the connection is gone */
        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        if (api_stream_list_hangup(c->api->streams, c->conn) || api_stream_list_hangup(c->api->log_streams, c->conn))
                return 0;
        if (c->busy) {
                c->hup_seen = true;
                return 0;
        }
        /* half a request and gone: wake libmicrohttpd with EOF */
        (void) shutdown(fd, SHUT_RD);
        return 0;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
        struct api *a = cls;
        struct api_conn *c = *socket_context;

        if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
                if (!ci)
                        return;
                c = calloc(1, sizeof *c);
                if (!c)
                        return; /* only the early hang-up detection is lost */
                c->api = a;
                c->conn = conn;
                c->fd = ci->connect_fd;
                if (sd_event_add_io(a->event, &c->hup_source, c->fd, EPOLLRDHUP, on_hangup, c) < 0) {
                        free(c);
                        return;
                }
                (void) sd_event_source_set_description(c->hup_source, "api-hangup");
                *socket_context = c;
                return;
        }
        /* CLOSED: called before libmicrohttpd closes the fd. At the
         * connection limit (or after EMFILE) libmicrohttpd took the listening
         * socket out of its epoll set and puts it back only at the start of
         * its next run: with no connection left nothing would make its epoll
         * fd readable again, and the API would stay deaf. Run it once more. */
        api_schedule_run(a);
        if (!c)
                return;
        *socket_context = NULL;
        sd_event_source_disable_unref(c->hup_source);
        free(c);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
        char buf[512];
        vsnprintf(buf, sizeof buf, fmt, ap);
        buf[strcspn(buf, "\n")] = 0;
        /* whatever a client does wrong ends up here: never above debug */
        log_debug("libmicrohttpd: %s", buf);
}

/* ---- running libmicrohttpd inside sd-event ----------------------------- */

static void api_rearm(struct api *a) {
        MHD_UNSIGNED_LONG_LONG ms = 0;
        uint64_t now;

        if (MHD_get_timeout(a->mhd, &ms) != MHD_YES) {
                (void) sd_event_source_set_enabled(a->timer_source, SD_EVENT_OFF);
                return;
        }
        if (ms > 3600 * 1000ULL)
                ms = 3600 * 1000ULL;
        if (sd_event_now(a->event, CLOCK_MONOTONIC, &now) < 0)
                now = now_monotonic_usec();
        (void) sd_event_source_set_time(a->timer_source, now + ms * 1000ULL);
        (void) sd_event_source_set_enabled(a->timer_source, SD_EVENT_ONESHOT);
}

static void api_run(struct api *a) {
        if (MHD_run(a->mhd) != MHD_YES)
                log_debug("Control API: MHD_run failed.");
        api_rearm(a);
}

void api_schedule_run(struct api *a) {
        (void) sd_event_source_set_enabled(a->run_source, SD_EVENT_ONESHOT);
}

static int on_mhd_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        api_run(userdata);
        return 0;
}

static int on_mhd_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        api_run(userdata);
        return 0;
}

static int on_run(sd_event_source *s, void *userdata) {
        struct api *a = userdata;
        api_stream_list_resume(a->streams);
        api_stream_list_resume(a->log_streams);
        api_run(a);
        return 0;
}

static int on_heartbeat(sd_event_source *s, uint64_t usec, void *userdata) {
        struct api *a = userdata;
        api_stream_list_heartbeat(a->streams);
        api_stream_list_heartbeat(a->log_streams);
        (void) sd_event_source_set_time(s, usec + API_HEARTBEAT_USEC);
        api_schedule_run(a);
        return 0;
}

void api_heartbeat_update(struct api *a) {
        int on = SD_EVENT_OFF;
        (void) sd_event_source_get_enabled(a->heartbeat_source, &on);
        if (a->n_follow > 0 && on == SD_EVENT_OFF) {
                uint64_t now;
                if (sd_event_now(a->event, CLOCK_MONOTONIC, &now) < 0)
                        now = now_monotonic_usec();
                (void) sd_event_source_set_time(a->heartbeat_source, now + API_HEARTBEAT_USEC);
                (void) sd_event_source_set_enabled(a->heartbeat_source, SD_EVENT_ON);
        } else if (a->n_follow == 0 && on != SD_EVENT_OFF)
                (void) sd_event_source_set_enabled(a->heartbeat_source, SD_EVENT_OFF);
}

static int on_shutdown(sd_event_source *s, void *userdata) {
        struct api *a = userdata;
        log_info("Shutdown requested through the control API%s.",
                 a->shutdown_stop_services ? ": stopping every replica first" : "; services keep running");
        manager_shutdown(a->m, a->shutdown_stop_services);
        return 0;
}

/* ---- the socket -------------------------------------------------------- */

static int resolve_group(const char *name, gid_t *ret_gid, char **ret_name) {
        struct group *g;
        uint64_t v;

        if (!name) {
                /* default: "berth" if the admin created it, else root only */
                errno = 0;
                g = getgrnam("berth");
                if (g) {
                        *ret_gid = g->gr_gid;
                        *ret_name = strdup("berth");
                } else {
                        g = getgrgid(0);
                        *ret_gid = 0;
                        *ret_name = strdup(g ? g->gr_name : "root");
                }
                return *ret_name ? 0 : -ENOMEM;
        }
        if (api_parse_u64(name, &v) == 0) {
                if (v >= (gid_t) -1)
                        return log_error_errno(ERANGE, "--socket-group %s: not a valid group id.", name);
                g = getgrgid((gid_t) v);
                *ret_gid = (gid_t) v;
                *ret_name = strdup(g ? g->gr_name : name);
                return *ret_name ? 0 : -ENOMEM;
        }
        errno = 0;
        g = getgrnam(name);
        if (!g)
                return log_error_errno(errno ?: ENOENT,
                                       "--socket-group %s: no such group%s%s (create it with groupadd --system %s, or name another)",
                                       name, errno ? ": " : "", errno ? strerror(errno) : "", name);
        *ret_gid = g->gr_gid;
        *ret_name = strdup(name);
        return *ret_name ? 0 : -ENOMEM;
}

/* The socket systemd passed: named "berth.sock", or the only one. -ENOENT: none. */
static int activated_socket(void) {
        char **names = NULL;
        int n = sd_listen_fds_with_names(true, &names), fd = -ENOENT;

        if (n < 0) {
                log_warning_errno(n, "Cannot read the sockets passed by systemd: %m, ignoring.");
                return -ENOENT;
        }
        for (int i = 0; i < n; i++) {
                int cand = SD_LISTEN_FDS_START + i;
                bool named = names && names[i] && streq(names[i], "berth.sock");
                if (fd < 0 && (named || n == 1)) {
                        if (sd_is_socket_unix(cand, SOCK_STREAM, 1, NULL, 0) > 0)
                                fd = cand;
                        else
                                log_warning("Socket %s passed by systemd is not a listening unix stream socket, ignoring.",
                                            names && names[i] ? names[i] : "?");
                }
        }
        for (int i = 0; names && i < n; i++)
                free(names[i]);
        free(names);
        if (fd >= 0) {
                int fl = fcntl(fd, F_GETFL);
                if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
                        return log_error_errno(errno, "Cannot make the activated socket non-blocking: %m");
        }
        return fd;
}

/* A socket file on path nobody listens on is a leftover: replace it. One
 * somebody listens on is another berthd: refuse. */
static int socket_is_stale(const struct sockaddr_un *sa, socklen_t salen) {
        struct stat st;
        if (lstat(sa->sun_path, &st) < 0)
                return errno == ENOENT ? 1 : -errno;
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;
        _cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (probe < 0)
                return -errno;
        if (connect(probe, (const struct sockaddr *) sa, salen) == 0 || errno == EAGAIN || errno == EINPROGRESS)
                return 0;
        return errno == ECONNREFUSED ? 1 : -errno;
}

static int bind_socket(struct api *a, const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        socklen_t salen;
        int r;

        if (strlen(path) >= sizeof sa.sun_path)
                return log_error_errno(ENAMETOOLONG, "Control socket path %s is too long (at most %zu bytes): use a shorter --socket.",
                                       path, sizeof sa.sun_path - 1);
        strcpy(sa.sun_path, path);
        salen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);

        _cleanup_free_ char *dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = 0;
                r = mkdir_p(dir, 0755);
                if (r < 0)
                        return log_error_errno(r, "Cannot create %s for the control socket: %m", dir);
        }

        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(errno, "Cannot create the control socket: %m");

        for (int attempt = 0;; attempt++) {
                /* born 0660: no window in which others may connect */
                mode_t old = umask(0117);
                r = bind(fd, (struct sockaddr *) &sa, salen) < 0 ? -errno : 0;
                umask(old);
                if (r != -EADDRINUSE || attempt > 0)
                        break;
                int stale = socket_is_stale(&sa, salen);
                if (stale == 0)
                        return log_error_errno(EADDRINUSE, "Another process serves %s: stop it, or use another --socket.", path);
                if (stale == -EEXIST)
                        return log_error_errno(EEXIST, "%s exists and is not a socket: remove it, or use another --socket.", path);
                if (stale < 0)
                        return log_error_errno(stale, "Cannot check the existing socket %s: %m", path);
                log_info("Removing the stale control socket %s.", path);
                if (unlink(path) < 0 && errno != ENOENT)
                        return log_error_errno(errno, "Cannot remove the stale socket %s: %m", path);
        }
        if (r < 0)
                return log_error_errno(r, "Cannot bind the control socket %s: %m", path);
        a->bound = true;

        if (chown(path, 0, a->socket_gid) < 0 || chmod(path, 0660) < 0)
                return log_error_errno(errno, "Cannot give %s to root:%s mode 0660: %m", path, a->socket_group);
        struct stat st;
        if (stat(path, &st) == 0) {
                a->socket_dev = st.st_dev;
                a->socket_ino = st.st_ino;
        }
        if (listen(fd, SOMAXCONN) < 0)
                return log_error_errno(errno, "Cannot listen on %s: %m", path);
        return TAKE_FD(fd);
}

/* ---- setup, teardown --------------------------------------------------- */

int api_new(struct manager *m, const char *socket_path, const char *socket_group, struct api **ret) {
        struct api *a = calloc(1, sizeof *a);
        int fd = -1, r;

        if (!a)
                return log_error_errno(ENOMEM, "Out of memory.");
        a->m = m;
        a->logs_inotify_fd = -1;
        a->event = sd_event_ref(m->event);
        a->socket_path = strdup(socket_path);
        if (!a->socket_path) {
                api_free(a);
                return log_error_errno(ENOMEM, "Out of memory.");
        }
        r = resolve_group(socket_group, &a->socket_gid, &a->socket_group);
        if (r < 0) {
                api_free(a);
                return r == -ENOMEM ? log_error_errno(r, "Out of memory.") : r;
        }

        fd = activated_socket();
        bool activated = fd >= 0;
        if (!activated) {
                fd = bind_socket(a, socket_path);
                if (fd < 0) {
                        api_free(a);
                        return fd;
                }
        }

        a->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                                  on_access, a,
                                  /* must come first, so the other options' errors reach it */
                                  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, a,
                                  MHD_OPTION_LISTEN_SOCKET, (MHD_socket) fd,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) API_CONNECTION_TIMEOUT_SEC,
                                  MHD_OPTION_CONNECTION_LIMIT, (unsigned) API_CONNECTION_LIMIT,
                                  MHD_OPTION_NOTIFY_COMPLETED, on_completed, a,
                                  MHD_OPTION_NOTIFY_CONNECTION, on_connection, a,
                                  MHD_OPTION_SIGPIPE_HANDLED_BY_APP, (int) 1,
                                  MHD_OPTION_END);
        if (!a->mhd) {
                safe_close(fd);
                api_free(a);
                return log_error_errno(EIO, "Cannot start the control API's HTTP server on %s.", socket_path);
        }
        /* from here on libmicrohttpd owns fd */

        const union MHD_DaemonInfo *di = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_EPOLL_FD);
        if (!di) {
                api_free(a);
                return log_error_errno(EIO, "libmicrohttpd has no epoll fd.");
        }
        if ((r = sd_event_add_io(a->event, &a->io_source, di->epoll_fd, EPOLLIN, on_mhd_io, a)) < 0 ||
            (r = sd_event_add_time(a->event, &a->timer_source, CLOCK_MONOTONIC, UINT64_MAX, 1, on_mhd_timer, a)) < 0 ||
            (r = sd_event_add_defer(a->event, &a->run_source, on_run, a)) < 0 ||
            (r = sd_event_add_time(a->event, &a->heartbeat_source, CLOCK_MONOTONIC, UINT64_MAX, 100 * 1000,
                                   on_heartbeat, a)) < 0 ||
            (r = sd_event_add_defer(a->event, &a->shutdown_source, on_shutdown, a)) < 0) {
                api_free(a);
                return log_error_errno(r, "Cannot add the control API to the event loop: %m");
        }
        (void) sd_event_source_set_description(a->io_source, "api-io");
        (void) sd_event_source_set_description(a->timer_source, "api-timer");
        (void) sd_event_source_set_description(a->run_source, "api-run");
        (void) sd_event_source_set_enabled(a->timer_source, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(a->run_source, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(a->heartbeat_source, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(a->shutdown_source, SD_EVENT_OFF);

        if (manager_events(m)) {
                a->events_sub = events_subscribe(manager_events(m), api_events_on_event, a);
                if (a->events_sub == 0) {
                        api_free(a);
                        return log_error_errno(ENOMEM, "Out of memory.");
                }
        }
        api_rearm(a);

        log_info("Control API on %s%s (root and group %s).", socket_path, activated ? " (socket activation)" : "",
                 a->socket_group);
        *ret = a;
        return 0;
}

struct api *api_free(struct api *a) {
        if (!a)
                return NULL;
        if (a->events_sub && manager_events(a->m))
                events_unsubscribe(manager_events(a->m), a->events_sub);
        if (a->mhd) {
                /* a suspended connection at MHD_stop_daemon is an API violation:
                 * end every stream, let them run once, then stop */
                api_stream_list_close(a->streams);
                api_stream_list_close(a->log_streams);
                (void) MHD_run(a->mhd);
                a->io_source = sd_event_source_disable_unref(a->io_source);
                MHD_stop_daemon(a->mhd);
        }
        sd_event_source_disable_unref(a->io_source);
        sd_event_source_disable_unref(a->timer_source);
        sd_event_source_disable_unref(a->run_source);
        sd_event_source_disable_unref(a->heartbeat_source);
        sd_event_source_disable_unref(a->shutdown_source);
        api_logs_done(a);

        if (a->bound && a->socket_path) {
                /* only our own socket: a successor may have bound a new one already */
                struct stat st;
                if (stat(a->socket_path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == a->socket_dev &&
                    st.st_ino == a->socket_ino)
                        (void) unlink(a->socket_path);
        }
        sd_event_unref(a->event);
        free(a->socket_path);
        free(a->socket_group);
        free(a);
        return NULL;
}
