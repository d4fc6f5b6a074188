/* shim-proto.c: encode/decode of berthd <-> berth-shim messages (see
 * shim-proto.h). Pure functions over caller buffers: the shim uses them on its
 * stack, berthd and the tests call them directly. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"
#include "macro.h"
#include "shim-proto.h"

static const char *const type_names[_SHIM_MSG_MAX] = {
        [SHIM_MSG_HELLO] = "HELLO",           [SHIM_MSG_STATUS] = "STATUS",
        [SHIM_MSG_EXITED] = "EXITED",         [SHIM_MSG_ERROR] = "ERROR",
        [SHIM_MSG_LOG_DROPPED] = "LOG_DROPPED",
        [SHIM_MSG_START] = "START",           [SHIM_MSG_SIGNAL] = "SIGNAL",
        [SHIM_MSG_ACK_EXIT] = "ACK_EXIT",     [SHIM_MSG_GET_STATUS] = "GET_STATUS",
        [SHIM_MSG_QUIT] = "QUIT",             [SHIM_MSG_ARM] = "ARM",
        [SHIM_MSG_GET_FDS] = "GET_FDS",       [SHIM_MSG_FDS] = "FDS",
        [SHIM_MSG_CLAIM] = "CLAIM",
};

static const char *const state_names[] = {
        [SHIM_RUN_NONE] = "none",
        [SHIM_RUN_RUNNING] = "running",
        [SHIM_RUN_EXITED] = "exited",
};

const char *shim_msg_type_to_string(enum shim_msg_type t) {
        return t > SHIM_MSG_INVALID && t < _SHIM_MSG_MAX ? type_names[t] : NULL;
}

enum shim_msg_type shim_msg_type_from_string(const char *s, size_t n) {
        for (int t = SHIM_MSG_INVALID + 1; t < _SHIM_MSG_MAX; t++)
                if (strlen(type_names[t]) == n && memcmp(type_names[t], s, n) == 0)
                        return (enum shim_msg_type) t;
        return SHIM_MSG_INVALID;
}

const char *shim_run_state_to_string(enum shim_run_state s) {
        return s >= SHIM_RUN_NONE && s <= SHIM_RUN_EXITED ? state_names[s] : NULL;
}

static bool has_status(enum shim_msg_type t) {
        return t == SHIM_MSG_HELLO || t == SHIM_MSG_STATUS || t == SHIM_MSG_EXITED || t == SHIM_MSG_LOG_DROPPED;
}

void shim_cmsg_put_fds(struct msghdr *mh, union shim_cmsg_buf *ctl, const int *fds, size_t n) {
        struct cmsghdr *h;

        if (n == 0 || n > SHIM_CMSG_FDS_MAX)
                return;
        memset(ctl, 0, sizeof *ctl);
        mh->msg_control = ctl;
        mh->msg_controllen = CMSG_SPACE(sizeof(int) * n);
        h = CMSG_FIRSTHDR(mh);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(h), fds, sizeof(int) * n);
}

size_t shim_cmsg_take_fds(struct msghdr *mh, int *fds, size_t max) {
        size_t n = 0;

        for (struct cmsghdr *h = CMSG_FIRSTHDR(mh); h; h = CMSG_NXTHDR(mh, h))
                if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
                        for (size_t i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                                int fd;
                                memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
                                if (n < max)
                                        fds[n++] = fd;
                                else
                                        close(fd);
                        }
        return n;
}

struct shim_msg shim_msg_request(enum shim_msg_type type) {
        return (struct shim_msg) { .type = type };
}

/* ------------------------------------------------------------ encoder */

struct enc {
        char *buf;
        size_t size, len;
        int error;
};

_printf_(2, 3) static void enc_printf(struct enc *e, const char *fmt, ...) {
        va_list ap;
        int n;

        if (e->error)
                return;
        va_start(ap, fmt);
        n = vsnprintf(e->buf + e->len, e->size - e->len, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= e->size - e->len)
                e->error = -ENOBUFS;
        else
                e->len += (size_t) n;
}

static void enc_text(struct enc *e, const char *key, const char *text) {
        char esc[SHIM_FD_NAMES_MAX * 3];

        if (!text[0])
                return;
        if (launch_escape(text, esc, sizeof esc) < 0) {
                e->error = -ENOBUFS;
                return;
        }
        enc_printf(e, "%s=%s\n", key, esc);
}

