// An open-loop HTTP/1.1 load generator for `make bench-serve` (issue 19): POST bodies at a fixed
// rate, each timed from the moment it was due, so a slow answer delays no later measurement.
//
// Why not the Python client: at 50 requests/s its own scheduling lateness reached a p99 of 2.4 ms
// on this 2-core machine, and that lateness counts in the server's p99. This client is one thread
// on epoll with an absolute timerfd; its lateness is printed so the reader can see it is small.
//
//   openloop --port P --rate R --seconds S --bodies FILE [--connections N] [--timeout S] [--path /v1/moderate]
//   openloop --port P --rate R --seconds S --get /healthz [...]
//
// FILE holds one JSON body a line, cycled; --get sends that GET instead (the HTTP floor). Output, one line a request in the order they were due:
//   ok <from due, ns> <from write, ns> <write lateness, ns>
//   error <kind>          (timeout, refused, reset, http-<status>, closed)
// then `cpu <seconds>` (this process's user + system time). Nothing is retried.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  char *data;
  size_t length;
} Request;

typedef struct {
  int fd;
  long active;  // index of the request in flight, -1 when idle
  char buffer[1 << 16];
  size_t filled;
} Connection;

typedef struct {
  int64_t due, written, done;
  const char *error;  // NULL while pending or when answered 200; "http" with `status` for another status
  int status;
  int answered;
} Outcome;

// The epoll tag of the timer; a connection's tag is its index.
#define TIMER_TAG UINT32_MAX

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void usage(const char *why) {
  fprintf(stderr, "error: %s\nusage: openloop --port P --rate R --seconds S (--bodies FILE | --get PATH) [--connections N] [--timeout S] [--path PATH]\n", why);
  exit(2);
}

static Request *load_requests(const char *file, int port, const char *path, size_t *count) {
  FILE *in = fopen(file, "r");
  if (!in) { fprintf(stderr, "error: cannot read %s: %s\n", file, strerror(errno)); exit(2); }
  size_t capacity = 1024;
  Request *requests = malloc(capacity * sizeof *requests);
  char *line = NULL;
  size_t line_capacity = 0;
  ssize_t length;
  *count = 0;
  while ((length = getline(&line, &line_capacity, in)) > 0) {
    while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r')) line[--length] = 0;
    if (length == 0) continue;
    if (*count == capacity) requests = realloc(requests, (capacity *= 2) * sizeof *requests);
    char *request = NULL;
    int size = asprintf(&request,
                        "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\nContent-Length: %zd\r\n\r\n%s",
                        path, port, length, line);
    if (size < 0) { fprintf(stderr, "error: out of memory\n"); exit(2); }
    requests[(*count)++] = (Request){request, (size_t)size};
  }
  free(line);
  fclose(in);
  if (*count == 0) { fprintf(stderr, "error: %s has no bodies\n", file); exit(2); }
  return requests;
}

static int open_connection(int port, int epoll, uint32_t index) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) { close(fd); return -1; }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct epoll_event event = {.events = EPOLLIN, .data.u32 = index};
  epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
  return fd;
}

// Closes a connection that failed; it is never reused.
static void drop(Connection *connection, int epoll) {
  epoll_ctl(epoll, EPOLL_CTL_DEL, connection->fd, NULL);
  close(connection->fd);
  connection->fd = -1;
}

// A request that ends without an answer.
static void fail(Outcome *outcome, const char *error) {
  outcome->error = error;
  outcome->answered = 1;
}

// The length of a whole response at the start of `buffer`, 0 while it is incomplete; its status.
static size_t complete_response(const char *buffer, size_t filled, int *status) {
  const char *end = memmem(buffer, filled, "\r\n\r\n", 4);
  if (!end) return 0;
  size_t head = (size_t)(end - buffer) + 4;
  *status = atoi(buffer + 9);  // "HTTP/1.1 200"
  size_t body = 0;
  for (const char *line = buffer; line < end; line = strstr(line, "\r\n") + 2) {
    if (strncasecmp(line, "content-length:", 15) == 0) body = strtoul(line + 15, NULL, 10);
  }
  return filled >= head + body ? head + body : 0;
}

// The request in flight on `connection` is over: answered (`error` NULL, or "http" with `status`) or failed.
static void finish(Connection *connection, Outcome *outcomes, const char *error, int status, int epoll) {
  Outcome *outcome = &outcomes[connection->active];
  outcome->done = now_ns();
  outcome->status = status;
  fail(outcome, error);
  connection->active = -1;
  connection->filled = 0;
  if (error) drop(connection, epoll);
}

