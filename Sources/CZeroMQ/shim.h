// libzmq, as one C module for Swift. Only the Messaging target imports it.
#include <zmq.h>
#include <errno.h>
