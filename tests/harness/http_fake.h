/*
 * http_fake - the HTTP/1.1 server behind the test tools' fake peers (the
 * national portal of it_portal and tests/fakeportal, the SMS gateways of
 * it_notify and the chaos test): one listening socket on 127.0.0.1, one thread that accepts
 * connections one at a time, reads one request each (head and body, by
 * Content-Length) and hands it to a handler, then closes the connection.
 *
 * Contract: the handler answers with http_fake_answer() (or not at all: the
 * client then sees the connection close without an answer). Requests are
 * served strictly one after the other, so a handler needs no lock against
 * itself, only against the thread that reads its results. A request that
 * does not arrive whole within 5 s, or is larger than the buffer
 * (HTTP_FAKE_MAX_REQUEST), is dropped unanswered. http_fake_stop() returns
 * once the thread has ended; a handler that blocks must watch its own stop
 * flag.
 */
#ifndef HTTP_FAKE_H
#define HTTP_FAKE_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_FAKE_MAX_REQUEST 65536 /* head + body of one request */

typedef struct http_fake http_fake_t;

/* a request: head is the request line and headers (NUL-terminated after the
 * last header's CRLF), body the body (NUL-terminated, body_len bytes) */
typedef void (*http_fake_handler_fn)(void *ctx, int fd, const char *head, char *body,
                                     size_t body_len);

/* http_fake_start - listen on 127.0.0.1:port (0 = any free port) and serve
 * in a thread; NULL (errno set) if the port cannot be had */
http_fake_t *http_fake_start(int port, http_fake_handler_fn handler, void *ctx);

/* http_fake_port - the port it listens on */
int http_fake_port(const http_fake_t *h);

/* http_fake_stop - stop accepting, join the thread, free; NULLs *h */
void http_fake_stop(http_fake_t **h);

/* http_fake_header - the value of header name (case-insensitive) in head,
 * into out; false (out "") if absent */
bool http_fake_header(const char *head, const char *name, char *out, size_t size);

/* http_fake_answer - send "HTTP/1.1 <status> <reason>" with body (may be
 * "") and Connection: close; -1 if the client went away */
int http_fake_answer(int fd, int status, const char *content_type, const char *body);

#endif
