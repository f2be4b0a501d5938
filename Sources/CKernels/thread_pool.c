// The engine's worker threads: persistent, and spinning for a short while after each job
// before they sleep on a futex, as OpenMP's and OpenBLAS's threads do. Waking a parked
// thread (a futex wake, or Dispatch's concurrentPerform) costs tens of microseconds on this
// VM, a tenth of a 256³ product split over two cores; a spinning thread starts at once.
//
// Jobs come one at a time. A caller that finds the pool busy (another thread's job is
// running) runs its chunks itself, so concurrent callers stay correct and never wait on
// each other.

#include "CKernels.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#define MAX_WORKERS 63

/// How long an idle worker spins before it sleeps: long enough to bridge the elementwise
/// kernels between two products, short enough not to hold a core from other processes.
#define SPIN_NANOSECONDS 50000L

/// One job: `chunks` calls of `body(context, chunk)`, claimed through `next`.
typedef struct {
    void (*body)(void *context, long chunk);
    void *context;
    long chunks;
    _Atomic long next;
    _Atomic long done;
} job_t;

static pthread_mutex_t submit = PTHREAD_MUTEX_INITIALIZER;
static int started;                          // workers started (under `submit`)
static _Atomic uint32_t generation;          // bumped for each job; the futex word
static _Atomic(job_t *) current;             // the running job, or NULL
static _Atomic int users;                    // workers that may be reading `current`
static _Atomic int sleepers;                 // workers parked on the futex

static long monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000000000L + now.tv_nsec;
}

static void run_chunks(job_t *job) {
    long chunk;
    while ((chunk = atomic_fetch_add(&job->next, 1)) < job->chunks) {
        job->body(job->context, chunk);
        atomic_fetch_add_explicit(&job->done, 1, memory_order_release);
    }
}

static void *worker(void *unused) {
    (void)unused;
    uint32_t seen = atomic_load(&generation);
    for (;;) {
        // Spin for a new generation, then sleep until one is posted.
        long deadline = monotonic_ns() + SPIN_NANOSECONDS;
        unsigned spins = 0;
        while (atomic_load_explicit(&generation, memory_order_acquire) == seen) {
            CPU_RELAX();
            if ((++spins & 63) == 0 && monotonic_ns() > deadline) {
                atomic_fetch_add(&sleepers, 1);
                if (atomic_load(&generation) == seen) {
                    syscall(SYS_futex, &generation, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
                }
                atomic_fetch_sub(&sleepers, 1);
                deadline = monotonic_ns() + SPIN_NANOSECONDS;
            }
        }
        seen = atomic_load(&generation);
        // `users` first: the submitter clears `current` and then waits for users to
        // reach zero, so a job seen here is still alive.
        atomic_fetch_add(&users, 1);
        job_t *job = atomic_load(&current);
        if (job) run_chunks(job);
        atomic_fetch_sub(&users, 1);
    }
    return NULL;
}

/// Starts workers until there are `count` (under `submit`); false if none could start.
static int ensure_workers(int count) {
    if (count > MAX_WORKERS) count = MAX_WORKERS;
    while (started < count) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attributes, worker, NULL);
        pthread_attr_destroy(&attributes);
        if (failed) break;
        started++;
    }
    return started > 0;
}

void orrery_pool_run(long chunks, int threads, void (*body)(void *context, long chunk), void *context) {
    job_t job = {.body = body, .context = context, .chunks = chunks, .next = 0, .done = 0};
    if (chunks <= 1 || threads <= 1 || pthread_mutex_trylock(&submit) != 0) {
        run_chunks(&job);
        return;
    }
    if (!ensure_workers(threads - 1)) {
        pthread_mutex_unlock(&submit);
        run_chunks(&job);
        return;
    }
    atomic_store(&current, &job);
    // Sequentially consistent, as is each sleeper's count and check: either the worker
    // sees the new generation before it parks, or this sees the worker and wakes it.
    atomic_fetch_add(&generation, 1);
    if (atomic_load(&sleepers) > 0) syscall(SYS_futex, &generation, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    run_chunks(&job);
    while (atomic_load_explicit(&job.done, memory_order_acquire) < chunks) CPU_RELAX();
    atomic_store(&current, NULL);
    while (atomic_load(&users) > 0) CPU_RELAX();
    pthread_mutex_unlock(&submit);
}
