/* berthd.c: the node agent's entry point. Parses the command line, sets up
 * the directories, the cgroup backend and the sd-event loop, hands over to
 * the manager (manager.c: desired vs actual, the reconciler) and runs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "api.h"
#include "cgroup.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "manifest-dir.h"
#include "standby.h"
#include "util.h"

static void help(void) {
        printf("Usage: berthd [OPTIONS]\n"
               "\n"
               "berth's node agent: runs the services of the manifests in a directory as\n"
               "isolated, resource-limited replicas and keeps them running.\n"
               "\n"
               "Options:\n"
               "  --manifests DIR       manifests to run (default /etc/berth/manifests)\n"
               "  --state-dir DIR       state: desired services, replica records, logs\n"
               "                        (default /var/lib/berth)\n"
               "  --run-dir DIR         runtime files: shim sockets, lock (default /run/berth)\n"
               "  --socket PATH         control socket (default RUN-DIR/berth.sock)\n"
               "  --socket-group GROUP  who besides root may use the control socket (default:\n"
               "                        \"berth\" if that group exists, else root only)\n"
               "  --cgroup-parent PATH  create replica cgroups below PATH instead of below\n"
               "                        berthd's own cgroup (relative to each hierarchy's root)\n"
               "  --shim PATH           the berth-shim binary (default: next to berthd, then\n"
               "                        %s)\n"
               "  --log-level LEVEL     error, warning, notice, info (default), debug\n"
               "  --check               validate the manifests and exit (0 valid, 1 not)\n"
               "  --stop-services       on SIGTERM/SIGINT, stop every replica before exiting\n"
               "                        (default: exit and leave the services running)\n"
               "  --standby N           keep N standby shims with a prepared mini-init, so\n"
               "                        that fitting replicas start without a clone or mount\n"
               "                        work (default 2, max 16, 0: every start is cold)\n"
               "  -h, --help            show this help\n"
               "  --version             show the version\n"
               "\n"
               "See berthd(8).\n",
               BERTH_SHIM_PATH);
}

/* The shim next to our own binary wins (a build tree), then the installed one. */
static char *find_shim(void) {
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
                self[n] = 0;
                char *slash = strrchr(self, '/');
                if (slash) {
                        char *p = NULL;
                        *slash = 0;
                        if (asprintf(&p, "%s/berth-shim", self) >= 0 && access(p, X_OK) == 0)
                                return p;
                        free(p);
                }
        }
        return strdup(BERTH_SHIM_PATH);
}

