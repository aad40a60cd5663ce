// The event loop both C references share (c-floor.c, c-sendfile.c): a nonblocking listener on
// 127.0.0.1:$PORT, level-triggered epoll, TCP_NODELAY, one recv per readable event into the
// connection's input buffer. Each program defines `struct conn` starting with `struct link`
// and its input buffer, and `serve(c)`, which answers what is buffered and returns -1 to close.
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
#include <unistd.h>

// What the loop knows of a connection; first in every program's struct conn.
struct link {
  int fd;
  uint32_t events;  // what epoll is asked for now: EPOLLIN, or EPOLLOUT while a send is unfinished
  size_t in_len;
  size_t in_cap;
  char *in;
};

static int epfd;
static const char *program;

static void die(const char *what) {
  fprintf(stderr, "%s: %s: %s\n", program, what, strerror(errno));
  exit(1);
}

static int want(struct link *c, uint32_t events) {
  if (c->events == events) return 0;
  c->events = events;
  struct epoll_event ev = {.events = events, .data.ptr = c};
  return epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

// Runs forever: accepts with `open_conn(fd)` (a calloc'd struct conn with its link filled),
// reads into a connection's input and calls `serve`; `each_wakeup`, if set, runs once per
// epoll_wait return.
static void run_loop(struct link *(*open_conn)(int fd), int (*serve)(struct link *), void (*each_wakeup)(void)) {
  const char *port = getenv("PORT");
  if (!port) {
    fprintf(stderr, "%s: PORT is not set\n", program);
    exit(1);
  }
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
    if (each_wakeup) each_wakeup();
    for (int i = 0; i < count; i++) {
      struct link *c = ready[i].data.ptr;
      if (!c) {
        int fd;
        while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct link *opened = open_conn(fd);
          if (!opened) die("calloc");
          opened->fd = fd;
          opened->events = EPOLLIN;
          struct epoll_event add = {.events = EPOLLIN, .data.ptr = opened};
          if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &add) < 0) die("epoll_ctl");
        }
        continue;
      }
      int keep = 1;
      if (ready[i].events & EPOLLIN) {  // one recv; 0 is the peer closing
        ssize_t got = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
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
