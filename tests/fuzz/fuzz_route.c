// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target for lockprof serve's request routing: the input, split at NUL bytes, is the
 * method, the path, then query keys and values as libmicrohttpd hands them over (any bytes).
 * Checks what the server relies on: a refusal has a 4xx status and a message, an answer a known
 * endpoint and a bounded seconds. Seeds: tests/fuzz/corpus/route/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 34

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *fields[MAX_FIELDS];
	struct lp_query_arg args[(MAX_FIELDS - 2) / 2];
	size_t nfields = 0, nargs = 0;
	struct lp_route r;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (char *p = copy; nfields < MAX_FIELDS && p <= copy + size; p += strlen(p) + 1)
		fields[nfields++] = p;
	for (size_t i = 2; i + 1 < nfields; i += 2)
		args[nargs++] = (struct lp_query_arg){ fields[i], fields[i + 1] };
	if (nfields % 2 && nfields > 2) /* a key without '=' */
		args[nargs++] = (struct lp_query_arg){ fields[nfields - 1], NULL };
	route__parse(nfields > 0 ? fields[0] : NULL, nfields > 1 ? fields[1] : NULL, args, nargs,
		     &r);
	if (r.endpoint == LP_EP_NONE) {
		if (r.status != 400 && r.status != 404 && r.status != 405)
			abort();
		if (!memchr(r.error, '\0', sizeof(r.error)) || !r.error[0])
			abort();
	} else if (r.status != 200 || r.seconds > LP_ROUTE_MAX_SECONDS ||
		   r.endpoint > LP_EP_METRICS || !route__path(r.endpoint)[0]) {
		abort();
	}
	free(copy);
	return 0;
}
