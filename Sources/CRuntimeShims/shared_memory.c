#include "orrery_shared_memory.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void *map_descriptor(int fd, size_t size) {
    void *address = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int saved = errno;
    close(fd);
    errno = saved;
    return address == MAP_FAILED ? NULL : address;
}

void *orrery_shm_create(const char *name, size_t size) {
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return NULL;
    int failure = posix_fallocate(fd, 0, (off_t)size);
    if (failure != 0) {
        close(fd);
        shm_unlink(name);
        errno = failure;
        return NULL;
    }
    void *address = map_descriptor(fd, size);
    if (address == NULL) {
        int saved = errno;
        shm_unlink(name);
        errno = saved;
    }
    return address;
}

void *orrery_shm_open(const char *name, size_t size) {
    int fd = shm_open(name, O_RDWR, 0600);
    if (fd < 0) return NULL;
    struct stat status;
    if (fstat(fd, &status) != 0 || (size_t)status.st_size < size) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    return map_descriptor(fd, size);
}

int orrery_shm_unlink(const char *name) { return shm_unlink(name); }

void orrery_shm_unmap(void *address, size_t size) { munmap(address, size); }

uint32_t orrery_atomic_load(const uint32_t *word) { return __atomic_load_n(word, __ATOMIC_SEQ_CST); }

void orrery_atomic_store(uint32_t *word, uint32_t value) { __atomic_store_n(word, value, __ATOMIC_SEQ_CST); }

uint32_t orrery_atomic_add(uint32_t *word, uint32_t delta) {
    return __atomic_add_fetch(word, delta, __ATOMIC_SEQ_CST);
}

int orrery_atomic_compare_exchange(uint32_t *word, uint32_t expected, uint32_t desired) {
    return __atomic_compare_exchange_n(word, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

void orrery_futex_wait(uint32_t *word, uint32_t expected, long timeout_microseconds) {
    struct timespec timeout = {
        .tv_sec = timeout_microseconds / 1000000,
        .tv_nsec = (timeout_microseconds % 1000000) * 1000,
    };
    syscall(SYS_futex, word, FUTEX_WAIT, expected, &timeout, NULL, 0);
}

void orrery_futex_wake_all(uint32_t *word) { syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0); }

void orrery_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
