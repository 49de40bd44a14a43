/* The FFTW floor of GenreKit's log-mel: the same frames through FFTW alone, no decoding, no resampling, no I/O.
 *
 *   cc -O2 -march=native -o fft_floor bench/fft_floor.c -lfftw3f -lpthread -lm
 *   ./fft_floor [--clips 1000] [--seconds 30] [--threads 2] [--reps 3]
 *
 * Each clip is `seconds` of a synthetic signal at 22050 Hz, framed as GenreKit frames it (n_fft 2048, hop 512,
 * centred with zero padding: 1 + samples / 512 frames). Three levels, each timed over all clips, split evenly
 * across `threads` POSIX threads (one FFTW plan, executed with fftwf_execute_dft_r2c on per-thread buffers), best
 * of `reps`:
 *   A  the FFTs alone: one batched r2c (fftwf_plan_many_dft_r2c) over a clip's frames, cut and windowed once
 *      before timing;
 *   B  framing + periodic Hann window + r2c + |X|^2 per frame;
 *   C  B + the 128-band Slaney mel filterbank (sparse: each filter's nonzero bins) + 10 log10 + top_db 80.
 * Prints one line per level: `floor A threads 2 wall 1.234 s clips/s 810.4` (the line bench_preprocess.py reads).
 */
#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { N_FFT = 2048, HOP = 512, BINS = N_FFT / 2 + 1, N_MELS = 128, RATE = 22050 };

static int clips = 1000, threads_max = 2, reps = 3;
static double seconds = 30;
static int samples, frames;
static float *signal_, *framed, window_[N_FFT];
static fftwf_plan batched, single;
/* Slaney mel filterbank, sparse: band b covers bins [lo[b], hi[b]) with weights w[b][k - lo[b]]. */
static int lo[N_MELS], hi[N_MELS];
static float *weights[N_MELS];

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double hz_to_mel(double f) { /* Slaney: linear below 1 kHz, logarithmic above */
    return f < 1000 ? f / (200.0 / 3) : 15 + log(f / 1000) / (log(6.4) / 27);
}
static double mel_to_hz(double m) { return m < 15 ? m * (200.0 / 3) : 1000 * exp((m - 15) * (log(6.4) / 27)); }

static void build_filterbank(void) {
    double edges[N_MELS + 2];
    double top = hz_to_mel(RATE / 2.0);
    for (int i = 0; i < N_MELS + 2; i++) edges[i] = mel_to_hz(top * i / (N_MELS + 1));
    for (int b = 0; b < N_MELS; b++) {
        double left = edges[b], centre = edges[b + 1], right = edges[b + 2], norm = 2 / (right - left);
        lo[b] = -1;
        hi[b] = 0;
        float row[BINS];
        for (int k = 0; k < BINS; k++) {
            double f = (double)k * RATE / N_FFT;
            double w = fmax(0, fmin((f - left) / (centre - left), (right - f) / (right - centre))) * norm;
            row[k] = (float)w;
            if (w > 0) {
                if (lo[b] < 0) lo[b] = k;
                hi[b] = k + 1;
            }
        }
        if (lo[b] < 0) lo[b] = hi[b] = 0;
        weights[b] = malloc(sizeof(float) * (hi[b] - lo[b] + 1));
        memcpy(weights[b], row + lo[b], sizeof(float) * (hi[b] - lo[b]));
    }
}

struct work { int level, first, count; };

