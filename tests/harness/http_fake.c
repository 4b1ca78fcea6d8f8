/*
 * http_fake - a one-thread HTTP/1.1 server for fake peers (see http_fake.h).
 */
#include "http_fake.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct http_fake {
    int                  fd;      /* listening socket */
    int                  port;    /* the port it got */
    pthread_t            thread;  /* serving thread */
    atomic_bool          stop;    /* ask the thread to end */
    http_fake_handler_fn handler; /* called once per whole request */
    void                *ctx;     /* the handler's */
    char                *buf;     /* one request, HTTP_FAKE_MAX_REQUEST bytes */
};

/* http_fake_header - see http_fake.h */
bool http_fake_header(const char *head, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    out[0] = '\0';
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
            const char *v = p + 3 + n;
            v += strspn(v, " \t");
            size_t len = strcspn(v, "\r\n");
            snprintf(out, size, "%.*s", (int)(len < size ? len : size - 1), v);
            return true;
        }
    }
    return false;
}

/* recv_more - wait (5 s at most) and append what arrives to buf; -1 on silence, close or a full buffer */
static int recv_more(int fd, char *buf, size_t size, size_t *used)
{
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1 || *used + 1 >= size)
        return -1;
    ssize_t n = recv(fd, buf + *used, size - 1 - *used, 0);
    if (n <= 0)
        return -1;
    *used += (size_t)n;
    buf[*used] = '\0';
    return 0;
}

/* read_request - head and body of one request into buf; -1 on a broken one */
static int read_request(int fd, char *buf, size_t size, char **body, size_t *body_len)
{
    size_t used = 0;
    char *end = NULL;
    buf[0] = '\0';
    while (!end) {
        if (recv_more(fd, buf, size, &used) != 0)
            return -1;
        end = strstr(buf, "\r\n\r\n");
    }
    end[2] = '\0'; /* the last header keeps its CRLF */
    char cl[32];
    if (!http_fake_header(buf, "Content-Length", cl, sizeof cl))
        snprintf(cl, sizeof cl, "0"); /* no body */
    char *stop = NULL;
    unsigned long want = strtoul(cl, &stop, 10);
    if (stop == cl || *stop != '\0' || want >= size)
        return -1;
    *body = end + 4;
    while (used - (size_t)(*body - buf) < want)
        if (recv_more(fd, buf, size, &used) != 0)
            return -1;
    (*body)[want] = '\0';
    *body_len = want;
    return 0;
}

/* serve_main - accept and serve until told to stop */
static void *serve_main(void *arg)
{
    http_fake_t *h = arg;
    while (!atomic_load(&h->stop)) {
        struct pollfd p = {h->fd, POLLIN, 0};
        if (poll(&p, 1, 100) != 1)
            continue;
        int fd = accept(h->fd, NULL, NULL);
        if (fd < 0)
            continue;
        char *body = NULL;
        size_t body_len = 0;
        if (read_request(fd, h->buf, HTTP_FAKE_MAX_REQUEST, &body, &body_len) == 0)
            h->handler(h->ctx, fd, h->buf, body, body_len);
        close(fd);
    }
    return NULL;
}

/* http_fake_start - see http_fake.h */
http_fake_t *http_fake_start(int port, http_fake_handler_fn handler, void *ctx)
{
    http_fake_t *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->handler = handler;
    h->ctx = ctx;
    h->buf = malloc(HTTP_FAKE_MAX_REQUEST);
    h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (!h->buf || h->fd < 0 ||
        setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(h->fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(h->fd, 64) != 0 ||
        getsockname(h->fd, (struct sockaddr *)&sa, &len) != 0 ||
        pthread_create(&h->thread, NULL, serve_main, h) != 0) {
        int saved = errno;
        if (h->fd >= 0)
            close(h->fd);
        free(h->buf);
        free(h);
        errno = saved;
        return NULL;
    }
    h->port = ntohs(sa.sin_port);
    return h;
}

/* http_fake_port - see http_fake.h */
int http_fake_port(const http_fake_t *h)
{
    return h->port;
}

/* http_fake_stop - see http_fake.h */
void http_fake_stop(http_fake_t **hp)
{
    if (!hp || !*hp)
        return;
    http_fake_t *h = *hp;
    atomic_store(&h->stop, true);
    pthread_join(h->thread, NULL);
    close(h->fd);
    free(h->buf);
    free(h);
    *hp = NULL;
}

/* reason_phrase - the usual text of a status */
static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 415: return "Unsupported Media Type";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

/* http_fake_answer - see http_fake.h */
int http_fake_answer(int fd, int status, const char *content_type, const char *body)
{
    char head[256];
    size_t len = strlen(body);
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, reason_phrase(status), content_type, len);
    if (send(fd, head, (size_t)n, MSG_NOSIGNAL) != n)
        return -1;
    if (len && send(fd, body, len, MSG_NOSIGNAL) != (ssize_t)len)
        return -1;
    return 0;
}