int shim_msg_encode(const struct shim_msg *m, char *buf, size_t size) {
        const struct shim_status *s = &m->status;
        struct enc e = { .buf = buf, .size = size };

        if (!shim_msg_type_to_string(m->type))
                return -EINVAL;
        if (size == 0)
                return -ENOBUFS;
        buf[0] = 0;
        enc_printf(&e, "MSG=%s\n", shim_msg_type_to_string(m->type));

        if (has_status(m->type)) {
                if (!shim_run_state_to_string(s->state) || memchr(s->exec_error, 0, SHIM_TEXT_MAX) == NULL)
                        return -EINVAL;
                enc_printf(&e, "VERSION=%d\nSHIM_PID=%d\nRUN=%" PRIu64 "\nSTATE=%s\n",
                           SHIM_PROTO_VERSION, (int) s->shim_pid, s->run, shim_run_state_to_string(s->state));
                if (s->state != SHIM_RUN_NONE)
                        enc_printf(&e, "PID=%d\nSERVICE_PID=%d\nSTART_USEC=%" PRIu64 "\nSTART_TICKS=%" PRIu64 "\n",
                                   (int) s->pid, (int) s->service_pid, s->start_usec, s->start_ticks);
                if (s->state == SHIM_RUN_EXITED) {
                        if (s->exit_signal > 0)
                                enc_printf(&e, "EXIT_SIGNAL=%d\n", s->exit_signal);
                        else
                                enc_printf(&e, "EXIT_CODE=%d\n", s->exit_code);
                        enc_printf(&e, "CORE_DUMPED=%d\nEXIT_USEC=%" PRIu64 "\nACKED=%d\nINIT_ALIVE=%d\n",
                                   s->core_dumped, s->exit_usec, s->acked, s->init_alive);
                        if (s->next_started)
                                enc_printf(&e, "NEXT_STARTED=1\n");
                }
                enc_text(&e, "EXEC_ERROR", s->exec_error);
                if (s->log_dropped_bytes > 0)
                        enc_printf(&e, "LOG_DROPPED_BYTES=%" PRIu64 "\n", s->log_dropped_bytes);
                if (s->log_dropping)
                        enc_printf(&e, "LOG_DROPPING=1\n");
                if (s->prev_run > 0) {
                        enc_printf(&e, "PREV_RUN=%" PRIu64 "\n", s->prev_run);
                        if (s->prev_exit_signal > 0)
                                enc_printf(&e, "PREV_EXIT_SIGNAL=%d\n", s->prev_exit_signal);
                        else
                                enc_printf(&e, "PREV_EXIT_CODE=%d\n", s->prev_exit_code);
                        enc_printf(&e, "PREV_EXIT_USEC=%" PRIu64 "\n", s->prev_exit_usec);
                }
        }
        switch (m->type) {
        case SHIM_MSG_SIGNAL:
                if (m->signo <= 0 || m->signo > 64)
                        return -EINVAL;
                enc_printf(&e, "SIGNAL=%d\n", m->signo);
                break;
        case SHIM_MSG_ACK_EXIT:
                enc_printf(&e, "RUN=%" PRIu64 "\n", m->run);
                break;
        case SHIM_MSG_ARM:
                enc_printf(&e, "RUN=%" PRIu64 "\nMIN_UPTIME_USEC=%" PRIu64 "\nON_FAILURE=%d\n", m->run,
                           m->min_uptime_usec, m->on_failure);
                break;
        case SHIM_MSG_ERROR:
                if (m->error <= 0 || memchr(m->message, 0, SHIM_TEXT_MAX) == NULL)
                        return -EINVAL;
                enc_printf(&e, "ERRNO=%d\n", m->error);
                enc_text(&e, "MESSAGE", m->message);
                break;
        case SHIM_MSG_FDS:
                if (m->n_fds > SHIM_FDS_MAX || memchr(m->fd_names, 0, SHIM_FD_NAMES_MAX) == NULL)
                        return -EINVAL;
                enc_printf(&e, "FDS=%u\n", m->n_fds);
                enc_text(&e, "FD_NAMES", m->fd_names);
                break;
        case SHIM_MSG_CLAIM:
                if (m->n_fds > SHIM_FDS_MAX || memchr(m->spec_path, 0, SHIM_TEXT_MAX) == NULL || m->spec_path[0] != '/')
                        return -EINVAL;
                enc_printf(&e, "FDS=%u\n", m->n_fds);
                enc_text(&e, "SPEC", m->spec_path);
                if (m->deferred)
                        enc_printf(&e, "DEFERRED=1\n");
                if (m->spec_fd)
                        enc_printf(&e, "SPEC_FD=1\n");
                break;
        default:
                break;
        }
        return e.error ? e.error : (int) e.len;
}

