#include "reclink.h"
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void put(test_rec *r, const void *data, size_t len)
{
    test_append(&r->bytes, &r->len, &r->cap, data, len);
}

static void record(test_rec *r, const uint8_t *frame, size_t len, const oasis_offload *off)
{
    oasis_offload none;
    memset(&none, 0, sizeof none);
    put(r, off ? off : &none, sizeof none);
    uint32_t n = (uint32_t)len;
    put(r, &n, sizeof n);
    put(r, frame, len);
    r->frames++;
    if ((len >= 14 && frame[12] == 0x08 && frame[13] == 0x00) ||
        (len >= 54 && frame[12] == 0x86 && frame[13] == 0xdd && frame[20] == 6))
        memcpy(r->last_dst, frame, 6);
}

static int rec_send(oasis_link *link, const uint8_t *frame, size_t len)
{
    test_rec *r = link->data;
    record(r, frame, len, NULL);
    return r->inner->send(r->inner, frame, len);
}

static int rec_send_offload(oasis_link *link, const uint8_t *frame, size_t len,
                            const oasis_offload *off)
{
    test_rec *r = link->data;
    record(r, frame, len, off);
    return r->inner->send_offload(r->inner, frame, len, off);
}

/* Lending passes through: a lent frame is recorded when committed. */
static uint8_t *rec_lend(oasis_link *link, size_t len)
{
    test_rec *r = link->data;
    return r->inner->tx_lend(r->inner, len);
}

static int rec_commit(oasis_link *link, uint8_t *buf, size_t len)
{
    test_rec *r = link->data;
    if (len)
        record(r, buf, len, NULL);
    r->lent_frames += len != 0;
    return r->inner->tx_commit(r->inner, buf, len);
}

void test_rec_wrap(test_rec *r, oasis_stack *s)
{
    memset(r, 0, sizeof *r);
    r->inner = oasis_stack_link(s);
    r->link = *r->inner;
    r->link.data = r;
    r->link.send = rec_send;
    if (r->inner->send_offload)
        r->link.send_offload = rec_send_offload;
    if (r->inner->tx_lend) {
        r->link.tx_lend = rec_lend;
        r->link.tx_commit = rec_commit;
    }
    oasis_stack_set_link(s, &r->link);
}

void test_rec_unwrap(test_rec *r, oasis_stack *s) { oasis_stack_set_link(s, r->inner); }

void test_rec_free(test_rec *r)
{
    free(r->bytes);
    r->bytes = NULL;
    r->len = r->cap = r->frames = r->lent_frames = 0;
}

void test_rec_assert_same(const test_rec *a, const test_rec *b, size_t min)
{
    assert_true(a->frames > min);
    assert_int_equal(a->frames, b->frames);
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->bytes, b->bytes, a->len);
}
