// Status codes: every runtime call that can fail returns one; status_str() gives a short human sentence.
#ifndef QBUILD_STATUS_H_
#define QBUILD_STATUS_H_

namespace qbuild {

enum class Status : int {
  kOk = 0,
  kNullArgument,          // a null model/arena pointer or zero size
  kNotLoaded,             // invoke()/input() before a successful load()
  kTruncated,             // an offset or length points outside the model bytes
  kBadIdentifier,         // the buffer is not a TFLite flatbuffer ("TFL3")
  kBadFlatbuffer,         // a table, vtable, vector or string is malformed
  kSchemaVersion,         // Model.version is not 3
  kSubgraphCount,         // not exactly one subgraph
  kTensorType,            // a tensor type the runtime does not support
  kTooManyDims,           // a tensor with more than QBUILD_MAX_DIMS dims, a dimension below 1, or over 2^31-1 bytes
  kBadTensorIndex,        // an operator or subgraph refers to a tensor that does not exist
  kBadBuffer,             // a constant tensor's buffer is missing, too short, misaligned or external
  kBadQuantization,       // missing or inconsistent scale/zero point
  kUnsupportedOp,         // a builtin or custom op the runtime does not implement (or disabled in port.h)
  kBadOpParams,           // an op's shapes, types or options are inconsistent (found in Prepare)
  kArenaTooSmall,         // the arena cannot hold the runtime data and the planned tensors
  kIndexOutOfRange,       // input(i)/output(i) with i >= count
  kEvalFailed,            // an op failed at run time (data-dependent check)
};

// Short description of a status, e.g. "arena too small". Never null.
const char* status_str(Status s);

}  // namespace qbuild

#endif  // QBUILD_STATUS_H_
