/* shim-client.c: start berth-shim and talk to it (see shim-client.h).
 *
 * shim_spawn() follows conmon's handshake: the shim daemonizes (fork, setsid,
 * fork) and its final process writes "<shim_pid> <replica_pid>\n" or
 * "error <message>\n" on the pipe we pass as --sync-fd, then closes it. The
 * process we forked exits as soon as the shim is daemonized; we reap it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launch.h"
#include "macro.h"
#include "shim-client.h"

#define SYNC_LINE_MAX 1024

static int parse_sync_line(const char *line, pid_t *ret_shim, pid_t *ret_replica, char **ret_error) {
        long a, b;
        char *end;

        if (strncmp(line, "error ", 6) == 0) {
                if (ret_error)
                        *ret_error = strdup(line + 6);
                return -EIO;
        }
        errno = 0;
        a = strtol(line, &end, 10);
        if (errno || end == line || *end != ' ' || a <= 0)
                return -EBADMSG;
        line = end + 1;
        b = strtol(line, &end, 10);
        if (errno || end == line || *end != 0 || b <= 0)
                return -EBADMSG;
        *ret_shim = (pid_t) a;
        *ret_replica = (pid_t) b;
        return 0;
}

int shim_spawn(const char *shim_path, const char *spec_path, pid_t *ret_shim_pid, pid_t *ret_replica_pid,
               char **ret_error) {
        return shim_spawn_fds(shim_path, spec_path, NULL, 0, ret_shim_pid, ret_replica_pid, ret_error);
}

/* In the child: the listening sockets to 3.., the sync pipe right after.
 * Through copies above every fd involved first, so no source is overwritten
 * before it is moved (a source may sit where another must go). */
static int place_fds(const int *fds, size_t n, int *sync_fd) {
        int top = LAUNCH_LISTEN_FDS_START + (int) n + 1, tmp[SHIM_FDS_MAX + 1];

        for (size_t i = 0; i < n; i++)
                top = MAX(top, fds[i] + 1);
        top = MAX(top, *sync_fd + 1);
        for (size_t i = 0; i <= n; i++) {
                tmp[i] = fcntl(i < n ? fds[i] : *sync_fd, F_DUPFD_CLOEXEC, top);
                if (tmp[i] < 0)
                        return -1;
        }
        for (size_t i = 0; i <= n; i++) {
                /* dup2 clears CLOEXEC on the target: inherited by the shim */
                if (dup2(tmp[i], LAUNCH_LISTEN_FDS_START + (int) i) < 0)
                        return -1;
                (void) close(tmp[i]);
        }
        *sync_fd = LAUNCH_LISTEN_FDS_START + (int) n;
        return 0;
}

/* Forks and execs `shim_path --spec spec_path --sync-fd N`: the forked pid
 * (it exits as soon as the shim is daemonized) and the sync pipe's read end. */
static int shim_start(const char *shim_path, const char *spec_path, const int *fds, size_t n_fds, pid_t *ret_pid,
                      int *ret_sync_fd) {
        char fdstr[16];
        int p[2], r;
        pid_t pid;

        if (n_fds > SHIM_FDS_MAX)
                return -E2BIG;
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        snprintf(fdstr, sizeof fdstr, "%d", n_fds > 0 ? LAUNCH_LISTEN_FDS_START + (int) n_fds : p[1]);

        pid = fork();
        if (pid < 0) {
                r = -errno;
                safe_close(p[0]);
                safe_close(p[1]);
                return r;
        }
        if (pid == 0) {
                /* Only async-signal-safe calls from here: berthd may have threads. */
                sigset_t none;
                char msg[256];
                int n;

                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                if (n_fds > 0 && place_fds(fds, n_fds, &p[1]) < 0)
                        _exit(127);
                if (fcntl(p[1], F_SETFD, 0) < 0)
                        _exit(127);
                execl(shim_path, shim_path, "--spec", spec_path, "--sync-fd", fdstr, (char *) NULL);
                n = snprintf(msg, sizeof msg, "error exec %s: %s\n", shim_path, strerror(errno));
                (void) !write(p[1], msg, (size_t) MIN(MAX(n, 0), (int) sizeof msg - 1));
                _exit(127);
        }
        safe_close(p[1]);
        *ret_pid = pid;
        *ret_sync_fd = p[0];
        return 0;
}

int shim_sync_parse(const char *line, size_t len, pid_t *ret_shim_pid, pid_t *ret_replica_pid, char **ret_error) {
        char buf[SYNC_LINE_MAX];
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (len == 0) {
                if (ret_error)
                        *ret_error = strdup("berth-shim exited without reporting (see its log)");
                return -ECHILD;
        }
        len = MIN(len, sizeof buf - 1);
        memcpy(buf, line, len);
        buf[len] = 0;
        buf[strcspn(buf, "\n")] = 0;
        r = parse_sync_line(buf, ret_shim_pid, ret_replica_pid, ret_error);
        if (r == -EBADMSG && ret_error)
                *ret_error = strdup("berth-shim sent a malformed sync line");
        return r;
}

