/* CURVE keys for the C worker, read from the files `orrery keygen` writes. */
#ifndef ORRERY_C_WORKER_CURVE_H
#define ORRERY_C_WORKER_CURVE_H

/* Makes `socket` a CURVE client: its key pair from the secret key file `key_path` (refused
 * when others may read it), the coordinator's public key from `server` (a .pub file or its
 * 40 Z85 characters). Returns 0, or -1 after printing what was wrong. */
int curve_client(void *socket, const char *key_path, const char *server);

#endif
