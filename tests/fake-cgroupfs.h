/* fake-cgroupfs.h: a fake cgroupfs in a tmpdir for tests of the cgroup
 * backend (and of code above it): pass fake_cgroupfs_ops and fake.root in
 * struct cg_options. See fake-cgroupfs.c. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup-internal.h"

struct fake_cgroupfs {
        char root[256];
        enum cg_mode mode;   /* which kernel the fake plays (hybrid: "unified/" is cgroup2) */
        const char *omit[4]; /* control files the fake kernel does not create */
};
extern struct fake_cgroupfs fake;
extern const struct cg_fs_ops fake_cgroupfs_ops;

/* A fresh /tmp/berth-test-<pid>-cgfs-XXXXXX playing mode; -1 on failure. */
int fake_cgroupfs_setup(enum cg_mode mode);
/* rm -rf of the root. */
void fake_cgroupfs_teardown(void);

/* <root>/<rel> (one of 4 rotating static buffers). */
char *fake_path(const char *rel);
void fake_put(const char *rel, const char *content);
char *fake_get(const char *rel); /* caller frees */
bool fake_exists(const char *rel);
void fake_mkdir_p(const char *rel);
/* The files the kernel puts into a new cgroup. */
void fake_populate_v2(const char *rel, const char *controllers);
void fake_populate_v1(const char *rel, const char *hierarchy);
/* An existing cgroup2 node with the given controllers available. */
void fake_v2_node(const char *rel, const char *controllers);

#define assert_file(rel, expected)                   \
        do {                                         \
                char *_s = fake_get(rel);            \
                assert_string_equal(_s, (expected)); \
                free(_s);                            \
        } while (0)
