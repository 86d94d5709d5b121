#include "planner.h"

#include "schema.h"

namespace qbuild {
namespace {

constexpr uint16_t kNone = 0xFFFF;

uint32_t align_up(uint32_t v, uint32_t a) { return (v + a - 1) / a * a; }

bool lifetimes_overlap(const PlanBuffer& a, const PlanBuffer& b) { return !(a.last < b.first || b.last < a.first); }

// Placement order: larger first; equal sizes keep their index order.
bool goes_before(const PlanBuffer* buffers, uint16_t a, uint16_t b) {
  if (buffers[a].size != buffers[b].size) return buffers[a].size > buffers[b].size;
  return a < b;
}

}  // namespace

InPlace in_place_kind(int32_t builtin) {
  switch (builtin) {
    case schema::kReshape:
      return InPlace::kAlias;
    case schema::kAdd:  // same-shape inputs index like the output; a broadcast input is smaller (never shared)
    case schema::kMul:
    case schema::kRelu:
    case schema::kRelu6:
    case schema::kLogistic:
    case schema::kTanh:
    case schema::kHardSwish:
    case schema::kQuantize:  // int8 -> int8 requantize (a float input has other bytes)
      return InPlace::kOverwrite;
    default:
      return InPlace::kNone;
  }
}

uint16_t plan_root(const PlanBuffer* pb, uint16_t t) {
  while (pb[t].next != kPlanRoot) t = pb[t].next;
  return t;
}

bool plan_share(PlanBuffer* pb, InPlace kind, uint16_t in, uint16_t out, uint16_t op) {
  if (kind == InPlace::kNone || pb[in].size != pb[out].size) return false;
  const uint16_t root = plan_root(pb, in);
  // `out` must be fresh: its own root, first used here, not a graph input.
  if (root == out || pb[out].next != kPlanRoot || pb[out].first != op || (pb[out].offset & kPlanGraphInput)) {
    return false;
  }
  // Overwriting: the input's group dies at this op and holds no graph I/O (an input stays readable after invoke()).
  if (kind == InPlace::kOverwrite && (pb[root].last != op || pb[root].offset != 0)) return false;
  pb[out].next = root;
  if (pb[out].last > pb[root].last) pb[root].last = pb[out].last;
  pb[root].offset |= pb[out].offset;
  return true;
}

uint32_t plan_buffers(PlanBuffer* buffers, uint16_t count, uint32_t align) {
  // Selection of the next buffer to place is a linear scan (no sort buffer needed); `placed` marks are kept in
  // `next` == kNone until a buffer joins the offset-ordered list.
  uint16_t head = kNone;  // placed buffers, ascending offset (ties: placement order)
  for (uint16_t i = 0; i < count; ++i) buffers[i].next = kNone - 1;  // kNone - 1 = not placed yet
  uint32_t total = 0;
  for (uint16_t step = 0; step < count; ++step) {
    uint16_t pick = kNone;
    for (uint16_t i = 0; i < count; ++i) {
      if (buffers[i].next != kNone - 1) continue;
      if (pick == kNone || goes_before(buffers, i, pick)) pick = i;
    }
    PlanBuffer& b = buffers[pick];
    uint32_t candidate = 0;
    uint16_t prev = kNone;  // last list entry with offset <= candidate, for the insertion
    for (uint16_t j = head; j != kNone; j = buffers[j].next) {
      const PlanBuffer& p = buffers[j];
      if (lifetimes_overlap(b, p)) {
        if (candidate + b.size <= p.offset) break;  // fits in the gap before p
        uint32_t end = align_up(p.offset + p.size, align);
        if (end > candidate) candidate = end;
      }
    }
    b.offset = candidate;
    for (uint16_t j = head; j != kNone && buffers[j].offset <= candidate; j = buffers[j].next) prev = j;
    if (prev == kNone) {
      b.next = head;
      head = pick;
    } else {
      b.next = buffers[prev].next;
      buffers[prev].next = pick;
    }
    uint32_t end = candidate + b.size;
    if (end > total) total = end;
  }
  return align_up(total, align);
}

uint32_t plan_lower_bound(const PlanBuffer* buffers, uint16_t count, uint16_t op_count) {
  uint32_t best = 0;
  for (uint16_t op = 0; op < op_count; ++op) {
    uint32_t live = 0;
    for (uint16_t i = 0; i < count; ++i) {
      if (buffers[i].first <= op && op <= buffers[i].last) live += buffers[i].size;
    }
    if (live > best) best = live;
  }
  return best;
}

}  // namespace qbuild