int main(int argc, char **argv) {
  int port = 0, connections_limit = 64;
  double rate = 0, seconds = 0, timeout = 10;
  const char *bodies = NULL, *path = "/v1/moderate", *get = NULL;
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) usage("every option takes a value");
    const char *name = argv[i], *value = argv[++i];
    if (!strcmp(name, "--port")) port = atoi(value);
    else if (!strcmp(name, "--rate")) rate = atof(value);
    else if (!strcmp(name, "--seconds")) seconds = atof(value);
    else if (!strcmp(name, "--bodies")) bodies = value;
    else if (!strcmp(name, "--connections")) connections_limit = atoi(value);
    else if (!strcmp(name, "--timeout")) timeout = atof(value);
    else if (!strcmp(name, "--path")) path = value;
    else if (!strcmp(name, "--get")) get = value;
    else usage("unknown option");
  }
  if (port <= 0 || rate <= 0 || seconds <= 0 || !(bodies || get) || connections_limit <= 0) usage("--port, --rate, --seconds and --bodies or --get are required");

  size_t request_count = 1;
  Request *requests;
  if (get) {
    requests = malloc(sizeof *requests);
    int size = asprintf(&requests->data, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", get, port);
    if (size < 0) { fprintf(stderr, "error: out of memory\n"); exit(2); }
    requests->length = (size_t)size;
  } else {
    requests = load_requests(bodies, port, path, &request_count);
  }
  long total = (long)(rate * seconds);
  Outcome *outcomes = calloc((size_t)total, sizeof *outcomes);
  Connection *connections = calloc((size_t)connections_limit, sizeof *connections);
  for (int c = 0; c < connections_limit; c++) connections[c] = (Connection){.fd = -1, .active = -1};

  int epoll = epoll_create1(EPOLL_CLOEXEC);
  int timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  struct epoll_event timer_event = {.events = EPOLLIN, .data.u32 = TIMER_TAG};
  epoll_ctl(epoll, EPOLL_CTL_ADD, timer, &timer_event);

  int64_t interval = (int64_t)(1e9 / rate), timeout_ns = (int64_t)(timeout * 1e9);
  int64_t start = now_ns() + 10000000;
  long next = 0, pending = 0;
  for (long i = 0; i < total; i++) outcomes[i].due = start + i * interval;

  while (next < total || pending > 0) {
    if (next < total) {
      struct itimerspec when = {.it_value = {.tv_sec = outcomes[next].due / 1000000000, .tv_nsec = outcomes[next].due % 1000000000}};
      timerfd_settime(timer, TFD_TIMER_ABSTIME, &when, NULL);
    }
    struct epoll_event events[64];
    int ready = epoll_wait(epoll, events, 64, 5);
    if (ready < 0 && errno != EINTR) { perror("epoll_wait"); return 2; }
    for (int e = 0; e < ready; e++) {
      uint32_t tag = events[e].data.u32;
      if (tag == TIMER_TAG) { uint64_t expirations; (void)!read(timer, &expirations, sizeof expirations); continue; }
      Connection *connection = &connections[tag];
      if (connection->fd < 0) continue;
      ssize_t got = read(connection->fd, connection->buffer + connection->filled, sizeof connection->buffer - connection->filled);
      if (got <= 0) {
        if (connection->active >= 0) { finish(connection, outcomes, got == 0 ? "closed" : "reset", 0, epoll); pending--; }
        else drop(connection, epoll);
        continue;
      }
      connection->filled += (size_t)got;
      int status = 0;
      if (connection->active >= 0 && complete_response(connection->buffer, connection->filled, &status)) {
        finish(connection, outcomes, status == 200 ? NULL : "http", status, epoll);
        pending--;
      }
    }
    int64_t now = now_ns();
    // Every request now due goes out on an idle connection, a new one if none is idle.
    while (next < total && outcomes[next].due <= now) {
      Connection *idle = NULL;
      for (int c = 0; c < connections_limit && !idle; c++) if (connections[c].fd >= 0 && connections[c].active < 0) idle = &connections[c];
      for (int c = 0; c < connections_limit && !idle; c++) {
        if (connections[c].fd < 0) {
          connections[c].fd = open_connection(port, epoll, (uint32_t)c);
          if (connections[c].fd < 0) { fail(&outcomes[next], "refused"); break; }
          idle = &connections[c];
        }
      }
      if (outcomes[next].answered) { next++; continue; }
      if (!idle) {  // every connection busy: wait, and the wait counts in this request's latency
        if (now - outcomes[next].due <= timeout_ns) break;
        fail(&outcomes[next], "timeout");
        next++;
        continue;
      }
      const Request *request = &requests[next % (long)request_count];
      outcomes[next].written = now_ns();
      if (write(idle->fd, request->data, request->length) != (ssize_t)request->length) {
        fail(&outcomes[next], "reset");
        drop(idle, epoll);
      } else {
        idle->active = next;
        pending++;
      }
      next++;
      now = now_ns();
    }
    for (int c = 0; c < connections_limit; c++) {
      if (connections[c].active >= 0 && now - outcomes[connections[c].active].due > timeout_ns) {
        finish(&connections[c], outcomes, "timeout", 0, epoll);
        pending--;
      }
    }
  }

  for (long i = 0; i < total; i++) {
    const Outcome *outcome = &outcomes[i];
    if (outcome->status && outcome->error) printf("error http-%d\n", outcome->status);
    else if (outcome->error) printf("error %s\n", outcome->error);
    else printf("ok %lld %lld %lld\n", (long long)(outcome->done - outcome->due), (long long)(outcome->done - outcome->written),
                (long long)(outcome->written - outcome->due));
  }
  struct rusage usage_now;
  getrusage(RUSAGE_SELF, &usage_now);
  printf("cpu %.6f\n", usage_now.ru_utime.tv_sec + usage_now.ru_stime.tv_sec + (usage_now.ru_utime.tv_usec + usage_now.ru_stime.tv_usec) / 1e6);
  return 0;
}
