// The loopback limit for large answers: a minimal C epoll server that answers every GET of a
// large-body path with a prebuilt head and the fixture file through sendfile(2), the least a
// server can do to put those bytes on the wire. /buffer/<size>, /stream/<size> and
// /static/<size>.bin all answer the file named by <size> (64k or 1m) in $FIXTURES; anything else
// is a 404. One request at a time per connection (the benchmark does not pipeline these cases),
// EPOLLOUT while a send is unfinished (the loop is epoll-loop.h's). Like c-floor.c it trusts
// its client: a reference, not a server. Built by bench/lib/c-build.js.
#include "epoll-loop.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#define IN_CAP 8192
#define HEAD_CAP 256

struct body {
  const char *name;  // as in the paths
  int fd;
  off_t size;
  char head[HEAD_CAP];
  size_t head_len;
};

static struct body bodies[] = {{"64k"}, {"1m"}};
#define BODIES (sizeof bodies / sizeof bodies[0])
static const char not_found[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

struct conn {
  struct link link;
  // The answer under way: its head (or the 404) from `head`, then `file` from `offset` to `end`.
  const char *head;
  size_t head_len, head_sent;
  int file;
  off_t offset, end;
  char in[IN_CAP];
};

static void open_bodies(const char *dir) {
  for (size_t i = 0; i < BODIES; i++) {
    struct body *b = &bodies[i];
    char file[4096];
    snprintf(file, sizeof file, "%s/%s.bin", dir, b->name);
    struct stat st;
    if ((b->fd = open(file, O_RDONLY)) < 0 || fstat(b->fd, &st) < 0) die(file);
    b->size = st.st_size;
    b->head_len = (size_t)snprintf(b->head, HEAD_CAP,
                                   "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %lld\r\n\r\n",
                                   (long long)b->size);
  }
}

// The body a request target names: the last path segment, without ".bin".
static const struct body *route(const char *target, size_t len) {
  const char *slash = memrchr(target, '/', len);
  if (!slash) return NULL;
  size_t name_len = len - (size_t)(slash + 1 - target);
  if (name_len > 4 && memcmp(target + len - 4, ".bin", 4) == 0) name_len -= 4;
  for (size_t i = 0; i < BODIES; i++)
    if (strlen(bodies[i].name) == name_len && memcmp(bodies[i].name, slash + 1, name_len) == 0) return &bodies[i];
  return NULL;
}

// Starts the answer to the first complete head in the input, if there is one and none is under way.
static void next_request(struct conn *c) {
  if (c->head != NULL) return;
  char *head_end = memmem(c->in, c->link.in_len, "\r\n\r\n", 4);
  if (!head_end) return;
  char *target = memchr(c->in, ' ', head_end - c->in);
  char *target_end = target ? memchr(target + 1, ' ', head_end - target - 1) : NULL;
  const struct body *b = target_end ? route(target + 1, target_end - target - 1) : NULL;
  c->head = b ? b->head : not_found;
  c->head_len = b ? b->head_len : sizeof not_found - 1;
  c->head_sent = 0;
  c->file = b ? b->fd : -1;
  c->offset = 0;
  c->end = b ? b->size : 0;
  size_t used = head_end + 4 - c->in;
  c->link.in_len -= used;
  memmove(c->in, head_end + 4, c->link.in_len);
}

// Sends as much of the answers as the socket takes; -1 closes the connection.
static int serve(struct link *link) {
  struct conn *c = (struct conn *)link;
  for (;;) {
    next_request(c);
    if (c->head == NULL) return link->in_len == IN_CAP ? -1 : want(link, EPOLLIN);
    ssize_t sent;
    if (c->head_sent < c->head_len) {
      // MSG_MORE: the head joins the file's first bytes in one segment.
      sent = send(link->fd, c->head + c->head_sent, c->head_len - c->head_sent, MSG_NOSIGNAL | (c->file >= 0 ? MSG_MORE : 0));
      if (sent > 0) c->head_sent += sent;
    } else if (c->offset < c->end) {
      sent = sendfile(link->fd, c->file, &c->offset, c->end - c->offset);
    } else {
      c->head = NULL;
      continue;
    }
    if (sent < 0) return errno == EAGAIN ? want(link, EPOLLOUT) : -1;
  }
}

static struct link *open_conn(int fd) {
  struct conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->file = -1;
  c->link.in = c->in;
  c->link.in_cap = IN_CAP;
  return &c->link;
}

int main(void) {
  program = "c-sendfile";
  const char *dir = getenv("FIXTURES");
  if (!dir) {
    fprintf(stderr, "c-sendfile: FIXTURES is not set\n");
    return 1;
  }
  open_bodies(dir);
  signal(SIGPIPE, SIG_IGN);  // sendfile has no MSG_NOSIGNAL: a client gone mid-file must not kill us
  run_loop(open_conn, serve, NULL);
}
