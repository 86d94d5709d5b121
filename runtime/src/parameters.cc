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

bool Parameters::get_number(const char* key, double* out, bool* integral, int64_t* as_int) const {
  uint32_t pos;
  uint8_t type;
  if (!find(key, &pos, &type)) return false;
  FbReader fb(base_, size_);
  FbTable v = fb.table_at(pos);
  *integral = true;
  switch (type) {
    case kBool: *as_int = fb.scalar<uint8_t>(v, 0, 0) != 0; break;
    case kI8: *as_int = fb.scalar<int8_t>(v, 0, 0); break;
    case kU8: *as_int = fb.scalar<uint8_t>(v, 0, 0); break;
    case kI16: *as_int = fb.scalar<int16_t>(v, 0, 0); break;
    case kU16: *as_int = fb.scalar<uint16_t>(v, 0, 0); break;
    case kI32: *as_int = fb.scalar<int32_t>(v, 0, 0); break;
    case kU32: *as_int = fb.scalar<uint32_t>(v, 0, 0); break;
    case kI64: *as_int = fb.scalar<int64_t>(v, 0, 0); break;
    case kU64: {
      uint64_t u = fb.scalar<uint64_t>(v, 0, 0);
      if (u > static_cast<uint64_t>(INT64_MAX)) return false;
      *as_int = static_cast<int64_t>(u);
      break;
    }
    case kF32: *out = fb.scalar<float>(v, 0, 0.0f); *integral = false; break;
    case kF64: *out = fb.scalar<double>(v, 0, 0.0); *integral = false; break;
    default: return false;
  }
  if (!fb.ok()) return false;
  if (*integral) *out = static_cast<double>(*as_int);
  return true;
}

bool Parameters::get(const char* key, float& out) const {
  double d;
  bool integral;
  int64_t i;
  if (!get_number(key, &d, &integral, &i)) return false;
  out = static_cast<float>(d);
  return true;
}

bool Parameters::get(const char* key, int32_t& out) const {
  double d;
  bool integral;
  int64_t i = 0;
  if (!get_number(key, &d, &integral, &i)) return false;
  if (!integral) {
    // A float that holds an integer (e.g. MLTK's 0.0 double) still reads as an int.
    if (!(d >= -2147483648.0 && d <= 2147483647.0) || static_cast<double>(static_cast<int64_t>(d)) != d) return false;
    i = static_cast<int64_t>(d);
  }
  if (i < INT32_MIN || i > INT32_MAX) return false;
  out = static_cast<int32_t>(i);
  return true;
}

bool Parameters::get(const char* key, bool& out) const {
  double d;
  bool integral;
  int64_t i;
  if (!get_number(key, &d, &integral, &i)) return false;
  out = integral ? i != 0 : d != 0.0;
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
