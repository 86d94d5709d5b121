#include "flatbuffer.h"

namespace qbuild {

FbTable FbReader::table_at(uint32_t pos) const {
  FbTable t;
  // A table starts with a 4-byte signed offset to its vtable (vtable = pos - soffset).
  if (pos == 0 || !in_bounds(pos, 4)) {
    fail();
    return t;
  }
  int64_t vt = static_cast<int64_t>(pos) - read<int32_t>(pos);
  if (vt < 0 || vt > UINT32_MAX || !in_bounds(static_cast<uint32_t>(vt), 4)) {
    fail();
    return t;
  }
  uint16_t vt_size = read<uint16_t>(static_cast<uint32_t>(vt));
  uint16_t tbl_size = read<uint16_t>(static_cast<uint32_t>(vt) + 2);
  if (vt_size < 4 || vt_size % 2 != 0 || tbl_size < 4 || !in_bounds(static_cast<uint32_t>(vt), vt_size) ||
      !in_bounds(pos, tbl_size)) {
    fail();
    return t;
  }
  t.pos = pos;
  t.vtable = static_cast<uint32_t>(vt);
  t.vt_size = vt_size;
  t.tbl_size = tbl_size;
  return t;
}

uint32_t FbReader::field_pos(const FbTable& t, int id, uint32_t width) const {
  if (!t.present() || id < 0) return 0;
  uint32_t slot = 4u + 2u * static_cast<uint32_t>(id);
  if (slot + 2u > t.vt_size) return 0;  // field newer than the writer's schema: absent
  uint16_t off = read<uint16_t>(t.vtable + slot);
  if (off == 0) return 0;
  if (off < 4 || static_cast<uint32_t>(off) + width > t.tbl_size) {
    fail();
    return 0;
  }
  return t.pos + off;
}

// The checks below look at this read only (not the sticky flag), so a failed read elsewhere never changes what a
// later, valid lookup returns: Eval sees exactly the structure Prepare validated.
uint32_t FbReader::follow(uint32_t pos) const {
  if (!in_bounds(pos, 4)) {
    failed_ = truncated_ = true;
    return 0;
  }
  uint32_t rel = read<uint32_t>(pos);
  if (rel == 0 || !in_bounds(pos, rel)) {
    fail();
    return 0;
  }
  return pos + rel;
}

uint32_t FbReader::field_target(const FbTable& t, int id) const {
  uint32_t p = field_pos(t, id, 4);
  return p ? follow(p) : 0;
}

uint32_t FbReader::element_target(const FbVector& v, uint32_t i) const {
  if (i >= v.length) {
    fail();
    return 0;
  }
  return follow(v.pos + 4 * i);
}

FbTable FbReader::table(const FbTable& t, int id) const {
  uint32_t target = field_target(t, id);
  return target ? table_at(target) : FbTable{};
}

FbVector FbReader::vector_at(uint32_t pos, uint32_t elem_size) const {
  FbVector v;
  if (!in_bounds(pos, 4)) {
    failed_ = truncated_ = true;
    return v;
  }
  uint32_t n = read<uint32_t>(pos);
  if (!in_bounds(pos, 4 + static_cast<uint64_t>(n) * elem_size)) {
    fail();
    return v;
  }
  v.pos = pos + 4;
  v.length = n;
  return v;
}

FbVector FbReader::vector(const FbTable& t, int id, uint32_t elem_size) const {
  uint32_t target = field_target(t, id);
  return target ? vector_at(target, elem_size) : FbVector{};
}

const char* FbReader::string_at(uint32_t pos, uint32_t* length) const {
  FbVector v = vector_at(pos, 1);
  // The NUL terminator must be inside the buffer too.
  if (!v.present() || !in_bounds(v.pos, static_cast<uint64_t>(v.length) + 1) || base_[v.pos + v.length] != 0) {
    fail();
    return nullptr;
  }
  if (length) *length = v.length;
  return reinterpret_cast<const char*>(base_ + v.pos);
}

const char* FbReader::string(const FbTable& t, int id, uint32_t* length) const {
  uint32_t target = field_target(t, id);
  return target ? string_at(target, length) : nullptr;
}

FbTable FbReader::table_element(const FbVector& v, uint32_t i) const {
  uint32_t target = element_target(v, i);
  return target ? table_at(target) : FbTable{};
}

const char* FbReader::string_element(const FbVector& v, uint32_t i, uint32_t* length) const {
  uint32_t target = element_target(v, i);
  return target ? string_at(target, length) : nullptr;
}

}  // namespace qbuild
