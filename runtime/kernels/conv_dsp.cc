// CONV_2D, DEPTHWISE_CONV_2D (depth multiplier 1) and FULLY_CONNECTED for Arm cores with the DSP extension
// (Cortex-M4/M7/M33/M55: __ARM_FEATURE_DSP): two 16-bit multiply-accumulates per instruction (SMLAD), bit-exact with
// the portable loop in conv.cc (same int32 sums, wrapping; same requantization). eval_conv() calls
// eval_conv_dsp() first; shapes it does not take (grouped conv, depth multiplier > 1, FC with a weight zero point,
// pools) return false and run the portable loop.
//
// This file is compiled at -O2 whatever the build's level (the pragma must precede every function, the headers'
// inline helpers included): the loops below are the firmware's hot spot, and -Os spills their accumulators.
#pragma GCC optimize("O2", "omit-frame-pointer", "no-tree-loop-distribute-patterns")

#include "conv.h"

#if QBUILD_KERNELS_DSP

#include <arm_acle.h>
#include <string.h>

namespace qbuild {
namespace kernels {
namespace {

#define QB_INLINE __attribute__((always_inline)) inline

// Four int8 values as one word (unaligned loads are fine on Armv7-M/Armv8-M data memory).
QB_INLINE uint32_t load4(const int8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

// Bytes 0 and 2 of x sign-extended into the two 16-bit lanes, plus the offsets in off2's lanes (SXTAB16).
QB_INLINE uint32_t even_plus(uint32_t off2, uint32_t x) { return __sxtab16(off2, x); }
// Bytes 1 and 3 (the same, rotated by 8 inside the instruction: GCC does not fuse a separate ror).
QB_INLINE uint32_t odd_plus(uint32_t off2, uint32_t x) {
  uint32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(off2), "r"(x));
  return r;
}
QB_INLINE uint32_t even(uint32_t x) { return __sxtb16(x); }
QB_INLINE uint32_t odd(uint32_t x) {
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}

// Where the in-bounds taps of one output pixel lie: `rows` filter rows, each `runs` runs of `len` int8 values that
// are contiguous in the input and in the filter; steps between runs and rows, per tensor.
struct Taps {
  int32_t rows, runs, len;
  int32_t x_run, w_run;  // step to the next run (input, filter)
  int32_t x_row, w_row;  // step from a row's first run to the next row's
  int32_t w_stride;      // between the filters of consecutive output channels (CONV_2D)
  uint32_t off2;         // the input offset in both 16-bit lanes
};

QB_INLINE int32_t lane_offset(uint32_t off2) { return static_cast<int16_t>(off2 & 0xFFFFu); }

// Requantization parameters of one op (the bias is not here: it is the accumulators' start value).
struct Requant {
  const int32_t* multipliers;  // per channel, or the per-tensor value with step 0
  const int8_t* shifts;
  int32_t step;                // 1 or 0
  int32_t fast;                // per channel and every shift negative: requantize_fast()
  int32_t out_offset, lo, hi;
};

// TFLite's MultiplyByQuantizedMultiplier(a, m, s) for s < 0 (multiplier below 1, the usual case): both roundings in
// one. With y = a * m, q = floor((y + 2^30) / 2^31) (the doubling high multiply) and r = -s, TFLite's
// RoundingDivideByPOT(q, r) is floor((q + 2^(r-1) - [q < 0]) / 2^r), and nested floors merge:
// floor((y + K) / 2^(31 + r)) with K = 2^30 + (2^(r-1) - [q < 0]) * 2^31. [a < 0] may stand for [q < 0]: they differ
// only when q = 0, where both give 0. 2^(31 + r) >= 2^32, so the result is the high word of y + K shifted right by
// r - 1 (one SMLAL). Checked against the two-step formula on 62 M (a, m, s) triples, every s in [-31, -1].
QB_INLINE int32_t scale_down(int32_t a, int32_t m, int32_t s) {
  const int32_t r1 = -s - 1;
  const uint32_t d = (1u << r1) + static_cast<uint32_t>(a >> 31);
  const int64_t k = static_cast<int64_t>((static_cast<uint64_t>(d >> 1) << 32) | ((d << 31) | 0x40000000u));
  return static_cast<int32_t>((static_cast<int64_t>(a) * m + k) >> 32) >> r1;
}

// out[i] = requantized acc[i], i < n, per-channel multipliers and shifts all negative (checked once per op, so no
// branch per value). kFullRange: the activation clamp is the whole int8 range (one SSAT).
template <bool kFullRange>
QB_INLINE void requantize_fast(const Requant& r, const int32_t* mult, const int8_t* shift, int32_t n,
                               const int32_t* acc, int8_t* out) {
  // Locals: stores through int8_t* may alias anything, so fields of r would be reloaded after every output.
  const int32_t out_offset = r.out_offset, lo = r.lo, hi = r.hi;
  for (int32_t i = 0; i < n; ++i) {
    int32_t v = scale_down(acc[i], mult[i], shift[i]) + out_offset;
    if (kFullRange) {
      v = __ssat(v, 8);  // the clamp is [-128, 127] (no activation, or ReLU with output zero point -128)
    } else {
      v = v < lo ? lo : v;
      v = v > hi ? hi : v;
    }
    out[i] = static_cast<int8_t>(v);
  }
}

// TFLite's MultiplyByQuantizedMultiplier, zero point and clamp for output channels oc0 .. oc0 + n - 1 (the bias is
// already in acc): the values of finish() in conv.cc. One tight loop per pixel (inlined per accumulator, GCC
// reloaded the requantization parameters for every value).
__attribute__((noinline)) void requantize(const Requant& r, int32_t oc0, int32_t n, const int32_t* acc, int8_t* out) {
  const int32_t* mult = r.multipliers + oc0 * r.step;
  const int8_t* shift = r.shifts + oc0 * r.step;
  if (r.fast) {
    if (r.lo == -128 && r.hi == 127) {
      requantize_fast<true>(r, mult, shift, n, acc, out);
    } else {
      requantize_fast<false>(r, mult, shift, n, acc, out);
    }
    return;
  }
  for (int32_t i = 0; i < n; ++i) {  // per-tensor, or a shift >= 0 somewhere (rare: out of line)
    const int32_t m = mult[i * r.step], s = shift[i * r.step];
    const int32_t v = s < 0 ? scale_down(acc[i], m, s) : multiply_by_quantized_multiplier_shared(acc[i], m, s);
    out[i] = static_cast<int8_t>(clamp_i32(v + r.out_offset, r.lo, r.hi));
  }
}

// Output channels per requantization pass: the accumulators of one pixel wait on the stack (4 x kChunk bytes).
constexpr int32_t kChunk = 64;
// Largest CONV_2D window (bytes) gathered into one run on the stack.
constexpr int32_t kPatch = 256;
// Longest piece of a run widened at once (values; 2 bytes each on the stack): a multiple of 8.
constexpr int32_t kWide = 256;

// f(x, w) for every run of the window's in-bounds taps (Taps), x and w where the run starts in input and filter.
template <class F>
QB_INLINE void for_each_run(const Taps& g, const int8_t* x_row, const int8_t* w_row, F f) {
  for (int32_t r = 0; r < g.rows; ++r) {
    const int8_t* x = x_row;
    const int8_t* w = w_row;
    for (int32_t k = 0; k < g.runs; ++k) {
      f(x, w);
      x += g.x_run;
      w += g.w_run;
    }
    x_row += g.x_row;
    w_row += g.w_row;
  }
}

// wide[2q] = values 4q and 4q + 2 of x plus the input offset (16-bit lanes), wide[2q + 1] = values 4q + 1 and 4q + 3:
// the lanes SXTB16 gives a filter word, so one SMLAD multiplies matching values. The last len % 4 values stay int8.
QB_INLINE void widen(const int8_t* x, int32_t len, uint32_t off2, uint32_t* wide) {
  for (int32_t q = 0; q < len >> 2; ++q) {
    const uint32_t xv = load4(x + 4 * q);
    wide[2 * q] = even_plus(off2, xv);
    wide[2 * q + 1] = odd_plus(off2, xv);
  }
}

// a + w * x wrapping (the accumulators start at the bias, so a partial sum may pass INT32_MAX and come back).
QB_INLINE int32_t mac(int32_t a, int32_t w, int32_t x) { return add_wrap(a, w * x); }

// Filters 0, 3 and 2 of a block of four against the widened input pair (xe, xo).
#define QB_BLOCK_FILTERS_0_3_2                 \
  "ldr %[wv], [%[w]], #4\n\t"                  \
  "sxtb16 %[wt], %[wv]\n\t"                    \
  "sxtb16 %[wv], %[wv], ror #8\n\t"            \
  "smlad %[a0], %[wt], %[xe], %[a0]\n\t"       \
  "smlad %[a0], %[wv], %[xo], %[a0]\n\t"       \
  "ldr %[wv], [%[w2], %[s]]\n\t"               \
  "sxtb16 %[wt], %[wv]\n\t"                    \
  "sxtb16 %[wv], %[wv], ror #8\n\t"            \
  "smlad %[a3], %[wt], %[xe], %[a3]\n\t"       \
  "smlad %[a3], %[wv], %[xo], %[a3]\n\t"       \
  "ldr %[wv], [%[w2]], #4\n\t"                 \
  "sxtb16 %[wt], %[wv]\n\t"                    \
  "sxtb16 %[wv], %[wv], ror #8\n\t"            \
  "smlad %[a2], %[wt], %[xe], %[a2]\n\t"       \
  "smlad %[a2], %[wv], %[xo], %[a2]\n\t"

// Four widened values (one LDRD) against four filters: 16 MACs in 20 instructions.
#define QB_BLOCK_STEP                          \
  "ldrd %[xe], %[xo], [%[x]], #8\n\t"          \
  "ldr %[wv], [%[w], %[s]]\n\t"                \
  "sxtb16 %[wt], %[wv]\n\t"                    \
  "sxtb16 %[wv], %[wv], ror #8\n\t"            \
  "smlad %[a1], %[wt], %[xe], %[a1]\n\t"       \
  "smlad %[a1], %[wv], %[xo], %[a1]\n\t"       \
  QB_BLOCK_FILTERS_0_3_2

// acc[j] = init[j] + sum_k w_j[k] * (x[k] + offset), k < len, for the n filters w_j = w + j * s: one piece of a run,
// xw its widened values, x its int8 values. init may be acc. Blocks of four filters against the first len & ~7 values
// in one asm loop (each widened word read once per block; the input offset rode in SXTAB16, so it costs nothing per
// MAC and needs no per-channel constant), the 1-3 filters left over one at a time, then the last len % 8 values.
// Out of line: one copy for both callers in conv_pixel, and the asm block's stack slots stay off conv_pixel's frame.
__attribute__((noinline)) void conv_pixel_piece(const uint32_t* xw, const int8_t* x, int32_t len, int32_t offset,
                                                const int8_t* w, int32_t s, int32_t n, const int32_t* init,
                                                int32_t* acc) {
  const int32_t len8 = len & ~7, n4 = n & ~3;
  if (len8 == 0) {  // only the last values: they start from acc
    for (int32_t j = 0; j < n; ++j) acc[j] = init[j];
  } else if (n4 > 0) {
    // The block loop and the value loop inside the asm, everything beyond 12 registers read from the stack, so it still
    // allocates with r7 or r9 reserved (frame pointer, RWPI); as C loops GCC spilled and shuffled the accumulators.
    const uint32_t* const end8 = xw + len8 / 2;
    const int8_t* const w_end = w + n4 * s;
    const int32_t back = 4 * s - len8;  // from the end of filter 0's values to the next block's filter 0
    const int32_t* init_p = init;
    int32_t* acc_p = acc;
    const int8_t* wb = w;
    const uint32_t* xp;
    const int8_t* w2;
    int32_t a0, a1, a2, a3;
    uint32_t xe, xo, wv, wt;
    __asm__ volatile(
        "2:\n\t"
        "ldr %[wt], %[init]\n\t"
        "ldrd %[a0], %[a1], [%[wt]]\n\t"
        "ldrd %[a2], %[a3], [%[wt], #8]\n\t"
        "add %[wt], %[wt], #16\n\t"
        "str %[wt], %[init]\n\t"
        "ldr %[x], %[xw]\n\t"
        "add %[w2], %[w], %[s], lsl #1\n\t"
        "1:\n\t" QB_BLOCK_STEP QB_BLOCK_STEP
        "ldr %[wt], %[end]\n\t"
        "cmp %[x], %[wt]\n\t"
        "bne 1b\n\t"
        "ldr %[wt], %[acc]\n\t"
        "strd %[a0], %[a1], [%[wt]]\n\t"
        "strd %[a2], %[a3], [%[wt], #8]\n\t"
        "add %[wt], %[wt], #16\n\t"
        "str %[wt], %[acc]\n\t"
        "ldr %[wt], %[back]\n\t"
        "add %[w], %[w], %[wt]\n\t"
        "ldr %[wt], %[w_end]\n\t"
        "cmp %[w], %[wt]\n\t"
        "bne 2b\n\t"
        : [x] "=&r"(xp), [w] "+r"(wb), [w2] "=&r"(w2), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2),
          [a3] "=&r"(a3), [xe] "=&r"(xe), [xo] "=&r"(xo), [wv] "=&r"(wv), [wt] "=&r"(wt), [init] "+m"(init_p),
          [acc] "+m"(acc_p)
        : [s] "r"(s), [xw] "m"(xw), [end] "m"(end8), [back] "m"(back), [w_end] "m"(w_end)
        : "cc", "memory");
  }
  if (len8) {
    for (int32_t j = n4; j < n; ++j) {
      int32_t a = init[j];
      const int8_t* wj = w + j * s;
      for (int32_t q = 0; q < len8 / 4; ++q) {
        const uint32_t wv = load4(wj + 4 * q);
        a = __smlad(even(wv), xw[2 * q], a);
        a = __smlad(odd(wv), xw[2 * q + 1], a);
      }
      acc[j] = a;
    }
  }
  if (len & 7) {
    for (int32_t j = 0; j < n; ++j) {
      int32_t a = acc[j];
      const int8_t* wj = w + j * s;
      for (int32_t k = len8; k < len; ++k) a = mac(a, wj[k], x[k] + offset);
      acc[j] = a;
    }
  }
}
#undef QB_BLOCK_STEP
#undef QB_BLOCK_FILTERS_0_3_2

// Every output channel of one CONV_2D / FULLY_CONNECTED pixel: the in-bounds taps walked once per chunk of kChunk
// channels, each run in pieces of at most kWide values widened to 16-bit pairs, every piece against all filters of
// the chunk; the sums wait on the stack between pieces and are requantized together. A one-run window (1x1 conv, FC,
// gathered window) is widened once per pixel. `count` pixels whose windows start x_step apart (a row of a 1x1 conv
// in one call), outputs out_c apart.
__attribute__((noinline)) void conv_pixel(const Taps& g, const Requant& rq, const int32_t* bias, const int8_t* x0,
                                          int32_t x_step, const int8_t* w0, int32_t out_c, int32_t count,
                                          int8_t* out) {
  int32_t acc[kChunk];
  uint32_t wide[kWide / 2];
  const int32_t offset = lane_offset(g.off2);
  const bool single = g.rows == 1 && g.runs == 1 && g.len <= kWide;
  for (; count > 0; --count, x0 += x_step, out += out_c) {
    if (single) widen(x0, g.len, g.off2, wide);
    for (int32_t c0 = 0; c0 < out_c; c0 += kChunk) {
      const int32_t n = out_c - c0 < kChunk ? out_c - c0 : kChunk;
      if (bias == nullptr) {
        for (int32_t j = 0; j < n; ++j) acc[j] = 0;
      }
      const int32_t* init = bias ? bias + c0 : acc;  // the first piece starts at the bias, the next where it stopped
      if (single) {
        conv_pixel_piece(wide, x0, g.len, offset, w0 + c0 * g.w_stride, g.w_stride, n, init, acc);
      } else {
        for_each_run(g, x0, w0 + c0 * g.w_stride, [&](const int8_t* x, const int8_t* w) {
          for (int32_t p = 0; p < g.len; p += kWide) {
            const int32_t len = g.len - p < kWide ? g.len - p : kWide;
            widen(x + p, len, g.off2, wide);
            conv_pixel_piece(wide, x + p, len, offset, w + p, g.w_stride, n, init, acc);
            init = acc;
          }
        });
        if (init != acc) {  // no tap inside the input
          for (int32_t j = 0; j < n; ++j) acc[j] = init[j];
        }
      }
      requantize(rq, c0, n, acc, out + c0);
    }
  }
}

// One depthwise tap for four channels: each lane is its own channel, so 16x16 multiply-accumulates per lane
// (SMLABB / SMLATT) instead of SMLAD; the input offset again rides in SXTAB16.
#define QB_DW_TAP(XADDR, WADDR)                 \
  "ldr %[xo], " XADDR "\n\t"                     \
  "ldr %[wo], " WADDR "\n\t"                     \
  "sxtab16 %[xe], %[off2], %[xo]\n\t"            \
  "sxtab16 %[xo], %[off2], %[xo], ror #8\n\t"    \
  "sxtb16 %[we], %[wo]\n\t"                      \
  "sxtb16 %[wo], %[wo], ror #8\n\t"              \
  "smlabb %[a0], %[we], %[xe], %[a0]\n\t"        \
  "smlatt %[a2], %[we], %[xe], %[a2]\n\t"        \
  "smlabb %[a1], %[wo], %[xo], %[a1]\n\t"        \
  "smlatt %[a3], %[wo], %[xo], %[a3]\n\t"

// Nine taps for four channels: a 3x3 window inside the input (every interior pixel of an undilated 3x3 depthwise),
// one register for the tap step of input and filter (equal without dilation), the row steps read from the stack.
#define QB_DW_3X3                                                                                               \
  QB_DW_TAP("[%[x]]", "[%[w]]") QB_DW_TAP("[%[x], %[st]]", "[%[w], %[st]]")                                     \
  QB_DW_TAP("[%[x], %[st], lsl #1]", "[%[w], %[st], lsl #1]")                                                   \
  "ldr %[xe], %[xr]\n\t"                                                                                        \
  "ldr %[we], %[wr]\n\t"                                                                                        \
  "add %[x], %[x], %[xe]\n\t"                                                                                   \
  "add %[w], %[w], %[we]\n\t"                                                                                   \
  QB_DW_TAP("[%[x]]", "[%[w]]") QB_DW_TAP("[%[x], %[st]]", "[%[w], %[st]]")                                     \
  QB_DW_TAP("[%[x], %[st], lsl #1]", "[%[w], %[st], lsl #1]")                                                   \
  "ldr %[xe], %[xr]\n\t"                                                                                        \
  "ldr %[we], %[wr]\n\t"                                                                                        \
  "add %[x], %[x], %[xe]\n\t"                                                                                   \
  "add %[w], %[w], %[we]\n\t"                                                                                   \
  QB_DW_TAP("[%[x]]", "[%[w]]") QB_DW_TAP("[%[x], %[st]]", "[%[w], %[st]]")                                     \
  QB_DW_TAP("[%[x], %[st], lsl #1]", "[%[w], %[st], lsl #1]")

// Every channel of `count` DEPTHWISE_CONV_2D pixels (depth multiplier 1) with the same taps, windows x_step apart (a
// row's pixels inside the input in width): four channels per pass, the sums starting at the bias. A 3x3 window
// inside the input runs every block of four channels in one asm loop (GCC reloaded the row pointers from the stack
// per tap); other windows go tap by tap.
__attribute__((noinline)) void depthwise_pixel(const Taps& g, const Requant& rq, const int32_t* bias,
                                               const int8_t* x0, int32_t x_step, const int8_t* w0, int32_t channels,
                                               int32_t count, int8_t* out) {
  const uint32_t off2 = g.off2;
  const int32_t xs = g.x_run;
  // asm memory operands (on the stack, no base register): row steps, and the way back from the third row to the next
  // block's first.
  const int32_t x_row = g.x_row, w_row = g.w_row, x_back = 2 * g.x_row - 4, w_back = 2 * g.w_row - 4;
  const bool block9 = g.rows == 3 && g.runs == 3 && xs == g.w_run;
  int32_t acc[kChunk];
  for (; count > 0; --count, x0 += x_step, out += channels) {
    for (int32_t c0 = 0; c0 < channels; c0 += kChunk) {
      const int32_t n = channels - c0 < kChunk ? channels - c0 : kChunk;
      if (bias == nullptr) {
        for (int32_t j = 0; j < n; ++j) acc[j] = 0;
      }
      const int32_t* const init = bias ? bias + c0 : acc;
      int32_t j = 0;
      if (block9 && n >= 4) {
        // 12 registers (init, acc and the loop end read from the stack into scratch registers), so it allocates with
        // r7 or r9 reserved.
        const int8_t* x = x0 + c0;
        const int8_t* w = w0 + c0;
        const int8_t* const x_end = x + (n & ~3);
        const int32_t* init_p = init;
        int32_t* acc_p = acc;
        int32_t a0, a1, a2, a3;
        uint32_t xe, xo, we, wo;
        __asm__ volatile(
            "2:\n\t"
            "ldr %[wo], %[init]\n\t"
            "ldrd %[a0], %[a1], [%[wo]]\n\t"
            "ldrd %[a2], %[a3], [%[wo], #8]\n\t"
            "add %[wo], %[wo], #16\n\t"
            "str %[wo], %[init]\n\t"
            QB_DW_3X3
            "ldr %[xe], %[xb]\n\t"
            "ldr %[we], %[wb]\n\t"
            "sub %[x], %[x], %[xe]\n\t"
            "sub %[w], %[w], %[we]\n\t"
            "ldr %[wo], %[acc]\n\t"
            "strd %[a0], %[a1], [%[wo]]\n\t"
            "strd %[a2], %[a3], [%[wo], #8]\n\t"
            "add %[wo], %[wo], #16\n\t"
            "str %[wo], %[acc]\n\t"
            "ldr %[xe], %[x_end]\n\t"
            "cmp %[x], %[xe]\n\t"
            "bne 2b\n\t"
            : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [xe] "=&r"(xe), [xo] "=&r"(xo),
              [we] "=&r"(we), [wo] "=&r"(wo), [x] "+r"(x), [w] "+r"(w), [init] "+m"(init_p), [acc] "+m"(acc_p)
            : [st] "r"(xs), [off2] "r"(off2), [xr] "m"(x_row), [wr] "m"(w_row), [xb] "m"(x_back),
              [wb] "m"(w_back), [x_end] "m"(x_end)
            : "cc", "memory");
        j = n & ~3;
      }
      for (; j + 4 <= n; j += 4) {  // border windows and other filter sizes: tap by tap
        int32_t a0 = init[j], a1 = init[j + 1], a2 = init[j + 2], a3 = init[j + 3];
        for_each_run(g, x0 + c0 + j, w0 + c0 + j, [&](const int8_t* xt, const int8_t* wt) {
          uint32_t xe, xo, we, wo;
          __asm__ volatile(QB_DW_TAP("[%[x]]", "[%[w]]")
                           : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [xe] "=&r"(xe),
                             [xo] "=&r"(xo), [we] "=&r"(we), [wo] "=&r"(wo)
                           : [x] "r"(xt), [w] "r"(wt), [off2] "r"(off2));
        });
        acc[j] = a0;
        acc[j + 1] = a1;
        acc[j + 2] = a2;
        acc[j + 3] = a3;
      }
      for (; j < n; ++j) {  // at most three channels: the plain sum
        int32_t a = init[j];
        for_each_run(g, x0 + c0 + j, w0 + c0 + j,
                     [&](const int8_t* xt, const int8_t* wt) { a = mac(a, *wt, *xt + lane_offset(off2)); });
        acc[j] = a;
      }
      requantize(rq, c0, n, acc, out + c0);
    }
  }
}
#undef QB_DW_3X3
#undef QB_DW_TAP

// Window rows are a few bytes (4 for a 10x4 one-channel filter): word copies, and no call for empty fills.
QB_INLINE void copy(int8_t* dst, const int8_t* src, int32_t n) {
  int32_t k = 0;
  for (; k + 4 <= n; k += 4) {
    const uint32_t v = load4(src + k);
    memcpy(dst + k, &v, 4);
  }
  for (; k < n; ++k) dst[k] = src[k];
}

QB_INLINE void fill(int8_t* dst, int8_t value, int32_t n) {
  for (int32_t k = 0; k < n; ++k) dst[k] = value;
}

// dst = n runs of len values from src, each followed by `fill` up to len8 values (once per op: bytes, small code).
__attribute__((noinline)) void pad_runs(int8_t* dst, const int8_t* src, int32_t n, int32_t len, int32_t len8,
                                        int8_t fill) {
  for (int32_t i = 0; i < n * len8; ++i) dst[i] = i % len8 < len ? src[i / len8 * len + i % len8] : fill;
}

// Same as in conv.cc: the filter taps whose input row/column is inside [0, size).
QB_INLINE void tap_range(int32_t origin, int32_t dilation, int32_t filter_size, int32_t size, int32_t* start,
                         int32_t* end) {
  int32_t s = origin < 0 ? (-origin + dilation - 1) / dilation : 0;
  int32_t e = size - origin <= 0 ? 0 : (size - origin + dilation - 1) / dilation;
  if (e > filter_size) e = filter_size;
  if (s > e) s = e;
  *start = s;
  *end = e;
}

}  // namespace

// CONV_2D (ungrouped), FULLY_CONNECTED (a 1x1 conv) and DEPTHWISE_CONV_2D with depth multiplier 1.
// Conv: with unit horizontal dilation the in-bounds taps of one filter row are one contiguous run of (taps x depth)
// int8 values in the NHWC input and in the OHWI filter alike, so each row is a single dot product; windows that fit
// kPatch are gathered into one run. Depthwise: a run is one tap of four channels.
// Per pixel or per row of pixels, not per MAC: compiled for size.
__attribute__((optimize("Os"))) bool eval_conv_dsp(const ConvParams& p, const int32_t* multipliers,
                                                   const int8_t* shifts, const Shape4& input,
                                                   const int8_t* input_data, const int8_t* filter_data,
                                                   const int32_t* bias, const Shape4& output, int8_t* output_data) {
  const bool conv = p.kind == WindowKind::kConv && p.depth == input.c && p.filter_offset == 0;
  const bool depthwise = p.kind == WindowKind::kDepthwise && output.c == input.c;
  if (!conv && !depthwise) return false;
  int32_t fast = p.per_channel;
  for (int32_t c = 0; fast && c < output.c; ++c) fast = shifts[c] < 0;
  const int8_t tensor_shift = static_cast<int8_t>(p.output_shift);  // in [-31, 30], as per-channel shifts
  const Requant rq{p.per_channel ? multipliers : &p.output_multiplier, p.per_channel ? shifts : &tensor_shift,
                   p.per_channel, fast, p.output_offset, p.act_min, p.act_max};
  const int32_t in_c = input.c;
  const int32_t out_c = output.c;
  const int32_t depth = depthwise ? out_c : p.depth;  // filter values per tap
  const bool contiguous = conv && p.dilation_w == 1;
  Taps g{};
  g.x_run = p.dilation_w * in_c;
  g.w_run = depth;
  g.x_row = p.dilation_h * input.w * in_c;
  g.w_row = p.filter_w * depth;
  g.w_stride = depthwise ? 1 : p.filter_h * p.filter_w * depth;
  g.off2 = (static_cast<uint32_t>(p.input_offset) & 0xFFFFu) | (static_cast<uint32_t>(p.input_offset) << 16);
  int8_t* out = output_data;
  int8_t patch[kPatch];
  // Windows of more than one tap that fit the patch are gathered; with horizontal dilation the gather would copy tap
  // by tap (rare: left to the run loop).
  const bool gather = contiguous && p.filter_h * p.filter_w > 1 && p.filter_h * p.filter_w * depth <= kPatch;
  const int8_t pad = static_cast<int8_t>(-p.input_offset);  // the input zero point
  // A gathered window whose length is not a multiple of 8 (27 for a 3x3 filter over three channels, every image
  // model's first layer) would leave each block of four filters a scalar remainder. When all filters fit kPatch with
  // their length rounded up to 8, they are copied here once per op with zero weights in the padding, and the patch
  // is padded too (with the zero point: any value gives 0 * value = 0): whole 8-value passes only.
  const int32_t window = p.filter_h * p.filter_w * depth, window8 = (window + 7) & ~7;
  int8_t padded[kPatch];
  const bool pad_filters = gather && window8 != window && out_c * window8 <= kPatch;
  if (pad_filters) {
    pad_runs(padded, filter_data, out_c, window, window8, 0);
    pad_runs(patch + window, nullptr, 1, 0, window8 - window, pad);
  }
  Taps one = g;  // the gathered window: one run
  one.rows = 1;
  one.runs = 1;
  one.len = pad_filters ? window8 : window;
  one.w_stride = one.len;
  const int8_t* const one_w = pad_filters ? padded : filter_data;
  // 1x1 conv and FC.
  const bool pointwise = conv && p.filter_h == 1 && p.filter_w == 1;
  if (pointwise) {
    g.rows = g.runs = 1;
    g.len = depth;
  }
  for (int32_t b = 0; b < output.n; ++b) {
    const int8_t* in_batch = input_data + b * input.h * input.w * in_c;
    for (int32_t oy = 0; oy < output.h; ++oy) {
      const int32_t iy0 = oy * p.stride_h - p.pad_h;
      int32_t fy_start, fy_end;
      tap_range(iy0, p.dilation_h, p.filter_h, input.h, &fy_start, &fy_end);
      if (pointwise) {  // every window one run inside the input (no padding): the whole row in one call
        conv_pixel(g, rq, bias, in_batch + iy0 * input.w * in_c, p.stride_w * in_c, filter_data, out_c, output.w,
                   out);
        out += output.w * out_c;
        continue;
      }
      for (int32_t ox = 0; ox < output.w; ++ox) {
        const int32_t ix0 = ox * p.stride_w - p.pad_w;
        int32_t fx_start, fx_end;
        tap_range(ix0, p.dilation_w, p.filter_w, input.w, &fx_start, &fx_end);
        const int32_t taps = fx_end - fx_start;
        g.rows = taps > 0 ? fy_end - fy_start : 0;
        g.runs = contiguous ? 1 : taps;
        g.len = contiguous ? taps * depth : depth;
        // Only dereferenced when rows > 0 (then every tap is in bounds).
        const int8_t* x0 =
            in_batch + ((iy0 + fy_start * p.dilation_h) * input.w + ix0 + fx_start * p.dilation_w) * in_c;
        const int8_t* w0 = filter_data + (fy_start * p.filter_w + fx_start) * depth;
        if (depthwise) {
          // A window whole in width: so are the next ones up to the right border, with the same taps; one call.
          int32_t count = 1;
          if (taps == p.filter_w) {
            const int32_t last = (input.w - 1 - (p.filter_w - 1) * p.dilation_w + p.pad_w) / p.stride_w;
            count = (last < output.w - 1 ? last : output.w - 1) - ox + 1;
          }
          depthwise_pixel(g, rq, bias, x0, p.stride_w * in_c, w0, out_c, count, out);
          ox += count - 1;
          out += (count - 1) * out_c;
        } else if (gather && g.rows > 0) {
          // The whole window as one run: filter rows (OHWI) are contiguous, so the input rows are copied next to
          // each other, and taps outside the input are filled with the input zero point, which contributes
          // (zero point + offset) * w = 0, exactly what skipping them gives (the one-channel 10x4 first layer of a
          // keyword spotter: one run of 40 values instead of up to ten of 4).
          const int32_t row_len = p.filter_w * depth;
          const int32_t left = fx_start * depth, mid = taps * depth;
          for (int32_t fy = 0; fy < p.filter_h; ++fy) {
            int8_t* dst = patch + fy * row_len;
            if (fy < fy_start || fy >= fy_end) {
              fill(dst, pad, row_len);
            } else {
              fill(dst, pad, left);
              copy(dst + left, x0 + (fy - fy_start) * g.x_row, mid);
              fill(dst + left + mid, pad, row_len - left - mid);
            }
          }
          conv_pixel(one, rq, bias, patch, 0, one_w, out_c, 1, out);
        } else {
          conv_pixel(g, rq, bias, x0, 0, w0, out_c, 1, out);
        }
        out += out_c;
      }
    }
  }
  return true;
}

}  // namespace kernels
}  // namespace qbuild

#endif  // QBUILD_KERNELS_DSP
