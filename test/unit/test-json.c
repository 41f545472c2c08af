/* test-json.c - JSON output is well-formed and escaped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tap.h"
#include "unit.h"

void
test_json(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;

	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_string(&j, "s", "a\"b\\c\n\t\x01\xff\xc3\xa9\xc3");
	json_uint(&j, "u", 18446744073709551615ull);
	json_int(&j, "i", -5);
	json_bool(&j, "t", 1);
	json_null(&j, "n");
	json_string(&j, "nulls", NULL);
	json_array_begin(&j, "a");
	json_uint(&j, NULL, 1);
	json_object_begin(&j, NULL);
	json_object_end(&j);
	json_array_end(&j);
	json_array_begin(&j, "empty");
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
	fclose(f);
	is_str(buf,
	    "{\n"
	    "  \"s\": \"a\\\"b\\\\c\\n\\t\\u0001\\u00ff\xc3\xa9\\u00c3\",\n"
	    "  \"u\": 18446744073709551615,\n"
	    "  \"i\": -5,\n"
	    "  \"t\": true,\n"
	    "  \"n\": null,\n"
	    "  \"nulls\": null,\n"
	    "  \"a\": [\n"
	    "    1,\n"
	    "    {}\n"
	    "  ],\n"
	    "  \"empty\": []\n"
	    "}\n", "nested document with escapes");
	free(buf);
}
