/* json.h - writing JSON to a stream, for --json output.
 *
 * Members are written in the order of the calls; keys are given for the
 * members of an object and NULL for the elements of an array. Strings are
 * escaped as RFC 8259 requires, bytes that are not UTF-8 as \u00XX. */
#ifndef SHARDCAP_JSON_H
#define SHARDCAP_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	int depth;
	int has_members[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *f);
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
/* value NULL writes null. */
void json_string(struct json *j, const char *key, const char *value);
void json_uint(struct json *j, const char *key, uint64_t value);
void json_int(struct json *j, const char *key, int64_t value);
void json_double(struct json *j, const char *key, double value);
void json_bool(struct json *j, const char *key, int value);
void json_null(struct json *j, const char *key);
/* Ends the document with a newline. */
void json_finish(struct json *j);

#endif
