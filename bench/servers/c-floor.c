// The floor: the least an HTTP/1.1 server on this kernel can do per request. One recv and one
// send per readiness event, nonblocking sockets, level-triggered epoll, TCP_NODELAY, keep-alive,
// every complete head in a read answered in the same send (pipelining). No allocation, no
// parsing beyond the request target: what it costs per request is, near enough, the kernel's cost.
// It trusts its client (the benchmark sends GETs without bodies); it is a reference, not a server.
// Built by bench/lib/c-build.js with `cc -O2`; listens on 127.0.0.1:$PORT.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IN_CAP 8192      // a head larger than this closes the connection
#define OUT_CAP 16384    // answers gathered per send; the rest wait for the next round
#define ANSWER_CAP 256   // the longest whole response below
#define DATE_LEN 29      // "Sun, 06 Nov 1994 08:49:37 GMT"

// One whole response per known target, its Date rewritten in place once a second.
struct answer {
  const char *target, *status, *type, *body;
  char bytes[ANSWER_CAP];
  size_t len, date_at;
};

static struct answer answers[] = {
  {"/", "200 OK", "text/plain", "Hello, World!"},
  {"/hello/world", "200 OK", "text/plain", "Hello, world!"},
  {"/users/42", "200 OK", "application/json", "{\"id\":42,\"name\":\"User 42\"}"},
  {NULL, "404 Not Found", "text/plain", "Not Found"},  // any other target
};
#define ANSWERS (sizeof answers / sizeof answers[0])

struct conn {
  int fd;
  uint32_t events;  // what epoll is asked for now: EPOLLIN, or EPOLLOUT while a send is unfinished
  size_t in_len, out_len, out_sent;
  char in[IN_CAP], out[OUT_CAP];
};

static int epfd;

static void die(const char *what) {
  fprintf(stderr, "c-floor: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void build_answers(void) {
  for (size_t i = 0; i < ANSWERS; i++) {
    struct answer *a = &answers[i];
    int head = snprintf(a->bytes, ANSWER_CAP, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nDate: ",
                        a->status, a->type, strlen(a->body));
    a->date_at = (size_t)head;
    a->len = (size_t)snprintf(a->bytes + head, ANSWER_CAP - head, "%*s\r\n\r\n%s", DATE_LEN, "", a->body) + head;
  }
}

// Called once per epoll_wait wake-up, before any answer is written: a time() call (vDSO, no
// syscall) and, when the second has changed, one strftime for all answers.
static void refresh_date(void) {
  static time_t shown = -1;
  time_t now = time(NULL);
  if (now == shown) return;
  shown = now;
  char date[DATE_LEN + 1];
  struct tm tm;
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
  for (size_t i = 0; i < ANSWERS; i++) memcpy(answers[i].bytes + answers[i].date_at, date, DATE_LEN);
}

// The answer for the target of a request line ("GET /users/42 HTTP/1.1").
static const struct answer *route(const char *line, const char *line_end) {
  const char *target = memchr(line, ' ', line_end - line);
  const char *target_end = target ? memchr(target + 1, ' ', line_end - target - 1) : NULL;
  if (target_end) {
    size_t len = target_end - ++target;
    for (size_t i = 0; answers[i].target; i++)
      if (strlen(answers[i].target) == len && memcmp(answers[i].target, target, len) == 0) return &answers[i];
  }
  return &answers[ANSWERS - 1];
}

// Answers every complete head in the input (as many as fit the output), keeps a partial one.
static void answer_heads(struct conn *c) {
  char *start = c->in, *end = c->in + c->in_len, *head_end;
  while (c->out_len + ANSWER_CAP <= OUT_CAP && (head_end = memmem(start, end - start, "\r\n\r\n", 4))) {
    const char *line_end = memmem(start, head_end + 2 - start, "\r\n", 2);
    const struct answer *a = route(start, line_end);
    memcpy(c->out + c->out_len, a->bytes, a->len);
    c->out_len += a->len;
    start = head_end + 4;
  }
  c->in_len = end - start;
  memmove(c->in, start, c->in_len);
}

static int want(struct conn *c, uint32_t events) {
  if (c->events == events) return 0;
  c->events = events;
  struct epoll_event ev = {.events = events, .data.ptr = c};
  return epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

// Answers what is buffered and sends it; -1 when the connection is to be closed. Normally one
// send; more only when the answers outgrew OUT_CAP, and a short send waits for EPOLLOUT.
static int serve(struct conn *c) {
  for (;;) {
    if (c->out_len == 0) answer_heads(c);
    if (c->out_len == 0) return c->in_len == IN_CAP ? -1 : want(c, EPOLLIN);
    ssize_t sent = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
    if (sent < 0) return errno == EAGAIN ? want(c, EPOLLOUT) : -1;
    c->out_sent += sent;
    if (c->out_sent < c->out_len) return want(c, EPOLLOUT);
    c->out_len = c->out_sent = 0;
  }
}

static void accept_all(int listener) {
  int fd, one = 1;
  while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn *c = calloc(1, sizeof *c);
    if (!c) die("calloc");
    c->fd = fd;
    c->events = EPOLLIN;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
  }
}

int main(void) {
  const char *port = getenv("PORT");
  if (!port) {
    fprintf(stderr, "c-floor: PORT is not set\n");
    return 1;
  }
  build_answers();
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(port)), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(listener, SOMAXCONN) < 0) die("listen");
  if ((epfd = epoll_create1(0)) < 0) die("epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};  // NULL marks the listener
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev) < 0) die("epoll_ctl");

  struct epoll_event ready[256];
  for (;;) {
    int count = epoll_wait(epfd, ready, 256, -1);
    if (count < 0 && errno != EINTR) die("epoll_wait");
    refresh_date();
    for (int i = 0; i < count; i++) {
      struct conn *c = ready[i].data.ptr;
      if (!c) {
        accept_all(listener);
        continue;
      }
      int keep = 1;
      if (ready[i].events & EPOLLIN) {  // one recv; 0 is the peer closing
        ssize_t got = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
        keep = got > 0 || (got < 0 && errno == EAGAIN);
        if (got > 0) c->in_len += got;
      } else if (ready[i].events & (EPOLLERR | EPOLLHUP)) {
        keep = 0;
      }
      if (!keep || serve(c) < 0) {
        close(c->fd);  // also removes it from the epoll set
        free(c);
      }
    }
  }
}
