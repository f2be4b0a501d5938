// Shared memory between processes on one host: POSIX segments, 32-bit atomics on words
// inside them, and futex waits on those words. Swift's own atomics cannot live in memory
// that another process maps, so these few calls are C.
#ifndef ORRERY_SHARED_MEMORY_H
#define ORRERY_SHARED_MEMORY_H

#include <stddef.h>
#include <stdint.h>

/// Creates the POSIX segment `name` (e.g. "/orrery-1a2b") of `size` bytes, reserving its
/// pages now so that a full /dev/shm fails here instead of with SIGBUS later, and maps it.
/// NULL on failure, with errno set; a segment of that name must not exist.
void *orrery_shm_create(const char *name, size_t size);

/// Maps the existing segment `name`, which must be at least `size` bytes. NULL on failure
/// (errno set; EINVAL when the segment is smaller than `size`).
void *orrery_shm_open(const char *name, size_t size);

/// Removes the segment's name; mappings stay valid until unmapped. 0 on success.
int orrery_shm_unlink(const char *name);

/// Unmaps a mapping made by the calls above.
void orrery_shm_unmap(void *address, size_t size);

/// Sequentially consistent load, store, add and compare-exchange on a shared word.
uint32_t orrery_atomic_load(const uint32_t *word);
void orrery_atomic_store(uint32_t *word, uint32_t value);
uint32_t orrery_atomic_add(uint32_t *word, uint32_t delta);
/// Stores `desired` if the word holds `expected`; returns 1 if it did.
int orrery_atomic_compare_exchange(uint32_t *word, uint32_t expected, uint32_t desired);

/// Sleeps while the word still holds `expected`, at most `timeout_microseconds`; returns
/// early on a wake, a change or a signal. Works across processes (a non-private futex).
void orrery_futex_wait(uint32_t *word, uint32_t expected, long timeout_microseconds);

/// Wakes every thread sleeping on the word, in any process.
void orrery_futex_wake_all(uint32_t *word);

/// A spin-loop hint to the CPU (PAUSE on x86).
void orrery_cpu_relax(void);

#endif
