// Process-level calls Swift cannot make directly: variadic prctl and a signal handler
// that only touches async-signal-safe state.
#ifndef ORRERY_CRUNTIME_SHIMS_H
#define ORRERY_CRUNTIME_SHIMS_H

/// Ask the kernel to send `signal` to this process when its parent exits. 0 on success.
int orrery_set_parent_death_signal(int signal);

/// Route `signal` to a handler that records it (and interrupts blocking calls). 0 on success.
int orrery_trap_signal(int signal);

/// The most recent trapped signal not yet taken, or 0; taking it clears it.
int orrery_take_trapped_signal(void);

/// The most recent trapped signal, or 0, without clearing it.
int orrery_peek_trapped_signal(void);

/// Move the calling thread into the network namespace open at `fd` (setns). 0 on success.
/// Sockets it makes from then on belong to that namespace (tests' network lab).
int orrery_enter_network_namespace(int fd);

#include "orrery_shared_memory.h"

#endif
