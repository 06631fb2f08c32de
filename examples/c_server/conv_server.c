/* conv_server.c -- a direct conv2d that serves the convspec contract over the worker protocol
 * (docs/PROTOCOL.md): frames of b"CVSP", a uint32 little-endian header length, a JSON header and raw
 * little-endian C-ordered buffers, on stdin/stdout.  Logs go to stderr.
 *
 *   cc -O2 -o conv_server conv_server.c              # correct
 *   cc -O2 -DBUG -o conv_server_bug conv_server.c    # planted bug: drops the last kernel column
 *                                                    # on inputs wider than 3
 *   pytest --impl-cmd "examples/c_server/conv_server" --backends none
 *
 * y[n,o,i,j] = b[o] + sum_{c,u,v} x[n, g*C/G + c, i*sH + u*dH - pH, j*sW + v*dW - pW] * w[o,c,u,v],
 * g = o / (O/G), zero fill outside the input; accumulated in double, returned in the dtype of x.
 * The header scanner relies on what the parent sends: compact JSON, "arrays" last. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_exact(void *p, size_t n) { return fread(p, 1, n, stdin) == n; }

static void send_frame(const char *hdr, const void *buf, size_t n) {
    uint32_t len = (uint32_t)strlen(hdr);
    fwrite("CVSP", 1, 4, stdout);
    fwrite(&len, 4, 1, stdout);              /* little-endian host (checked in main) */
    fwrite(hdr, 1, len, stdout);
    if (n) fwrite(buf, 1, n, stdout);
    fflush(stdout);
}

/* the text just after "key": in a compact JSON header, or NULL */
static const char *after(const char *s, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(s, pat);
    return p ? p + strlen(pat) : NULL;
}

/* a parameter that is an int or a pair [a,b] */
static void pair(const char *s, const char *key, long dflt, long out[2]) {
    const char *p = after(s, key);
    out[0] = out[1] = dflt;
    if (p && *p == '[') sscanf(p, "[%ld,%ld", &out[0], &out[1]);
    else if (p) out[0] = out[1] = strtol(p, NULL, 10);
}

typedef struct { int f32; long ndim, shape[4], count; double *v; } Array;

/* parse the next {"dtype":..,"shape":[..]} after *p and read its buffer as doubles */
static int next_array(const char **p, Array *a) {
    const char *d = strstr(*p, "\"dtype\":\""), *s = d ? strstr(d, "\"shape\":[") : NULL;
    if (!s) return 0;
    a->f32 = strncmp(d + 9, "float32", 7) == 0;
    if (!a->f32 && strncmp(d + 9, "float64", 7) != 0) return -1;
    a->ndim = 0, a->count = 1, s += 9;
    while (*s != ']' && a->ndim < 4) {
        a->shape[a->ndim] = strtol(s, (char **)&s, 10);
        a->count *= a->shape[a->ndim++];
        if (*s == ',') s++;
    }
    *p = s;
    size_t item = a->f32 ? 4 : 8;
    void *raw = malloc(a->count * item + 1);
    a->v = malloc(a->count * sizeof(double) + 1);
    if (!read_exact(raw, a->count * item)) exit(1);
    for (long i = 0; i < a->count; i++)
        a->v[i] = a->f32 ? ((float *)raw)[i] : ((double *)raw)[i];
    free(raw);
    return 1;
}

