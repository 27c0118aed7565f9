/* Standalone driver for the fuzz targets (builds without libFuzzer).
 *
 *   fuzz_X_run [--iterations=N] [--seed=S] [FILE|DIR]...
 *
 * Runs every file given (directories: every regular file in them), then N
 * (default 3000, or env FUZZ_ITERATIONS) inputs made by mutating those files
 * with a fixed-seed PRNG, so a run is reproducible: a failing iteration
 * prints its number and can be replayed with the same arguments. Each input
 * is copied into a buffer of its exact size so ASan builds catch over-reads.
 * An input that runs over FUZZ_TIMEOUT seconds (20) aborts the run: a hang is
 * a bug too. With FUZZ_SAVE=path every input is written to path before it
 * runs, so after a crash path holds the input that caused it (replay it with
 * `fuzz_X_run --iterations=0 path`, or feed it to the libFuzzer binary). */
#include "fuzz.h"

#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_MAX_INPUT 8192
#define MAX_CORPUS 4096

typedef struct blob {
    uint8_t *p;
    size_t n;
} blob;

static blob corpus[MAX_CORPUS];
static size_t ncorpus;

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64*: small, deterministic, good enough to pick mutations. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static size_t rng_below(size_t n) { return n ? (size_t)(rng() % n) : 0; }

static void on_alarm(int sig)
{
    static const char msg[] = "fuzz driver: an input ran too long (hang?)\n";
    (void)sig;
    (void)!write(2, msg, sizeof msg - 1);
    abort();
}

static unsigned input_timeout = 20;
static const char *save_path;

static void save_input(const uint8_t *p, size_t n)
{
    FILE *f = fopen(save_path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(save_path);
        exit(2);
    }
}

static void run_one(const uint8_t *p, size_t n)
{
    /* Exact-size heap copy: an over-read lands in ASan's redzone. */
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy) {
        perror("malloc");
        exit(2);
    }
    if (n)
        memcpy(copy, p, n);
    if (save_path)
        save_input(p, n);
    alarm(input_timeout);
    LLVMFuzzerTestOneInput(copy, n);
    alarm(0);
    free(copy);
}

static void add_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    uint8_t *buf = malloc(FUZZ_MAX_INPUT);
    size_t n = buf ? fread(buf, 1, FUZZ_MAX_INPUT, f) : 0;
    fclose(f);
    if (!buf)
        exit(2);
    run_one(buf, n);
    if (ncorpus < MAX_CORPUS)
        corpus[ncorpus++] = (blob){buf, n};
    else
        free(buf);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of a directory in name order, so runs do not depend on readdir. */
static void add_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        exit(2);
    }
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char **nn = realloc(names, (n + 1) * sizeof *names);
        if (!nn)
            exit(2);
        names = nn;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n])
            exit(2);
        snprintf(names[n++], len, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            add_file(names[i]);
        free(names[i]);
    }
    free(names);
}

static const uint8_t interesting[] = {0, 1, 2, 4, 5, 6, 8, 0x0f, 0x10, 0x14, 0x20, 0x40, 0x45,
                                      0x7f, 0x80, 0xfe, 0xff};

/* One small edit of buf[0..*n) (capacity FUZZ_MAX_INPUT). */
static void mutate_once(uint8_t *buf, size_t *n)
{
    size_t len = *n;
    switch (rng_below(8)) {
    case 0: /* flip a bit */
        if (len)
            buf[rng_below(len)] ^= (uint8_t)(1u << rng_below(8));
        break;
    case 1: /* random byte */
        if (len)
            buf[rng_below(len)] = (uint8_t)rng();
        break;
    case 2: /* interesting byte */
        if (len)
            buf[rng_below(len)] = interesting[rng_below(sizeof interesting)];
        break;
    case 3: { /* insert random bytes */
        size_t k = 1 + rng_below(16), at = rng_below(len + 1);
        if (len + k > FUZZ_MAX_INPUT)
            break;
        memmove(buf + at + k, buf + at, len - at);
        for (size_t i = 0; i < k; i++)
            buf[at + i] = (uint8_t)rng();
        *n = len + k;
        break;
    }
    case 4: { /* delete a range */
        if (!len)
            break;
        size_t at = rng_below(len), k = 1 + rng_below(len - at < 32 ? len - at : 32);
        memmove(buf + at, buf + at + k, len - at - k);
        *n = len - k;
        break;
    }
    case 5: /* truncate */
        *n = rng_below(len + 1);
        break;
    case 6: { /* splice: overwrite a range with bytes of another corpus item */
        if (!ncorpus || !len)
            break;
        const blob *o = &corpus[rng_below(ncorpus)];
        if (!o->n)
            break;
        size_t from = rng_below(o->n), at = rng_below(len);
        size_t k = 1 + rng_below(o->n - from);
        if (k > len - at)
            k = len - at;
        memcpy(buf + at, o->p + from, k);
        break;
    }
    default: { /* 16-bit field set to an edge value */
        if (len < 2)
            break;
        static const uint16_t v16[] = {0, 1, 0x7fff, 0x8000, 0xffff, 20, 28, 40, 60, 576, 1500};
        size_t at = rng_below(len - 1);
        uint16_t v = v16[rng_below(sizeof v16 / sizeof v16[0])];
        buf[at] = (uint8_t)(v >> 8);
        buf[at + 1] = (uint8_t)v;
        break;
    }
    }
}

static void run_mutations(unsigned long iterations)
{
    uint8_t *buf = malloc(FUZZ_MAX_INPUT);
    if (!buf)
        exit(2);
    for (unsigned long it = 0; it < iterations; it++) {
        size_t n = 0;
        if (ncorpus) {
            const blob *b = &corpus[rng_below(ncorpus)];
            memcpy(buf, b->p, b->n);
            n = b->n;
        } else {
            n = rng_below(256);
            for (size_t i = 0; i < n; i++)
                buf[i] = (uint8_t)rng();
        }
        for (size_t k = 1 + rng_below(4); k > 0; k--)
            mutate_once(buf, &n);
        run_one(buf, n);
    }
    free(buf);
}

int main(int argc, char **argv)
{
    unsigned long iterations = 3000;
    uint64_t seed = 0x0a515f022ull;
    const char *env = getenv("FUZZ_ITERATIONS");
    if (env)
        iterations = strtoul(env, NULL, 10);
    env = getenv("FUZZ_TIMEOUT");
    if (env)
        input_timeout = (unsigned)strtoul(env, NULL, 10);
    signal(SIGALRM, on_alarm);
    save_path = getenv("FUZZ_SAVE");
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--iterations=", 13) == 0) {
            iterations = strtoul(argv[i] + 13, NULL, 10);
            continue;
        }
        if (strncmp(argv[i], "--seed=", 7) == 0) {
            seed = strtoull(argv[i] + 7, NULL, 0);
            continue;
        }
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 2;
        }
        if (S_ISDIR(st.st_mode))
            add_dir(argv[i]);
        else
            add_file(argv[i]);
    }
    rng_state = seed ? seed : 1;
    run_mutations(iterations);
    printf("%zu corpus inputs and %lu mutations ran\n", ncorpus, iterations);
    for (size_t i = 0; i < ncorpus; i++)
        free(corpus[i].p);
    return 0;
}
