/*
 * test_loop - mc_loop: timers (once, every, order, reset, cancel), fds and
 * sockets with handlers, the stop status and a failing handler. The loop
 * does the waiting itself: no test sleeps.
 */
#include <unistd.h>

#include <zmq.h>

#include "mc_loop.h"
#include "mc_test.h"
#include "mc_time.h"

/* what the handlers saw */
typedef struct seen {
    int     order[16]; /* tags in call order */
    int     n;         /* entries in order */
    int64_t at[16];    /* monotonic ms of each call */
    int     stop_at;   /* stop the loop after this many calls (0: never) */
    int     status;    /* with this status */
    int     fd;        /* a pipe end to write to, or -1 */
} seen_t;

/* a tag and a shared record, as one handler argument */
typedef struct tagged {
    seen_t *seen; /* shared record */
    int     tag;  /* this handler's tag */
} tagged_t;

/* note - record the call; stop when told */
static int note(mc_loop_t *loop, void *arg)
{
    tagged_t *t = arg;
    seen_t *s = t->seen;
    if (s->n < 16) {
        s->at[s->n] = mc_time_mono_ms();
        s->order[s->n++] = t->tag;
    }
    if (s->stop_at > 0 && s->n >= s->stop_at)
        mc_loop_stop(loop, s->status);
    return 0;
}

/* fail - a handler that fails */
static int fail(mc_loop_t *loop, void *arg)
{
    (void)loop;
    (void)arg;
    return -1;
}

MC_TEST(timers_run_in_due_order)
{
    mc_loop_t *loop = mc_loop_new();
    REQUIRE(loop);
    seen_t s = {.stop_at = 3, .status = 7, .fd = -1};
    tagged_t a = {&s, 1}, b = {&s, 2}, c = {&s, 3};
    int64_t start = mc_time_mono_ms();
    CHECK(mc_loop_after(loop, 40, note, &a) > 0);
    CHECK(mc_loop_after(loop, 10, note, &b) > 0);
    CHECK(mc_loop_after(loop, 0, note, &c) > 0);
    CHECK_INT(mc_loop_run(loop), 7);
    CHECK_INT(s.n, 3);
    CHECK_INT(s.order[0], 3);
    CHECK_INT(s.order[1], 2);
    CHECK_INT(s.order[2], 1);
    CHECK(s.at[1] - start >= 10);
    CHECK(s.at[2] - start >= 40);
    mc_loop_destroy(&loop);
    CHECK(loop == NULL);
}

MC_TEST(every_repeats_after_each_call)
{
    mc_loop_t *loop = mc_loop_new();
    REQUIRE(loop);
    seen_t s = {.stop_at = 4, .status = 0, .fd = -1};
    tagged_t a = {&s, 1};
    CHECK(mc_loop_every(loop, 0, 15, note, &a) > 0);
    CHECK_INT(mc_loop_run(loop), 0);
    CHECK_INT(s.n, 4);
    for (int i = 1; i < s.n; i++)
        CHECK(s.at[i] - s.at[i - 1] >= 15);
    CHECK(mc_loop_every(loop, 0, 0, note, &a) < 0); /* no period, no timer */
    mc_loop_destroy(&loop);
}

MC_TEST(cancel_and_reset)
{
    mc_loop_t *loop = mc_loop_new();
    REQUIRE(loop);
    seen_t s = {.stop_at = 1, .status = 5, .fd = -1};
    tagged_t a = {&s, 1}, b = {&s, 2};
    int never = mc_loop_after(loop, 0, note, &a);
    int later = mc_loop_every(loop, 60000, 60000, note, &b);
    mc_loop_cancel(loop, never);
    mc_loop_timer_reset(loop, later, 0); /* a minute away becomes now */
    int64_t start = mc_time_mono_ms();
    CHECK_INT(mc_loop_run(loop), 5);
    CHECK_INT(s.n, 1);
    CHECK_INT(s.order[0], 2);
    CHECK(s.at[0] - start < 30000);
    mc_loop_destroy(&loop);
}

