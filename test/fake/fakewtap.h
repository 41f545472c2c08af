/* fakewtap.h - the calls libfakewtap.so has of wiretap's API. */
#ifndef FAKEWTAP_H
#define FAKEWTAP_H

#include <stdint.h>

#define FAKEWTAP_PACKET 65536

struct wtap;

/* Opens filename; NULL with *err set if it cannot. */
struct wtap *wtap_open_offline(const char *filename, unsigned type, int *err,
    char **err_info, int do_random);
/* The next up to FAKEWTAP_PACKET bytes into buf, their count into
 * *(size_t *)rec; 0 at the end (*err 0) or on an error (*err set). */
int wtap_read(struct wtap *w, void *rec, void *buf, int *err, char **err_info,
    int64_t *offset);
void wtap_close(struct wtap *w);

#endif
