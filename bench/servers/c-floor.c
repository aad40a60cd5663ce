// The floor: the least an HTTP/1.1 server on this kernel can do per request. One recv and one
// send per readiness event, nonblocking sockets, level-triggered epoll, TCP_NODELAY, keep-alive,
// every complete head in a read answered in the same send (pipelining). No allocation, no
// parsing beyond the request target: what it costs per request is, near enough, the kernel's cost.
// It trusts its client (the benchmark sends GETs without bodies); it is a reference, not a server.
// Built by bench/lib/c-build.js with `cc -O2`; listens on 127.0.0.1:$PORT.
#include "epoll-loop.h"

#include <time.h>

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
  struct link link;
  size_t out_len, out_sent;
  char in[IN_CAP], out[OUT_CAP];
};

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
  char *start = c->in, *end = c->in + c->link.in_len, *head_end;
  while (c->out_len + ANSWER_CAP <= OUT_CAP && (head_end = memmem(start, end - start, "\r\n\r\n", 4))) {
    const char *line_end = memmem(start, head_end + 2 - start, "\r\n", 2);
    const struct answer *a = route(start, line_end);
    memcpy(c->out + c->out_len, a->bytes, a->len);
    c->out_len += a->len;
    start = head_end + 4;
  }
  c->link.in_len = end - start;
  memmove(c->in, start, c->link.in_len);
}

// Answers what is buffered and sends it; -1 when the connection is to be closed. Normally one
// send; more only when the answers outgrew OUT_CAP, and a short send waits for EPOLLOUT.
static int serve(struct link *link) {
  struct conn *c = (struct conn *)link;
  for (;;) {
    if (c->out_len == 0) answer_heads(c);
    if (c->out_len == 0) return link->in_len == IN_CAP ? -1 : want(link, EPOLLIN);
    ssize_t sent = send(link->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
    if (sent < 0) return errno == EAGAIN ? want(link, EPOLLOUT) : -1;
    c->out_sent += sent;
    if (c->out_sent < c->out_len) return want(link, EPOLLOUT);
    c->out_len = c->out_sent = 0;
  }
}

static struct link *open_conn(int fd) {
  struct conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->link.in = c->in;
  c->link.in_cap = IN_CAP;
  return &c->link;
}

int main(void) {
  program = "c-floor";
  build_answers();
  run_loop(open_conn, serve, refresh_date);
}
