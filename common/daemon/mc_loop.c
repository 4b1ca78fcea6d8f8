/*
 * mc_loop - one zmq_poll loop with sockets, fds and monotonic timers (see mc_loop.h).
 */
#include "mc_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "mc_log.h"
#include "mc_time.h"

#define LOOP_MAX_ITEMS  16 /* sockets and fds of one daemon */
#define LOOP_MAX_TIMERS 32 /* timers alive at once */

/* one watched socket or descriptor */
typedef struct loop_item {
    void      *socket; /* ZeroMQ socket, or NULL for fd */
    int        fd;     /* descriptor when socket is NULL */
    mc_loop_fn fn;     /* called while readable */
    void      *arg;    /* fn's argument */
    bool       paused; /* not watched for now */
} loop_item_t;

/* one timer */
typedef struct loop_timer {
    int        id;    /* > 0 while alive, 0 free */
    int64_t    due;   /* monotonic ms */
    int64_t    every; /* 0: once */
    mc_loop_fn fn;    /* called when due */
    void      *arg;   /* fn's argument */
} loop_timer_t;

struct mc_loop {
    loop_item_t  items[LOOP_MAX_ITEMS];   /* in the order added */
    int          n_items;                 /* entries in use */
    loop_timer_t timers[LOOP_MAX_TIMERS]; /* free slots have id 0 */
    int          next_id;                 /* the last id given */
    bool         stop;                    /* mc_loop_stop was called */
    int          status;                  /* what mc_loop_run returns then */
};

/* mc_loop_new - zeroed */
mc_loop_t *mc_loop_new(void)
{
    return calloc(1, sizeof(mc_loop_t));
}

/* mc_loop_destroy - free, NULL */
void mc_loop_destroy(mc_loop_t **loop)
{
    if (!loop || !*loop)
        return;
    free(*loop);
    *loop = NULL;
}

/* add_item - one watched socket or fd */
static int add_item(mc_loop_t *loop, void *socket, int fd, mc_loop_fn fn, void *arg)
{
    if (!loop || !fn || loop->n_items == LOOP_MAX_ITEMS || (!socket && fd < 0))
        return -1;
    loop->items[loop->n_items++] = (loop_item_t){socket, fd, fn, arg, false};
    return 0;
}

/* mc_loop_add_socket - a ZeroMQ socket */
int mc_loop_add_socket(mc_loop_t *loop, void *socket, mc_loop_fn fn, void *arg)
{
    return socket ? add_item(loop, socket, -1, fn, arg) : -1;
}

/* mc_loop_add_fd - a descriptor */
int mc_loop_add_fd(mc_loop_t *loop, int fd, mc_loop_fn fn, void *arg)
{
    return add_item(loop, NULL, fd, fn, arg);
}

/* mc_loop_pause_socket - (un)watch a socket */
void mc_loop_pause_socket(mc_loop_t *loop, void *socket, bool paused)
{
    for (int i = 0; i < loop->n_items; i++)
        if (loop->items[i].socket == socket)
            loop->items[i].paused = paused;
}

/* add_timer - a free slot filled; the id or -1 */
static int add_timer(mc_loop_t *loop, int64_t first_ms, int64_t every, mc_loop_fn fn, void *arg)
{
    if (!loop || !fn || first_ms < 0 || every < 0)
        return -1;
    for (int i = 0; i < LOOP_MAX_TIMERS; i++) {
        if (loop->timers[i].id == 0) {
            if (++loop->next_id <= 0)
                loop->next_id = 1;
            loop->timers[i] = (loop_timer_t){loop->next_id, mc_time_mono_ms() + first_ms, every,
                                             fn, arg};
            return loop->next_id;
        }
    }
    return -1;
}

/* mc_loop_after - once */
int mc_loop_after(mc_loop_t *loop, int64_t ms, mc_loop_fn fn, void *arg)
{
    return add_timer(loop, ms, 0, fn, arg);
}

