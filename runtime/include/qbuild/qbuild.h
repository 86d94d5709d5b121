/* The one include for applications using the qbuild runtime: from C++ the qbuild:: API (model.h, tensor.h, ...), from
 * C and C++ alike the extern "C" API of qbuild_c.h. */
#ifndef QBUILD_QBUILD_H_
#define QBUILD_QBUILD_H_

#ifdef __cplusplus
#include "qbuild/model.h"
#include "qbuild/parameters.h"
#include "qbuild/preprocess.h"
#include "qbuild/status.h"
#include "qbuild/tensor.h"
#endif

#include "qbuild/port.h"
#include "qbuild/qbuild_c.h"

#endif /* QBUILD_QBUILD_H_ */
