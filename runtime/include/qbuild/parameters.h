// Model parameters stored in the .tflite metadata entry "SL_PARAMSv1" (the Silicon Labs MLTK format), read in place.
#ifndef QBUILD_PARAMETERS_H_
#define QBUILD_PARAMETERS_H_

#include <stddef.h>
#include <stdint.h>

namespace qbuild {

class Parameters {
 public:
  // Each get() returns false (and leaves `out` unchanged) when the key is absent or its value cannot be represented:
  // numeric keys accept any numeric member (MLTK stores 0.0 as a double and small ints as uint8).
  bool get(const char* key, float& out) const;
  bool get(const char* key, int32_t& out) const;   // integral values only, within int32 range
  bool get(const char* key, bool& out) const;      // boolean, or any numeric (nonzero = true)
  bool get(const char* key, const char*& out) const;  // str entries; points into the model bytes
  bool contains(const char* key) const;
  size_t size() const;  // number of entries (0 when the model has no SL_PARAMSv1)

  // Used by Model::load(): `dict` is the SL_PARAMSv1 buffer (a nested flatbuffer).
  bool attach(const uint8_t* dict, uint32_t size);
  void clear();

 private:
  // Position of the Value table for `key` and its union type, or false.
  bool find(const char* key, uint32_t* value_pos, uint8_t* type) const;
  // A numeric member: integral types widened to int64, floats as read (f64 as its IEEE bits: no double math).
  struct Number {
    enum Kind : uint8_t { kInt, kF32, kF64 } kind;
    int64_t i;
    float f;
    uint64_t d_bits;
  };
  bool get_number(const char* key, Number* n) const;

  const uint8_t* base_ = nullptr;
  uint32_t size_ = 0;
  uint32_t entries_pos_ = 0;  // entries vector table position (0 = none)
};

}  // namespace qbuild

#endif  // QBUILD_PARAMETERS_H_
