/* `oasis iperf`'s control messages without a network: iperf3's parameters
 * and results as iperf3 3.12 writes them, round trips, and a hostile peer's
 * messages (bad types, out-of-range values, too long, too many streams). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iperf.h"

#define S(s) (s), strlen(s)

static int decode_params(const char *json, ipf_params *p)
{
    char why[128];
    return ipf_params_decode(S(json), p, why, sizeof why);
}

static void params_from_iperf3(void **state)
{
    (void)state;
    ipf_params p;
    /* iperf3 3.12's client, -n 1M -P 2 (its --debug output). */
    assert_int_equal(decode_params("{\"tcp\":true,\"omit\":0,\"time\":0,\"num\":1048576,"
                                   "\"blockcount\":0,\"parallel\":2,\"len\":131072,"
                                   "\"pacing_timer\":1000,\"client_version\":\"3.12\"}",
                                   &p),
                     0);
    assert_int_equal(p.tcp, 1);
    assert_int_equal(p.num, 1048576);
    assert_int_equal(p.parallel, 2);
    assert_int_equal(p.len, 131072);
    assert_int_equal(p.reverse, 0);
    assert_string_equal(p.client_version, "3.12");
    assert_int_equal(decode_params("{\"tcp\":true,\"time\":10,\"parallel\":1,\"reverse\":true,"
                                   "\"window\":262144,\"nodelay\":true,\"len\":131072}",
                                   &p),
                     0);
    assert_int_equal(p.time, 10);
    assert_int_equal(p.reverse, 1);
    assert_int_equal(p.window, 262144);
    assert_int_equal(p.nodelay, 1);
    /* No protocol key: TCP, iperf3's default. */
    assert_int_equal(decode_params("{}", &p), 0);
    assert_int_equal(p.tcp, 1);
    assert_int_equal(p.parallel, 1);
    assert_int_equal(p.len, IPF_DEFAULT_BLKSIZE);
}

static void params_round_trip(void **state)
{
    (void)state;
    ipf_params w, p;
    ipf_params_init(&w);
    w.num = 1ull << 40;
    w.parallel = 128;
    w.reverse = 1;
    w.len = 1000;
    w.window = 1 << 20;
    char *s = ipf_params_encode(&w);
    assert_non_null(s);
    assert_int_equal(decode_params(s, &p), 0);
    free(s);
    assert_int_equal(p.num, 1ull << 40);
    assert_int_equal(p.parallel, 128);
    assert_int_equal(p.reverse, 1);
    assert_int_equal(p.len, 1000);
    assert_int_equal(p.window, 1 << 20);
}

