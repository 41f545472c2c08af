/*
 * fakewtap.c - libfakewtap.so: the few calls of wiretap's API that
 * fake-tshark makes, with their names and signatures, over plain files:
 * a "packet" is up to 64 KiB of the file's bytes. It lets the tests start
 * a tool warm (src/warm.c takes these calls by name) and count exactly
 * the bytes each of its processes read, without tshark.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "fakewtap.h"

struct wtap {
	int fd;
};

struct wtap *
wtap_open_offline(const char *filename, unsigned type, int *err,
    char **err_info, int do_random)
{
	struct wtap *w;
	int fd;

	(void)type;
	(void)do_random;
	*err_info = NULL;
	if ((fd = open(filename, O_RDONLY | O_CLOEXEC)) < 0) {
		*err = errno;
		return NULL;
	}
	if ((w = malloc(sizeof(*w))) == NULL) {
		close(fd);
		*err = ENOMEM;
		return NULL;
	}
	w->fd = fd;
	*err = 0;
	return w;
}

int
wtap_read(struct wtap *w, void *rec, void *buf, int *err, char **err_info,
    int64_t *offset)
{
	ssize_t n;

	*err_info = NULL;
	do
		n = read(w->fd, buf, FAKEWTAP_PACKET);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		*err = n < 0 ? errno : 0;
		return 0;
	}
	*(size_t *)rec = (size_t)n;
	*offset = 0;
	return 1;
}

void
wtap_close(struct wtap *w)
{
	if (w == NULL)
		return;
	close(w->fd);
	free(w);
}
