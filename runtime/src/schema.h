// Field ids and enum values of the TFLite flatbuffer schema (schema.fbs) that the loader and op glue read.
#ifndef QBUILD_SRC_SCHEMA_H_
#define QBUILD_SRC_SCHEMA_H_

namespace qbuild {
namespace schema {

// table Model
constexpr int kModelVersion = 0, kModelOperatorCodes = 1, kModelSubgraphs = 2, kModelBuffers = 4, kModelMetadata = 6;
// table OperatorCode
constexpr int kOpCodeDeprecatedBuiltin = 0, kOpCodeCustom = 1, kOpCodeBuiltin = 3;
// table SubGraph
constexpr int kSubgraphTensors = 0, kSubgraphInputs = 1, kSubgraphOutputs = 2, kSubgraphOperators = 3;
// table Tensor
constexpr int kTensorShape = 0, kTensorType = 1, kTensorBuffer = 2, kTensorName = 3, kTensorQuantization = 4,
              kTensorIsVariable = 5, kTensorSparsity = 6;
// table QuantizationParameters
constexpr int kQuantScale = 2, kQuantZeroPoint = 3, kQuantDimension = 6;
// table Operator
constexpr int kOperatorOpcodeIndex = 0, kOperatorInputs = 1, kOperatorOutputs = 2, kOperatorOptionsType = 3,
              kOperatorOptions = 4;
// table Buffer
constexpr int kBufferData = 0, kBufferOffset = 1;
// table Metadata
constexpr int kMetadataName = 0, kMetadataBuffer = 1;

// enum BuiltinOperator (the ops qbuild implements)
enum BuiltinOp : int {
  kAdd = 0,
  kAveragePool2D = 1,
  kConcatenation = 2,
  kConv2D = 3,
  kDepthwiseConv2D = 4,
  kDequantize = 6,
  kFullyConnected = 9,
  kLogistic = 14,
  kMaxPool2D = 17,
  kMul = 18,
  kRelu = 19,
  kRelu6 = 21,
  kReshape = 22,
  kResizeBilinear = 23,
  kSoftmax = 25,
  kTanh = 28,
  kTranspose = 39,
  kSub = 41,
  kUnidirectionalSequenceLstm = 44,
  kPad = 34,
  kMean = 40,
  kStridedSlice = 45,
  kSplit = 49,
  kPrelu = 54,
  kMaximum = 55,
  kMinimum = 57,
  kNeg = 59,
  kTransposeConv = 67,
  kRsqrt = 76,
  kShape = 77,
  kReduceMax = 82,
  kPack = 83,
  kUnpack = 88,
  kLeakyRelu = 98,
  kSquaredDifference = 99,
  kQuantize = 114,
  kHardSwish = 117,
};

// enum Padding / ActivationFunctionType
constexpr int kPaddingSame = 0, kPaddingValid = 1;
constexpr int kActNone = 0, kActRelu = 1, kActReluN1To1 = 2, kActRelu6 = 3;

// Builtin option tables (field ids).
namespace conv {  // Conv2DOptions
constexpr int kPadding = 0, kStrideW = 1, kStrideH = 2, kActivation = 3, kDilationW = 4, kDilationH = 5;
}
namespace dwconv {  // DepthwiseConv2DOptions
constexpr int kPadding = 0, kStrideW = 1, kStrideH = 2, kDepthMultiplier = 3, kActivation = 4, kDilationW = 5,
              kDilationH = 6;
}
namespace pool {  // Pool2DOptions
constexpr int kPadding = 0, kStrideW = 1, kStrideH = 2, kFilterW = 3, kFilterH = 4, kActivation = 5;
}
namespace fc {  // FullyConnectedOptions
constexpr int kActivation = 0, kWeightsFormat = 1, kKeepNumDims = 2;
}
namespace softmax {  // SoftmaxOptions
constexpr int kBeta = 0;
}
namespace concat {  // ConcatenationOptions
constexpr int kAxis = 0, kActivation = 1;
}
namespace binary {  // AddOptions / MulOptions
constexpr int kActivation = 0;
}
namespace reducer {  // ReducerOptions
constexpr int kKeepDims = 0;
}
namespace reshape {  // ReshapeOptions
constexpr int kNewShape = 0;
}
namespace strided_slice {  // StridedSliceOptions
constexpr int kBeginMask = 0, kEndMask = 1, kEllipsisMask = 2, kNewAxisMask = 3, kShrinkAxisMask = 4, kOffset = 5;
}
namespace pack {  // PackOptions
constexpr int kValuesCount = 0, kAxis = 1;
}
namespace split {  // SplitOptions
constexpr int kNumSplits = 0;
}
namespace unpack {  // UnpackOptions
constexpr int kNum = 0, kAxis = 1;
}
namespace leaky_relu {  // LeakyReluOptions
constexpr int kAlpha = 0;
}
namespace transpose_conv {  // TransposeConvOptions
constexpr int kPadding = 0, kStrideW = 1, kStrideH = 2, kActivation = 3;
}
namespace resize_bilinear {  // ResizeBilinearOptions
constexpr int kAlignCorners = 2, kHalfPixelCenters = 3;
}
namespace lstm {  // UnidirectionalSequenceLSTMOptions
constexpr int kActivation = 0, kCellClip = 1, kProjClip = 2, kTimeMajor = 3;
}
namespace shape {  // ShapeOptions
constexpr int kOutType = 0;
}

}  // namespace schema
}  // namespace qbuild

#endif  // QBUILD_SRC_SCHEMA_H_