/* ------------------------------------------------------------ decoder */

enum key_id {
        K_VERSION, K_SHIM_PID, K_RUN, K_STATE, K_PID, K_SERVICE_PID, K_START_USEC, K_START_TICKS,
        K_EXIT_CODE, K_EXIT_SIGNAL, K_CORE_DUMPED, K_EXIT_USEC, K_ACKED, K_EXEC_ERROR,
        K_SIGNAL, K_ERRNO, K_MESSAGE, K_INIT_ALIVE, K_NEXT_STARTED, K_MIN_UPTIME_USEC, K_ON_FAILURE,
        K_LOG_DROPPED_BYTES, K_LOG_DROPPING, K_FDS, K_FD_NAMES, K_PREV_RUN, K_PREV_EXIT_CODE,
        K_PREV_EXIT_SIGNAL, K_PREV_EXIT_USEC, K_SPEC, K_DEFERRED, K_SPEC_FD, _K_MAX,
};

static const char *const key_names[_K_MAX] = {
        [K_VERSION] = "VERSION",       [K_SHIM_PID] = "SHIM_PID",
        [K_RUN] = "RUN",               [K_STATE] = "STATE",
        [K_PID] = "PID",               [K_SERVICE_PID] = "SERVICE_PID",
        [K_START_USEC] = "START_USEC", [K_START_TICKS] = "START_TICKS",
        [K_EXIT_CODE] = "EXIT_CODE",   [K_EXIT_SIGNAL] = "EXIT_SIGNAL",
        [K_CORE_DUMPED] = "CORE_DUMPED", [K_EXIT_USEC] = "EXIT_USEC",
        [K_ACKED] = "ACKED",           [K_EXEC_ERROR] = "EXEC_ERROR",
        [K_SIGNAL] = "SIGNAL",         [K_ERRNO] = "ERRNO",
        [K_MESSAGE] = "MESSAGE",       [K_INIT_ALIVE] = "INIT_ALIVE",
        [K_NEXT_STARTED] = "NEXT_STARTED", [K_MIN_UPTIME_USEC] = "MIN_UPTIME_USEC",
        [K_ON_FAILURE] = "ON_FAILURE",
        [K_LOG_DROPPED_BYTES] = "LOG_DROPPED_BYTES",
        [K_LOG_DROPPING] = "LOG_DROPPING",
        [K_FDS] = "FDS",               [K_FD_NAMES] = "FD_NAMES",
        [K_PREV_RUN] = "PREV_RUN",     [K_PREV_EXIT_CODE] = "PREV_EXIT_CODE",
        [K_PREV_EXIT_SIGNAL] = "PREV_EXIT_SIGNAL", [K_PREV_EXIT_USEC] = "PREV_EXIT_USEC",
        [K_SPEC] = "SPEC",             [K_DEFERRED] = "DEFERRED",
        [K_SPEC_FD] = "SPEC_FD",
};

static int dec_num(const char *v, size_t n, uint64_t max, uint64_t *ret) {
        return launch_parse_u64(v, n, max, ret);
}

