/* model.h: the canonical model of a berth Service.
 *
 * One model, shared by the manifest parser (YAML), the JSON encoder/decoder
 * (control API, `berthctl validate -o json`), berthd's reconciler and berthctl.
 * Every struct here is described field by field in schema.c; the parser, the
 * defaults, the JSON encoding, copying, comparison and freeing are all driven
 * by that table, so adding a field is: a member here + one line in schema.c.
 *
 * Units are fixed: memory in bytes, cpu in millicores, durations in
 * milliseconds, counts as plain integers. 0 for an optional limit means "no
 * limit"; NULL for an optional string means "not set". */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SERVICE_NAME_MAX 63

enum restart_policy {
        RESTART_ALWAYS,
        RESTART_ON_FAILURE,
        RESTART_NEVER,
};

enum network_mode {
        NETWORK_HOST,
        NETWORK_NONE,
};

enum strategy_type {
        STRATEGY_ROLLING_UPDATE,
        STRATEGY_RECREATE,
};

enum port_protocol {
        PROTOCOL_TCP,
        PROTOCOL_UDP,
};

enum log_driver {
        LOG_DRIVER_FILE,
        LOG_DRIVER_JOURNALD,
};

/* Namespaces a replica may ask for in isolation.namespaces (bit flags). */
enum {
        NS_PID = 1 << 0,
        NS_MOUNT = 1 << 1,
        NS_UTS = 1 << 2,
        NS_IPC = 1 << 3,
        NS_CGROUP = 1 << 4,
};

/* A list of strings; NULL-terminated, n kept alongside for convenience. */
struct strv {
        char **v;
        size_t n;
};

/* An ordered map of string keys to string values (labels, annotations). */
struct strmap {
        char **keys;
        char **values;
        size_t n;
};

/* An int or a percentage, as Kubernetes' IntOrString for maxSurge/maxUnavailable. */
struct int_or_percent {
        int64_t value;
        bool percent;
};

struct env_var {
        char *name;
        char *value;
};

struct mount_spec {
        char *source;
        char *target;
        bool read_only;
};

struct port_spec {
        char *name;
        int64_t port;
        int protocol;  /* enum port_protocol */
        char *host_ip; /* numeric IPv4 or IPv6 address to bind, default 0.0.0.0 */
};

struct resource_list {
        uint64_t memory;   /* bytes, 0 = unset */
        uint64_t cpu;      /* millicores, 0 = unset */
        uint64_t pids;     /* count, 0 = unset */
};

struct resources {
        struct resource_list limits;
        struct resource_list requests;
};

struct restart_backoff {
        uint64_t initial;      /* ms */
        uint64_t max;          /* ms */
        double multiplier;
        uint64_t reset_after;  /* ms */
};

struct capabilities {
        struct strv add;  /* CAP names without the CAP_ prefix, or ALL */
        struct strv drop;
};

struct isolation {
        unsigned namespaces;   /* NS_* bits */
        struct strv namespaces_list; /* as written, for round-tripping */
        bool read_only_root;
        char *rootfs;          /* NULL = the host root */
        struct mount_spec *mounts;
        size_t n_mounts;
        struct capabilities capabilities;
};

struct network {
        int mode; /* enum network_mode */
        struct port_spec *ports;
        size_t n_ports;
};

struct exec_action {
        struct strv command;
};

struct http_get_action {
        char *path;
        int64_t port;
        char *host; /* default 127.0.0.1 */
};

struct tcp_socket_action {
        int64_t port;
};

/* A probe; `set` is false when the manifest has none. Exactly one of exec,
 * httpGet, tcpSocket or notify is used (checked by validation). */
struct probe {
        bool set;
        bool has_exec;
        struct exec_action exec;
        bool has_http_get;
        struct http_get_action http_get;
        bool has_tcp_socket;
        struct tcp_socket_action tcp_socket;
        bool notify;
        int64_t initial_delay_seconds;
        int64_t period_seconds;
        int64_t timeout_seconds;
        int64_t success_threshold;
        int64_t failure_threshold;
        uint64_t watchdog_timeout; /* ms, notify probes only; 0 = no watchdog */
};

struct rolling_update {
        struct int_or_percent max_surge;
        struct int_or_percent max_unavailable;
};

struct strategy {
        int type; /* enum strategy_type */
        struct rolling_update rolling_update;
};

struct logging {
        int driver;       /* enum log_driver */
        uint64_t max_size;  /* bytes */
        int64_t max_files;
};

struct service_spec {
        int64_t replicas;
        struct strv command;
        struct strv args;
        char *working_dir;
        struct env_var *env;
        size_t n_env;
        char *user;             /* NULL = root */
        struct resources resources;
        int restart_policy;     /* enum restart_policy */
        struct restart_backoff restart_backoff;
        char *stop_signal;      /* signal name as written (SIGTERM) */
        int stop_signal_number; /* derived by validation */
        uint64_t termination_grace_period; /* ms */
        struct isolation isolation;
        struct network network;
        struct probe liveness_probe;
        struct probe readiness_probe;
        struct probe startup_probe;
        struct strategy strategy;
        int64_t min_ready_seconds;
        uint64_t progress_deadline; /* ms */
        int64_t revision_history_limit;
        bool rollback_on_failure;
        struct logging logging;
};

struct metadata {
        char *name;
        struct strmap labels;
        struct strmap annotations;
};

/* One manifest document: `kind: Service`. */
struct service {
        char *api_version;
        char *kind;
        struct metadata metadata;
        struct service_spec spec;
};

/* The schema table describing struct service (model.c); see schema.h. */
struct schema;
extern const struct schema service_schema;

/* "SIGTERM" or "TERM" -> SIGTERM; -EINVAL if unknown. */
int signal_from_name(const char *s);
/* "NET_ADMIN" or "CAP_NET_ADMIN" -> its number; -EINVAL if unknown. */
int capability_from_name(const char *s);

/* Frees everything a service owns and the service itself; NULL-safe, returns NULL. */
struct service *service_free(struct service *s);
/* Deep copy. Returns NULL on out-of-memory. */
struct service *service_copy(const struct service *s);
/* True if the two describe the same desired state (every field equal). */
bool service_equal(const struct service *a, const struct service *b);

static inline void service_freep(struct service **s) {
        service_free(*s);
}