int shim_spawn_fds(const char *shim_path, const char *spec_path, const int *fds, size_t n_fds,
                   pid_t *ret_shim_pid, pid_t *ret_replica_pid, char **ret_error) {
        char line[SYNC_LINE_MAX];
        size_t len = 0;
        int sync_fd = -1, status, r;
        pid_t pid = 0;

        if (ret_error)
                *ret_error = NULL;
        r = shim_start(shim_path, spec_path, fds, n_fds, &pid, &sync_fd);
        if (r < 0)
                return r;

        /* Read until newline or EOF (the shim died before reporting). */
        while (len < sizeof line - 1) {
                ssize_t n = read(sync_fd, line + len, sizeof line - 1 - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (memchr(line, '\n', len))
                        break;
        }
        safe_close(sync_fd);

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        break;
        return shim_sync_parse(line, len, ret_shim_pid, ret_replica_pid, ret_error);
}

int shim_connect(const char *socket_path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, r;

        if (strlen(socket_path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, socket_path);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* Blocking connect: on a unix socket it completes (or fails) at once,
         * unless the backlog is full. */
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                r = -errno;
                safe_close(fd);
                return r;
        }
        if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
                r = -errno;
                safe_close(fd);
                return r;
        }
        return fd;
}

int shim_send(int fd, const struct shim_msg *m) {
        return shim_send_fds(fd, m, NULL, 0);
}

int shim_send_fds(int fd, const struct shim_msg *m, const int *fds, size_t n_fds) {
        char buf[SHIM_MSG_MAX];
        union shim_cmsg_buf ctl;
        struct iovec iov = { .iov_base = buf };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        int n = shim_msg_encode(m, buf, sizeof buf);

        if (n < 0)
                return n;
        if (n_fds > SHIM_FDS_MAX)
                return -E2BIG;
        iov.iov_len = (size_t) n;
        shim_cmsg_put_fds(&mh, &ctl, fds, n_fds);
        if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        return 0;
}

int shim_recv(int fd, struct shim_msg *ret) {
        char buf[SHIM_MSG_MAX + 1];
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0)
                return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        if (n == 0)
                return -ECONNRESET;
        if (mh.msg_flags & MSG_TRUNC)
                return -EBADMSG;
        return shim_msg_decode(buf, (size_t) n, ret);
}

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int shim_recv_timeout(int fd, struct shim_msg *ret, int timeout_ms) {
        int64_t deadline = now_ms() + timeout_ms;

        for (;;) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int left = timeout_ms < 0 ? -1 : (int) MAX(deadline - now_ms(), 0);
                int r = shim_recv(fd, ret);

                if (r != -EAGAIN)
                        return r;
                if (left == 0)
                        return -ETIMEDOUT;
                r = poll(&pfd, 1, left);
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r == 0)
                        return -ETIMEDOUT;
        }
}

int shim_call(int fd, const struct shim_msg *req, struct shim_msg *ret_reply, unsigned *owed, int timeout_ms) {
        int r = shim_send(fd, req);

        if (r < 0) {
                if (ret_reply)
                        ret_reply->type = SHIM_MSG_INVALID;
                return r;
        }
        return shim_await_reply(fd, ret_reply, owed, timeout_ms);
}

int shim_await_reply(int fd, struct shim_msg *ret_reply, unsigned *owed, int timeout_ms) {
        int r;

        if (ret_reply)
                ret_reply->type = SHIM_MSG_INVALID;
        for (;;) {
                struct shim_msg m;

                r = shim_recv_timeout(fd, &m, timeout_ms);
                if (r < 0)
                        return r;
                if (m.type == SHIM_MSG_EXITED || m.type == SHIM_MSG_HELLO || m.type == SHIM_MSG_LOG_DROPPED)
                        continue;
                if (owed && *owed > 0 && (m.type == SHIM_MSG_STATUS || m.type == SHIM_MSG_ERROR)) {
                        (*owed)--; /* an earlier request's */
                        continue;
                }
                if (ret_reply)
                        *ret_reply = m;
                return m.type == SHIM_MSG_ERROR ? -m.error : 0;
        }
}

int shim_get_fds(const char *socket_path, int *fds, size_t max, size_t *ret_n, int timeout_ms) {
        struct shim_msg req = shim_msg_request(SHIM_MSG_GET_FDS);
        int64_t deadline = now_ms() + timeout_ms;
        _cleanup_close_ int fd = -1;
        int r;

        *ret_n = 0;
        fd = shim_connect(socket_path);
        if (fd < 0)
                return fd;
        r = shim_send(fd, &req);
        if (r < 0)
                return r;
        for (;;) {
                char buf[SHIM_MSG_MAX + 1];
                union {
                        struct cmsghdr h;
                        char b[CMSG_SPACE(sizeof(int) * SHIM_FDS_MAX)];
                } ctl;
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl };
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int got[SHIM_FDS_MAX];
                size_t n_got = 0;
                struct shim_msg m;
                ssize_t n;

                n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                if (n < 0 && errno == EAGAIN) {
                        int left = (int) MAX(deadline - now_ms(), 0);
                        if (left == 0)
                                return -ETIMEDOUT;
                        if (poll(&pfd, 1, left) < 0 && errno != EINTR)
                                return -errno;
                        continue;
                }
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -ECONNRESET;
                n_got = shim_cmsg_take_fds(&mh, got, SHIM_FDS_MAX);
                r = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ? -EBADMSG : shim_msg_decode(buf, (size_t) n, &m);
                if (r >= 0 && m.type == SHIM_MSG_FDS && n_got == m.n_fds && n_got <= max) {
                        memcpy(fds, got, n_got * sizeof(int));
                        *ret_n = n_got;
                        return 0;
                }
                for (size_t i = 0; i < n_got; i++) /* fds with anything else: not ours to keep */
                        safe_close(got[i]);
                if (r < 0 || m.type == SHIM_MSG_FDS)
                        return r < 0 ? r : -EBADMSG;
                if (m.type == SHIM_MSG_ERROR) /* a shim older than GET_FDS: "malformed request" */
                        return -EPROTO;
                /* HELLO, EXITED: not for us */
        }
}
