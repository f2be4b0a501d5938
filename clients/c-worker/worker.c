/*
 * orrery-c-worker: a worker for Orrery's `sweep` workload in plain C.
 *
 * It speaks the same wire as the Swift worker, from the same proto/ files, and keeps the
 * contract in docs/wire.md: a DEALER socket whose routing id is the worker id plus a
 * random suffix fixed for the life of the process (so the coordinator tells this
 * process's reconnects from another process claiming the id), frames of at most 64 MiB,
 * one protobuf Envelope per frame. It registers, heartbeats at once and then every
 * interval, re-registers when the coordinator says it does not know it or goes silent,
 * backs off after REJECT_DUPLICATE_WORKER or REJECT_CLUSTER_FULL, ignores a liveness
 * contract outside the documented bounds, evaluates leased sweep tasks and returns their
 * results.
 *
 *   orrery-c-worker --coordinator tcp://127.0.0.1:7100 --id c-worker-1 [--heartbeat-ms 1000]
 *                   [--curve-key NAME.key --curve-coordinator-key COORDINATOR.pub]
 *
 * With --curve-key it talks CURVE to a coordinator that runs it (it has no data plane, so
 * it needs no allow-list of its own).
 *
 * Exit status: 0 after SIGINT/SIGTERM or a Shutdown message; 2 for bad arguments; 3 when
 * the coordinator refuses this worker.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "curve.h"
#include "functions.h"
#include "orrery/v1/envelope.pb-c.h"
#include "orrery/v1/workloads/sweep.pb-c.h"

#define PROTOCOL_VERSION 1

static volatile sig_atomic_t stop_signal = 0;
static void on_signal(int number) { stop_signal = number; }

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends one envelope frame; returns 0 or -1. */
static int send_envelope(void *socket, Orrery__V1__Envelope *envelope) {
    envelope->protocol_version = PROTOCOL_VERSION;
    size_t size = orrery__v1__envelope__get_packed_size(envelope);
    uint8_t *buffer = malloc(size ? size : 1);
    if (!buffer) return -1;
    orrery__v1__envelope__pack(envelope, buffer);
    int rc = zmq_send(socket, buffer, size, ZMQ_DONTWAIT);
    free(buffer);
    return rc < 0 ? -1 : 0;
}

static void send_register(void *socket, const char *worker_id) {
    Orrery__V1__Register reg = ORRERY__V1__REGISTER__INIT;
    char hostname[256] = "unknown";
    gethostname(hostname, sizeof hostname - 1);
    char *capabilities[] = {"sweep"};
    reg.worker_id = (char *)worker_id;
    reg.cores = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
    reg.memory_bytes = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGE_SIZE);
    reg.n_capabilities = 1;
    reg.capabilities = capabilities;
    reg.slots = 1;
    reg.hostname = hostname;
    reg.pid = (uint32_t)getpid();
    reg.agent = "orrery-c/1";
    Orrery__V1__Envelope envelope = ORRERY__V1__ENVELOPE__INIT;
    envelope.body_case = ORRERY__V1__ENVELOPE__BODY_REGISTER;
    envelope.register_ = &reg;
    send_envelope(socket, &envelope);
}

static void send_heartbeat(void *socket, uint64_t sequence) {
    Orrery__V1__Heartbeat heartbeat = ORRERY__V1__HEARTBEAT__INIT;
    heartbeat.sequence = sequence;
    Orrery__V1__Envelope envelope = ORRERY__V1__ENVELOPE__INIT;
    envelope.body_case = ORRERY__V1__ENVELOPE__BODY_HEARTBEAT;
    envelope.heartbeat = &heartbeat;
    send_envelope(socket, &envelope);
}

static void send_result(void *socket, Orrery__V1__TaskResult *result) {
    Orrery__V1__TaskResult *results[] = {result};
    Orrery__V1__ResultBatch batch = ORRERY__V1__RESULT_BATCH__INIT;
    batch.n_results = 1;
    batch.results = results;
    Orrery__V1__Envelope envelope = ORRERY__V1__ENVELOPE__INIT;
    envelope.body_case = ORRERY__V1__ENVELOPE__BODY_RESULTS;
    envelope.results = &batch;
    send_envelope(socket, &envelope);
}