static int dec_key(struct shim_msg *m, enum key_id k, const char *v, size_t n) {
        struct shim_status *s = &m->status;
        uint64_t u;
        int r = 0;

        switch (k) {
        case K_STATE:
                for (int i = SHIM_RUN_NONE; i <= SHIM_RUN_EXITED; i++)
                        if (strlen(state_names[i]) == n && memcmp(state_names[i], v, n) == 0) {
                                s->state = (enum shim_run_state) i;
                                return 0;
                        }
                return -EBADMSG;
        case K_SPEC:
                r = launch_unescape(v, n, m->spec_path, SHIM_TEXT_MAX);
                return r <= 0 || m->spec_path[0] != '/' ? -EBADMSG : 0;
        case K_EXEC_ERROR:
        case K_MESSAGE:
        case K_FD_NAMES:
                r = launch_unescape(v, n, k == K_MESSAGE ? m->message : k == K_FD_NAMES ? m->fd_names : s->exec_error,
                                    k == K_FD_NAMES ? SHIM_FD_NAMES_MAX : SHIM_TEXT_MAX);
                return r < 0 ? -EBADMSG : 0;
        case K_FDS:
                r = dec_num(v, n, SHIM_FDS_MAX, &u);
                m->n_fds = (unsigned) u;
                return r;
        case K_EXIT_CODE:
                r = dec_num(v, n, 255, &u);
                s->exit_code = (int) u;
                return r;
        case K_EXIT_SIGNAL:
        case K_SIGNAL:
                r = dec_num(v, n, 64, &u);
                if (r < 0 || u == 0)
                        return -EBADMSG;
                *(k == K_SIGNAL ? &m->signo : &s->exit_signal) = (int) u;
                return 0;
        case K_CORE_DUMPED:
        case K_ACKED:
        case K_INIT_ALIVE:
        case K_NEXT_STARTED:
        case K_ON_FAILURE:
        case K_LOG_DROPPING:
        case K_DEFERRED:
        case K_SPEC_FD:
                r = dec_num(v, n, 1, &u);
                *(k == K_ACKED         ? &s->acked
                  : k == K_DEFERRED    ? &m->deferred
                  : k == K_SPEC_FD     ? &m->spec_fd
                  : k == K_INIT_ALIVE  ? &s->init_alive
                  : k == K_NEXT_STARTED ? &s->next_started
                  : k == K_ON_FAILURE  ? &m->on_failure
                  : k == K_LOG_DROPPING ? &s->log_dropping
                                       : &s->core_dumped) = u;
                return r;
        case K_LOG_DROPPED_BYTES:
                r = dec_num(v, n, UINT64_MAX, &u);
                s->log_dropped_bytes = u;
                return r;
        case K_VERSION:
        case K_ERRNO:
                r = dec_num(v, n, 4095, &u);
                if (r < 0 || u == 0)
                        return -EBADMSG;
                *(k == K_VERSION ? &s->version : &m->error) = (int) u;
                return 0;
        case K_SHIM_PID:
        case K_PID:
        case K_SERVICE_PID:
                r = dec_num(v, n, INT32_MAX, &u);
                *(k == K_SHIM_PID ? &s->shim_pid : k == K_PID ? &s->pid : &s->service_pid) = (pid_t) u;
                return r;
        case K_RUN:
                r = dec_num(v, n, UINT64_MAX, &u);
                s->run = m->run = u;
                return r;
        case K_MIN_UPTIME_USEC:
                return dec_num(v, n, UINT64_MAX, &m->min_uptime_usec);
        case K_PREV_RUN:
                return dec_num(v, n, UINT64_MAX, &s->prev_run);
        case K_PREV_EXIT_USEC:
                return dec_num(v, n, UINT64_MAX, &s->prev_exit_usec);
        case K_PREV_EXIT_CODE:
                r = dec_num(v, n, 255, &u);
                s->prev_exit_code = (int) u;
                return r;
        case K_PREV_EXIT_SIGNAL:
                r = dec_num(v, n, 64, &u);
                if (r < 0 || u == 0)
                        return -EBADMSG;
                s->prev_exit_signal = (int) u;
                s->prev_exit_code = -1;
                return 0;
        case K_START_USEC:
        case K_START_TICKS:
        case K_EXIT_USEC:
                r = dec_num(v, n, UINT64_MAX, &u);
                *(k == K_START_USEC ? &s->start_usec : k == K_START_TICKS ? &s->start_ticks : &s->exit_usec) = u;
                return r;
        case _K_MAX:
                break;
        }
        return -EBADMSG;
}

#define SEEN(k) (seen & (1u << (k)))
_Static_assert(_K_MAX <= 32, "the seen keys are bits of an unsigned");

