/* error.h - status codes of the core layers and the record in which a core
 * function describes a failure for the command that reports it.
 *
 * Core functions return 0 on success or one of the negative SC_ERR_* codes
 * below, never print and never exit. Where the caller must be able to say
 * more than the code, they take a struct sc_err and fill it in. */
#ifndef SHARDCAP_ERROR_H
#define SHARDCAP_ERROR_H

#include <stdint.h>

enum {
	SC_OK = 0,
	SC_ERR_SYSTEM = -1,      /* a system call failed; sys_errno says why */
	SC_ERR_USAGE = -2,       /* bad argument or option value */
	SC_ERR_EMPTY = -3,       /* the input is empty */
	SC_ERR_NOT_CAPTURE = -4, /* unknown format, garbage instead of a header */
	SC_ERR_UNSUPPORTED = -5, /* a capture format version we cannot read */
	SC_ERR_TRUNCATED = -6,   /* the input ends inside a record or block */
	SC_ERR_LENGTH = -7,      /* a record, block or option length is impossible */
	SC_ERR_TRAILER = -8,     /* pcapng block trailer disagrees with its header */
	SC_ERR_INTERFACE = -9,   /* a packet names an interface that does not exist */
	SC_ERR_DECOMPRESS = -10, /* the .gz / .zst stream is damaged */
	SC_ERR_EXISTS = -11,     /* an output already exists */
	SC_ERR_LIMIT = -12,      /* a limit of shardcap was reached */
	SC_ERR_INTERRUPTED = -13, /* a signal asked us to stop */
	SC_ERR_CONFIG = -14,     /* the cluster's config file is wrong */
	SC_ERR_NO_CLUSTER = -15, /* no cluster directory here */
	SC_ERR_NOT_FOUND = -16,  /* no such capture or worker */
	SC_ERR_CATALOG = -17,    /* the catalog database failed */
	SC_ERR_WORKER = -18,     /* a worker cannot be reached or failed */
	SC_ERR_BUSY = -19,       /* the capture or worker is in use */
	SC_ERR_JOBS = -20,       /* some jobs of a run failed */
	SC_ERR_STORE = -21,      /* a chunk in the store is damaged */
	SC_ERR_MERGE = -22,      /* per-chunk tables cannot be merged exactly */
	SC_ERR_CHANGED = -23     /* a file changed while it was read */
};

#define SC_ERR_MSG_MAX 320

struct sc_err {
	int code;
	int sys_errno;
	int has_offset;
	uint64_t offset;         /* byte offset in the input the error is about */
	char msg[SC_ERR_MSG_MAX]; /* lower case, no trailing newline */
};

/* Clears e. */
void sc_err_clear(struct sc_err *e);
/* Records code and a formatted message in e (e may be NULL); returns code. */
int sc_err_set(struct sc_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* As sc_err_set, also recording the byte offset the error is about. */
int sc_err_at(struct sc_err *e, int code, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Records SC_ERR_SYSTEM with errno; the message gets ": strerror" appended. */
int sc_err_sys(struct sc_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A short description of a code. */
const char *sc_strerror(int code);
/* The documented process exit status for a code (docs/exit-codes.md). */
int sc_exit_code(int code);
/* True for codes that describe a malformed capture (as opposed to a failure
 * of the system or of the user). */
int sc_err_is_format(int code);

#endif
