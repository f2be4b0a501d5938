// setns(2) needs _GNU_SOURCE, which Swift's Glibc module does not define.
#define _GNU_SOURCE
#include <sched.h>

#include "CRuntimeShims.h"

int orrery_enter_network_namespace(int fd) { return setns(fd, CLONE_NEWNET); }
