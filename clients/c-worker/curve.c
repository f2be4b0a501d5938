/* CURVE keys for the C worker: the file formats of `orrery keygen` (docs/architecture.md,
 * "Security"): NAME.key holds `public-key = Z85` and `secret-key = Z85` lines (mode 0600),
 * NAME.pub one line `Z85 NAME`. */
#include "curve.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <zmq.h>

/* The 40-character key after `field =` in `path` (field NULL: the first token of the first
 * line that is not a comment). Returns 0 and fills `out` (41 bytes), or -1. */
static int read_key(const char *path, const char *field, char out[41]) {
    FILE *file = fopen(path, "r");
    if (!file) return -1;
    char line[512];
    int found = -1;
    while (found < 0 && fgets(line, sizeof line, file)) {
        char *text = line;
        while (isspace((unsigned char)*text)) text++;
        if (*text == '#' || *text == '\0') continue;
        if (field) {
            size_t length = strlen(field);
            if (strncmp(text, field, length) != 0) continue;
            text += length;
            while (isspace((unsigned char)*text) || *text == '=') text++;
        } else if (strncmp(text, "public-key", 10) == 0 || strncmp(text, "secret-key", 10) == 0) {
            continue;
        }
        size_t key = 0;
        while (text[key] && !isspace((unsigned char)text[key])) key++;
        if (key == 40) {
            memcpy(out, text, 40);
            out[40] = '\0';
            found = 0;
        }
    }
    fclose(file);
    return found;
}

int curve_client(void *socket, const char *key_path, const char *server) {
    struct stat info;
    if (stat(key_path, &info) != 0) {
        fprintf(stderr, "orrery-c-worker: %s: cannot read the secret key file\n", key_path);
        return -1;
    }
    if (info.st_mode & 077) {
        fprintf(stderr, "orrery-c-worker: %s: the secret key file is open to others (mode %o); chmod 600 it\n", key_path,
            (unsigned)(info.st_mode & 0777));
        return -1;
    }
    char secret[41], public_key[41], server_key[41];
    if (read_key(key_path, "secret-key", secret) != 0) {
        fprintf(stderr, "orrery-c-worker: %s: no 'secret-key = ...' line\n", key_path);
        return -1;
    }
    if (zmq_curve_public(public_key, secret) != 0) {
        fprintf(stderr, "orrery-c-worker: %s: not a CURVE secret key (or no CURVE in libzmq)\n", key_path);
        return -1;
    }
    if (strlen(server) == 40) {
        memcpy(server_key, server, 41);
    } else if (read_key(server, NULL, server_key) != 0 && read_key(server, "public-key", server_key) != 0) {
        fprintf(stderr, "orrery-c-worker: %s: holds no public key\n", server);
        return -1;
    }
    if (zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, server_key, 40) != 0
        || zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, public_key, 40) != 0
        || zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, secret, 40) != 0) {
        fprintf(stderr, "orrery-c-worker: cannot set CURVE keys: %s\n", zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}