/* write_pipe - a timer that makes the pipe readable */
static int write_pipe(mc_loop_t *loop, void *arg)
{
    (void)loop;
    seen_t *s = arg;
    return write(s->fd, "x", 1) == 1 ? 0 : -1;
}

/* read_pipe - the fd handler: consume, note, stop */
static int read_pipe(mc_loop_t *loop, void *arg)
{
    tagged_t *t = arg;
    char c;
    if (read(t->tag, &c, 1) != 1)
        return -1;
    t->seen->order[t->seen->n++] = 9;
    mc_loop_stop(loop, 0);
    return 0;
}

MC_TEST(fd_handler_runs_when_readable)
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    mc_loop_t *loop = mc_loop_new();
    REQUIRE(loop);
    seen_t s = {.fd = p[1]};
    tagged_t r = {&s, p[0]};
    CHECK_INT(mc_loop_add_fd(loop, p[0], read_pipe, &r), 0);
    CHECK(mc_loop_after(loop, 5, write_pipe, &s) > 0);
    CHECK_INT(mc_loop_run(loop), 0);
    CHECK_INT(s.n, 1);
    CHECK_INT(s.order[0], 9);
    mc_loop_destroy(&loop);
    close(p[0]);
    close(p[1]);
}

/* read_socket - the socket handler: one message, then stop */
static int read_socket(mc_loop_t *loop, void *arg)
{
    char buf[8];
    if (zmq_recv(arg, buf, sizeof buf, ZMQ_DONTWAIT) != 2)
        return -1;
    mc_loop_stop(loop, 3);
    return 0;
}

/* send_socket - a timer that sends to the watched socket's peer */
static int send_socket(mc_loop_t *loop, void *arg)
{
    (void)loop;
    return zmq_send(arg, "hi", 2, 0) == 2 ? 0 : -1;
}

MC_TEST(socket_handler_and_pause)
{
    void *ctx = zmq_ctx_new();
    REQUIRE(ctx);
    void *in = zmq_socket(ctx, ZMQ_PAIR), *out = zmq_socket(ctx, ZMQ_PAIR);
    REQUIRE(in && out);
    REQUIRE(zmq_bind(in, "inproc://test_loop") == 0);
    REQUIRE(zmq_connect(out, "inproc://test_loop") == 0);
    mc_loop_t *loop = mc_loop_new();
    REQUIRE(loop);
    CHECK_INT(mc_loop_add_socket(loop, in, read_socket, in), 0);
    CHECK_INT(mc_loop_add_socket(loop, NULL, read_socket, in), -1);
    /* paused, the waiting message is not read: the timer's stop comes first */
    CHECK(zmq_send(out, "hi", 2, 0) == 2);
    mc_loop_pause_socket(loop, in, true);
    seen_t s = {.stop_at = 1, .status = 4, .fd = -1};
    tagged_t a = {&s, 1};
    CHECK(mc_loop_after(loop, 20, note, &a) > 0);
    CHECK_INT(mc_loop_run(loop), 4);
    mc_loop_destroy(&loop);
    /* resumed: the message is read */
    loop = mc_loop_new();
    REQUIRE(loop);
    CHECK_INT(mc_loop_add_socket(loop, in, read_socket, in), 0);
    CHECK(mc_loop_after(loop, 0, send_socket, out) > 0);
    CHECK_INT(mc_loop_run(loop), 3);
    mc_loop_destroy(&loop);
    zmq_close(in);
    zmq_close(out);
    zmq_ctx_term(ctx);
}

MC_TEST(failing_handler_stops_with_error)
{
    mc_loop_t *loop = mc_loop_new();
    REQUIRE(loop);
    CHECK(mc_loop_after(loop, 0, fail, NULL) > 0);
    CHECK_INT(mc_loop_run(loop), -1);
    mc_loop_destroy(&loop);
}

int main(void)
{
    mc_test_run(timers_run_in_due_order);
    mc_test_run(every_repeats_after_each_call);
    mc_test_run(cancel_and_reset);
    mc_test_run(fd_handler_runs_when_readable);
    mc_test_run(socket_handler_and_pause);
    mc_test_run(failing_handler_stops_with_error);
    return mc_test_done("test_loop");
}
