#include "CRuntimeShims.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

static volatile sig_atomic_t trapped_signal = 0;

static void record_signal(int signal) { trapped_signal = signal; }

int orrery_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0);
}

int orrery_trap_signal(int signal) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = record_signal;
    sigemptyset(&action.sa_mask);
    // No SA_RESTART: blocking calls (zmq_poll, waitpid) return EINTR so loops notice at once.
    action.sa_flags = 0;
    if (sigaction(signal, &action, NULL) != 0) return -1;
    // A parent may have started this process with the signal blocked; unblock it.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    return pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int orrery_take_trapped_signal(void) {
    int signal = trapped_signal;
    trapped_signal = 0;
    return signal;
}

int orrery_peek_trapped_signal(void) { return trapped_signal; }
