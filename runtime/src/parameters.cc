// SL_PARAMSv1: Dictionary{schema_version:uint8; entries:[Entry]}, Entry{key:string; value:Value (union)}.
// Value members (type ids 1..16): boolean, i8, u8, i16, u16, i32, u32, i64, u64, f32, f64 {value}, str {data:string},
// str_list, int32_list, float_list, bin {data:[...]}.
#include "qbuild/parameters.h"

#include <string.h>

#include "flatbuffer.h"

namespace qbuild {
namespace {

enum ValueType : uint8_t {
  kBool = 1, kI8, kU8, kI16, kU16, kI32, kU32, kI64, kU64, kF32, kF64, kStr, kStrList, kI32List, kF32List, kBin
};

}  // namespace

void Parameters::clear() {
  base_ = nullptr;
  size_ = 0;
  entries_pos_ = 0;
}

bool Parameters::attach(const uint8_t* dict, uint32_t size) {
  clear();
  FbReader fb(dict, size);
  FbTable root = fb.root();
  FbVector entries = fb.vector(root, 1, 4);
  if (!fb.ok() || !entries.present()) return false;
  base_ = dict;
  size_ = size;
  entries_pos_ = entries.pos - 4;
  return true;
}

size_t Parameters::size() const {
  if (!base_) return 0;
  FbReader fb(base_, size_);
  uint32_t n = fb.read<uint32_t>(entries_pos_);
  return fb.ok() ? n : 0;
}

bool Parameters::find(const char* key, uint32_t* value_pos, uint8_t* type) const {
  if (!base_ || !key) return false;
  FbReader fb(base_, size_);
  FbVector entries{entries_pos_ + 4, fb.read<uint32_t>(entries_pos_)};
  if (!fb.ok()) return false;
  for (uint32_t i = 0; i < entries.length; ++i) {
    FbTable e = fb.table_element(entries, i);
    const char* k = fb.string(e, 0);
    if (!fb.ok()) return false;
    if (k && strcmp(k, key) == 0) {
      *type = fb.scalar<uint8_t>(e, 1, 0);
      FbTable v = fb.table(e, 2);
      if (!fb.ok() || !v.present()) return false;
      *value_pos = v.pos;
      return true;
    }
  }
  return false;
}

bool Parameters::contains(const char* key) const {
  uint32_t pos;
  uint8_t type;
  return find(key, &pos, &type);
}

// Numbers without double arithmetic: Cortex-M33 has a single-precision FPU only, and soft-double helpers would add
// ~2 KB of flash to every firmware that reads a parameter. Results equal the double-based definitions noted below.
namespace {

int32_t bit_length(uint64_t v) {
  int32_t n = 0;
  for (; v != 0; v >>= 1) ++n;
  return n;
}

// v rounded to nearest-even at `bits` significant bits (v <= 2^63, so the result cannot overflow).
uint64_t round_to_bits(uint64_t v, int32_t bits) {
  const int32_t drop = bit_length(v) - bits;
  if (drop <= 0) return v;
  const uint64_t rem = v & ((uint64_t{1} << drop) - 1);
  const uint64_t half = uint64_t{1} << (drop - 1);
  v >>= drop;
  if (rem > half || (rem == half && (v & 1) != 0)) ++v;
  return v << drop;
}

// static_cast<float>(static_cast<double>(i)): both roundings done on the integer, then an exact conversion.
float int_as_float(int64_t i) {
  uint64_t mag = i < 0 ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
  mag = round_to_bits(round_to_bits(mag, 53), 24);
  const int32_t shift = bit_length(mag) > 24 ? bit_length(mag) - 24 : 0;
  const uint32_t pow2_bits = static_cast<uint32_t>(127 + shift) << 23;  // 2^shift, shift <= 40
  float pow2;
  memcpy(&pow2, &pow2_bits, sizeof(pow2));
  const float f = static_cast<float>(static_cast<uint32_t>(mag >> shift)) * pow2;  // exact: < 2^24 times 2^shift
  return i < 0 ? -f : f;
}

// A double (as IEEE bits) that holds an integer in int32 range, as in: d >= -2^31 && d <= 2^31 - 1 &&
// double(int64(d)) == d.
bool double_as_int32(uint64_t bits, int64_t* out) {
  if ((bits << 1) == 0) {  // +-0
    *out = 0;
    return true;
  }
  const int32_t exp = static_cast<int32_t>((bits >> 52) & 0x7FF);
  if (exp == 0 || exp == 0x7FF) return false;  // subnormal (not an integer), inf, NaN
  const uint64_t mant = (bits & ((uint64_t{1} << 52) - 1)) | (uint64_t{1} << 52);
  const int32_t right = 1075 - exp;  // value = mant / 2^right
  if (right <= 0 || right > 52) return false;  // >= 2^52 (out of range) or < 1 (not an integer)
  if ((mant & ((uint64_t{1} << right) - 1)) != 0) return false;
  const uint64_t mag = mant >> right;
  const bool negative = (bits >> 63) != 0;
  if (mag > (negative ? uint64_t{1} << 31 : (uint64_t{1} << 31) - 1)) return false;
  *out = negative ? -static_cast<int64_t>(mag) : static_cast<int64_t>(mag);
  return true;
}

}  // namespace

bool Parameters::get_number(const char* key, Number* n) const {
  uint32_t pos;
  uint8_t type;
  if (!find(key, &pos, &type)) return false;
  FbReader fb(base_, size_);
  FbTable v = fb.table_at(pos);
  n->kind = Number::kInt;
  switch (type) {
    case kBool: n->i = fb.scalar<uint8_t>(v, 0, 0) != 0; break;
    case kI8: n->i = fb.scalar<int8_t>(v, 0, 0); break;
    case kU8: n->i = fb.scalar<uint8_t>(v, 0, 0); break;
    case kI16: n->i = fb.scalar<int16_t>(v, 0, 0); break;
    case kU16: n->i = fb.scalar<uint16_t>(v, 0, 0); break;
    case kI32: n->i = fb.scalar<int32_t>(v, 0, 0); break;
    case kU32: n->i = fb.scalar<uint32_t>(v, 0, 0); break;
    case kI64: n->i = fb.scalar<int64_t>(v, 0, 0); break;
    case kU64: {
      uint64_t u = fb.scalar<uint64_t>(v, 0, 0);
      if (u > static_cast<uint64_t>(INT64_MAX)) return false;
      n->i = static_cast<int64_t>(u);
      break;
    }
    case kF32: n->f = fb.scalar<float>(v, 0, 0.0f); n->kind = Number::kF32; break;
    case kF64: n->d_bits = fb.scalar<uint64_t>(v, 0, 0); n->kind = Number::kF64; break;
    default: return false;
  }
  return fb.ok();
}

bool Parameters::get(const char* key, float& out) const {
  Number n;
  if (!get_number(key, &n)) return false;
  if (n.kind == Number::kInt) {
    out = int_as_float(n.i);
  } else if (n.kind == Number::kF32) {
    out = n.f;
  } else {
    double d;  // the one double operation left: __aeabi_d2f, ~160 bytes
    memcpy(&d, &n.d_bits, sizeof(d));
    out = static_cast<float>(d);
  }
  return true;
}

bool Parameters::get(const char* key, int32_t& out) const {
  Number n;
  if (!get_number(key, &n)) return false;
  int64_t i = n.i;
  // A float that holds an integer (e.g. MLTK's 0.0 double) still reads as an int.
  if (n.kind == Number::kF32) {
    // float bounds equal to the double ones (2^31 - 1 is not a float); int32 <-> float conversions are exact here.
    if (!(n.f >= -2147483648.0f && n.f < 2147483648.0f)) return false;
    const int32_t t = static_cast<int32_t>(n.f);
    if (static_cast<float>(t) != n.f) return false;
    i = t;
  } else if (n.kind == Number::kF64 && !double_as_int32(n.d_bits, &i)) {
    return false;
  }
  if (i < INT32_MIN || i > INT32_MAX) return false;
  out = static_cast<int32_t>(i);
  return true;
}

bool Parameters::get(const char* key, bool& out) const {
  Number n;
  if (!get_number(key, &n)) return false;
  if (n.kind == Number::kInt) {
    out = n.i != 0;
  } else if (n.kind == Number::kF32) {
    out = n.f != 0.0f;
  } else {
    out = (n.d_bits << 1) != 0;  // d != 0.0 (NaN included)
  }
  return true;
}

bool Parameters::get(const char* key, const char*& out) const {
  uint32_t pos;
  uint8_t type;
  if (!find(key, &pos, &type) || type != kStr) return false;
  FbReader fb(base_, size_);
  const char* s = fb.string(fb.table_at(pos), 0);
  if (!fb.ok() || !s) return false;
  out = s;
  return true;
}

}  // namespace qbuild
