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
        struct api_stream_base *streams;      /* GET /v1/events (api-events.c) */
        struct api_stream_base *log_streams;  /* GET /v1/services/NAME/logs (api-logs.c) */
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

/* ---- api-stream.c ----
 * What every streamed reply shares (the events and the logs): its connection,
 * its place in a list of the api's, and the follow/suspend/heartbeat state.
 * A stream type embeds it as `base` and finds itself back with container_of.
 * A content reader with nothing to send calls api_stream_idle(); whoever has
 * news for a parked stream calls api_stream_wake() (the resume itself waits
 * for api.c's run defer source: a resume does not wake MHD's epoll fd). */
struct api_stream_base {
        struct api *api;
        struct MHD_Connection *conn;
        struct api_stream_base *prev, *next;
        bool follow;
        bool suspended;
        bool resume;     /* resume at the next run */
        bool heartbeat;  /* send "\n" if there is nothing else */
        bool closing;    /* berthd stops: end the stream */
};
/* Links b at the head of *head (a follow stream arms the heartbeat). */
void api_stream_link(struct api_stream_base **head, struct api_stream_base *b);
void api_stream_unlink(struct api_stream_base **head, struct api_stream_base *b);
/* Marks a parked stream for resuming and schedules the run; false when it
 * was not parked (or is already marked). */
bool api_stream_wake(struct api_stream_base *b);
/* Nothing to send: the heartbeat ("\n", returns 1) if one is due, else
 * the connection is parked (returns 0). */
ssize_t api_stream_idle(struct api_stream_base *b, char *buf);
/* Over a list: resume the marked ones (before MHD_run); give every follow
 * stream a heartbeat; make every stream end (before MHD_stop_daemon). */
void api_stream_list_resume(struct api_stream_base *head);
void api_stream_list_heartbeat(struct api_stream_base *head);
void api_stream_list_close(struct api_stream_base *head);
/* The client of conn hung up: a heartbeat now (the write fails when it is
 * gone). Returns whether conn has a stream in the list. */
bool api_stream_list_hangup(struct api_stream_base *head, struct MHD_Connection *conn);

/* ---- api-endpoints.c ---- */
/* The request is complete (body received, access checked, route and method
 * valid): do it and reply. */
enum MHD_Result api_dispatch(struct api_request *req);

/* ---- api-logs.c ---- */
struct api_log_stream;
/* GET /v1/services/NAME/logs (NAME a valid name). */
enum MHD_Result api_logs_reply(struct api_request *req);
/* Releases the shared inotify instance (after MHD_stop_daemon). */
void api_logs_done(struct api *a);

/* ---- api-events.c ---- */
enum MHD_Result api_events_reply(struct api_request *req, uint64_t since, bool follow);
/* The events subscriber: wakes suspended streams. */
void api_events_on_event(const struct json_object *event, void *userdata);
