// Model::load(): validate the flatbuffer, build TensorViews, prepare each op, plan the activations.
// Arena layout (from its 16-byte aligned start):
//   TensorView[tensors] | OpNode[ops] | op data (8-byte aligned blocks, in op order) | pad to 16 |
//   planned activations and scratch (the planner's temporary records use this space while planning).
#include "qbuild/model.h"

#include <string.h>

#include "flatbuffer.h"
#include "ops/op.h"
#include "planner.h"
#include "qbuild/port.h"
#include "schema.h"

namespace qbuild {
namespace {

constexpr uint32_t kMaxCount = 0xFFF0;  // tensors and ops are indexed with uint16_t in the planner
constexpr uint16_t kUnused = 0xFFFF;

static_assert(sizeof(OpNode) == (sizeof(void*) == 4 ? 16 : 24), "qbuild/tflite/plan.py op_node_bytes()");
static_assert(sizeof(Model) == (sizeof(void*) == 4 ? 76 : 112), "qbuild/tflite/plan.py MODEL_OBJECT_BYTES");

uintptr_t align_ptr(uintptr_t p, uintptr_t a) { return (p + a - 1) / a * a; }

Status reader_status(const FbReader& fb) { return fb.truncated() ? Status::kTruncated : Status::kBadFlatbuffer; }

// Finite, positive, normal scales (0 = not quantized). The kernels are safe for any scale (their float-to-int
// conversions saturate); this only rejects what no converter writes. Activations of a layer that calibrated to all
// zeros (a dead ReLU) get scales near 1e-9 from the converter, so the bound is far below that.
bool sane_scale(float scale) { return scale == 0.0f || (scale >= 1e-30f && scale <= 1e30f); }

// Fills `tv` from a Tensor table; `buffers` is Model.buffers.
Status init_tensor(const FbReader& fb, const FbTable& t, const FbVector& buffers, TensorView* tv) {
  memset(tv, 0, sizeof(*tv));
  int8_t type = fb.scalar<int8_t>(t, schema::kTensorType, 0);
  FbVector shape = fb.vector(t, schema::kTensorShape, 4);
  uint32_t buffer = fb.scalar<uint32_t>(t, schema::kTensorBuffer, 0);
  bool is_variable = fb.scalar<uint8_t>(t, schema::kTensorIsVariable, 0) != 0;
  bool sparse = fb.field_pos(t, schema::kTensorSparsity, 4) != 0;
  if (!fb.ok()) return reader_status(fb);
  // type_size() is 0 for the types the runtime does not know (negative codes included).
  uint32_t bytes = static_cast<uint32_t>(type_size(static_cast<TensorType>(type)));
  if (bytes == 0) return Status::kTensorType;
  tv->type = static_cast<TensorType>(type);
  if (shape.length > QBUILD_MAX_DIMS) return Status::kTooManyDims;
  tv->rank = static_cast<uint8_t>(shape.length);
  for (uint32_t d = 0; d < shape.length; ++d) {
    int32_t v = fb.element<int32_t>(shape, d);
    // bytes * v > 2^31 - 1, tested without a 64-bit product. A zero dimension makes an empty tensor, which only
    // an op's intermediates may be (the LSTM's quantization-only tensors): check_indices refuses it anywhere else.
    if (v < 0 || (v > 0 && static_cast<uint32_t>(v) > 0x7FFFFFFFu / (bytes ? bytes : 1u))) return Status::kTooManyDims;
    tv->dims[d] = v;
    bytes *= static_cast<uint32_t>(v);
  }
  tv->bytes = bytes;

  FbTable q = fb.table(t, schema::kTensorQuantization);
  FbVector scale = fb.vector(q, schema::kQuantScale, 4);
  FbVector zp = fb.vector(q, schema::kQuantZeroPoint, 8);
  if (!fb.ok()) return reader_status(fb);
  if (scale.length > 0) {
    tv->params.scale = fb.element<float>(scale, 0);
    int64_t z = zp.length > 0 ? fb.element<int64_t>(zp, 0) : 0;
    if (z < INT32_MIN || z > INT32_MAX) return Status::kBadQuantization;
    tv->params.zero_point = static_cast<int32_t>(z);
  }

  if (buffer >= buffers.length) return Status::kBadBuffer;
  FbTable b = fb.table_element(buffers, buffer);
  FbVector data = fb.vector(b, schema::kBufferData, 1);
  uint64_t external = fb.scalar<uint64_t>(b, schema::kBufferOffset, 0);
  if (!fb.ok()) return reader_status(fb);
  if (external > 1 || sparse) return Status::kBadBuffer;  // data outside the flatbuffer / sparse weights
  if (data.length > 0) {
    const uint8_t* p = fb.base() + data.pos;
    if (data.length < tv->bytes || reinterpret_cast<uintptr_t>(p) % type_size(tv->type) != 0) return Status::kBadBuffer;
    tv->data.raw = const_cast<uint8_t*>(p);  // weights stay in flash; glue never writes constants
    tv->is_constant = 1;
  }
  if (!sane_scale(tv->params.scale)) return Status::kBadQuantization;
  if (is_variable) {  // op state (LSTM): arena storage from load_impl, never planned, so "constant" to the planner
    if (tv->is_constant) return Status::kBadBuffer;
    tv->is_constant = 1;
    tv->is_variable = 1;
  }
  return Status::kOk;
}

#if QBUILD_PARAMETERS
// Attaches the SL_PARAMSv1 metadata (a nested flatbuffer) to `params` when the model has it.
Status read_parameters(const FbReader& fb, const FbVector& metadata, const FbVector& buffers, Parameters* params) {
  for (uint32_t i = 0; i < metadata.length; ++i) {
    FbTable m = fb.table_element(metadata, i);
    uint32_t name_len = 0;
    const char* name = fb.string(m, schema::kMetadataName, &name_len);
    uint32_t b = fb.scalar<uint32_t>(m, schema::kMetadataBuffer, 0);
    if (!fb.ok()) return reader_status(fb);
    // memcmp, not strcmp: keeps strcmp out of images that never read parameters.
    if (!name || name_len != 11 || memcmp(name, "SL_PARAMSv1", 11) != 0 || b >= buffers.length) continue;
    FbVector bytes = fb.vector(fb.table_element(buffers, b), schema::kBufferData, 1);
    if (!fb.ok()) return reader_status(fb);
    if (bytes.length >= 8 && !params->attach(fb.base() + bytes.pos, bytes.length)) return Status::kBadFlatbuffer;
  }
  return Status::kOk;
}
#endif

// Every tensor index in `v` lies in [lowest, nt) (lowest -1: optional inputs); `writable` ones must not be constants
// (graph inputs and op outputs: writing them would write into the model).
Status check_indices(const FbReader& fb, const FbVector& v, int32_t lowest, const TensorView* tv, uint32_t nt,
                     bool writable) {
  for (uint32_t k = 0; k < v.length; ++k) {
    int32_t t = fb.element<int32_t>(v, k);
    if (t < lowest || t >= static_cast<int32_t>(nt)) return Status::kBadTensorIndex;
    if (t >= 0 && tv[t].bytes == 0) return Status::kTooManyDims;  // empty: every dimension of a used tensor is >= 1
    if (writable && tv[t].is_constant) return Status::kBadBuffer;
  }
  return Status::kOk;
}

// Graph inputs must be writable activations; outputs any valid tensor.
Status check_graph_io(const FbReader& fb, const FbVector& inputs, const FbVector& outputs, const TensorView* tv,
                      uint32_t nt) {
  Status s = check_indices(fb, inputs, 0, tv, nt, true);
  if (s == Status::kOk) s = check_indices(fb, outputs, 0, tv, nt, false);
  if (s != Status::kOk) return s;
  return fb.ok() ? Status::kOk : reader_status(fb);
}

// Fills ctx.op, options, inputs and outputs from an Operator table (load and invoke).
void read_op(const FbReader& fb, const FbTable& op, OpContext* ctx) {
  ctx->op = op;
  ctx->options = fb.table(op, schema::kOperatorOptions);
  ctx->inputs = fb.vector(op, schema::kOperatorInputs, 4);
  ctx->outputs = fb.vector(op, schema::kOperatorOutputs, 4);
}

// An operator's builtin code (-1 for a custom op or a bad opcode index); the caller checks fb.ok().
int32_t op_builtin(const FbReader& fb, const FbTable& op, const FbVector& opcodes) {
  uint32_t opcode_index = fb.scalar<uint32_t>(op, schema::kOperatorOpcodeIndex, 0);
  if (opcode_index >= opcodes.length) return -1;
  FbTable code = fb.table_element(opcodes, opcode_index);
  int32_t builtin = fb.scalar<int8_t>(code, schema::kOpCodeDeprecatedBuiltin, 0);
  int32_t builtin2 = fb.scalar<int32_t>(code, schema::kOpCodeBuiltin, 0);
  if (builtin2 > builtin) builtin = builtin2;  // codes above 127 live only in the newer field
  return fb.field_pos(code, schema::kOpCodeCustom, 4) != 0 ? -1 : builtin;
}

// The registry index of an operator's kernel, after checking its opcode and tensor indices (outputs never constant);
// fills ctx.op, options, inputs and outputs.
Status resolve_op(const FbReader& fb, const FbTable& op, const FbVector& opcodes, const TensorView* tv, uint32_t nt,
                  OpContext* ctx, int* kernel) {
  uint32_t opcode_index = fb.scalar<uint32_t>(op, schema::kOperatorOpcodeIndex, 0);
  read_op(fb, op, ctx);
  const FbVector in = ctx->inputs;
  const FbVector out = ctx->outputs;
  if (!fb.ok()) return reader_status(fb);
  if (opcode_index >= opcodes.length) return Status::kBadFlatbuffer;
  const int32_t builtin = op_builtin(fb, op, opcodes);
  if (!fb.ok()) return reader_status(fb);
  *kernel = builtin < 0 ? -1 : find_op_index(builtin);
  if (*kernel < 0) return Status::kUnsupportedOp;
  Status s = check_indices(fb, in, -1, tv, nt, false);
  if (s != Status::kOk) return s;
  return check_indices(fb, out, 0, tv, nt, true);
}

// Extends the lifetimes in pb of the activations listed in `v` (tensor indices, -1 = absent) to op `op`; `io` marks
// graph inputs/outputs for the in-place rules.
void use_tensors(const FbReader& fb, const FbVector& v, uint32_t op, const TensorView* tv, PlanBuffer* pb,
                 uint32_t io = 0) {
  for (uint32_t k = 0; k < v.length; ++k) {
    const int32_t t = fb.element<int32_t>(v, k);
    if (t < 0 || tv[t].is_constant) continue;
    if (pb[t].first == kUnused || op < pb[t].first) pb[t].first = static_cast<uint16_t>(op);
    if (op > pb[t].last) pb[t].last = static_cast<uint16_t>(op);
    pb[t].offset |= io;
  }
}

// Lifetimes of every activation (first/last op using it) into pb[0..nt); unused tensors keep first == kUnused.
void tensor_lifetimes(const FbReader& fb, const FbVector& inputs, const FbVector& outputs, const OpNode* nodes,
                      uint32_t nops, const TensorView* tv, PlanBuffer* pb, uint32_t nt) {
  for (uint32_t i = 0; i < nt; ++i) pb[i] = PlanBuffer{tv[i].bytes, 0, kUnused, 0, kPlanRoot, static_cast<uint16_t>(i)};
  use_tensors(fb, inputs, 0, tv, pb, kPlanGraphInput);
  for (uint32_t i = 0; i < nops; ++i) {
    FbTable op = fb.table_at(nodes[i].op_pos);
    use_tensors(fb, fb.vector(op, schema::kOperatorInputs, 4), i, tv, pb);
    use_tensors(fb, fb.vector(op, schema::kOperatorOutputs, 4), i, tv, pb);
  }
  use_tensors(fb, outputs, nops > 0 ? nops - 1 : 0, tv, pb, kPlanGraphOutput);
}

// In-place sharing (planner.h): each op that allows it gives its output the buffer of its first input that qualifies.
void share_in_place(const FbReader& fb, const FbVector& opcodes, const OpNode* nodes, uint32_t nops,
                    const TensorView* tv, PlanBuffer* pb) {
  for (uint32_t i = 0; i < nops; ++i) {
    FbTable op = fb.table_at(nodes[i].op_pos);
    const InPlace kind = in_place_kind(op_builtin(fb, op, opcodes));
    if (kind == InPlace::kNone) continue;
    FbVector ins = fb.vector(op, schema::kOperatorInputs, 4);
    FbVector outs = fb.vector(op, schema::kOperatorOutputs, 4);
    if (outs.length != 1) continue;
    const int32_t out = fb.element<int32_t>(outs, 0);
    const uint32_t candidates = kind == InPlace::kAlias && ins.length > 1 ? 1 : ins.length;
    for (uint32_t k = 0; k < candidates; ++k) {
      const int32_t t = fb.element<int32_t>(ins, k);
      if (t < 0 || tv[t].is_constant || tv[t].type != tv[out].type) continue;
      if (plan_share(pb, kind, static_cast<uint16_t>(t), static_cast<uint16_t>(out), static_cast<uint16_t>(i))) break;
    }
  }
}

}  // namespace

Status Model::load(const void* model_data, void* arena, size_t arena_size) {
  return load(model_data, QBUILD_MODEL_MAX_BYTES, arena, arena_size);
}

Status Model::load(const void* model_data, size_t model_size, void* arena, size_t arena_size) {
  loaded_ = false;
  error_op_ = -1;
  arena_used_ = 0;
  params_.clear();
  if (!model_data || !arena || model_size == 0 || arena_size == 0) return Status::kNullArgument;
  if (model_size > 0x7FFFFFFFu) model_size = 0x7FFFFFFFu;
  uintptr_t raw = reinterpret_cast<uintptr_t>(arena);
  uintptr_t start = align_ptr(raw, QBUILD_ARENA_ALIGN);
  if (start - raw >= arena_size) return Status::kArenaTooSmall;
  Status s = load_impl(static_cast<const uint8_t*>(model_data), static_cast<uint32_t>(model_size),
                       reinterpret_cast<uint8_t*>(start), arena_size - (start - raw));
  if (s != Status::kOk) return s;
  arena_used_ += start - raw;
  loaded_ = true;
  return Status::kOk;
}

Status Model::load_impl(const uint8_t* data, uint32_t size, uint8_t* arena, size_t arena_size) {
  if (size < 8) return Status::kTruncated;
  if (memcmp(data + 4, "TFL3", 4) != 0) return Status::kBadIdentifier;
  FbReader fb(data, size);
  FbTable root = fb.root();
  uint32_t version = fb.scalar<uint32_t>(root, schema::kModelVersion, 0);
  if (!fb.ok()) return reader_status(fb);
  if (version != 3) return Status::kSchemaVersion;
  FbVector buffers = fb.vector(root, schema::kModelBuffers, 4);
  FbVector subgraphs = fb.vector(root, schema::kModelSubgraphs, 4);
  FbVector opcodes = fb.vector(root, schema::kModelOperatorCodes, 4);
  FbVector metadata = fb.vector(root, schema::kModelMetadata, 4);
  if (!fb.ok()) return reader_status(fb);

  // Parameters first, so an application can read them even when the arena turns out too small.
  Status s = Status::kOk;
#if QBUILD_PARAMETERS
  s = read_parameters(fb, metadata, buffers, &params_);
  if (s != Status::kOk) return s;
#else
  (void)metadata;  // still read: a malformed metadata field is rejected whatever the knob
#endif

  if (subgraphs.length != 1) return Status::kSubgraphCount;
  FbTable sg = fb.table_element(subgraphs, 0);
  FbVector tensors = fb.vector(sg, schema::kSubgraphTensors, 4);
  FbVector inputs = fb.vector(sg, schema::kSubgraphInputs, 4);
  FbVector outputs = fb.vector(sg, schema::kSubgraphOutputs, 4);
  FbVector operators = fb.vector(sg, schema::kSubgraphOperators, 4);
  if (!fb.ok()) return reader_status(fb);
  if (tensors.length > kMaxCount || operators.length > kMaxCount) return Status::kBadFlatbuffer;
  const uint32_t nt = tensors.length, nops = operators.length;

  // Runtime data at the start of the arena: TensorViews, then OpNodes.
  uint8_t* const arena_end = arena + arena_size;
  // nt, nops <= kMaxCount: these products stay far below 2^32 (no 64-bit math on 32-bit targets).
  const size_t views_bytes = align_ptr(nt * sizeof(TensorView), 8);
  const size_t fixed = views_bytes + nops * sizeof(OpNode);
  if (fixed > arena_size) return Status::kArenaTooSmall;
  TensorView* tv = reinterpret_cast<TensorView*>(arena);
  OpNode* nodes = reinterpret_cast<OpNode*>(arena + views_bytes);
  for (uint32_t i = 0; i < nt; ++i) {
    s = init_tensor(fb, fb.table_element(tensors, i), buffers, &tv[i]);
    if (s != Status::kOk) return s;
  }
  s = check_graph_io(fb, inputs, outputs, tv, nt);
  if (s != Status::kOk) return s;

  model_ = data;
  model_size_ = size;
  subgraph_pos_ = sg.pos;
  arena_ = arena;
  op_data_ = arena;
  tensors_ = tv;
  nodes_ = nodes;
  tensor_count_ = nt;
  op_count_ = nops;
  inputs_pos_ = inputs.pos;
  inputs_len_ = inputs.length;
  outputs_pos_ = outputs.pos;
  outputs_len_ = outputs.length;

  // Resolve and prepare every op; op data is bump-allocated after the OpNodes.
  OpContext ctx;
  ctx.fb = &fb;
  ctx.tensors = tv;
  ctx.tensor_count = nt;
  ctx.tensor_tables = tensors;
  ctx.alloc_cur = arena + fixed;
  ctx.alloc_end = arena_end;
  // Variable tensors (op state), in tensor order before any op data: reset like TFLM (int8 to the zero point).
  for (uint32_t i = 0; i < nt; ++i) {
    if (!tv[i].is_variable) continue;
    tv[i].data.raw = ctx.alloc(tv[i].bytes);
    if (!tv[i].data.raw) return Status::kArenaTooSmall;
    if (tv[i].type == TensorType::kInt8) memset(tv[i].data.raw, tv[i].params.zero_point, tv[i].bytes);
  }
  uint32_t scratch_count = 0;
  for (uint32_t i = 0; i < nops; ++i) {
    error_op_ = static_cast<int>(i);
    FbTable op = fb.table_element(operators, i);
    int kernel = -1;
    s = resolve_op(fb, op, opcodes, tv, nt, &ctx, &kernel);
    if (s != Status::kOk) return s;
    ctx.resolve_io();
    ctx.alloc_cur = reinterpret_cast<uint8_t*>(align_ptr(reinterpret_cast<uintptr_t>(ctx.alloc_cur), 8));
    if (ctx.alloc_cur > arena_end) return Status::kArenaTooSmall;
    ctx.data = ctx.alloc_cur;
    ctx.scratch_bytes = 0;
    ctx.alloc_failed = false;
    s = op_at(kernel).prepare(ctx);
    if (ctx.alloc_failed) return Status::kArenaTooSmall;
    if (s != Status::kOk) return s;
    if (!fb.ok()) return reader_status(fb);
    // scratch_off holds the size until planning gives the offset.
    nodes[i] = OpNode{op_at(kernel).eval, op.pos, static_cast<uint32_t>(ctx.data - arena),
                      ctx.scratch_bytes > 0 ? ctx.scratch_bytes : kNoScratch};
    scratch_count += ctx.scratch_bytes > 0;
  }
  error_op_ = -1;

  // Plan the activations (plus one scratch buffer per op that asked for one) after the runtime data. The planner's
  // records live in the activation region while planning, so that region is at least their size.
  uint8_t* act = reinterpret_cast<uint8_t*>(align_ptr(reinterpret_cast<uintptr_t>(ctx.alloc_cur), QBUILD_ARENA_ALIGN));
  if (act > arena_end) return Status::kArenaTooSmall;
  const size_t temp_bytes = (nt + scratch_count) * sizeof(PlanBuffer);
  if (temp_bytes > static_cast<size_t>(arena_end - act)) return Status::kArenaTooSmall;
  PlanBuffer* pb = reinterpret_cast<PlanBuffer*>(act);
  tensor_lifetimes(fb, inputs, outputs, nodes, nops, tv, pb, nt);
  share_in_place(fb, opcodes, nodes, nops, tv, pb);
  if (!fb.ok()) return reader_status(fb);
  // A shared tensor's view points at its group root's view until the roots are placed.
  for (uint32_t i = 0; i < nt; ++i) {
    if (pb[i].first != kUnused && pb[i].next != kPlanRoot) tv[i].data.raw = &tv[plan_root(pb, static_cast<uint16_t>(i))];
  }
  uint16_t count = 0;
  uint64_t sum = 0;
  for (uint32_t i = 0; i < nt; ++i) {
    if (pb[i].first == kUnused || pb[i].next != kPlanRoot) continue;
    pb[count++] = pb[i];
    sum += pb[i].size + QBUILD_ARENA_ALIGN;
  }
  for (uint32_t i = 0; i < nops; ++i) {
    if (nodes[i].scratch_off == kNoScratch) continue;
    pb[count++] = PlanBuffer{nodes[i].scratch_off, 0, static_cast<uint16_t>(i), static_cast<uint16_t>(i), 0,
                             static_cast<uint16_t>(nt + i)};
    sum += nodes[i].scratch_off + QBUILD_ARENA_ALIGN;
  }
  if (sum > 0x7FFFFFFFu) return Status::kArenaTooSmall;  // keeps the planner's offsets far from uint32 overflow
  const size_t planned = plan_buffers(pb, count, QBUILD_ARENA_ALIGN);
  const size_t region = planned > temp_bytes ? planned : temp_bytes;
  if (region > static_cast<size_t>(arena_end - act)) return Status::kArenaTooSmall;
  // Copy the offsets out before the activations (which share the space) are written.
  for (uint16_t k = 0; k < count; ++k) {
    if (pb[k].id < nt) {
      tv[pb[k].id].data.raw = act + pb[k].offset;
    } else {
      nodes[pb[k].id - nt].scratch_off = static_cast<uint32_t>(act - arena) + pb[k].offset;
    }
  }
  for (uint32_t i = 0; i < nt; ++i) {
    const uintptr_t p = reinterpret_cast<uintptr_t>(tv[i].data.raw);
    if (!tv[i].is_constant && p >= reinterpret_cast<uintptr_t>(tv) && p < reinterpret_cast<uintptr_t>(tv + nt)) {
      tv[i].data.raw = static_cast<TensorView*>(tv[i].data.raw)->data.raw;
    }
  }
  arena_used_ = static_cast<size_t>(act - arena) + static_cast<size_t>(region);
  return Status::kOk;
}

Status Model::invoke() {
  if (!loaded_) return Status::kNotLoaded;
  FbReader fb(model_, model_size_);
  const OpNode* nodes = nodes_;
  OpContext ctx;
  ctx.fb = &fb;
  ctx.tensors = static_cast<TensorView*>(tensors_);
  ctx.tensor_count = tensor_count_;
  ctx.tensor_tables = fb.vector(fb.table_at(subgraph_pos_), schema::kSubgraphTensors, 4);
  for (uint32_t i = 0; i < op_count_; ++i) {
    const OpNode& n = nodes[i];
    read_op(fb, fb.table_at(n.op_pos), &ctx);
    ctx.resolve_io();
    ctx.data = const_cast<uint8_t*>(op_data_) + n.data_off;  // eval only reads its op data
    ctx.scratch = n.scratch_off != kNoScratch ? arena_ + n.scratch_off : nullptr;
    Status s = n.eval(ctx);
    if (s != Status::kOk) {
      error_op_ = static_cast<int>(i);
      return s;
    }
  }
  return Status::kOk;
}

Model::Layout Model::layout() const {
  const uint32_t views = static_cast<uint32_t>(align_ptr(tensor_count_ * sizeof(TensorView), 8));
  return Layout{arena_, nodes_, views + op_count_ * static_cast<uint32_t>(sizeof(OpNode)), subgraph_pos_,
                inputs_pos_, inputs_len_, outputs_pos_, outputs_len_};
}

Status Model::attach_parameters(const uint8_t* data, uint32_t size) {
#if QBUILD_PARAMETERS
  FbReader fb(data, size);
  FbTable root = fb.root();
  FbVector buffers = fb.vector(root, schema::kModelBuffers, 4);
  FbVector metadata = fb.vector(root, schema::kModelMetadata, 4);
  if (!fb.ok()) return reader_status(fb);
  return read_parameters(fb, metadata, buffers, &params_);
#else
  (void)data;
  (void)size;
  return Status::kOk;
#endif
}

size_t Model::inputs_size() const { return loaded_ ? inputs_len_ : 0; }
size_t Model::outputs_size() const { return loaded_ ? outputs_len_ : 0; }

TensorView* Model::input(size_t i) {
  if (!loaded_ || i >= inputs_len_) return nullptr;
  FbReader fb(model_, model_size_);
  return tensor(static_cast<size_t>(fb.read<int32_t>(inputs_pos_ + 4 * static_cast<uint32_t>(i))));
}

const TensorView* Model::output(size_t i) const {
  if (!loaded_ || i >= outputs_len_) return nullptr;
  FbReader fb(model_, model_size_);
  int32_t t = fb.read<int32_t>(outputs_pos_ + 4 * static_cast<uint32_t>(i));
  return static_cast<const TensorView*>(tensors_) + t;
}

TensorView* Model::tensor(size_t i) {
  if (!loaded_ || i >= tensor_count_) return nullptr;
  return static_cast<TensorView*>(tensors_) + i;
}

}  // namespace qbuild
