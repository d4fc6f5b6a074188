/* rollout.c: see rollout.h. */
#include "config.h"

#include <errno.h>
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "rollout.h"

static const char *const status_names[_ROLLOUT_STATUS_MAX] = {
        [ROLLOUT_COMPLETE] = "complete",
        [ROLLOUT_PROGRESSING] = "progressing",
        [ROLLOUT_PAUSED] = "paused",
        [ROLLOUT_FAILED] = "failed",
};

static const char *const failure_names[_ROLLOUT_FAILURE_MAX] = {
        [ROLLOUT_FAILURE_NONE] = "",
        [ROLLOUT_FAILURE_DEADLINE] = "ProgressDeadlineExceeded",
        [ROLLOUT_FAILURE_CRASHLOOP] = "CrashLoop",
        [ROLLOUT_FAILURE_READINESS] = "ReadinessFailed",
};

const char *rollout_status_to_string(enum rollout_status s) {
        return (unsigned) s < _ROLLOUT_STATUS_MAX ? status_names[s] : "unknown";
}

const char *rollout_failure_to_string(enum rollout_failure f) {
        return (unsigned) f < _ROLLOUT_FAILURE_MAX ? failure_names[f] : "unknown";
}

static unsigned resolve(unsigned replicas, struct int_or_percent v, bool round_up) {
        if (!v.percent)
                return v.value < 0 ? 0 : (unsigned) v.value;
        uint64_t x = (uint64_t) replicas * (uint64_t) v.value;
        return (unsigned) (round_up ? (x + 99) / 100 : x / 100);
}

void rollout_bounds(unsigned replicas, struct int_or_percent max_surge, struct int_or_percent max_unavailable,
                    unsigned *ret_surge, unsigned *ret_unavailable) {
        unsigned surge = resolve(replicas, max_surge, true), unavailable = resolve(replicas, max_unavailable, false);
        if (surge == 0 && unavailable == 0)
                unavailable = 1; /* as Kubernetes: the rollout must be able to progress */
        *ret_surge = surge;
        *ret_unavailable = unavailable;
}

bool rollout_replica_available(const struct rollout_replica *r, uint64_t min_ready_us, uint64_t now) {
        if (r->state != ROLLOUT_REPLICA_RUNNING || !r->ready)
                return false;
        if (min_ready_us == 0)
                return true;
        return r->ready_since > 0 && now >= r->ready_since && now - r->ready_since >= min_ready_us;
}

void rollout_plan_done(struct rollout_plan *p) {
        free(p->start);
        free(p->stop);
        *p = (struct rollout_plan) {};
}

/* ---- the plan being built ---------------------------------------------- */

struct victim {
        size_t i;      /* in in->v */
        unsigned index;
        int rank;      /* lower goes first */
};

struct builder {
        const struct rollout_input *in;
        struct rollout_plan *p;
        bool *stopped; /* per input replica: planned to stop */
        bool *taken;   /* per index: held by a replica or a planned start */
        struct victim *order; /* scratch for stop_n() */
        size_t n_taken;
        unsigned next; /* every index below is taken */
};

static void plan_stop(struct builder *b, size_t i) {
        b->stopped[i] = true;
        b->p->stop[b->p->n_stop++] = b->in->v[i].index;
}

/* The lowest free index: linear in the replicas over a whole plan. */
static void plan_start(struct builder *b, uint64_t revision) {
        unsigned idx = b->next;
        while (idx < b->n_taken && b->taken[idx])
                idx++;
        if (idx < b->n_taken)
                b->taken[idx] = true;
        b->next = idx + 1;
        b->p->start[b->p->n_start++] = (struct rollout_start) { .index = idx, .revision = revision };
}

/* Which replicas stop first (stop_n). */
enum pick {
        PICK_ANY,         /* highest index */
        PICK_NEW,         /* target revision, highest index */
        PICK_OLD_UNAVAIL, /* old, not available: not ready first, then highest index */
        PICK_OLD_AVAIL,   /* old, available, highest index */
};