/* One thread's share of the clips at one level. */
static void *run(void *arg) {
    struct work *w = arg;
    float *frames_in = fftwf_alloc_real((size_t)frames * N_FFT);
    fftwf_complex *out = fftwf_alloc_complex((size_t)frames * BINS);
    float *power = malloc(sizeof(float) * BINS), *mel = malloc(sizeof(float) * (size_t)frames * N_MELS);
    for (int c = w->first; c < w->first + w->count; c++) {
        const float *x = signal_ + (size_t)(c % 7) * 97; /* a different start per clip; same signal otherwise */
        if (w->level == 'A') {
            /* the frames were cut and windowed once, before timing (an out-of-place r2c keeps its input) */
            fftwf_execute_dft_r2c(batched, framed, out);
            continue;
        }
        float maximum = -INFINITY;
        for (int t = 0; t < frames; t++) {
            float *in = frames_in; /* one frame buffer reused */
            for (int i = 0; i < N_FFT; i++) {
                long j = (long)t * HOP - N_FFT / 2 + i;
                in[i] = j >= 0 && j < samples ? x[j] * window_[i] : 0;
            }
            fftwf_execute_dft_r2c(single, in, out);
            for (int k = 0; k < BINS; k++) power[k] = out[k][0] * out[k][0] + out[k][1] * out[k][1];
            if (w->level == 'B') continue;
            for (int b = 0; b < N_MELS; b++) {
                float s = 0;
                for (int k = lo[b]; k < hi[b]; k++) s += weights[b][k - lo[b]] * power[k];
                float db = 10 * log10f(fmaxf(s, 1e-10f));
                mel[(size_t)b * frames + t] = db;
                if (db > maximum) maximum = db;
            }
        }
        if (w->level == 'C')
            for (size_t i = 0; i < (size_t)frames * N_MELS; i++) mel[i] = fmaxf(mel[i], maximum - 80);
    }
    fftwf_free(frames_in);
    fftwf_free(out);
    free(power);
    free(mel);
    return NULL;
}

static double timed(int level, int threads) {
    double best = INFINITY;
    for (int r = 0; r < reps; r++) {
        pthread_t ids[64];
        struct work works[64];
        double t0 = now();
        for (int i = 0; i < threads; i++) {
            int share = clips / threads, extra = i < clips % threads;
            works[i] = (struct work){level, i * share + (i < clips % threads ? i : clips % threads), share + extra};
            pthread_create(&ids[i], NULL, run, &works[i]);
        }
        for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
        double wall = now() - t0;
        if (wall < best) best = wall;
    }
    return best;
}

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--clips")) clips = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads_max = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
        else { fprintf(stderr, "fft_floor: unknown option %s\n", argv[i]); return 2; }
    }
    if (clips < 1 || threads_max < 1 || threads_max > 64 || reps < 1 || seconds <= 0) {
        fprintf(stderr, "fft_floor: bad arguments\n");
        return 2;
    }
    samples = (int)(seconds * RATE);
    frames = 1 + samples / HOP;
    signal_ = malloc(sizeof(float) * ((size_t)samples + 7 * 97));
    for (int i = 0; i < samples + 7 * 97; i++) /* two tones and a little deterministic noise */
        signal_[i] = 0.4f * sinf(2 * (float)M_PI * 440 * i / RATE) + 0.3f * sinf(2 * (float)M_PI * 1234.5f * i / RATE)
                     + 0.1f * ((float)((i * 1103515245u + 12345u) >> 16 & 0x7fff) / 16384 - 1);
    for (int i = 0; i < N_FFT; i++) window_[i] = 0.5f - 0.5f * cosf(2 * (float)M_PI * i / N_FFT);
    build_filterbank();
    framed = fftwf_alloc_real((size_t)frames * N_FFT);
    for (int t = 0; t < frames; t++)
        for (int i = 0; i < N_FFT; i++) {
            long j = (long)t * HOP - N_FFT / 2 + i;
            framed[(size_t)t * N_FFT + i] = j >= 0 && j < samples ? signal_[j] * window_[i] : 0;
        }
    float *in = fftwf_alloc_real((size_t)frames * N_FFT);
    fftwf_complex *out = fftwf_alloc_complex((size_t)frames * BINS);
    int n = N_FFT;
    batched = fftwf_plan_many_dft_r2c(1, &n, frames, in, NULL, 1, N_FFT, out, NULL, 1, BINS, FFTW_MEASURE);
    single = fftwf_plan_dft_r2c_1d(N_FFT, in, out, FFTW_MEASURE);
    fftwf_free(in);
    fftwf_free(out);
    printf("FFTW floor: %d clips of %.0f s at %d Hz, %d frames of %d each, best of %d\n", clips, seconds, RATE, frames,
           N_FFT, reps);
    const char *labels[] = {"FFT only, batched r2c", "window, r2c, |X|^2", "B + mel + dB"};
    for (int level = 'A'; level <= 'C'; level++)
        for (int threads = 1; threads <= threads_max; threads = threads == threads_max ? threads_max + 1 : threads_max) {
            double wall = timed(level, threads);
            printf("floor %c threads %d wall %.3f s clips/s %.1f  (%s)\n", level, threads, wall, clips / wall,
                   labels[level - 'A']);
        }
    return 0;
}
