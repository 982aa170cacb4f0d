// SPDX-License-Identifier: GPL-2.0
/* Protocol buffers wire format writer (https://protobuf.dev/programming-guides/encoding/). */
#include <stdlib.h>
#include <string.h>

#include "report/protobuf.h"

enum wire_type {
	WIRE_VARINT = 0,
	WIRE_LEN = 2,
};

#define VARINT_MAX 10 /* bytes of a 64-bit varint */

void protobuf__init(struct protobuf *b)
{
	memset(b, 0, sizeof(*b));
}

void protobuf__free(struct protobuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static bool reserve(struct protobuf *b, size_t more)
{
	size_t cap;
	uint8_t *data;

	if (b->failed)
		return false;
	if (b->len + more <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more)
		cap *= 2;
	data = realloc(b->data, cap);
	if (!data) {
		b->failed = true;
		return false;
	}
	b->data = data;
	b->cap = cap;
	return true;
}

static size_t encode_varint(uint64_t v, uint8_t out[VARINT_MAX])
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

void protobuf__varint(struct protobuf *b, uint64_t v)
{
	uint8_t tmp[VARINT_MAX];
	size_t n = encode_varint(v, tmp);

	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, tmp, n);
	b->len += n;
}

static void tag(struct protobuf *b, uint32_t field, enum wire_type wt)
{
	protobuf__varint(b, (uint64_t)field << 3 | wt);
}

void protobuf__uint64(struct protobuf *b, uint32_t field, uint64_t v)
{
	tag(b, field, WIRE_VARINT);
	protobuf__varint(b, v);
}

void protobuf__int64(struct protobuf *b, uint32_t field, int64_t v)
{
	protobuf__uint64(b, field, (uint64_t)v);
}

void protobuf__bool(struct protobuf *b, uint32_t field, bool v)
{
	protobuf__uint64(b, field, v ? 1 : 0);
}

void protobuf__append(struct protobuf *b, const void *data, size_t len)
{
	if (!len || !reserve(b, len))
		return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

void protobuf__bytes(struct protobuf *b, uint32_t field, const void *data, size_t len)
{
	tag(b, field, WIRE_LEN);
	protobuf__varint(b, len);
	protobuf__append(b, data, len);
}

void protobuf__string(struct protobuf *b, uint32_t field, const char *s)
{
	protobuf__bytes(b, field, s, strlen(s));
}

size_t protobuf__begin(struct protobuf *b, uint32_t field)
{
	tag(b, field, WIRE_LEN);
	return b->len;
}

void protobuf__end(struct protobuf *b, size_t mark)
{
	uint8_t tmp[VARINT_MAX];
	size_t body, n;

	if (b->failed || mark > b->len)
		return;
	/* The length precedes the body but is known only now: shift the body to make room. Bodies
	 * are small (one sample, location or function), so the copy costs little. */
	body = b->len - mark;
	n = encode_varint(body, tmp);
	if (!reserve(b, n))
		return;
	memmove(b->data + mark + n, b->data + mark, body);
	memcpy(b->data + mark, tmp, n);
	b->len += n;
}

void protobuf__packed_uint64(struct protobuf *b, uint32_t field, const uint64_t *v, size_t n)
{
	size_t mark;

	if (!n)
		return;
	mark = protobuf__begin(b, field);
	for (size_t i = 0; i < n; i++)
		protobuf__varint(b, v[i]);
	protobuf__end(b, mark);
}

void protobuf__packed_int64(struct protobuf *b, uint32_t field, const int64_t *v, size_t n)
{
	/* int64 is encoded as its two's complement uint64; C lets the unsigned type alias it. */
	protobuf__packed_uint64(b, field, (const uint64_t *)v, n);
}
