// SPDX-License-Identifier: GPL-2.0
/* The protobuf writer against byte strings from the protobuf encoding guide and hand-encoded. */
#include <stdlib.h>

#include "report/protobuf.h"
#include "testing.h"

/* Compares the buffer with the expected bytes and resets it for the next case. */
static void check_bytes(struct protobuf *b, const char *expected, size_t n, const char *what)
{
	char got[256] = "", want[256] = "";
	size_t o = 0;

	for (size_t i = 0; i < b->len && o + 4 < sizeof(got); i++)
		o += (size_t)snprintf(got + o, sizeof(got) - o, "%02x ", b->data[i]);
	o = 0;
	for (size_t i = 0; i < n && o + 4 < sizeof(want); i++)
		o += (size_t)snprintf(want + o, sizeof(want) - o, "%02x ",
				      (unsigned char)expected[i]);
	CHECK(!b->failed && b->len == n && (!n || !memcmp(b->data, expected, n)),
	      "%s: got [%s], expected [%s]", what, got, want);
	protobuf__free(b);
	protobuf__init(b);
}

#define EXPECT(b, lit, what) check_bytes(b, lit, sizeof(lit) - 1, what)

int main(void)
{
	struct protobuf b;
	size_t outer, inner;
	static const uint64_t packed[] = { 3, 270, 86942 };
	static const int64_t negatives[] = { -1, 1 };
	char big[300];

	protobuf__init(&b);

	protobuf__varint(&b, 0);
	EXPECT(&b, "\x00", "varint 0");
	protobuf__varint(&b, 1);
	EXPECT(&b, "\x01", "varint 1");
	protobuf__varint(&b, 127);
	EXPECT(&b, "\x7f", "varint 127");
	protobuf__varint(&b, 128);
	EXPECT(&b, "\x80\x01", "varint 128");
	protobuf__varint(&b, 300);
	EXPECT(&b, "\xac\x02", "varint 300");
	protobuf__varint(&b, 1ULL << 32);
	EXPECT(&b, "\x80\x80\x80\x80\x10", "varint 2^32");
	protobuf__varint(&b, UINT64_MAX);
	EXPECT(&b, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "varint 2^64-1");

	/* The encoding guide's examples: field 1 = 150, field 2 = "testing", field 3 = message
	 * {1: 150}, field 4 packed [3, 270, 86942]. */
	protobuf__uint64(&b, 1, 150);
	EXPECT(&b, "\x08\x96\x01", "uint64 field");
	protobuf__string(&b, 2, "testing");
	EXPECT(&b, "\x12\x07testing", "string field");
	outer = protobuf__begin(&b, 3);
	protobuf__uint64(&b, 1, 150);
	protobuf__end(&b, outer);
	EXPECT(&b, "\x1a\x03\x08\x96\x01", "nested message");
	protobuf__packed_uint64(&b, 4, packed, 3);
	EXPECT(&b, "\x22\x06\x03\x8e\x02\x9e\xa7\x05", "packed repeated");

	protobuf__int64(&b, 2, -1);
	EXPECT(&b, "\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "negative int64 is 10 bytes");
	protobuf__packed_int64(&b, 1, negatives, 2);
	EXPECT(&b, "\x0a\x0b\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x01", "packed int64");
	protobuf__bool(&b, 7, true);
	protobuf__bool(&b, 8, false);
	EXPECT(&b, "\x38\x01\x40\x00", "bools");
	protobuf__uint64(&b, 16, 1);
	EXPECT(&b, "\x80\x01\x01", "field 16 needs a two-byte tag");
	protobuf__string(&b, 6, "");
	EXPECT(&b, "\x32\x00", "empty string");
	protobuf__packed_uint64(&b, 1, packed, 0);
	EXPECT(&b, "", "empty packed field writes nothing");

	/* Nested twice, and an empty message. */
	outer = protobuf__begin(&b, 2);
	inner = protobuf__begin(&b, 3);
	protobuf__uint64(&b, 1, 1);
	protobuf__end(&b, inner);
	inner = protobuf__begin(&b, 4);
	protobuf__end(&b, inner);
	protobuf__end(&b, outer);
	EXPECT(&b, "\x12\x06\x1a\x02\x08\x01\x22\x00", "nested twice");

	/* A body of 300 bytes needs a two-byte length: the body moves by two. */
	memset(big, 'x', sizeof(big));
	outer = protobuf__begin(&b, 1);
	protobuf__bytes(&b, 2, big, 297);
	protobuf__end(&b, outer);
	CHECK(b.len == 1 + 2 + 1 + 2 + 297, "long message: %zu bytes", b.len);
	CHECK(b.data[0] == 0x0a && b.data[1] == 0xac && b.data[2] == 0x02 && b.data[3] == 0x12 &&
		      b.data[4] == 0xa9 && b.data[5] == 0x02 && b.data[6] == 'x' &&
		      b.data[b.len - 1] == 'x',
	      "long message header %02x %02x %02x %02x %02x %02x", b.data[0], b.data[1], b.data[2],
	      b.data[3], b.data[4], b.data[5]);
	protobuf__free(&b);
	return testing_summary("protobuf");
}