static void params_hostile(void **state)
{
    (void)state;
    ipf_params p;
    assert_int_equal(decode_params("{\"parallel\":0}", &p), IPF_IENUMSTREAMS);
    assert_int_equal(decode_params("{\"parallel\":129}", &p), IPF_IENUMSTREAMS);
    assert_int_equal(decode_params("{\"parallel\":1e300}", &p), IPF_IENUMSTREAMS);
    assert_int_equal(decode_params("{\"parallel\":\"2\"}", &p), IPF_IENUMSTREAMS);
    assert_int_equal(decode_params("{\"len\":0}", &p), IPF_IEBLOCKSIZE);
    assert_int_equal(decode_params("{\"len\":1048577}", &p), IPF_IEBLOCKSIZE);
    assert_int_equal(decode_params("{\"time\":-1}", &p), IPF_IERECVPARAMS);
    assert_int_equal(decode_params("{\"time\":86401}", &p), IPF_IERECVPARAMS);
    assert_int_equal(decode_params("{\"num\":1.5}", &p), IPF_IERECVPARAMS);
    assert_int_equal(decode_params("{\"num\":1e30}", &p), IPF_IERECVPARAMS);
    assert_int_equal(decode_params("{\"window\":100}", &p), IPF_IEBUFSIZE);
    assert_int_equal(decode_params("{\"window\":2147483648}", &p), IPF_IEBUFSIZE);
    assert_int_equal(decode_params("{\"blockcount\":9007199254740992,\"len\":1048576}", &p),
                     IPF_IERECVPARAMS);
    assert_int_equal(decode_params("{\"udp\":true}", &p), IPF_IEUNIMP);
    assert_int_equal(decode_params("{\"sctp\":true}", &p), IPF_IEUNIMP);
    assert_int_equal(decode_params("{\"bidirectional\":true}", &p), IPF_IEUNIMP);
    assert_int_equal(decode_params("[1,2]", &p), IPF_IERECVPARAMS);
    assert_int_equal(decode_params("{\"time\":10", &p), IPF_IERECVPARAMS);
    assert_int_equal(decode_params("", &p), IPF_IERECVPARAMS);
    /* Control characters in the version never reach the log. */
    assert_int_equal(decode_params("{\"client_version\":\"3\\u001b[2J\"}", &p), 0);
    assert_string_equal(p.client_version, "3?[2J");
    /* Beyond the bound: refused before parsing. */
    size_t n = IPF_MAX_PARAMS_JSON + 1;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    char why[64];
    assert_int_equal(ipf_params_decode(big, n, &p, why, sizeof why), IPF_IERECVPARAMS);
    assert_int_equal(ipf_params_decode(big, n - 1, &p, why, sizeof why), IPF_IERECVPARAMS);
    big[n - 2] = '}';
    assert_int_equal(ipf_params_decode(big, n - 1, &p, why, sizeof why), 0);
    free(big);
}

static int decode_results(const char *json, ipf_results *r)
{
    char why[128];
    return ipf_results_decode(S(json), r, why, sizeof why);
}

static void results_from_iperf3(void **state)
{
    (void)state;
    static ipf_results r;
    /* iperf3 3.12's receiver: -1 printed through an unsigned conversion. */
    assert_int_equal(
        decode_results("{\"cpu_util_total\":2.07,\"cpu_util_user\":2.03,\"cpu_util_system\":0,"
                       "\"sender_has_retransmits\":18446744073709551615,\"congestion_used\":\"bbr\","
                       "\"streams\":[{\"id\":1,\"bytes\":524288,\"retransmits\":18446744073709551615,"
                       "\"jitter\":0,\"errors\":0,\"packets\":0,\"start_time\":0,\"end_time\":0.00296},"
                       "{\"id\":3,\"bytes\":0,\"retransmits\":-1,\"jitter\":0,\"errors\":0,"
                       "\"packets\":0}]}",
                       &r),
        0);
    assert_int_equal(r.sender_has_retransmits, -1);
    assert_string_equal(r.congestion_used, "bbr");
    assert_int_equal(r.nstreams, 2);
    assert_int_equal(r.streams[0].id, 1);
    assert_int_equal(r.streams[0].bytes, 524288);
    assert_int_equal(r.streams[0].retransmits, -1);
    assert_true(r.streams[0].end_time > 0.0029 && r.streams[0].end_time < 0.0030);
    assert_int_equal(r.streams[1].id, 3);
    assert_int_equal(r.streams[1].retransmits, -1);
    assert_true(r.streams[1].end_time == 0.0);
}

static void results_round_trip(void **state)
{
    (void)state;
    static ipf_results w, r;
    w.cpu_total = 50.5;
    w.sender_has_retransmits = 1;
    w.nstreams = IPF_MAX_STREAMS;
    for (int i = 0; i < IPF_MAX_STREAMS; i++) {
        w.streams[i].id = ipf_stream_id(i);
        w.streams[i].bytes = (uint64_t)i << 33;
        w.streams[i].retransmits = i;
        w.streams[i].end_time = 10.0;
    }
    char *s = ipf_results_encode(&w);
    assert_non_null(s);
    assert_int_equal(decode_results(s, &r), 0);
    free(s);
    assert_int_equal(r.nstreams, IPF_MAX_STREAMS);
    assert_int_equal(r.sender_has_retransmits, 1);
    assert_int_equal(r.streams[127].id, 129);
    assert_int_equal(r.streams[127].bytes, 127ull << 33);
    assert_int_equal(r.streams[127].retransmits, 127);
    assert_true(r.streams[5].end_time == 10.0);
}