static bool is_kind(const struct builder *b, size_t i, uint64_t target, enum pick kind) {
        const struct rollout_replica *r = &b->in->v[i];
        if (r->state == ROLLOUT_REPLICA_STOPPING || b->stopped[i])
                return false;
        bool is_new = r->revision == target, avail = rollout_replica_available(r, b->in->min_ready_us, b->in->now);
        switch (kind) {
        case PICK_ANY:
                return true;
        case PICK_NEW:
                return is_new;
        case PICK_OLD_UNAVAIL:
                return !is_new && !avail;
        case PICK_OLD_AVAIL:
                return !is_new && avail;
        }
        return false;
}

static int compare_victims(const void *a, const void *b) {
        const struct victim *x = a, *y = b;
        if (x->rank != y->rank)
                return x->rank < y->rank ? -1 : 1;
        return x->index < y->index ? 1 : x->index > y->index ? -1 : 0; /* highest index first */
}

/* Stops up to n live replicas of the given kind, in the order of pick. */
static void stop_n(struct builder *b, uint64_t target, enum pick kind, long n) {
        if (n <= 0)
                return;
        size_t k = 0;
        for (size_t i = 0; i < b->in->n; i++)
                if (is_kind(b, i, target, kind))
                        b->order[k++] = (struct victim) {
                                .i = i,
                                .index = b->in->v[i].index,
                                .rank = kind == PICK_OLD_UNAVAIL && b->in->v[i].ready, /* not ready first */
                        };
        qsort(b->order, k, sizeof *b->order, compare_victims);
        for (size_t i = 0; i < k && (long) i < n; i++)
                plan_stop(b, b->order[i].i);
}

static void wake_at(struct rollout_plan *p, uint64_t t) {
        if (t > 0 && (p->wake_at == 0 || t < p->wake_at))
                p->wake_at = t;
}

