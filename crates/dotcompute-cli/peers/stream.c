/* STREAM-style peers for `dotcompute bench`: the same loops a C programmer would write,
 * built with -O3 -march=native -fopenmp (and -ffp-contract=off, so that `a * x + b` is not
 * fused into FMA: the kernels compared with it compute the unfused expression). */
#include <stddef.h>

void dc_peer_add(float *restrict c, const float *restrict a, const float *restrict b, size_t n) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) c[i] = a[i] + b[i];
}

void dc_peer_copy(float *restrict c, const float *restrict a, size_t n) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) c[i] = a[i];
}

/* A sequential inclusive scan: one thread, in order. */
void dc_peer_scan(float *restrict out, const float *restrict a, size_t n) {
    float running = -0.0f;
    for (size_t i = 0; i < n; i++) {
        running += a[i];
        out[i] = running;
    }
}

void dc_peer_triad(float *restrict a, const float *restrict b, const float *restrict c, float s, size_t n) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
}

double dc_peer_sum(const float *restrict a, size_t n) {
    double total = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (size_t i = 0; i < n; i++) total += a[i];
    return total;
}

void dc_peer_poly8(const float *restrict x, float *restrict out, size_t n) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        float v = x[i], r = 0.0078125f;
        r = r * v + 0.015625f;
        r = r * v + 0.03125f;
        r = r * v + 0.0625f;
        r = r * v + 0.125f;
        r = r * v + 0.25f;
        r = r * v + 0.5f;
        r = r * v + 1.0f;
        out[i] = r * v + 1.0f;
    }
}

int dc_peer_threads(void) {
    int t = 1;
#pragma omp parallel
    {
#pragma omp single
        {
#ifdef _OPENMP
            extern int omp_get_num_threads(void);
            t = omp_get_num_threads();
#endif
        }
    }
    return t;
}
