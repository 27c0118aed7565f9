/* Secrets from the operating system, or from a fixed seed on request. */
#include "core/secrets.h"

#include "core/sha256.h"
#include "oasis/error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

int oasis_os_random(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == ENOSYS) { /* kernels before 3.17 */
            int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                return OASIS_EIO;
            while (n > 0) {
                ssize_t k = read(fd, p, n);
                if (k <= 0 && !(k < 0 && errno == EINTR)) {
                    close(fd);
                    return OASIS_EIO;
                }
                if (k > 0) {
                    p += k;
                    n -= (size_t)k;
                }
            }
            close(fd);
            return OASIS_OK;
        }
        if (r <= 0)
            return OASIS_EIO;
        p += r;
        n -= (size_t)r;
    }
    return OASIS_OK;
}

/* SHA-256(label || seed): one independent value per label. */
static void derive(uint64_t seed, const char *label, void *out, size_t n)
{
    uint8_t d[32], s8[8];
    for (int i = 0; i < 8; i++)
        s8[i] = (uint8_t)(seed >> (8 * i));
    oasis_sha256 c;
    oasis_sha256_init(&c);
    oasis_sha256_update(&c, label, strlen(label));
    oasis_sha256_update(&c, s8, sizeof s8);
    oasis_sha256_final(&c, d);
    memcpy(out, d, n < sizeof d ? n : sizeof d);
}

int oasis_secrets_init(oasis_secrets *sec, uint64_t seed)
{
    memset(sec, 0, sizeof *sec);
    if (seed == 0)
        return oasis_os_random(sec, sizeof *sec);
    derive(seed, "oasis isn", sec->isn_key, sizeof sec->isn_key);
    derive(seed, "oasis cookie", sec->cookie_key, sizeof sec->cookie_key);
    derive(seed, "oasis ipid", sec->ipid_key, sizeof sec->ipid_key);
    derive(seed, "oasis salt", &sec->hash_salt, sizeof sec->hash_salt);
    derive(seed, "oasis prng", sec->prng_seed, sizeof sec->prng_seed);
    derive(seed, "oasis iid", sec->iid_key, sizeof sec->iid_key);
    derive(seed, "oasis flow label", sec->label_key, sizeof sec->label_key);
    derive(seed, "oasis nd", sec->nd_key, sizeof sec->nd_key);
    derive(seed, "oasis reasm", sec->reasm_key, sizeof sec->reasm_key);
    return OASIS_OK;
}