int rollout_plan(const struct rollout_input *in, struct rollout_state *st, struct rollout_plan *ret) {
        struct rollout_plan p = {};
        const uint64_t target = st->target;
        const long D = in->replicas;
        unsigned surge, unavail;
        rollout_bounds(in->replicas, in->max_surge, in->max_unavailable, &surge, &unavail);

        /* at most every replica stops, and at most replicas + surge start */
        p.stop = calloc(in->n + 1, sizeof *p.stop);
        p.start = calloc((size_t) D + surge + 1, sizeof *p.start);
        _cleanup_free_ bool *stopped = calloc(in->n + 1, sizeof *stopped);
        /* the lowest free index is at most n + starts: no need to look higher */
        size_t n_taken = in->n + (size_t) D + surge + 1;
        _cleanup_free_ bool *taken = calloc(n_taken, sizeof *taken);
        _cleanup_free_ struct victim *order = calloc(in->n + 1, sizeof *order);
        if (!p.stop || !p.start || !stopped || !taken || !order) {
                rollout_plan_done(&p);
                return -ENOMEM;
        }
        for (size_t i = 0; i < in->n; i++)
                if (in->v[i].index < n_taken)
                        taken[in->v[i].index] = true;
        struct builder b = { .in = in, .p = &p, .stopped = stopped, .taken = taken, .n_taken = n_taken,
                             .order = order };

        /* what is there */
        long live = 0, live_old = 0, new_avail = 0, old_avail = 0, old_stopping = 0;
        bool crashloop = false, readiness = false;
        for (size_t i = 0; i < in->n; i++) {
                const struct rollout_replica *r = &in->v[i];
                bool is_new = r->revision == target;
                if (r->state == ROLLOUT_REPLICA_STOPPING) {
                        old_stopping += !is_new;
                        continue;
                }
                bool avail = rollout_replica_available(r, in->min_ready_us, in->now);
                live++;
                if (r->state == ROLLOUT_REPLICA_RUNNING && r->ready && !avail)
                        wake_at(&p, r->ready_since + in->min_ready_us);
                if (is_new) {
                        p.updated++;
                        p.ready += r->state == ROLLOUT_REPLICA_RUNNING && r->ready;
                        new_avail += avail;
                        crashloop |= r->failed || r->streak >= ROLLOUT_CRASHLOOP_STREAK;
                        readiness |= r->readiness_failed;
                } else {
                        live_old++;
                        old_avail += avail;
                }
        }
        long live_new = (long) p.updated;
        p.available = (unsigned) new_avail;
        p.total = (unsigned) live;
        p.old = (unsigned) (live_old + old_stopping);

        /* the rollout's status (a failed one stays failed until the caller starts another) */
        if (live_old + old_stopping == 0 && live_new == D && new_avail == D) {
                st->status = ROLLOUT_COMPLETE; /* a failed one too, should it get there after all */
                st->failure = ROLLOUT_FAILURE_NONE;
        } else if (st->status != ROLLOUT_FAILED) {
                if (st->status != ROLLOUT_COMPLETE) {
                        st->status = st->paused ? ROLLOUT_PAUSED : ROLLOUT_PROGRESSING;
                        if (!st->paused) {
                                if ((uint64_t) new_avail > st->best_available) {
                                        st->best_available = (uint32_t) new_avail;
                                        st->progress_at = in->now;
                                }
                                if (crashloop) {
                                        st->status = ROLLOUT_FAILED;
                                        st->failure = ROLLOUT_FAILURE_CRASHLOOP;
                                } else if (readiness) {
                                        st->status = ROLLOUT_FAILED;
                                        st->failure = ROLLOUT_FAILURE_READINESS;
                                } else if (in->deadline_us > 0 && in->now >= st->progress_at &&
                                           in->now - st->progress_at >= in->deadline_us) {
                                        st->status = ROLLOUT_FAILED;
                                        st->failure = ROLLOUT_FAILURE_DEADLINE;
                                } else if (in->deadline_us > 0)
                                        wake_at(&p, st->progress_at + in->deadline_us);
                        }
                }
        }

        if (D == 0) {
                /* stopped, removed or shutting down: nothing runs */
                stop_n(&b, target, PICK_ANY, live);
        } else if (st->paused) {
                /* scale only: the mix of revisions stays as it is */
                if (live > D)
                        stop_n(&b, target, PICK_ANY, live - D);
                for (long k = live; k < D; k++)
                        plan_start(&b, st->stable && live_old > 0 ? st->stable : target);
        } else if (in->strategy == STRATEGY_RECREATE) {
                stop_n(&b, target, PICK_OLD_UNAVAIL, live_old);
                stop_n(&b, target, PICK_OLD_AVAIL, live_old);
                if (live_old + old_stopping == 0) {
                        if (live_new > D)
                                stop_n(&b, target, PICK_NEW, live_new - D);
                        for (long k = live_new; k < D; k++)
                                plan_start(&b, target);
                }
        } else {
                long min_avail = D - (long) unavail, max_total = D + (long) surge;
                if (min_avail < 0)
                        min_avail = 0;
                /* scale-down below the new replicas already there */
                if (live_new > D) {
                        long k = live_new - D;
                        stop_n(&b, target, PICK_NEW, k);
                        live -= k;
                        live_new = D;
                        new_avail = MIN(new_avail, D); /* conservative: the stopped ones may have been available */
                }
                /* scale up the new revision within the surge */
                long n_start = MIN(D - live_new, max_total - live);
                for (long k = 0; k < n_start; k++)
                        plan_start(&b, target);
                if (n_start > 0) {
                        live += n_start;
                        live_new += n_start;
                }
                /* scale down the old ones, never below min_avail available */
                long new_unavail = live_new - new_avail;
                long max_down = live - min_avail - new_unavail;
                long n_unavail_old = live_old - old_avail;
                long cleanup = MIN(max_down, n_unavail_old);
                stop_n(&b, target, PICK_OLD_UNAVAIL, cleanup);
                long can_stop = (old_avail + new_avail) - min_avail;
                stop_n(&b, target, PICK_OLD_AVAIL, MIN(can_stop, old_avail));
        }

        if (st->status == ROLLOUT_COMPLETE)
                snprintf(p.message, sizeof p.message, "revision %llu: %u of %ld replicas available",
                         (unsigned long long) target, p.available, D);
        else if (st->status == ROLLOUT_FAILED)
                snprintf(p.message, sizeof p.message, "revision %llu failed (%s): %u of %ld updated replicas available",
                         (unsigned long long) target, rollout_failure_to_string(st->failure), p.available, D);
        else
                snprintf(p.message, sizeof p.message,
                         "revision %llu%s: %u of %ld updated, %u ready, %u available, %u old replica(s) left",
                         (unsigned long long) target, st->paused ? " (paused)" : "", p.updated, D, p.ready,
                         p.available, p.old);
        *ret = p;
        return 0;
}
