// Where the encoder's worker threads run (WorkerPool.swift): away from the CPU of the thread that
// hands them work.
//
// Why: Linux wakes a thread on its waker's CPU when it judges the two share a cache, and a core
// left idle between requests does not pull it over for milliseconds. In `discern serve` at 50
// requests/s `perf sched timehist` showed the encoder's worker and the request's thread taking
// turns on one CPU while the other stood idle, so a message's "two threads" ran on one core.
#define _GNU_SOURCE
#include "DiscernKernels.h"

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>

int dk_current_cpu(void) { return sched_getcpu(); }

int dk_thread_avoid_cpu(pthread_t thread, int cpu) {
  cpu_set_t allowed;
  if (cpu < 0 || sched_getaffinity(0, sizeof allowed, &allowed) != 0) return -1;
  CPU_CLR(cpu, &allowed);
  // A process allowed one CPU has nowhere else to go.
  if (CPU_COUNT(&allowed) == 0) return -1;
  return pthread_setaffinity_np(thread, sizeof allowed, &allowed) == 0 ? 0 : -1;
}

int dk_thread_may_run_on(pthread_t thread, int cpu) {
  cpu_set_t allowed;
  if (cpu < 0 || pthread_getaffinity_np(thread, sizeof allowed, &allowed) != 0) return -1;
  return CPU_ISSET(cpu, &allowed) ? 1 : 0;
}

int dk_allowed_cpus(void) {
  cpu_set_t allowed;
  return sched_getaffinity(0, sizeof allowed, &allowed) == 0 ? CPU_COUNT(&allowed) : -1;
}
#else
int dk_current_cpu(void) { return -1; }
int dk_thread_avoid_cpu(pthread_t thread, int cpu) {
  (void)thread;
  (void)cpu;
  return -1;
}
int dk_thread_may_run_on(pthread_t thread, int cpu) {
  (void)thread;
  (void)cpu;
  return -1;
}
int dk_allowed_cpus(void) { return -1; }
#endif
