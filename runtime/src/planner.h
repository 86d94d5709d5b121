// Greedy arena planner: buffers with lifetimes [first, last] (op indices, inclusive) are placed largest first, each at
// the lowest aligned offset that does not overlap any already-placed buffer whose lifetime overlaps its own.
// qbuild/plan.py implements the same rules; the two must agree to the byte.
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

// Places `count` buffers; returns the total bytes needed (aligned to `align`). Runs in O(count^2).
uint32_t plan_buffers(PlanBuffer* buffers, uint16_t count, uint32_t align);

// Bytes of the largest set of buffers live at the same op: the lower bound of any plan.
uint32_t plan_lower_bound(const PlanBuffer* buffers, uint16_t count, uint16_t op_count);

}  // namespace qbuild

#endif  // QBUILD_SRC_PLANNER_H_
