#include "planner.h"

#include "schema.h"

namespace qbuild {
namespace {

constexpr uint16_t kNone = 0xFFFF;

uint32_t align_up(uint32_t v, uint32_t a) { return (v + a - 1) / a * a; }

bool lifetimes_overlap(const PlanBuffer& a, const PlanBuffer& b) { return !(a.last < b.first || b.last < a.first); }

// Placement orders tried by plan_buffers (ties: index order). Larger first packs well in general; by first use or by
// lifetime length finds the bound on chains and residual graphs where size order leaves holes.
constexpr uint8_t kStrategies = 5;

// Compares key a with key b: -1 when a goes first, 1 when b does, 0 on a tie.
int order(uint64_t a, uint64_t b, bool descending) {
  if (a == b) return 0;
  return (a > b) == descending ? -1 : 1;
}

bool goes_before(const PlanBuffer* buffers, uint16_t a, uint16_t b, uint8_t strategy) {
  const PlanBuffer& x = buffers[a];
  const PlanBuffer& y = buffers[b];
  const uint32_t lx = x.last - x.first + 1u, ly = y.last - y.first + 1u;
  int c = 0;
  switch (strategy) {
    case 1:  // first use, then larger
      c = order(x.first, y.first, false);
      break;
    case 2:  // longer lifetime, then larger
      c = order(lx, ly, true);
      break;
    case 3:  // larger size x lifetime
      c = order(static_cast<uint64_t>(x.size) * lx, static_cast<uint64_t>(y.size) * ly, true);
      break;
    case 4:  // last use (latest first), then larger
      c = order(x.last, y.last, true);
      break;
    default:
      break;
  }
  if (c == 0) c = order(x.size, y.size, true);
  return c != 0 ? c < 0 : a < b;
}

// First fit in the given order; returns the aligned total.
uint32_t place(PlanBuffer* buffers, uint16_t count, uint32_t align, uint8_t strategy) {
  // Selection of the next buffer to place is a linear scan (no sort buffer needed); `placed` marks are kept in
  // `next` == kNone until a buffer joins the offset-ordered list.
  uint16_t head = kNone;  // placed buffers, ascending offset (ties: placement order)
  for (uint16_t i = 0; i < count; ++i) buffers[i].next = kNone - 1;  // kNone - 1 = not placed yet
  uint32_t total = 0;
  for (uint16_t step = 0; step < count; ++step) {
    uint16_t pick = kNone;
    for (uint16_t i = 0; i < count; ++i) {
      if (buffers[i].next != kNone - 1) continue;
      if (pick == kNone || goes_before(buffers, i, pick, strategy)) pick = i;
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

}  // namespace

InPlace in_place_kind(int32_t builtin) {
  switch (builtin) {
    case schema::kReshape:
      return InPlace::kAlias;
    case schema::kAdd:  // same-shape inputs index like the output; a broadcast input is smaller (never shared)
    case schema::kMul:
    case schema::kSub:
    case schema::kRelu:
    case schema::kRelu6:
    case schema::kLogistic:
    case schema::kTanh:
    case schema::kHardSwish:
    case schema::kLeakyRelu:
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
  uint8_t best = 0;
  uint32_t best_total = place(buffers, count, align, 0);
  for (uint8_t strategy = 1; strategy < kStrategies; ++strategy) {
    const uint32_t total = place(buffers, count, align, strategy);
    if (total < best_total) {
      best = strategy;
      best_total = total;
    }
  }
  return best == kStrategies - 1 ? best_total : place(buffers, count, align, best);
}

uint32_t plan_lower_bound(const PlanBuffer* buffers, uint16_t count, uint16_t op_count, uint32_t align) {
  uint32_t best = 0;
  for (uint16_t op = 0; op < op_count; ++op) {
    uint32_t live = 0;
    for (uint16_t i = 0; i < count; ++i) {
      if (buffers[i].first <= op && op <= buffers[i].last) live += align_up(buffers[i].size, align);
    }
    if (live > best) best = live;
  }
  return best;
}

}  // namespace qbuild
