/* model.c: the schema tables of the canonical model (model.h) and the checks
 * that span fields. This file is the manifest language's reference: every
 * key, type, default and constraint is here, once. docs/manifest.md and
 * berth-manifest(5) describe the same table for humans. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "model.h"
#include "schema.h"
#include "util.h"

/* ---- string checks ---------------------------------------------------- */

static const char *check_dns_label(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > SERVICE_NAME_MAX)
                return "is not a valid name: use 1 to 63 characters (a DNS-1123 label)";
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!(islower((unsigned char) c) || isdigit((unsigned char) c) || c == '-'))
                        return "is not a valid name: use lowercase letters, digits and '-' (a DNS-1123 label, like \"web-api\")";
        }
        if (s[0] == '-' || s[n - 1] == '-')
                return "is not a valid name: it must start and end with a letter or digit (a DNS-1123 label)";
        return NULL;
}

static const char *check_abs_path(const char *s) {
        if (s[0] != '/')
                return "must be an absolute path (starting with /)";
        for (const char *p = s; *p; p++)
                if (p[0] == '/' && p[1] == '.' && p[2] == '.' && (p[3] == '/' || p[3] == 0))
                        return "must not contain \"..\" components";
        return NULL;
}

static const char *check_env_name(const char *s) {
        if (!*s)
                return "is not a valid variable name (empty)";
        if (isdigit((unsigned char) s[0]))
                return "is not a valid variable name: it must not start with a digit";
        for (const char *p = s; *p; p++)
                if (!(isalnum((unsigned char) *p) || *p == '_' || *p == '-' || *p == '.'))
                        return "is not a valid variable name: use letters, digits, '_', '-' and '.'";
        return NULL;
}

static const char *check_namespace(const char *s) {
        static const char *const known[] = { "pid", "mount", "uts", "ipc", "cgroup" };
        if (streq(s, "net") || streq(s, "network"))
                return "is not listed here: the network namespace follows network.mode (host or none)";
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (streq(s, known[i]))
                        return NULL;
        return "is not a namespace (use pid, mount, uts, ipc, cgroup)";
}

