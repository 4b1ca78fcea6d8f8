/*
 * mc_loop - the one event loop of every daemon (after Redis's ae.c): ZeroMQ
 * sockets and file descriptors with a handler each, timers (once after N ms
 * or every N ms, on the monotonic clock) and a stop flag, in one zmq_poll.
 *
 * Contract: single-threaded; handlers run one at a time, to the end (a unit
 * of work in hand is finished before a stop takes effect). A handler
 * returns 0 to go on or -1 to stop the loop with an error; mc_loop_stop()
 * stops it with a status of the caller's choice. Socket and fd handlers are
 * called while their item is readable (level-triggered, like zmq_poll); a
 * repeating timer is due again `every` ms after its handler returned, so a
 * slow handler never makes timers pile up. Timers due at the same moment
 * run in the order they were added. Nothing here logs except a failed poll.
 */
#ifndef MC_LOOP_H
#define MC_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct mc_loop mc_loop_t;

/* a handler: 0 go on, -1 stop the loop (mc_loop_run returns -1) */
typedef int (*mc_loop_fn)(mc_loop_t *loop, void *arg);

/* mc_loop_new - an empty loop; NULL when out of memory */
mc_loop_t *mc_loop_new(void);

/* mc_loop_destroy - free (sockets and fds stay the caller's), NULL the pointer */
void mc_loop_destroy(mc_loop_t **loop);

/* mc_loop_add_socket - call fn when the ZeroMQ socket is readable; 0 or -1 */
int mc_loop_add_socket(mc_loop_t *loop, void *socket, mc_loop_fn fn, void *arg);

/* mc_loop_add_fd - call fn when fd is readable; 0 or -1 */
int mc_loop_add_fd(mc_loop_t *loop, int fd, mc_loop_fn fn, void *arg);

/* mc_loop_pause_socket - stop (paused) or resume watching a socket added
 * before (a broker that cannot take work leaves its clients queued) */
void mc_loop_pause_socket(mc_loop_t *loop, void *socket, bool paused);

/* mc_loop_after - call fn once, after ms; a timer id (> 0) or -1 */
int mc_loop_after(mc_loop_t *loop, int64_t ms, mc_loop_fn fn, void *arg);

/* mc_loop_every - call fn after first_ms, then every ms after each call
 * returned; a timer id (> 0) or -1 */
int mc_loop_every(mc_loop_t *loop, int64_t first_ms, int64_t ms, mc_loop_fn fn, void *arg);

/* mc_loop_timer_reset - make timer id due in ms from now (0: at once) */
void mc_loop_timer_reset(mc_loop_t *loop, int id, int64_t ms);

/* mc_loop_cancel - forget timer id (a no-op when it already ran or is unknown) */
void mc_loop_cancel(mc_loop_t *loop, int id);

/* mc_loop_stop - end mc_loop_run with status once the running handler returns */
void mc_loop_stop(mc_loop_t *loop, int status);

/* mc_loop_stopped - has mc_loop_stop been called (for handlers doing long work)? */
bool mc_loop_stopped(const mc_loop_t *loop);

/* mc_loop_run - poll and dispatch until a stop; the status given to
 * mc_loop_stop, or -1 after a handler or zmq_poll failed */
int mc_loop_run(mc_loop_t *loop);

#endif