static void conv2d(const Array *x, const Array *w, const Array *b, double *y, const long s[2], const long p[2],
                   const long d[2], long G, long Ho, long Wo) {
    long N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    long O = w->shape[0], cg = w->shape[1], kH = w->shape[2], kW = w->shape[3], og = O / G;
    for (long n = 0; n < N; n++)
        for (long o = 0; o < O; o++)
            for (long i = 0; i < Ho; i++)
                for (long j = 0; j < Wo; j++) {
                    double acc = b ? b->v[o] : 0.0;
                    for (long c = 0; c < cg; c++)
                        for (long u = 0; u < kH; u++)
                            for (long v = 0; v < kW; v++) {
#ifdef BUG
                                if (W > 3 && v == kW - 1) continue;     /* the planted bug */
#endif
                                long r = i * s[0] + u * d[0] - p[0], q = j * s[1] + v * d[1] - p[1];
                                if (r >= 0 && r < H && q >= 0 && q < W)
                                    acc += x->v[((n * C + (o / og) * cg + c) * H + r) * W + q]
                                         * w->v[((o * cg + c) * kH + u) * kW + v];
                            }
                    y[((n * O + o) * Ho + i) * Wo + j] = acc;
                }
}

int main(void) {
    uint16_t one = 1;
    if (*(uint8_t *)&one != 1) { fprintf(stderr, "conv_server: needs a little-endian host\n"); return 2; }
#ifdef BUG
    send_frame("{\"type\":\"hello\",\"protocol\":\"convspec-worker/1\",\"name\":\"c-direct-bug\",\"version\":\"1\","
               "\"ops\":[\"conv2d\"],\"capabilities\":{\"dtypes\":[\"f64\",\"f32\"]}}", NULL, 0);
#else
    send_frame("{\"type\":\"hello\",\"protocol\":\"convspec-worker/1\",\"name\":\"c-direct\",\"version\":\"1\","
               "\"ops\":[\"conv2d\"],\"capabilities\":{\"dtypes\":[\"f64\",\"f32\"]}}", NULL, 0);
#endif
    char prefix[8], out[256];
    while (read_exact(prefix, 8)) {
        uint32_t len;
        memcpy(&len, prefix + 4, 4);
        char *hdr = malloc(len + 1);
        if (memcmp(prefix, "CVSP", 4) != 0 || !read_exact(hdr, len)) return 1;
        hdr[len] = 0;
        if (strstr(hdr, "\"type\":\"bye\"")) return 0;
        long id = strtol(after(hdr, "id"), NULL, 10), s[2], p[2], d[2], g[2];
        Array a[3] = {{0}};
        const char *cur = after(hdr, "arrays");
        int k = 0, r;
        while (k < 3 && (r = next_array(&cur, &a[k])) == 1) k++;
        if (r < 0 || !strstr(hdr, "\"op\":\"conv2d\"") || k < 2) {   /* the parent reports the exit */
            fprintf(stderr, "conv_server: serves conv2d on float32/float64 only, got: %.200s\n", hdr);
            return 1;
        }
        pair(hdr, "stride", 1, s), pair(hdr, "padding", 0, p), pair(hdr, "dilation", 1, d), pair(hdr, "groups", 1, g);
        long Ho = (a[0].shape[2] + 2 * p[0] - d[0] * (a[1].shape[2] - 1) - 1) / s[0] + 1;
        long Wo = (a[0].shape[3] + 2 * p[1] - d[1] * (a[1].shape[3] - 1) - 1) / s[1] + 1;
        long count = a[0].shape[0] * a[1].shape[0] * Ho * Wo;
        double *y = calloc(count + 1, sizeof(double));
        conv2d(&a[0], &a[1], k == 3 ? &a[2] : NULL, y, s, p, d, g[0], Ho, Wo);
        if (a[0].f32)
            for (long i = 0; i < count; i++) ((float *)y)[i] = (float)y[i];   /* in place: float i < double i */
        snprintf(out, sizeof out, "{\"type\":\"result\",\"id\":%ld,\"arrays\":[{\"name\":\"y\",\"dtype\":\"%s\","
                 "\"shape\":[%ld,%ld,%ld,%ld]}]}", id, a[0].f32 ? "float32" : "float64",
                 a[0].shape[0], a[1].shape[0], Ho, Wo);
        send_frame(out, y, count * (a[0].f32 ? 4 : 8));
        for (int i = 0; i < k; i++) free(a[i].v);
        free(y), free(hdr);
    }
    return 0;
}
