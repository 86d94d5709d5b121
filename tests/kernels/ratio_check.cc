// Checks quantize_scale_ratio (integer-only) against TFLite's double arithmetic on the host's IEEE doubles:
// random and edge-case scale triples, every pow2 the kernels use. Prints "ratio_check N ok" or the first mismatch.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/kernels/common.h"

using namespace qbuild::kernels;

namespace {

// TFLite's QuantizeMultiplier, verbatim arithmetic (the reference the integer version must equal).
void reference(double m, int32_t* multiplier, int32_t* shift) {
  if (m == 0.0) {
    *multiplier = 0;
    *shift = 0;
    return;
  }
  int e = 0;
  const double q = frexp(m, &e);
  int64_t q_fixed = static_cast<int64_t>(round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++e;
  }
  if (e < -31) {
    e = 0;
    q_fixed = 0;
  }
  *multiplier = static_cast<int32_t>(q_fixed);
  *shift = e;
}

uint64_t g_state = 0x9e3779b97f4a7c15ull;
uint32_t next() {
  g_state ^= g_state << 13;
  g_state ^= g_state >> 7;
  g_state ^= g_state << 17;
  return static_cast<uint32_t>(g_state >> 16);
}

float random_scale() {
  switch (next() % 6) {
    case 0: {  // any positive finite float, subnormals included
      uint32_t bits = next() & 0x7fffffffu;
      if ((bits >> 23) == 0xff) bits &= 0x7f7fffffu;
      if (bits == 0) bits = 1;
      float f;
      memcpy(&f, &bits, 4);
      return f;
    }
    case 1: return static_cast<float>(next() % 4096 + 1) / 4096.0f;  // short mantissas: exact ties likely
    case 2: return ldexpf(1.0f, static_cast<int>(next() % 60) - 40);
    default: return powf(10.0f, (static_cast<float>(next() % 2000) - 1200.0f) / 200.0f);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? atol(argv[1]) : 1000000;
  const int32_t pow2s[] = {0, -1, -19, 26};
  long compared = 0;
  for (long i = 0; i < n; ++i) {
    const float x = random_scale(), y = (next() % 4 == 0) ? 1.0f : random_scale(), z = random_scale();
    const int32_t pow2 = pow2s[next() % 4];
    const double real = ldexp(static_cast<double>(x) * static_cast<double>(y) / static_cast<double>(z), pow2);
    if (!(real > 0.0) || real > 1e300 || real < 1e-300) continue;  // TFLite's inputs stay far from these
    int32_t rm, rs, m, s;
    ++compared;
    // The 53-bit quotient itself must be the IEEE double's, bit for bit (ties to even included).
    const double d = static_cast<double>(x) * static_cast<double>(y) / static_cast<double>(z);
    const Double53 ours = ratio_as_double(x, y, z);
    if (ldexp(static_cast<double>(ours.mantissa), ours.exponent) != d) {
      printf("quotient mismatch x=%a y=%a z=%a: %a vs %a\n", static_cast<double>(x), static_cast<double>(y),
             static_cast<double>(z), d, ldexp(static_cast<double>(ours.mantissa), ours.exponent));
      return 1;
    }
    reference(real, &rm, &rs);
    quantize_scale_ratio(x, y, z, pow2, &m, &s);
    if (rm != m || rs != s) {
      printf("mismatch x=%a y=%a z=%a pow2=%d: reference (%d, %d) ours (%d, %d)\n", static_cast<double>(x),
             static_cast<double>(y), static_cast<double>(z), pow2, rm, rs, m, s);
      return 1;
    }
  }
  printf("ratio_check %ld compared ok\n", compared);
  return 0;
}
