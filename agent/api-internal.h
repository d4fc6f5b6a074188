/* api-internal.h: what agent/api.c (server: socket, libmicrohttpd inside
 * sd-event, request lifecycle, access check, replies), agent/api-endpoints.c
 * (one handler per endpoint) and agent/api-events.c (the event stream)
 * share. Not for other modules: they use api.h. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <microhttpd.h>
#include <systemd/sd-event.h>

#include "api-util.h"
#include "api.h"
#include "macro.h"

struct json_object;
struct api_error;
struct api_stream;

/* Suspended event streams get a "\n" this often, so a client that went away
 * is noticed (a suspended connection is not polled by libmicrohttpd). */
#define API_HEARTBEAT_USEC (15 * 1000000ULL)
#define API_CONNECTION_TIMEOUT_SEC 30u
#define API_CONNECTION_LIMIT 256u
/* A chunked body beyond API_BODY_MAX is read and dropped up to this, then
 * the connection is closed without a reply. */
#define API_BODY_DISCARD_MAX (8 * API_BODY_MAX)

struct api {
        struct manager *m;
        sd_event *event;
        struct MHD_Daemon *mhd;

        char *socket_path;
        bool bound;              /* we created the socket file: remove it at exit */
        dev_t socket_dev;
        ino_t socket_ino;
        gid_t socket_gid;
        char *socket_group;      /* its name, for messages */

        sd_event_source *io_source;        /* libmicrohttpd's epoll fd */
        sd_event_source *timer_source;     /* MHD_get_timeout, re-armed after each run */
        sd_event_source *run_source;       /* defer: resume streams, then MHD_run */
        sd_event_source *heartbeat_source; /* on while a follow stream exists */
        sd_event_source *shutdown_source;  /* defer: manager_shutdown after the reply went out */
        bool shutdown_stop_services;

        uint64_t events_sub;
        struct api_stream *streams;
        struct api_log_stream *log_streams;
        int logs_inotify_fd;                   /* -1 until a follow stream needs it */
        sd_event_source *logs_inotify_source;
        unsigned n_follow;
};

/* One per connection (libmicrohttpd's socket context). libmicrohttpd polls
 * its sockets edge-triggered and takes a short read for "drained", so a
 * client that sends half a request and leaves in one go is not noticed
 * until the 30 s timeout, and a suspended stream never notices. We watch
 * each connection for EPOLLRDHUP ourselves: a client that stopped sending
 * before its request was complete can never complete it, so the socket's
 * read side is shut down, which wakes libmicrohttpd, which reads EOF and
 * closes; a follow stream gets a heartbeat right away, so a gone client is
 * dropped at once. */
struct api_conn {
        struct api *api;
        struct MHD_Connection *conn;
        int fd;
        sd_event_source *hup_source;
        bool busy;     /* a reply is queued or being made: let it go out */
        bool hup_seen; /* the client shut down its side while busy */
};

struct api_request {
        struct api *api;
        struct MHD_Connection *conn;
        enum api_method method;
        char method_str[16];
        char *path;
        int route; /* enum api_route, or -ENOENT */
        char name[API_NAME_MAX + 1];

        struct api_conn *c; /* may be NULL */

        bool have_cred;
        uid_t uid;
        gid_t gid;
        pid_t pid;

        struct api_body body;
        bool first_call_done;
        bool responded;
        unsigned status;
        bool shutdown_after; /* POST /v1/shutdown: act once the reply is out */
        bool stop_services;
};

/* ---- api.c ---- */
/* Queue resp (consumed) with status; records the audit event for mutating
 * requests. Returns what the access handler returns. */
enum MHD_Result api_reply(struct api_request *req, unsigned status, struct MHD_Response *resp);
/* o (consumed) as one line of plain JSON + "\n". */
enum MHD_Result api_reply_json(struct api_request *req, unsigned status, struct json_object *o);
/* {"error":{"code":..,"message":..[,"details":[..]]}}; details consumed. */
enum MHD_Result api_reply_error(struct api_request *req, unsigned status, const char *code,
                                struct json_object *details, const char *fmt, ...) _printf_(5, 6);
/* From a manager call's result: err when it filled one, else 500. */
enum MHD_Result api_reply_manager_error(struct api_request *req, int r, const struct api_error *err);
/* Run libmicrohttpd soon (after a resume, which does not wake its epoll fd). */
void api_schedule_run(struct api *a);
void api_heartbeat_update(struct api *a);

/* ---- api-endpoints.c ---- */
/* The request is complete (body received, access checked, route and method
 * valid): do it and reply. */
enum MHD_Result api_dispatch(struct api_request *req);

/* ---- api-logs.c ---- */
struct api_log_stream;
/* GET /v1/services/NAME/logs (NAME a valid name). */
enum MHD_Result api_logs_reply(struct api_request *req);
void api_log_streams_resume(struct api *a);
void api_log_streams_heartbeat(struct api *a);
void api_log_streams_close_all(struct api *a);
bool api_log_streams_hangup(struct api *a, struct MHD_Connection *conn);
/* Releases the shared inotify instance (after MHD_stop_daemon). */
void api_logs_done(struct api *a);

/* ---- api-events.c ---- */
enum MHD_Result api_events_reply(struct api_request *req, uint64_t since, bool follow);
/* The events subscriber: wakes suspended streams. */
void api_events_on_event(const struct json_object *event, void *userdata);
/* Resume the streams that have something to send (before MHD_run). */
void api_streams_resume(struct api *a);
/* Every follow stream gets a heartbeat. */
void api_streams_heartbeat(struct api *a);
/* Make every stream end and resume it (before MHD_stop_daemon). */
void api_streams_close_all(struct api *a);
/* The client of conn hung up: if it has a follow stream, send a heartbeat
 * now (the write fails when the client is gone). Returns whether it had one. */
bool api_streams_hangup(struct api *a, struct MHD_Connection *conn);
