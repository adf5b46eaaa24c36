/* A plain 1/t Wang-Landau walker for the periodic L x L Ising model, as a baseline.
 *
 * One walker, spins +-1, levels k = number of unsatisfied bonds / 2 (H = k / 2 in the
 * units of mcising's energy lattice at theta = 4, W = 1). The levels that hold states
 * are known in advance: k in 0..N except 1 and N - 1. Stage 0 halves ln f (from 1)
 * whenever the histogram is flat (min H >= 0.8 mean H, checked every 1000 trials);
 * once ln f < 1/t, with t = trials / levels, ln f = 1/t (Belardinelli and Pereyra).
 * Random numbers: xoshiro256** seeded by splitmix64.
 *
 * Usage: wl_plain L SEED BUDGET [BUDGET ...]
 * Prints, per budget, "budget seconds ln_g(0) ... ln_g(N)" (unnormalised; -inf is
 * written as nan for levels without states).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t s[4];

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next(void) {
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

static void seed(uint64_t x) {
    for (int i = 0; i < 4; i++) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        s[i] = z ^ (z >> 31);
    }
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: wl_plain L SEED BUDGET [BUDGET ...]\n");
        return 2;
    }
    int L = atoi(argv[1]), N = L * L;
    seed(strtoull(argv[2], NULL, 10));
    signed char *spin = malloc(N);
    int *nb = malloc(4 * N * sizeof(int));
    double *lng = calloc(N + 1, sizeof(double));
    long *hist = calloc(N + 1, sizeof(long));
    char *allowed = malloc(N + 1);
    for (int k = 0; k <= N; k++) allowed[k] = (k != 1 && k != N - 1);
    int n_levels = N - 1;
    for (int i = 0; i < N; i++) {
        int r = i / L, c = i % L;
        spin[i] = 1;
        nb[4 * i] = r * L + (c + 1) % L;
        nb[4 * i + 1] = r * L + (c + L - 1) % L;
        nb[4 * i + 2] = ((r + 1) % L) * L + c;
        nb[4 * i + 3] = ((r + L - 1) % L) * L + c;
    }
    int k = 0;  /* all spins up: no unsatisfied bond */
    double lnf = 1.0;
    int stage = 0;
    long trials = 0;
    double start = now();
    for (int b = 3; b < argc; b++) {
        long budget = (long)atof(argv[b]);
        while (trials < budget) {
            uint64_t w = next();
            int i = (int)(((w >> 32) * (uint64_t)N) >> 32);
            int same = 0;
            for (int j = 0; j < 4; j++) same += spin[nb[4 * i + j]] == spin[i];
            /* flipping i turns its satisfied bonds unsatisfied and back: dk = same - 2 */
            int knew = k + same - 2;
            double u = (double)(w & 0xffffffffULL) * (1.0 / 4294967296.0);
            if (lng[k] >= lng[knew] || u < exp(lng[k] - lng[knew])) {
                spin[i] = -spin[i];
                k = knew;
            }
            lng[k] += lnf;
            hist[k]++;
            trials++;
            if (stage == 0 && trials % 1000 == 0) {
                long total = 0, lowest = -1;
                for (int e = 0; e <= N; e++) {
                    if (!allowed[e]) continue;
                    total += hist[e];
                    if (lowest < 0 || hist[e] < lowest) lowest = hist[e];
                }
                if (lowest > 0 && lowest >= 0.8 * total / n_levels) {
                    lnf *= 0.5;
                    for (int e = 0; e <= N; e++) hist[e] = 0;
                    if (lnf < (double)n_levels / trials) stage = 1;
                }
            }
            if (stage == 1) lnf = (double)n_levels / trials;
        }
        printf("%ld %.3f", budget, now() - start);
        for (int e = 0; e <= N; e++) {
            if (allowed[e]) printf(" %.17g", lng[e]); else printf(" nan");
        }
        printf("\n");
        fflush(stdout);
    }
    return 0;
}