int shim_msg_decode(const char *buf, size_t len, struct shim_msg *ret) {
        struct shim_msg m = { .status.exit_code = -1 };
        const char *p = buf, *end = buf + len;
        unsigned seen = 0;
        bool first = true;

        if (len == 0 || len > SHIM_MSG_MAX || memchr(buf, 0, len))
                return -EBADMSG;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *eq;
                size_t kl;
                int k, r;

                if (!nl)
                        return -EBADMSG; /* every line ends with \n: detects truncation */
                eq = memchr(p, '=', (size_t) (nl - p));
                if (!eq || eq == p)
                        return -EBADMSG;
                kl = (size_t) (eq - p);
                if (first) {
                        if (kl != 3 || memcmp(p, "MSG", 3) != 0)
                                return -EBADMSG;
                        m.type = shim_msg_type_from_string(eq + 1, (size_t) (nl - eq - 1));
                        if (m.type == SHIM_MSG_INVALID)
                                return -EBADMSG;
                        first = false;
                        p = nl + 1;
                        continue;
                }
                for (k = 0; k < _K_MAX; k++)
                        if (strlen(key_names[k]) == kl && memcmp(key_names[k], p, kl) == 0)
                                break;
                if (k < _K_MAX) { /* unknown keys are skipped: forward compatibility */
                        if (SEEN(k))
                                return -EBADMSG;
                        seen |= 1u << k;
                        r = dec_key(&m, (enum key_id) k, eq + 1, (size_t) (nl - eq - 1));
                        if (r < 0)
                                return -EBADMSG;
                }
                p = nl + 1;
        }
        if (first)
                return -EBADMSG;

        /* Required keys and consistency per type. */
        if (has_status(m.type)) {
                if (!SEEN(K_VERSION) || !SEEN(K_SHIM_PID) || !SEEN(K_RUN) || !SEEN(K_STATE))
                        return -EBADMSG;
                if (m.status.state != SHIM_RUN_NONE &&
                    (!SEEN(K_PID) || !SEEN(K_START_USEC) || !SEEN(K_START_TICKS) || m.status.pid <= 0))
                        return -EBADMSG;
                if (m.status.state == SHIM_RUN_EXITED) {
                        if (!!SEEN(K_EXIT_CODE) == !!SEEN(K_EXIT_SIGNAL) || !SEEN(K_EXIT_USEC))
                                return -EBADMSG;
                } else if (SEEN(K_EXIT_CODE) || SEEN(K_EXIT_SIGNAL) || m.status.init_alive || m.status.next_started)
                        return -EBADMSG; /* only a run that ended leaves an idle mini-init */
                if (SEEN(K_PREV_RUN) != 0 &&
                    (m.status.prev_run == 0 || m.status.prev_run >= m.status.run || !SEEN(K_PREV_EXIT_USEC) ||
                     !!SEEN(K_PREV_EXIT_CODE) == !!SEEN(K_PREV_EXIT_SIGNAL)))
                        return -EBADMSG; /* a previous run's end: complete, and before this run */
        }
        switch (m.type) {
        case SHIM_MSG_SIGNAL:
                if (!SEEN(K_SIGNAL))
                        return -EBADMSG;
                break;
        case SHIM_MSG_ACK_EXIT:
                if (!SEEN(K_RUN))
                        return -EBADMSG;
                break;
        case SHIM_MSG_ARM:
                if (!SEEN(K_RUN) || !SEEN(K_MIN_UPTIME_USEC) || !SEEN(K_ON_FAILURE))
                        return -EBADMSG;
                break;
        case SHIM_MSG_ERROR:
                if (!SEEN(K_ERRNO))
                        return -EBADMSG;
                break;
        case SHIM_MSG_FDS:
                if (!SEEN(K_FDS))
                        return -EBADMSG;
                break;
        case SHIM_MSG_CLAIM:
                if (!SEEN(K_FDS) || !SEEN(K_SPEC))
                        return -EBADMSG;
                break;
        default:
                break;
        }
        if (!has_status(m.type))
                m.status = (struct shim_status) { .exit_code = -1 };
        *ret = m;
        return 0;
}

/* ------------------------------------------------------------ status file */

int shim_status_write(const char *path, const struct shim_status *s, bool sync) {
        struct shim_msg m = { .type = SHIM_MSG_STATUS, .status = *s };
        char buf[SHIM_MSG_MAX];
        int n;

        n = shim_msg_encode(&m, buf, sizeof buf);
        if (n < 0)
                return n;
        return launch_write_atomic(path, buf, (size_t) n, sync);
}

int shim_status_read(const char *path, struct shim_status *ret) {
        _cleanup_close_ int fd = -1;
        char buf[SHIM_MSG_MAX + 1];
        struct shim_msg m;
        size_t len = 0;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n = read(fd, buf + len, sizeof buf - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len == sizeof buf)
                        return -EBADMSG;
        }
        r = shim_msg_decode(buf, len, &m);
        if (r < 0)
                return r;
        if (m.type != SHIM_MSG_STATUS)
                return -EBADMSG;
        *ret = m.status;
        return 0;
}