static void send_failure(void *socket, const Orrery__V1__TaskLease *lease, const char *message) {
    Orrery__V1__TaskFailure failure = ORRERY__V1__TASK_FAILURE__INIT;
    failure.message = (char *)message;
    failure.retryable = 0;
    Orrery__V1__TaskResult result = ORRERY__V1__TASK_RESULT__INIT;
    result.task_id = lease->task_id;
    result.attempt = lease->attempt;
    result.outcome_case = ORRERY__V1__TASK_RESULT__OUTCOME_FAILURE;
    result.failure = &failure;
    send_result(socket, &result);
}

/* Evaluates one sweep lease and sends its result (or a non-retryable failure). */
static void run_lease(void *socket, const Orrery__V1__TaskLease *lease) {
    if (strcmp(lease->workload, "sweep") != 0) {
        send_failure(socket, lease, "the C worker runs only the sweep workload");
        return;
    }
    int64_t started = now_ms();
    Orrery__V1__Workloads__SweepTask *task =
        orrery__v1__workloads__sweep_task__unpack(NULL, lease->payload.len, lease->payload.data);
    if (!task) {
        send_failure(socket, lease, "payload is not a valid orrery.v1.workloads.SweepTask");
        return;
    }
    double *values = calloc(task->n_points ? task->n_points : 1, sizeof *values);
    char message[160] = "";
    for (size_t i = 0; values && i < task->n_points; i++) {
        const Orrery__V1__Workloads__SweepPoint *point = task->points[i];
        if (orrery_benchmark(task->function, point->x, point->n_x, &values[i]) != 0) {
            snprintf(message, sizeof message, "cannot evaluate %s at point %zu (%zu coordinates)", task->function, i, point->n_x);
            break;
        }
    }
    if (!values || message[0]) {
        send_failure(socket, lease, values ? message : "out of memory");
    } else {
        Orrery__V1__Workloads__SweepResult sweep = ORRERY__V1__WORKLOADS__SWEEP_RESULT__INIT;
        sweep.n_values = task->n_points;
        sweep.values = values;
        size_t size = orrery__v1__workloads__sweep_result__get_packed_size(&sweep);
        uint8_t *payload = malloc(size ? size : 1);
        orrery__v1__workloads__sweep_result__pack(&sweep, payload);
        Orrery__V1__TaskSuccess success = ORRERY__V1__TASK_SUCCESS__INIT;
        success.payload.len = size;
        success.payload.data = payload;
        Orrery__V1__TaskResult result = ORRERY__V1__TASK_RESULT__INIT;
        result.task_id = lease->task_id;
        result.attempt = lease->attempt;
        result.outcome_case = ORRERY__V1__TASK_RESULT__OUTCOME_SUCCESS;
        result.success = &success;
        result.elapsed_ms = (double)(now_ms() - started);
        send_result(socket, &result);
        free(payload);
    }
    free(values);
    orrery__v1__workloads__sweep_task__free_unpacked(task, NULL);
}

