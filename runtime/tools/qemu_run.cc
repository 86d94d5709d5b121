// Firmware harness for QEMU (or any board with qbuild_write): runs every embedded test case and prints, per case,
//   case <name> status <code> arena <arena_used_bytes> out <hex of all output bytes>
// then exits 0. The cases come from a binary blob linked in by qemu_blob.S (format below, written by
// qbuild.runtime.pack_cases); the arena size from -DQBUILD_TEST_ARENA=<bytes>.
//   blob: "QBTC" u32 count, then count x {u32 name_off, model_off, model_len, input_off, input_len}; offsets from
//   the blob start, models 16-byte aligned, names NUL-terminated. All little-endian.
#include <stddef.h>
#include <string.h>

#include "qbuild/qbuild.h"
#include "qbuild_board.h"

extern "C" const unsigned char qbuild_blob[];

#ifndef QBUILD_TEST_ARENA
#define QBUILD_TEST_ARENA (128 * 1024)
#endif
alignas(16) static unsigned char qbuild_arena[QBUILD_TEST_ARENA];

namespace {

void put(const char* s) { qbuild_write(s, strlen(s)); }

void put_uint(unsigned long v) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  char out[24];
  for (int i = 0; i < n; ++i) out[i] = buf[n - 1 - i];
  qbuild_write(out, static_cast<size_t>(n));
}

void put_hex(const unsigned char* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  char chunk[64];
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    chunk[k++] = kDigits[p[i] >> 4];
    chunk[k++] = kDigits[p[i] & 15];
    if (k == sizeof(chunk)) {
      qbuild_write(chunk, k);
      k = 0;
    }
  }
  qbuild_write(chunk, k);
}

qbuild::Model g_model;

unsigned u32_at(unsigned off) {
  unsigned v;
  memcpy(&v, qbuild_blob + off, 4);
  return v;
}

}  // namespace

int main() {
  if (memcmp(qbuild_blob, "QBTC", 4) != 0) {
    put("bad blob\n");
    qbuild_exit(2);
  }
  const unsigned count = u32_at(4);
  for (unsigned c = 0; c < count; ++c) {
    const unsigned e = 8 + 20 * c;
    const unsigned char* input = qbuild_blob + u32_at(e + 12);
    const unsigned input_len = u32_at(e + 16);
    put("case ");
    put(reinterpret_cast<const char*>(qbuild_blob + u32_at(e)));
    qbuild::Status s = g_model.load(qbuild_blob + u32_at(e + 4), u32_at(e + 8), qbuild_arena, sizeof(qbuild_arena));
    size_t pos = 0;
    for (size_t i = 0; s == qbuild::Status::kOk && i < g_model.inputs_size(); ++i) {
      qbuild::TensorView* t = g_model.input(i);
      if (pos + t->bytes > input_len) break;
      memcpy(t->data.raw, input + pos, t->bytes);
      pos += t->bytes;
    }
    if (s == qbuild::Status::kOk) s = g_model.invoke();
    put(" status ");
    put_uint(static_cast<unsigned long>(s));
    put(" arena ");
    put_uint(g_model.arena_used_bytes());
    put(" out ");
    for (size_t i = 0; s == qbuild::Status::kOk && i < g_model.outputs_size(); ++i) {
      const qbuild::TensorView* t = g_model.output(i);
      put_hex(static_cast<const unsigned char*>(t->data.raw), t->bytes);
    }
    put("\n");
  }
  qbuild_exit(0);
}
