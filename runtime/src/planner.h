// Arena planner. First in-place sharing: an op's output may take its input's buffer (plan_share), which merges the two
// tensors into one buffer group. Then placement: buffers with lifetimes [first, last] (op indices, inclusive) are placed
// largest first, each at the lowest aligned offset that does not overlap any already-placed buffer whose lifetime
// overlaps its own. qbuild/tflite/plan.py implements the same rules; the two must agree to the byte.
#ifndef QBUILD_SRC_PLANNER_H_
#define QBUILD_SRC_PLANNER_H_

#include <stdint.h>

namespace qbuild {

struct PlanBuffer {
  uint32_t size;
  uint32_t offset;     // output of plan()
  uint16_t first;      // first op that uses the buffer
  uint16_t last;       // last op that uses the buffer
  uint16_t next;       // internal: next placed buffer in offset order
  uint16_t id;         // caller's tag (tensor index or scratch slot)
};

// In-place sharing, run on records indexed by tensor before plan_buffers. While sharing, `next` holds a record's group
// parent (kPlanRoot at a group's root) and `offset` the group's graph I/O flags; the root's lifetime covers its group.
constexpr uint16_t kPlanRoot = 0xFFFF;
constexpr uint32_t kPlanGraphInput = 1, kPlanGraphOutput = 2;

// How an op may share its output's buffer with an input (same type and bytes on both sides).
enum class InPlace : uint8_t {
  kNone,
  kAlias,      // the output is the input's bytes (RESHAPE: eval skips the copy when the pointers are equal)
  kOverwrite,  // the kernel reads element i of each input before writing element i of the output: the output may
               // reuse an input that dies at this op and is neither a graph input nor a graph output
};
InPlace in_place_kind(int32_t builtin);

// The root record of t's group.
uint16_t plan_root(const PlanBuffer* pb, uint16_t t);
// Joins `out` (produced at `op`, not yet shared) into `in`'s group when `kind` allows it; true when it did.
bool plan_share(PlanBuffer* pb, InPlace kind, uint16_t in, uint16_t out, uint16_t op);

// Places `count` buffers by first fit in each of a few orders (size, first use, lifetime length, size x lifetime, last
// use) and keeps the smallest total (ties: the earlier order); returns the total bytes needed (aligned to `align`).
// Runs in O(count^2) per order. The build-time plan (qbuild/tflite/plan.py) also searches orders exhaustively.
uint32_t plan_buffers(PlanBuffer* buffers, uint16_t count, uint32_t align);

// Bytes of the largest set of buffers live at the same op, each size aligned up: the lower bound of any plan.
uint32_t plan_lower_bound(const PlanBuffer* buffers, uint16_t count, uint16_t op_count, uint32_t align);

}  // namespace qbuild

#endif  // QBUILD_SRC_PLANNER_H_
