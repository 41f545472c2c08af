/* test-strbuf.c - strbuf invariants. */
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "tap.h"
#include "unit.h"

void
test_strbuf(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *p;
	size_t len;
	int i;

	is_int(sb.len, 0, "a new strbuf is empty");
	is_str(sb.buf, "", "a new strbuf reads as the empty string");
	strbuf_addstr(&sb, "abc");
	strbuf_addch(&sb, 'd');
	strbuf_addf(&sb, "-%d-%s", 42, "x");
	is_str(sb.buf, "abcd-42-x", "appends and formats");
	is_int(sb.len, 9, "length follows");
	strbuf_add(&sb, "\0z", 2);
	is_int(sb.len, 11, "holds NUL bytes");
	ok(sb.buf[sb.len] == '\0', "stays NUL-terminated");
	strbuf_reset(&sb);
	is_str(sb.buf, "", "reset empties");
	for (i = 0; i < 10000; i++)
		strbuf_addch(&sb, 'a' + i % 26);
	is_int(sb.len, 10000, "grows over many appends");
	ok(sb.alloc > sb.len, "alloc exceeds len");
	strbuf_addchars(&sb, '-', 3);
	ok(memcmp(sb.buf + 10000, "---", 3) == 0, "addchars");
	p = strbuf_detach(&sb, &len);
	is_int(len, 10003, "detach gives the length");
	is_int(sb.len, 0, "detach leaves it empty");
	free(p);
	strbuf_release(&sb);
	strbuf_release(&sb);
	is_str(sb.buf, "", "release twice is harmless");
}
