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
 * g = o / (O/G), zero fill outside the input; accumulated in double, rounded once to the dtype of x.
 *
 * dtypes: float64, float32, float16 and bfloat16 are computed (the 2-byte formats are converted
 * exactly to double and the result rounded to nearest even).  Every other dtype code of the protocol
 * is read (so the stream stays in step) and declined with an error reply naming NotImplementedError;
 * an unknown code gets a "protocol" error reply and ends the server (its buffer size is unknown).
 * The header scanner relies on what the parent sends: compact JSON, "arrays" last. */
#include <math.h>
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

/* an error reply: kind "raised" (exception names the Python-style exception) or "protocol"/"unsupported" */
static void send_error(long id, const char *kind, const char *exception, const char *message) {
    char out[512];
    if (exception)
        snprintf(out, sizeof out, "{\"type\":\"error\",\"id\":%ld,\"kind\":\"%s\",\"exception\":\"%s\","
                 "\"message\":\"%s\"}", id, kind, exception, message);
    else
        snprintf(out, sizeof out, "{\"type\":\"error\",\"id\":%ld,\"kind\":\"%s\",\"message\":\"%s\"}",
                 id, kind, message);
    send_frame(out, NULL, 0);
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

/* -- the 2-byte float formats: IEEE binary16 (5 exponent bits, 10 fraction bits) and bfloat16 (8, 7) -- */

static double pow2(int k) {                  /* 2^k for -1022 <= k <= 1023, exactly */
    uint64_t u = (uint64_t)(k + 1023) << 52;
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static double round_even(double y) {         /* y rounded to an integer, ties to even; 0 <= y < 2^52 */
    volatile double t = y + 4503599627370496.0;   /* 2^52: the default rounding mode does the rounding */
    return t - 4503599627370496.0;
}

static double from_small(uint16_t h, int mbits, int ebits) {
    int bias = (1 << (ebits - 1)) - 1, e = (h >> mbits) & ((1 << ebits) - 1);
    double m = h & ((1u << mbits) - 1), v;
    if (e == (1 << ebits) - 1) v = m ? NAN : INFINITY;
    else if (e == 0) v = m * pow2(1 - bias - mbits);
    else v = (m + pow2(mbits)) * pow2(e - bias - mbits);
    return (h >> 15) ? -v : v;
}

static uint16_t to_small(double v, int mbits, int ebits) {   /* v rounded to nearest, ties to even */
    uint64_t u;
    memcpy(&u, &v, 8);
    int bias = (1 << (ebits - 1)) - 1;
    uint16_t sign = (uint16_t)((u >> 63) << 15), inf = (uint16_t)(((1u << ebits) - 1) << mbits);
    if (v != v) return sign | inf | (uint16_t)(1u << (mbits - 1));           /* a quiet NaN */
    int e = (int)((u >> 52) & 0x7ff) - 1023;         /* |v| in [2^e, 2^(e+1)) for a normal double */
    if (e > bias) return sign | inf;                  /* beyond the largest finite value (or infinite) */
    if (e < 1 - bias) e = 1 - bias;                   /* the subnormal range: a fixed quantum */
    double q = round_even((v < 0 ? -v : v) * pow2(mbits - e));   /* in [0, 2^(mbits+1)], scaled exactly */
    if (q >= pow2(mbits + 1)) {                       /* rounded up to the next binade */
        q /= 2;
        if (++e > bias) return sign | inf;
    }
    uint32_t qi = (uint32_t)q;
    if (qi < (1u << mbits)) return sign | (uint16_t)qi;          /* subnormal or zero (e == 1 - bias) */
    return sign | (uint16_t)((uint32_t)(e + bias) << mbits) | (uint16_t)(qi - (1u << mbits));
}

/* -- the protocol's dtype codes -------------------------------------------------------------------- */

enum { F64, F32, F16, BF16, OTHER };
static const struct { const char *name; int size, code; } DTYPES[] = {
    {"float64", 8, F64}, {"float32", 4, F32}, {"float16", 2, F16}, {"bfloat16", 2, BF16},
    {"bool", 1, OTHER}, {"int8", 1, OTHER}, {"int16", 2, OTHER}, {"int32", 4, OTHER}, {"int64", 8, OTHER},
    {"uint8", 1, OTHER}, {"uint16", 2, OTHER}, {"uint32", 4, OTHER}, {"uint64", 8, OTHER},
    {"complex64", 8, OTHER}, {"complex128", 16, OTHER}};

typedef struct { int code, size; char dtype[16]; long ndim, shape[8], count; double *v; } Array;

/* parse the next {"dtype":..,"shape":[..]} after *p and read its buffer (as doubles when its dtype is
 * computed): 1, 0 when there is none, -1 for a dtype code this server does not know */
static int next_array(const char **p, Array *a) {
    const char *d = strstr(*p, "\"dtype\":\""), *s = d ? strstr(d, "\"shape\":[") : NULL;
    if (!s) return 0;
    d += 9;
    size_t n = strcspn(d, "\"");
    snprintf(a->dtype, sizeof a->dtype, "%.*s", (int)(n < 15 ? n : 15), d);
    a->code = -1;
    for (size_t i = 0; i < sizeof DTYPES / sizeof DTYPES[0]; i++)
        if (strlen(DTYPES[i].name) == n && strncmp(d, DTYPES[i].name, n) == 0)
            a->code = DTYPES[i].code, a->size = DTYPES[i].size;
    if (a->code < 0) return -1;
    a->ndim = 0, a->count = 1, s += 9;
    while (*s != ']' && a->ndim < 8) {
        a->shape[a->ndim] = strtol(s, (char **)&s, 10);
        a->count *= a->shape[a->ndim++];
        if (*s == ',') s++;
    }
    *p = s;
    unsigned char *raw = malloc(a->count * a->size + 1);
    a->v = malloc(a->count * sizeof(double) + 1);
    if (!read_exact(raw, a->count * a->size)) exit(1);
    for (long i = 0; i < a->count && a->code != OTHER; i++) {
        uint16_t h;
        switch (a->code) {
        case F64: memcpy(&a->v[i], raw + 8 * i, 8); break;
        case F32: { float f; memcpy(&f, raw + 4 * i, 4); a->v[i] = f; break; }
        case F16: memcpy(&h, raw + 2 * i, 2); a->v[i] = from_small(h, 10, 5); break;
        case BF16: memcpy(&h, raw + 2 * i, 2); a->v[i] = from_small(h, 7, 8); break;
        }
    }
    free(raw);
    return 1;
}

/* y (count doubles) in the dtype of code, in place (every item is no larger than a double) */
static void store(double *y, long count, int code) {
    for (long i = 0; i < count; i++) {
        double v = y[i];
        if (code == F32) ((float *)y)[i] = (float)v;
        else if (code == F16) ((uint16_t *)y)[i] = to_small(v, 10, 5);
        else if (code == BF16) ((uint16_t *)y)[i] = to_small(v, 7, 8);
    }
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
    send_frame("{\"type\":\"hello\",\"protocol\":\"convspec-worker/1\",\"name\":\"c-direct-bug\",\"version\":\"2\","
               "\"ops\":[\"conv2d\"],\"capabilities\":{\"dtypes\":[\"f64\",\"f32\",\"f16\",\"bf16\"]}}", NULL, 0);
#else
    send_frame("{\"type\":\"hello\",\"protocol\":\"convspec-worker/1\",\"name\":\"c-direct\",\"version\":\"2\","
               "\"ops\":[\"conv2d\"],\"capabilities\":{\"dtypes\":[\"f64\",\"f32\",\"f16\",\"bf16\"]}}", NULL, 0);
#endif
    char prefix[8], out[256], msg[200];
    while (read_exact(prefix, 8)) {
        uint32_t len;
        memcpy(&len, prefix + 4, 4);
        char *hdr = malloc(len + 1);
        if (memcmp(prefix, "CVSP", 4) != 0 || !read_exact(hdr, len)) return 1;
        hdr[len] = 0;
        if (strstr(hdr, "\"type\":\"bye\"")) return 0;
        const char *idp = after(hdr, "id");
        long id = idp ? strtol(idp, NULL, 10) : 0, s[2], p[2], d[2], g[2];
        Array a[8] = {{0}};
        const char *cur = after(hdr, "arrays");
        int k = 0, r = 0, other = -1;
        while (cur && k < 8 && (r = next_array(&cur, &a[k])) == 1) {
            if (a[k].code == OTHER && other < 0) other = k;
            k++;
        }
        if (r < 0) {                 /* an unknown code: its buffer cannot be skipped, so the stream is lost */
            snprintf(msg, sizeof msg, "conv_server: unknown dtype code %s", a[k].dtype);
            fprintf(stderr, "%s\n", msg);
            send_error(id, "protocol", NULL, msg);
            return 1;
        }
        if (!strstr(hdr, "\"op\":\"conv2d\"")) {
            send_error(id, "unsupported", NULL, "conv_server serves conv2d only");
        } else if (other >= 0) {     /* a dtype of the protocol that this server does not compute: declined */
            snprintf(msg, sizeof msg, "conv_server computes float64, float32, float16 and bfloat16, not %s (array %d)",
                     a[other].dtype, other);
            send_error(id, "raised", "NotImplementedError", msg);
        } else if (k < 2 || a[0].ndim != 4 || a[1].ndim != 4 || (k == 3 && a[2].ndim != 1)) {
            send_error(id, "raised", "ValueError", "conv2d takes x (N,C,H,W), w (O,C/G,kH,kW) and an optional b (O)");
        } else {
            pair(hdr, "stride", 1, s), pair(hdr, "padding", 0, p), pair(hdr, "dilation", 1, d), pair(hdr, "groups", 1, g);
            long Ho = (a[0].shape[2] + 2 * p[0] - d[0] * (a[1].shape[2] - 1) - 1) / s[0] + 1;
            long Wo = (a[0].shape[3] + 2 * p[1] - d[1] * (a[1].shape[3] - 1) - 1) / s[1] + 1;
            long count = a[0].shape[0] * a[1].shape[0] * Ho * Wo;
            double *y = calloc(count + 1, sizeof(double));
            conv2d(&a[0], &a[1], k == 3 ? &a[2] : NULL, y, s, p, d, g[0], Ho, Wo);
            store(y, count, a[0].code);                   /* the result in the dtype of x */
            snprintf(out, sizeof out, "{\"type\":\"result\",\"id\":%ld,\"arrays\":[{\"name\":\"y\",\"dtype\":\"%s\","
                     "\"shape\":[%ld,%ld,%ld,%ld]}]}", id, a[0].dtype, a[0].shape[0], a[1].shape[0], Ho, Wo);
            send_frame(out, y, count * a[0].size);
            free(y);
        }
        for (int i = 0; i < k; i++) free(a[i].v);
        free(hdr);
    }
    return 0;
}