static int check_manifests(const char *dir) {
        struct dir_scan scan;
        if (manifest_dir_scan(dir, &scan) < 0) {
                log_error("Out of memory.");
                return EXIT_FAILURE;
        }
        if (scan.error < 0) {
                log_error_errno(scan.error, "Cannot read manifests directory %s: %m", dir);
                dir_scan_done(&scan);
                return EXIT_FAILURE;
        }
        diag_list_print(&scan.diags, stderr);
        bool ok = !diag_has_errors(&scan.diags);
        size_t services = 0;
        for (size_t i = 0; i < scan.n_files; i++)
                services += scan.files[i].services.n;
        if (ok)
                printf("%s: %zu file(s), %zu service(s), all valid\n", dir, scan.n_files, services);
        dir_scan_done(&scan);
        return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* One berthd per run directory: a second one would fight over the replicas. */
static int take_lock(const char *run_dir, int *ret_fd) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/berthd.lock", run_dir) < 0)
                return -ENOMEM;
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

int main(int argc, char **argv) {
        enum { ARG_MANIFESTS = 0x100, ARG_STATE, ARG_RUN, ARG_SOCKET, ARG_SOCKET_GROUP, ARG_CGPARENT, ARG_SHIM, ARG_LOGLEVEL,
               ARG_CHECK, ARG_STOP, ARG_STANDBY, ARG_VERSION };
        static const struct option options[] = {
                { "manifests", required_argument, NULL, ARG_MANIFESTS },
                { "state-dir", required_argument, NULL, ARG_STATE },
                { "run-dir", required_argument, NULL, ARG_RUN },
                { "socket", required_argument, NULL, ARG_SOCKET },
                { "socket-group", required_argument, NULL, ARG_SOCKET_GROUP },
                { "cgroup-parent", required_argument, NULL, ARG_CGPARENT },
                { "shim", required_argument, NULL, ARG_SHIM },
                { "log-level", required_argument, NULL, ARG_LOGLEVEL },
                { "check", no_argument, NULL, ARG_CHECK },
                { "stop-services", no_argument, NULL, ARG_STOP },
                { "standby", required_argument, NULL, ARG_STANDBY },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        struct manager_config cfg = {
                .manifests_dir = "/etc/berth/manifests",
                .state_dir = "/var/lib/berth",
                .run_dir = "/run/berth",
                .standby = 2,
        };
        _cleanup_free_ char *shim = NULL, *socket_default = NULL;
        const char *socket_group = NULL;
        bool check = false;
        int c, r;

        log_setup("berthd");
        /* the restart backoff's ±10 % jitter: replicas of different berthd
         * runs (and hosts) must not restart in lockstep */
        srandom((unsigned) (now_realtime_usec() ^ ((uint64_t) getpid() << 16)));

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_MANIFESTS:
                        cfg.manifests_dir = optarg;
                        break;
                case ARG_STATE:
                        cfg.state_dir = optarg;
                        break;
                case ARG_RUN:
                        cfg.run_dir = optarg;
                        break;
                case ARG_SOCKET:
                        cfg.socket_path = optarg;
                        break;
                case ARG_SOCKET_GROUP:
                        socket_group = optarg;
                        break;
                case ARG_CGPARENT:
                        cfg.cgroup_parent = optarg;
                        break;
                case ARG_SHIM:
                        cfg.shim_path = optarg;
                        break;
                case ARG_LOGLEVEL:
                        r = log_level_from_string(optarg);
                        if (r < 0) {
                                fprintf(stderr, "berthd: error: --log-level: unknown level \"%s\" (use error, warning, notice, info, debug)\n",
                                        optarg);
                                return 2;
                        }
                        log_set_level((enum log_level) r);
                        break;
                case ARG_CHECK:
                        check = true;
                        break;
                case ARG_STOP:
                        cfg.stop_services = true;
                        break;
                case ARG_STANDBY: {
                        char *end;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (!*optarg || *end || v > STANDBY_MAX) {
                                fprintf(stderr, "berthd: error: --standby: \"%s\" is not a number from 0 to %d\n", optarg,
                                        STANDBY_MAX);
                                return 2;
                        }
                        cfg.standby = (unsigned) v;
                        break;
                }
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        printf("berthd %s\n", BERTH_VERSION);
                        return EXIT_SUCCESS;
                default:
                        fprintf(stderr, "Try 'berthd --help'.\n");
                        return 2;
                }
        if (optind < argc) {
                fprintf(stderr, "berthd: error: unexpected argument \"%s\"\nTry 'berthd --help'.\n", argv[optind]);
                return 2;
        }

        if (check)
                return check_manifests(cfg.manifests_dir);

        if (geteuid() != 0) {
                log_error("berthd must run as root (it creates namespaces and cgroups).");
                return EXIT_FAILURE;
        }

        if (!cfg.shim_path) {
                shim = find_shim();
                if (!shim)
                        return log_error_errno(ENOMEM, "Out of memory."), EXIT_FAILURE;
                cfg.shim_path = shim;
        }
        if (access(cfg.shim_path, X_OK) < 0) {
                log_error_errno(errno, "Cannot execute the shim %s: %m (use --shim PATH)", cfg.shim_path);
                return EXIT_FAILURE;
        }
        if (!cfg.socket_path) {
                if (asprintf(&socket_default, "%s/berth.sock", cfg.run_dir) < 0)
                        return EXIT_FAILURE;
                cfg.socket_path = socket_default;
        }

        /* one socket per shim: lift the soft fd limit to the hard one (a
         * by-hand start with the common 1024 would cap berthd near 1000 replicas) */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                        log_debug_errno(errno, "Cannot raise RLIMIT_NOFILE: %m");
        }

        umask(0022);
        r = mkdir_p(cfg.state_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Cannot create state directory %s: %m", cfg.state_dir), EXIT_FAILURE;
        r = mkdir_p(cfg.run_dir, 0755);
        if (r < 0)
                return log_error_errno(r, "Cannot create run directory %s: %m", cfg.run_dir), EXIT_FAILURE;

        /* the shim and the saved state need absolute paths */
        _cleanup_free_ char *abs_state = realpath(cfg.state_dir, NULL), *abs_run = realpath(cfg.run_dir, NULL),
                            *abs_manifests = realpath(cfg.manifests_dir, NULL), *abs_socket = NULL;
        if (!abs_state || !abs_run)
                return log_error_errno(errno, "Cannot resolve %s or %s: %m", cfg.state_dir, cfg.run_dir), EXIT_FAILURE;
        if (!abs_manifests) {
                log_warning_errno(errno, "Manifests directory %s: %m; starting with the saved state only.",
                                  cfg.manifests_dir);
        } else
                cfg.manifests_dir = abs_manifests;
        cfg.state_dir = abs_state;
        cfg.run_dir = abs_run;
        if (cfg.socket_path[0] != '/') {
                char cwd[4096];
                if (!getcwd(cwd, sizeof cwd) || asprintf(&abs_socket, "%s/%s", cwd, cfg.socket_path) < 0)
                        return log_error_errno(errno, "Cannot resolve %s: %m", cfg.socket_path), EXIT_FAILURE;
                cfg.socket_path = abs_socket;
        }

        _cleanup_close_ int lock_fd = -1;
        /* a berthd that was just killed may still share the lock with a
         * child between fork and exec for a moment: wait a little */
        for (int tries = 0;; tries++) {
                r = take_lock(cfg.run_dir, &lock_fd);
                if ((r != -EWOULDBLOCK && r != -EAGAIN) || tries >= 100)
                        break;
                usleep(20 * 1000);
        }
        if (r == -EWOULDBLOCK || r == -EAGAIN) {
                log_error("Another berthd already uses %s (%s/berthd.lock is locked): stop it first, or use another --run-dir.",
                          cfg.run_dir, cfg.run_dir);
                return EXIT_FAILURE;
        }
        if (r < 0)
                return log_error_errno(r, "Cannot lock %s/berthd.lock: %m", cfg.run_dir), EXIT_FAILURE;

        struct manager *m = NULL;
        r = manager_new(&cfg, &m);
        if (r < 0)
                return EXIT_FAILURE; /* manager_new logged why */

        /* the API listens before manager_run() re-adopts the replicas and says
         * READY=1: connections made meanwhile wait in the backlog */
        struct api *api = NULL;
        r = api_new(m, cfg.socket_path, socket_group, &api);
        if (r < 0) {
                manager_free(m);
                return EXIT_FAILURE; /* api_new logged why */
        }

        r = manager_run(m);
        api_free(api);
        manager_free(m);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
