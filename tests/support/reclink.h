/* A link that records every frame a stack sends, then passes it on to
 * the stack's real link: for tests that run one conversation two ways
 * (a shortcut on and off) and require the same frames byte for byte. */
#ifndef OASIS_RECLINK_H
#define OASIS_RECLINK_H
#include <stddef.h>
#include <stdint.h>
#include "oasis/oasis.h"

typedef struct test_rec {
    oasis_link link;     /* the stack's link while wrapped */
    oasis_link *inner;   /* where frames really go */
    uint8_t *bytes;      /* each frame: its offload (zeros: none), length, bytes */
    size_t len, cap, frames;
    size_t lent_frames;  /* of those, frames the stack built in the link's loan */
    uint8_t last_dst[6]; /* Ethernet destination of the last IPv4 frame,
                          * or IPv6 frame carrying TCP */
} test_rec;

/* Puts r between s and its link, offloads and all. */
void test_rec_wrap(test_rec *r, oasis_stack *s);
/* Gives s its link back; the record stays until test_rec_free. */
void test_rec_unwrap(test_rec *r, oasis_stack *s);
void test_rec_free(test_rec *r);

/* Asserts that a and b hold the same frames (more than min of them). */
void test_rec_assert_same(const test_rec *a, const test_rec *b, size_t min);
#endif