/* mc_loop_every - repeating */
int mc_loop_every(mc_loop_t *loop, int64_t first_ms, int64_t ms, mc_loop_fn fn, void *arg)
{
    return ms > 0 ? add_timer(loop, first_ms, ms, fn, arg) : -1;
}

/* find_timer - the live timer id, or NULL */
static loop_timer_t *find_timer(mc_loop_t *loop, int id)
{
    for (int i = 0; id > 0 && i < LOOP_MAX_TIMERS; i++)
        if (loop->timers[i].id == id)
            return &loop->timers[i];
    return NULL;
}

/* mc_loop_timer_reset - due in ms */
void mc_loop_timer_reset(mc_loop_t *loop, int id, int64_t ms)
{
    loop_timer_t *t = find_timer(loop, id);
    if (t)
        t->due = mc_time_mono_ms() + (ms > 0 ? ms : 0);
}

/* mc_loop_cancel - free the slot */
void mc_loop_cancel(mc_loop_t *loop, int id)
{
    loop_timer_t *t = find_timer(loop, id);
    if (t)
        t->id = 0;
}

/* mc_loop_stop - raise the flag */
void mc_loop_stop(mc_loop_t *loop, int status)
{
    loop->stop = true;
    loop->status = status;
}

/* mc_loop_stopped - the flag */
bool mc_loop_stopped(const mc_loop_t *loop)
{
    return loop->stop;
}

/* next_due - the earliest live timer's slot, or -1 */
static int next_due(const mc_loop_t *loop)
{
    int best = -1;
    for (int i = 0; i < LOOP_MAX_TIMERS; i++) {
        const loop_timer_t *t = &loop->timers[i];
        if (t->id > 0 && (best < 0 || t->due < loop->timers[best].due ||
                          (t->due == loop->timers[best].due && t->id < loop->timers[best].id)))
            best = i;
    }
    return best;
}

/* run_timers - every timer due now, earliest first; -1 when a handler failed */
static int run_timers(mc_loop_t *loop)
{
    int64_t now = mc_time_mono_ms();
    int slot;
    while (!loop->stop && (slot = next_due(loop)) >= 0 && loop->timers[slot].due <= now) {
        loop_timer_t t = loop->timers[slot];
        if (t.every == 0)
            loop->timers[slot].id = 0; /* gone before its handler runs: it may add another */
        int rc = t.fn(loop, t.arg);
        /* the handler may have reset or cancelled it: only a timer left as it was is re-armed */
        if (t.every > 0 && loop->timers[slot].id == t.id && loop->timers[slot].due == t.due)
            loop->timers[slot].due = mc_time_mono_ms() + t.every;
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* mc_loop_run - poll, then sockets and fds in the order added, then timers */
int mc_loop_run(mc_loop_t *loop)
{
    while (!loop->stop) {
        if (run_timers(loop) != 0)
            return -1;
        if (loop->stop)
            break;
        zmq_pollitem_t items[LOOP_MAX_ITEMS];
        int which[LOOP_MAX_ITEMS], n = 0;
        for (int i = 0; i < loop->n_items; i++) {
            if (loop->items[i].paused)
                continue;
            items[n] = (zmq_pollitem_t){loop->items[i].socket, loop->items[i].fd, ZMQ_POLLIN, 0};
            which[n++] = i;
        }
        int slot = next_due(loop);
        long timeout = -1;
        if (slot >= 0) {
            int64_t wait = loop->timers[slot].due - mc_time_mono_ms();
            timeout = wait > 0 ? (long)wait : 0;
        }
        int rc = zmq_poll(items, n, timeout);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            mc_log(MC_LOG_ERR, "poll_failed", "error=\"%s\"", zmq_strerror(errno));
            return -1;
        }
        for (int k = 0; k < n && rc > 0 && !loop->stop; k++) {
            if (!(items[k].revents & ZMQ_POLLIN))
                continue;
            loop_item_t *it = &loop->items[which[k]];
            if (it->fn(loop, it->arg) != 0)
                return -1;
        }
    }
    return loop->status;
}
