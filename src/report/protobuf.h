/* SPDX-License-Identifier: GPL-2.0 */
/* A minimal protocol buffers writer: varints, tagged scalar fields, length-delimited strings,
 * packed repeated fields and nested messages. Enough for pprof's profile.proto (report_pprof.c);
 * written by hand, as Go's runtime/pprof does, to avoid a protobuf library dependency. */
#ifndef LOCKPROF_SRC_PROTOBUF_H
#define LOCKPROF_SRC_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growing output buffer. After an allocation failure `failed` is set and every later write is
 * dropped, so callers check once at the end. */
struct protobuf {
	uint8_t *data;
	size_t len, cap;
	bool failed;
};

void protobuf__init(struct protobuf *b);
void protobuf__free(struct protobuf *b);

/* A bare base-128 varint (no tag). */
void protobuf__varint(struct protobuf *b, uint64_t v);

/* Varint fields (wire type 0). int64 values are written as their two's complement (10 bytes
 * when negative), as protobuf's int64 type requires. */
void protobuf__uint64(struct protobuf *b, uint32_t field, uint64_t v);
void protobuf__int64(struct protobuf *b, uint32_t field, int64_t v);
void protobuf__bool(struct protobuf *b, uint32_t field, bool v);

/* Length-delimited fields (wire type 2). */
void protobuf__bytes(struct protobuf *b, uint32_t field, const void *data, size_t len);
void protobuf__string(struct protobuf *b, uint32_t field, const char *s);

/* Packed repeated varint fields; nothing is written when n is 0. */
void protobuf__packed_uint64(struct protobuf *b, uint32_t field, const uint64_t *v, size_t n);
void protobuf__packed_int64(struct protobuf *b, uint32_t field, const int64_t *v, size_t n);

/* Appends bytes already encoded (fields built in another buffer), with no tag of their own. */
void protobuf__append(struct protobuf *b, const void *data, size_t len);

/* A nested message: begin writes the field's tag and returns a mark, the caller writes the
 * message's fields, end inserts the length in front of them. Marks nest. */
size_t protobuf__begin(struct protobuf *b, uint32_t field);
void protobuf__end(struct protobuf *b, size_t mark);

#endif
