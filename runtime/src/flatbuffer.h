// Bounds-checked flatbuffer reader. Every read validates its offset against the buffer; a failed read returns a
// default value and marks the reader as failed (sticky), so callers check ok() once after a group of reads.
// Vector lengths are validated against the buffer size, so loops over them are bounded by the model size.
#ifndef QBUILD_SRC_FLATBUFFER_H_
#define QBUILD_SRC_FLATBUFFER_H_

#include <stdint.h>
#include <string.h>

namespace qbuild {

struct FbTable {
  uint32_t pos = 0;      // table start (0 = absent)
  uint32_t vtable = 0;
  uint16_t vt_size = 0;
  uint16_t tbl_size = 0;
  bool present() const { return pos != 0; }
};

struct FbVector {
  uint32_t pos = 0;      // first element (0 = absent)
  uint32_t length = 0;
  bool present() const { return pos != 0; }
};

class FbReader {
 public:
  FbReader() = default;
  FbReader(const uint8_t* base, uint32_t size) : base_(base), size_(size) {}

  bool ok() const { return !failed_; }
  bool truncated() const { return truncated_; }  // a failed read was past the end of the buffer
  void fail() const { failed_ = true; }
  const uint8_t* base() const { return base_; }
  uint32_t size() const { return size_; }

  // True when [pos, pos + n) lies inside the buffer (no overflow).
  bool in_bounds(uint32_t pos, uint64_t n) const { return pos <= size_ && n <= static_cast<uint64_t>(size_ - pos); }

  template <typename T>
  T read(uint32_t pos) const {
    T v{};
    if (!in_bounds(pos, sizeof(T))) {
      failed_ = truncated_ = true;
      return v;
    }
    memcpy(&v, base_ + pos, sizeof(T));
    return v;
  }

  FbTable root() const { return table_at(read<uint32_t>(0)); }
  FbTable table_at(uint32_t pos) const;

  // Position of field `id` inside table `t` or 0 when absent; `width` bytes of it must lie inside the table.
  uint32_t field_pos(const FbTable& t, int id, uint32_t width) const;

  template <typename T>
  T scalar(const FbTable& t, int id, T def) const {
    uint32_t p = field_pos(t, id, sizeof(T));
    return p ? read<T>(p) : def;
  }
  FbTable table(const FbTable& t, int id) const;
  FbVector vector(const FbTable& t, int id, uint32_t elem_size) const;
  // A string field: pointer to its NUL-terminated bytes inside the buffer, or null when absent/malformed.
  const char* string(const FbTable& t, int id, uint32_t* length = nullptr) const;

  template <typename T>
  T element(const FbVector& v, uint32_t i) const {
    if (i >= v.length) {
      fail();
      return T{};
    }
    return read<T>(v.pos + i * static_cast<uint32_t>(sizeof(T)));
  }
  FbTable table_element(const FbVector& v, uint32_t i) const;
  const char* string_element(const FbVector& v, uint32_t i, uint32_t* length = nullptr) const;

 private:
  uint32_t follow(uint32_t pos) const;  // pos + u32 at pos, 0 on failure
  uint32_t field_target(const FbTable& t, int id) const;       // follow() of an offset field, 0 when absent/failed
  uint32_t element_target(const FbVector& v, uint32_t i) const;  // follow() of offset element i, 0 on failure
  const char* string_at(uint32_t pos, uint32_t* length) const;
  FbVector vector_at(uint32_t pos, uint32_t elem_size) const;

  const uint8_t* base_ = nullptr;
  uint32_t size_ = 0;
  mutable bool failed_ = false;
  mutable bool truncated_ = false;
};

}  // namespace qbuild

#endif  // QBUILD_SRC_FLATBUFFER_H_