static void results_hostile(void **state)
{
    (void)state;
    static ipf_results r;
#define HEAD_ "\"cpu_util_total\":1,\"cpu_util_user\":1,\"cpu_util_system\":0,\"sender_has_retransmits\":0"
    assert_int_equal(decode_results("{\"cpu_util_user\":1,\"cpu_util_system\":0,"
                                    "\"sender_has_retransmits\":0,\"streams\":[]}",
                                    &r),
                     -1);
    assert_int_equal(decode_results("{" HEAD_ "}", &r), -1);                       /* no streams */
    assert_int_equal(decode_results("{" HEAD_ ",\"streams\":{}}", &r), -1);       /* not an array */
    assert_int_equal(decode_results("{" HEAD_ ",\"streams\":[{\"bytes\":1}]}", &r), -1);
    assert_int_equal(decode_results("{" HEAD_ ",\"streams\":[{\"id\":1,\"bytes\":-1}]}", &r), -1);
    assert_int_equal(decode_results("{" HEAD_ ",\"streams\":[{\"id\":1,\"bytes\":\"9\"}]}", &r), -1);
    assert_int_equal(decode_results("{" HEAD_ ",\"streams\":[7]}", &r), -1);
    /* Times out of order or absurd are clamped, not trusted. */
    assert_int_equal(decode_results("{" HEAD_ ",\"streams\":[{\"id\":1,\"bytes\":5,"
                                    "\"start_time\":-3,\"end_time\":1e300}]}",
                                    &r),
                     0);
    assert_true(r.streams[0].start_time == 0.0 && r.streams[0].end_time == 0.0);
    assert_int_equal(r.sender_has_retransmits, 0);
    /* More streams than a test may have. */
    size_t cap = 64 + 40 * (IPF_MAX_STREAMS + 1);
    char *s = malloc(cap);
    assert_non_null(s);
    size_t n = (size_t)snprintf(s, cap, "{" HEAD_ ",\"streams\":[");
    for (int i = 0; i <= IPF_MAX_STREAMS; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s{\"id\":%d,\"bytes\":1}", i ? "," : "", i + 1);
    n += (size_t)snprintf(s + n, cap - n, "]}");
    assert_int_equal(decode_results(s, &r), -1);
    free(s);
    char why[32];
    assert_int_equal(ipf_results_decode("{}", IPF_MAX_RESULTS_JSON + 1, &r, why, sizeof why), -1);
}

static uint64_t counter(void *ud)
{
    return (*(uint64_t *)ud)++;
}

static void ids_and_cookie(void **state)
{
    (void)state;
    /* iperf_add_stream: 1, then 3, 4, 5. */
    assert_int_equal(ipf_stream_id(0), 1);
    assert_int_equal(ipf_stream_id(1), 3);
    assert_int_equal(ipf_stream_id(2), 4);
    char c[IPF_COOKIE_SIZE];
    uint64_t k = 0;
    ipf_make_cookie(c, counter, &k);
    assert_int_equal(strlen(c), 36);
    assert_memory_equal(c, "abcdefghijklmnopqrstuvwxyz234567abcd", 36);
    assert_true(ipf_cookie_printable((const uint8_t *)c));
    c[3] = '\n';
    assert_false(ipf_cookie_printable((const uint8_t *)c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(params_from_iperf3), cmocka_unit_test(params_round_trip),
        cmocka_unit_test(params_hostile),     cmocka_unit_test(results_from_iperf3),
        cmocka_unit_test(results_round_trip), cmocka_unit_test(results_hostile),
        cmocka_unit_test(ids_and_cookie),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