int main(int argc, char **argv) {
    const char *endpoint = NULL, *worker_id = NULL, *curve_key = NULL, *curve_server = NULL;
    int64_t interval = 1000, misses = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--coordinator") == 0) endpoint = argv[i + 1];
        else if (strcmp(argv[i], "--id") == 0) worker_id = argv[i + 1];
        else if (strcmp(argv[i], "--heartbeat-ms") == 0) interval = atoll(argv[i + 1]);
        else if (strcmp(argv[i], "--curve-key") == 0) curve_key = argv[i + 1];
        else if (strcmp(argv[i], "--curve-coordinator-key") == 0) curve_server = argv[i + 1];
        else {
            fprintf(stderr, "orrery-c-worker: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!endpoint || !worker_id || interval <= 0 || (!curve_key != !curve_server)) {
        fprintf(stderr, "usage: orrery-c-worker --coordinator ENDPOINT --id NAME [--heartbeat-ms N]"
                        " [--curve-key FILE --curve-coordinator-key FILE|Z85]\n");
        return 2;
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);

    void *context = zmq_ctx_new();
    void *socket = zmq_socket(context, ZMQ_DEALER);
    int linger = 500, hwm = 100000;
    zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(socket, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(socket, ZMQ_RCVHWM, &hwm, sizeof hwm);
    int64_t max_message = 64 << 20;
    zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &max_message, sizeof max_message);
    char routing_id[256];
    struct timespec seed;
    clock_gettime(CLOCK_REALTIME, &seed);
    srand((unsigned)(seed.tv_nsec ^ getpid()));
    snprintf(routing_id, sizeof routing_id, "%.200s#%08x%08x", worker_id, (unsigned)rand(), (unsigned)getpid());
    zmq_setsockopt(socket, ZMQ_ROUTING_ID, routing_id, strlen(routing_id));
    if (curve_key && curve_client(socket, curve_key, curve_server) != 0) return 2;
    if (zmq_connect(socket, endpoint) != 0) {
        fprintf(stderr, "orrery-c-worker: cannot connect to %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
        return 2;
    }

    int registered = 0, status = 0;
    uint64_t sequence = 0;
    int64_t last_heard = now_ms(), next_heartbeat = 0, last_register = now_ms(), backoff_until = 0;
    send_register(socket, worker_id);
    while (!stop_signal) {
        zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 50) < 0 && zmq_errno() != EINTR) break;
        zmq_msg_t message;
        zmq_msg_init(&message);
        while (zmq_msg_recv(&message, socket, ZMQ_DONTWAIT) >= 0) {
            Orrery__V1__Envelope *envelope =
                orrery__v1__envelope__unpack(NULL, zmq_msg_size(&message), zmq_msg_data(&message));
            if (!envelope || envelope->protocol_version != PROTOCOL_VERSION) {
                fprintf(stderr, "orrery-c-worker: dropped an unreadable frame\n");
                if (envelope) orrery__v1__envelope__free_unpacked(envelope, NULL);
                continue;
            }
            last_heard = now_ms();
            switch (envelope->body_case) {
            case ORRERY__V1__ENVELOPE__BODY_REGISTERED:
                registered = 1;
                next_heartbeat = 0; /* the first heartbeat at once: no leases before it */
                /* Bounds from docs/wire.md; outside them the worker keeps its own contract. */
                if (envelope->registered->heartbeat_interval_ms >= 10 && envelope->registered->heartbeat_interval_ms <= 600000 &&
                    envelope->registered->heartbeat_misses >= 1 && envelope->registered->heartbeat_misses <= 1000) {
                    interval = envelope->registered->heartbeat_interval_ms;
                    misses = envelope->registered->heartbeat_misses;
                }
                fprintf(stderr, "orrery-c-worker: registered with %s\n", envelope->registered->coordinator_id);
                break;
            case ORRERY__V1__ENVELOPE__BODY_LEASES:
                for (size_t i = 0; i < envelope->leases->n_leases; i++) run_lease(socket, envelope->leases->leases[i]);
                break;
            case ORRERY__V1__ENVELOPE__BODY_SHUTDOWN:
                stop_signal = SIGTERM;
                break;
            case ORRERY__V1__ENVELOPE__BODY_REJECT:
                if (envelope->reject->code == ORRERY__V1__REJECT_CODE__REJECT_UNKNOWN_WORKER) {
                    registered = 0;
                    send_register(socket, worker_id);
                    last_register = now_ms();
                } else if (envelope->reject->code == ORRERY__V1__REJECT_CODE__REJECT_DUPLICATE_WORKER ||
                           envelope->reject->code == ORRERY__V1__REJECT_CODE__REJECT_CLUSTER_FULL) {
                    fprintf(stderr, "orrery-c-worker: %s; registering again later\n", envelope->reject->reason);
                    registered = 0;
                    backoff_until = now_ms() + interval * misses;
                } else if (envelope->reject->code == ORRERY__V1__REJECT_CODE__REJECT_RATE_LIMITED) {
                    /* a client-side code: not meant for workers, nothing to do */
                } else {
                    fprintf(stderr, "orrery-c-worker: refused: %s\n", envelope->reject->reason);
                    stop_signal = SIGTERM;
                    status = 3;
                }
                break;
            default:
                break; /* heartbeats and cancels: nothing to do for synchronous tasks */
            }
            orrery__v1__envelope__free_unpacked(envelope, NULL);
        }
        zmq_msg_close(&message);

        int64_t now = now_ms();
        if (registered && now >= next_heartbeat) {
            send_heartbeat(socket, ++sequence);
            next_heartbeat = now + interval;
        }
        if (now >= backoff_until &&
            ((registered && now - last_heard > interval * misses) || (!registered && now - last_register > interval))) {
            registered = 0;
            send_register(socket, worker_id);
            last_register = now;
        }
    }
    zmq_close(socket);
    zmq_ctx_term(context);
    return status;
}
