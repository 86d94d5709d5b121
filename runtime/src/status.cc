#include "qbuild/status.h"

#include "qbuild/port.h"

#include "qbuild/tensor.h"

namespace qbuild {

#if QBUILD_STATUS_STRINGS
const char* status_str(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kNullArgument: return "null model/arena pointer or zero size";
    case Status::kNotLoaded: return "model not loaded";
    case Status::kTruncated: return "model truncated: an offset points outside the model bytes";
    case Status::kBadIdentifier: return "not a TFLite model (file identifier is not TFL3)";
    case Status::kBadFlatbuffer: return "malformed flatbuffer (bad table, vector or string)";
    case Status::kSchemaVersion: return "unsupported TFLite schema version (expected 3)";
    case Status::kSubgraphCount: return "model must have exactly one subgraph";
    case Status::kTensorType: return "unsupported tensor type";
    case Status::kTooManyDims: return "tensor rank above QBUILD_MAX_DIMS, a dimension below 1, or above 2^31-1 bytes";
    case Status::kBadTensorIndex: return "tensor index out of range";
    case Status::kBadBuffer: return "constant tensor buffer missing, too short, misaligned or external";
    case Status::kBadQuantization: return "missing or inconsistent quantization parameters";
    case Status::kUnsupportedOp: return "unsupported operator (see docs/runtime.md for the list)";
    case Status::kBadOpParams: return "operator shapes, types or options are inconsistent";
    case Status::kArenaTooSmall: return "arena too small (size it with: python -m qbuild plan model.tflite)";
    case Status::kIndexOutOfRange: return "input/output index out of range";
    case Status::kEvalFailed: return "operator failed at run time";
  }
  return "unknown status";
}
#else
// Codes only: "E13" is Status value 13 (kUnsupportedOp); see QBUILD_STATUS_STRINGS in port.h.
const char* status_str(Status s) {
  static const char kCodes[] =
      "E00\0E01\0E02\0E03\0E04\0E05\0E06\0E07\0E08\0E09\0E10\0E11\0E12\0E13\0E14\0E15\0E16\0E17\0E??";
  const unsigned i = static_cast<unsigned>(s);
  return kCodes + 4 * (i < 18 ? i : 18);
}
#endif

size_t type_size(TensorType t) {
  switch (t) {
    case TensorType::kFloat32: return 4;
    case TensorType::kInt32: return 4;
    case TensorType::kUInt8: return 1;
    case TensorType::kInt64: return 8;
    case TensorType::kBool: return 1;
    case TensorType::kInt16: return 2;
    case TensorType::kInt8: return 1;
  }
  return 0;
}

size_t TensorView::elements() const {
  size_t n = 1;
  for (int i = 0; i < rank; ++i) n *= static_cast<size_t>(dims[i]);
  return n;
}

}  // namespace qbuild
