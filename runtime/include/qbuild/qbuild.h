// The one include for applications using the qbuild runtime.
#ifndef QBUILD_QBUILD_H_
#define QBUILD_QBUILD_H_

#include "qbuild/model.h"
#include "qbuild/parameters.h"
#include "qbuild/port.h"
#include "qbuild/preprocess.h"
#include "qbuild/status.h"
#include "qbuild/tensor.h"

#endif  // QBUILD_QBUILD_H_