static const char *const capability_names[] = {
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
        "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
        "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
        "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
        "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
        "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};

int capability_from_name(const char *s) {
        if (strncasecmp(s, "CAP_", 4) == 0)
                s += 4;
        for (size_t i = 0; i < ELEMENTSOF(capability_names); i++)
                if (strcasecmp(s, capability_names[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

static const char *check_capability(const char *s) {
        if (streq(s, "ALL") || capability_from_name(s) >= 0)
                return NULL;
        return "is not a capability (examples: NET_ADMIN, SYS_PTRACE, ALL)";
}

static const struct {
        const char *name;
        int number;
} signals[] = {
        { "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
        { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "WINCH", SIGWINCH },
        { "STOP", SIGSTOP }, { "CONT", SIGCONT }, { "PWR", SIGPWR },
};

int signal_from_name(const char *s) {
        if (strncmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < ELEMENTSOF(signals); i++)
                if (streq(s, signals[i].name))
                        return signals[i].number;
        return -EINVAL;
}

static const char *check_signal(const char *s) {
        if (signal_from_name(s) < 0 || streq(s, "SIGSTOP") || streq(s, "STOP") || streq(s, "SIGCONT") ||
            streq(s, "CONT"))
                return "is not a stop signal (examples: SIGTERM, SIGINT, SIGQUIT, SIGUSR1)";
        return NULL;
}

static const char *check_user(const char *s) {
        /* a user name, or uid[:gid] with numbers */
        if (isdigit((unsigned char) s[0])) {
                const char *p = s;
                while (isdigit((unsigned char) *p))
                        p++;
                if (*p == ':') {
                        p++;
                        if (!isdigit((unsigned char) *p))
                                return "is not a user (use a name like nobody, or uid[:gid] like 1000:1000)";
                        while (isdigit((unsigned char) *p))
                                p++;
                }
                return *p || strlen(s) > 21 ? "is not a user (use a name like nobody, or uid[:gid] like 1000:1000)"
                                            : NULL;
        }
        if (strlen(s) > 32)
                return "is not a user name (at most 32 characters)";
        for (const char *p = s; *p; p++)
                if (!(islower((unsigned char) *p) || isdigit((unsigned char) *p) || *p == '_' || *p == '-' ||
                      (*p == '$' && p[1] == 0)))
                        return "is not a user (use a name like nobody, or uid[:gid] like 1000:1000)";
        if (!*s || s[0] == '-')
                return "is not a user (use a name like nobody, or uid[:gid] like 1000:1000)";
        return NULL;
}

static const char *check_label_key(const char *s) {
        const char *name = strrchr(s, '/');
        size_t prefix = name ? (size_t) (name - s) : 0;
        name = name ? name + 1 : s;
        size_t n = strlen(name);
        if (prefix > 253 || n == 0 || n > 63)
                return "is not a valid label key (name of 1 to 63 characters, optional prefix/ of at most 253)";
        if (!isalnum((unsigned char) name[0]) || !isalnum((unsigned char) name[n - 1]))
                return "is not a valid label key (must start and end with a letter or digit)";
        for (const char *p = name; *p; p++)
                if (!(isalnum((unsigned char) *p) || *p == '-' || *p == '_' || *p == '.'))
                        return "is not a valid label key (letters, digits, '-', '_', '.')";
        return NULL;
}

static const char *check_port_name(const char *s) {
        size_t n = strlen(s);
        bool letter = false;
        if (n == 0 || n > 15)
                return "is not a valid port name (1 to 15 characters)";
        for (const char *p = s; *p; p++) {
                if (islower((unsigned char) *p))
                        letter = true;
                else if (!isdigit((unsigned char) *p) && *p != '-')
                        return "is not a valid port name (lowercase letters, digits and '-')";
        }
        if (!letter || s[0] == '-' || s[n - 1] == '-')
                return "is not a valid port name (needs a letter; must not start or end with '-')";
        return NULL;
}

static const char *check_ip_literal(const char *s) {
        unsigned char buf[sizeof(struct in6_addr)];
        if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
                return NULL;
        return "is not a numeric IPv4 or IPv6 address (0.0.0.0, 127.0.0.1, ::)";
}

static const char *check_api_version(const char *s) {
        return streq(s, "berth/v1") ? NULL : "is not supported (use berth/v1)";
}

static const char *check_kind(const char *s) {
        return streq(s, "Service") ? NULL : "is not supported (use Service)";
}

static const char *check_http_path(const char *s) {
        return s[0] == '/' ? NULL : "must start with /";
}

/* ---- tables ----------------------------------------------------------- */

static const char *const restart_policy_names[] = { "Always", "OnFailure", "Never", NULL };
static const char *const network_mode_names[] = { "host", "none", NULL };
static const char *const strategy_type_names[] = { "RollingUpdate", "Recreate", NULL };
static const char *const protocol_names[] = { "TCP", "UDP", NULL };
static const char *const log_driver_names[] = { "file", "journald", NULL };

#define MS_PER_HOUR INT64_C(3600000)
#define COUNT(x) ELEMENTSOF(x)

#define F_STR(n, T, m, ...) { .name = n, .type = FT_STRING, .offset = offsetof(T, m), .aux = NO_AUX, __VA_ARGS__ }
#define F_INT(n, T, m, lo, hi, ...) \
        { .name = n, .type = FT_INT, .offset = offsetof(T, m), .aux = NO_AUX, .min = lo, .max = hi, __VA_ARGS__ }
#define F_UINT(n, T, m, lo, hi, ...) \
        { .name = n, .type = FT_UINT, .offset = offsetof(T, m), .aux = NO_AUX, .min = lo, .max = hi, __VA_ARGS__ }
#define F_BOOL(n, T, m, ...) { .name = n, .type = FT_BOOL, .offset = offsetof(T, m), .aux = NO_AUX, __VA_ARGS__ }
#define F_DUR(n, T, m, lo, hi, ...) \
        { .name = n, .type = FT_DURATION, .offset = offsetof(T, m), .aux = NO_AUX, .min = lo, .max = hi, __VA_ARGS__ }
#define F_ENUM(n, T, m, names, ...) \
        { .name = n, .type = FT_ENUM, .offset = offsetof(T, m), .aux = NO_AUX, .enum_names = names, __VA_ARGS__ }
#define F_STRV(n, T, m, ...) { .name = n, .type = FT_STRV, .offset = offsetof(T, m), .aux = NO_AUX, __VA_ARGS__ }
#define F_MAP(n, T, m, ...) { .name = n, .type = FT_STRMAP, .offset = offsetof(T, m), .aux = NO_AUX, __VA_ARGS__ }
#define F_SUB(n, T, m, schema, ...) \
        { .name = n, .type = FT_STRUCT, .offset = offsetof(T, m), .aux = NO_AUX, .sub = &schema, __VA_ARGS__ }
/* An optional struct: `has` is the bool set when the key is present. */
#define F_OPT(n, T, m, has, schema, ...)                                                                       \
        { .name = n, .type = FT_STRUCT, .offset = offsetof(T, m), .aux = offsetof(T, has), .sub = &schema,        \
          .flags = F_NULL_JSON, __VA_ARGS__ }
#define F_LIST(n, T, m, count, schema, ...)                                                                     \
        { .name = n, .type = FT_LIST, .offset = offsetof(T, m), .aux = offsetof(T, count), .sub = &schema,       \
          __VA_ARGS__ }
#define SCHEMA(n, T, table, ...) { .name = n, .size = sizeof(T), .fields = table, .n_fields = COUNT(table), __VA_ARGS__ }

/* env */
static const struct field env_var_fields[] = {
        F_STR("name", struct env_var, name, .check = check_env_name, .flags = F_REQUIRED),
        F_STR("value", struct env_var, value, .def = ""),
};
static const struct schema env_var_schema = SCHEMA("an env entry", struct env_var, env_var_fields);

/* mounts */
static const struct field mount_fields[] = {
        F_STR("source", struct mount_spec, source, .check = check_abs_path, .flags = F_REQUIRED),
        F_STR("target", struct mount_spec, target, .check = check_abs_path, .flags = F_REQUIRED),
        F_BOOL("readOnly", struct mount_spec, read_only, .def = "false"),
};
static const struct schema mount_schema = SCHEMA("a mount", struct mount_spec, mount_fields);

/* ports */
static const struct field port_fields[] = {
        F_STR("name", struct port_spec, name, .check = check_port_name, .flags = F_REQUIRED),
        F_INT("port", struct port_spec, port, 1, 65535, .flags = F_REQUIRED),
        F_ENUM("protocol", struct port_spec, protocol, protocol_names, .def = "TCP"),
        F_STR("hostIP", struct port_spec, host_ip, .check = check_ip_literal, .def = "0.0.0.0"),
};
static const struct schema port_schema = SCHEMA("a port", struct port_spec, port_fields);

/* resources */
static const struct field resource_list_fields[] = {
        { .name = "memory", .type = FT_MEMORY, .offset = offsetof(struct resource_list, memory), .aux = NO_AUX,
          .min = 4096 },
        { .name = "cpu", .type = FT_CPU, .offset = offsetof(struct resource_list, cpu), .aux = NO_AUX, .min = 1 },
        F_UINT("pids", struct resource_list, pids, 1, 4194304),
};
static const struct schema resource_list_schema = SCHEMA("resources.limits", struct resource_list, resource_list_fields);

static void resources_validate(struct walk *w, void *obj, const struct ynode *node, const char *path) {
        const struct resources *r = obj;
        const struct ynode *req = ynode_get(node, "requests");
        char p[512];
        if (r->limits.memory && r->requests.memory > r->limits.memory)
                walk_error(w, ynode_get(req, "memory"), path_join(p, sizeof p, path, "requests.memory"),
                           "request (%" PRIu64 " bytes) is larger than the limit (%" PRIu64 " bytes)",
                           r->requests.memory, r->limits.memory);
        if (r->limits.cpu && r->requests.cpu > r->limits.cpu)
                walk_error(w, ynode_get(req, "cpu"), path_join(p, sizeof p, path, "requests.cpu"),
                           "request (%" PRIu64 "m) is larger than the limit (%" PRIu64 "m)", r->requests.cpu,
                           r->limits.cpu);
        if (r->requests.pids)
                walk_error(w, ynode_get(req, "pids"), path_join(p, sizeof p, path, "requests.pids"),
                           "pids can only be limited (use resources.limits.pids)");
}

static const struct field resources_fields[] = {
        F_SUB("limits", struct resources, limits, resource_list_schema),
        F_SUB("requests", struct resources, requests, resource_list_schema),
};
static const struct schema resources_schema =
        SCHEMA("resources", struct resources, resources_fields, .validate = resources_validate);

/* restartBackoff */
static void backoff_validate(struct walk *w, void *obj, const struct ynode *node, const char *path) {
        const struct restart_backoff *b = obj;
        char p[512];
        if (b->initial > b->max)
                walk_error(w, ynode_get(node, "initial"), path_join(p, sizeof p, path, "initial"),
                           "initial delay (%" PRIu64 "ms) is longer than max (%" PRIu64 "ms)", b->initial, b->max);
}

static const struct field backoff_fields[] = {
        F_DUR("initial", struct restart_backoff, initial, 0, 24 * MS_PER_HOUR, .def = "100ms"),
        F_DUR("max", struct restart_backoff, max, 0, 24 * MS_PER_HOUR, .def = "30s"),
        { .name = "multiplier", .type = FT_DOUBLE, .offset = offsetof(struct restart_backoff, multiplier),
          .aux = NO_AUX, .min = 1, .max = 100, .def = "2" },
        F_DUR("resetAfter", struct restart_backoff, reset_after, 0, 24 * MS_PER_HOUR, .def = "60s"),
};
static const struct schema backoff_schema =
        SCHEMA("restartBackoff", struct restart_backoff, backoff_fields, .validate = backoff_validate);

/* isolation */
static const struct field caps_fields[] = {
        F_STRV("add", struct capabilities, add, .check = check_capability, .max = 64),
        F_STRV("drop", struct capabilities, drop, .check = check_capability, .max = 64),
};
static const struct schema caps_schema = SCHEMA("capabilities", struct capabilities, caps_fields);

static void isolation_validate(struct walk *w, void *obj, const struct ynode *node, const char *path) {
        struct isolation *iso = obj;
        const struct ynode *list = ynode_get(node, "namespaces");
        char p[512], q[512];
        iso->namespaces = 0;
        for (size_t i = 0; i < iso->namespaces_list.n; i++) {
                const char *n = iso->namespaces_list.v[i];
                unsigned bit = streq(n, "pid") ? NS_PID : streq(n, "mount") ? NS_MOUNT : streq(n, "uts") ? NS_UTS
                             : streq(n, "ipc") ? NS_IPC : NS_CGROUP;
                if (iso->namespaces & bit)
                        walk_error(w, list && list->type == YNODE_SEQUENCE && i < list->n ? list->items[i] : list,
                                   path_index(p, sizeof p, path_join(q, sizeof q, path, "namespaces"), i),
                                   "\"%s\" is listed twice", n);
                iso->namespaces |= bit;
        }
        if (iso->rootfs && streq(iso->rootfs, "/"))
                walk_error(w, ynode_get(node, "rootfs"), path_join(p, sizeof p, path, "rootfs"),
                           "\"/\" is the host root, which is the default: leave rootfs out");
        if (iso->n_mounts > 0 && !(iso->namespaces & NS_MOUNT))
                walk_error(w, ynode_get(node, "mounts"), path_join(p, sizeof p, path, "mounts"),
                           "mounts need the mount namespace (add \"mount\" to isolation.namespaces)");
        for (size_t i = 0; i < iso->n_mounts; i++) {
                if (iso->mounts[i].target && streq(iso->mounts[i].target, "/"))
                        walk_error(w, ynode_get(node, "mounts"), path_join(p, sizeof p, path, "mounts"),
                                   "a mount cannot replace / (use rootfs)");
                for (size_t j = 0; j < i; j++)
                        if (iso->mounts[i].target && iso->mounts[j].target &&
                            streq(iso->mounts[i].target, iso->mounts[j].target)) {
                                const struct ynode *m = ynode_get(node, "mounts");
                                walk_error(w, m && m->type == YNODE_SEQUENCE && i < m->n ? m->items[i] : m,
                                           path_index(p, sizeof p, path_join(q, sizeof q, path, "mounts"), i),
                                           "target %s is mounted twice", iso->mounts[i].target);
                        }
        }
}

static const struct field isolation_fields[] = {
        F_STRV("namespaces", struct isolation, namespaces_list, .check = check_namespace, .max = 8,
               .def = "pid,mount,uts,ipc"),
        F_BOOL("readOnlyRoot", struct isolation, read_only_root, .def = "true"),
        F_STR("rootfs", struct isolation, rootfs, .check = check_abs_path),
        F_LIST("mounts", struct isolation, mounts, n_mounts, mount_schema, .max = 64),
        F_SUB("capabilities", struct isolation, capabilities, caps_schema),
};
static const struct schema isolation_schema =
        SCHEMA("isolation", struct isolation, isolation_fields, .validate = isolation_validate);

/* network */
static void network_validate(struct walk *w, void *obj, const struct ynode *node, const char *path) {
        const struct network *net = obj;
        const struct ynode *list = ynode_get(node, "ports");
        char p[512], q[512];
        for (size_t i = 0; i < net->n_ports; i++)
                for (size_t j = 0; j < i; j++) {
                        const struct port_spec *a = &net->ports[i], *b = &net->ports[j];
                        const struct ynode *at = list && list->type == YNODE_SEQUENCE && i < list->n ? list->items[i]
                                                                                                     : list;
                        path_index(p, sizeof p, path_join(q, sizeof q, path, "ports"), i);
                        if (a->name && b->name && streq(a->name, b->name))
                                walk_error(w, at, p, "port name \"%s\" is used twice", a->name);
                        else if (a->port == b->port && a->protocol == b->protocol)
                                walk_error(w, at, p, "port %" PRId64 "/%s is listed twice", a->port,
                                           protocol_names[a->protocol]);
                }
}

static const struct field network_fields[] = {
        F_ENUM("mode", struct network, mode, network_mode_names, .def = "host"),
        F_LIST("ports", struct network, ports, n_ports, port_schema, .max = 64),
};
static const struct schema network_schema =
        SCHEMA("network", struct network, network_fields, .validate = network_validate);

/* probes */
static const struct field exec_fields[] = {
        F_STRV("command", struct exec_action, command, .flags = F_REQUIRED | F_NONEMPTY, .max = 256),
};
static const struct schema exec_schema = SCHEMA("an exec probe", struct exec_action, exec_fields);

static const struct field http_get_fields[] = {
        F_STR("path", struct http_get_action, path, .check = check_http_path, .def = "/"),
        F_INT("port", struct http_get_action, port, 1, 65535, .flags = F_REQUIRED),
        F_STR("host", struct http_get_action, host, .def = "127.0.0.1"),
};
static const struct schema http_get_schema = SCHEMA("an httpGet probe", struct http_get_action, http_get_fields);

static const struct field tcp_socket_fields[] = {
        F_INT("port", struct tcp_socket_action, port, 1, 65535, .flags = F_REQUIRED),
};
static const struct schema tcp_socket_schema = SCHEMA("a tcpSocket probe", struct tcp_socket_action, tcp_socket_fields);

static void probe_validate(struct walk *w, void *obj, const struct ynode *node, const char *path) {
        const struct probe *pr = obj;
        if (!node) /* no probe */
                return;
        int kinds = pr->has_exec + pr->has_http_get + pr->has_tcp_socket + pr->notify;
        if (kinds != 1)
                walk_error(w, node, path, "%s (use exactly one of exec, httpGet, tcpSocket, notify: true)",
                           kinds == 0 ? "has no handler" : "has more than one handler");
        char p[512];
        if (pr->watchdog_timeout && !pr->notify)
                walk_error(w, ynode_get(node, "watchdogTimeout"), path_join(p, sizeof p, path, "watchdogTimeout"),
                           "only applies to notify probes (add notify: true)");
}

static const struct field probe_fields[] = {
        F_OPT("exec", struct probe, exec, has_exec, exec_schema),
        F_OPT("httpGet", struct probe, http_get, has_http_get, http_get_schema),
        F_OPT("tcpSocket", struct probe, tcp_socket, has_tcp_socket, tcp_socket_schema),
        F_BOOL("notify", struct probe, notify, .def = "false"),
        F_INT("initialDelaySeconds", struct probe, initial_delay_seconds, 0, 86400, .def = "0"),
        F_INT("periodSeconds", struct probe, period_seconds, 1, 86400, .def = "10"),
        F_INT("timeoutSeconds", struct probe, timeout_seconds, 1, 86400, .def = "1"),
        F_INT("successThreshold", struct probe, success_threshold, 1, 1000, .def = "1"),
        F_INT("failureThreshold", struct probe, failure_threshold, 1, 1000, .def = "3"),
        F_DUR("watchdogTimeout", struct probe, watchdog_timeout, 0, 24 * MS_PER_HOUR, .def = "0"),
};
static const struct schema probe_schema = SCHEMA("a probe", struct probe, probe_fields, .validate = probe_validate);

/* strategy */
static const struct field rolling_update_fields[] = {
        { .name = "maxSurge", .type = FT_INT_OR_PERCENT, .offset = offsetof(struct rolling_update, max_surge),
          .aux = NO_AUX, .def = "25%" },
        { .name = "maxUnavailable", .type = FT_INT_OR_PERCENT,
          .offset = offsetof(struct rolling_update, max_unavailable), .aux = NO_AUX, .def = "25%" },
};

static void rolling_update_validate(struct walk *w, void *obj, const struct ynode *node, const char *path) {
        const struct rolling_update *ru = obj;
        if (ru->max_surge.value == 0 && ru->max_unavailable.value == 0)
                walk_error(w, node, path, "maxSurge and maxUnavailable cannot both be 0 (the rollout could never progress)");
}

static const struct schema rolling_update_schema =
        SCHEMA("rollingUpdate", struct rolling_update, rolling_update_fields, .validate = rolling_update_validate);

static const struct field strategy_fields[] = {
        F_ENUM("type", struct strategy, type, strategy_type_names, .def = "RollingUpdate"),
        F_SUB("rollingUpdate", struct strategy, rolling_update, rolling_update_schema),
};
static const struct schema strategy_schema = SCHEMA("strategy", struct strategy, strategy_fields);

/* logging */
static const struct field logging_fields[] = {
        F_ENUM("driver", struct logging, driver, log_driver_names, .def = "file"),
        { .name = "maxSize", .type = FT_MEMORY, .offset = offsetof(struct logging, max_size), .aux = NO_AUX,
          .min = 4096, .def = "10Mi" },
        F_INT("maxFiles", struct logging, max_files, 1, 1000, .def = "5"),
};
static const struct schema logging_schema = SCHEMA("logging", struct logging, logging_fields);

/* spec */
static void spec_validate(struct walk *w, void *obj, const struct ynode *node, const char *path) {
        struct service_spec *spec = obj;
        char p[512], q[512];

        spec->stop_signal_number = spec->stop_signal ? signal_from_name(spec->stop_signal) : SIGTERM;

        const struct ynode *env = ynode_get(node, "env");
        for (size_t i = 0; i < spec->n_env; i++)
                for (size_t j = 0; j < i; j++)
                        if (spec->env[i].name && spec->env[j].name && streq(spec->env[i].name, spec->env[j].name))
                                walk_error(w, env && env->type == YNODE_SEQUENCE && i < env->n ? env->items[i] : env,
                                           path_index(p, sizeof p, path_join(q, sizeof q, path, "env"), i),
                                           "variable %s is set twice (first in env[%zu])", spec->env[i].name, j);

        const struct probe *checks[] = { &spec->liveness_probe, &spec->startup_probe };
        const char *names[] = { "livenessProbe", "startupProbe" };
        for (size_t i = 0; i < ELEMENTSOF(checks); i++)
                if (checks[i]->set && checks[i]->success_threshold != 1) {
                        const struct ynode *pn = ynode_get(node, names[i]);
                        walk_error(w, ynode_get(pn, "successThreshold"),
                                   path_join(p, sizeof p, path_join(q, sizeof q, path, names[i]), "successThreshold"),
                                   "must be 1 for %s", names[i]);
                }
        if (spec->startup_probe.set && spec->startup_probe.notify)
                walk_error(w, ynode_get(node, "startupProbe"), path_join(p, sizeof p, path, "startupProbe"),
                           "notify is for readinessProbe and livenessProbe (READY=1 / WATCHDOG=1)");
}

static const struct field spec_fields[] = {
        F_INT("replicas", struct service_spec, replicas, 0, 10000, .def = "1"),
        F_STRV("command", struct service_spec, command, .flags = F_REQUIRED | F_NONEMPTY, .max = 4096,
               .doc = "the program to run and its first arguments, e.g. [\"/usr/bin/python3\", \"-m\", \"http.server\"]"),
        F_STRV("args", struct service_spec, args, .max = 4096),
        F_STR("workingDir", struct service_spec, working_dir, .check = check_abs_path, .def = "/"),
        F_LIST("env", struct service_spec, env, n_env, env_var_schema, .max = 1024),
        F_STR("user", struct service_spec, user, .check = check_user),
        F_SUB("resources", struct service_spec, resources, resources_schema),
        F_ENUM("restartPolicy", struct service_spec, restart_policy, restart_policy_names, .def = "Always"),
        F_SUB("restartBackoff", struct service_spec, restart_backoff, backoff_schema),
        F_STR("stopSignal", struct service_spec, stop_signal, .check = check_signal, .def = "SIGTERM"),
        F_DUR("terminationGracePeriod", struct service_spec, termination_grace_period, 0, 24 * MS_PER_HOUR,
              .def = "10s"),
        F_SUB("isolation", struct service_spec, isolation, isolation_schema),
        F_SUB("network", struct service_spec, network, network_schema),
        F_OPT("livenessProbe", struct service_spec, liveness_probe, liveness_probe.set, probe_schema),
        F_OPT("readinessProbe", struct service_spec, readiness_probe, readiness_probe.set, probe_schema),
        F_OPT("startupProbe", struct service_spec, startup_probe, startup_probe.set, probe_schema),
        F_SUB("strategy", struct service_spec, strategy, strategy_schema),
        F_INT("minReadySeconds", struct service_spec, min_ready_seconds, 0, 86400, .def = "0"),
        F_DUR("progressDeadline", struct service_spec, progress_deadline, 1000, 24 * MS_PER_HOUR, .def = "10m"),
        F_INT("revisionHistoryLimit", struct service_spec, revision_history_limit, 0, 1000, .def = "10"),
        F_BOOL("rollbackOnFailure", struct service_spec, rollback_on_failure, .def = "true"),
        F_SUB("logging", struct service_spec, logging, logging_schema),
};
static const struct schema spec_schema = SCHEMA("spec", struct service_spec, spec_fields, .validate = spec_validate);

static const struct field metadata_fields[] = {
        F_STR("name", struct metadata, name, .check = check_dns_label, .flags = F_REQUIRED,
              .doc = "the service's name, a DNS-1123 label like \"web\""),
        F_MAP("labels", struct metadata, labels, .check = check_label_key),
        F_MAP("annotations", struct metadata, annotations, .check = check_label_key),
};
static const struct schema metadata_schema = SCHEMA("metadata", struct metadata, metadata_fields);

static const struct field service_fields[] = {
        F_STR("apiVersion", struct service, api_version, .check = check_api_version, .flags = F_REQUIRED,
              .doc = "apiVersion: berth/v1"),
        F_STR("kind", struct service, kind, .check = check_kind, .flags = F_REQUIRED, .doc = "kind: Service"),
        F_SUB("metadata", struct service, metadata, metadata_schema, .flags = F_REQUIRED),
        F_SUB("spec", struct service, spec, spec_schema, .flags = F_REQUIRED),
};
const struct schema service_schema = SCHEMA("a Service", struct service, service_fields);

/* ---- lifecycle -------------------------------------------------------- */

struct service *service_free(struct service *s) {
        if (!s)
                return NULL;
        schema_free(&service_schema, s);
        free(s);
        return NULL;
}

struct service *service_copy(const struct service *s) {
        struct service *c = calloc(1, sizeof *c);
        if (!c)
                return NULL;
        if (schema_copy(&service_schema, c, s) < 0)
                return service_free(c);
        return c;
}

bool service_equal(const struct service *a, const struct service *b) {
        return schema_equal(&service_schema, a, b);
}
