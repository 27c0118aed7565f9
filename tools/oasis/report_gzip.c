/* gzip for the reporter's request bodies (--influx-gzip), with zlib.
 *
 * It lives in the tool, not in liboasis: the library stays free of
 * dependencies and takes a compression function (oasis_reporter_config.gzip);
 * the `oasis` command links zlib when the build finds it (OASIS_HAVE_ZLIB). */
#include "report.h"

#ifdef OASIS_HAVE_ZLIB
#include <zlib.h>

size_t report_gzip(void *ud, const void *in, size_t len, void *out, size_t cap)
{
    z_stream z = {0};
    (void)ud;
    /* windowBits 15 + 16: a gzip header and trailer (RFC 1952), not zlib's. */
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t n = rc == Z_STREAM_END ? (size_t)z.total_out : 0; /* else it did not fit */
    deflateEnd(&z);
    return n;
}

int report_gzip_available(void) { return 1; }
#else
size_t report_gzip(void *ud, const void *in, size_t len, void *out, size_t cap)
{
    (void)ud, (void)in, (void)len, (void)out, (void)cap;
    return 0;
}

int report_gzip_available(void) { return 0; }
#endif
