/* Everything a plugin or the host needs from libaglm, in one include. */
#ifndef AGLM_AGLM_H
#define AGLM_AGLM_H

#include "aglm/export.h"
#include "aglm/status.h"
#include "aglm/dtype.h"
#include "aglm/tensor.h"
#include "aglm/npy.h"
#include "aglm/options.h"
#include "aglm/graph.h"
#include "aglm/infer.h"
#include "aglm/op_schema.h"
#include "aglm/window.h"
#include "aglm/ext_ops.h"
#include "aglm/plugin.h"
#include "aglm/schedule.h"
#include "aglm/memplan.h"
#include "aglm/executor.h"

/* The libaglm version at run time ("0.1.0"); compare with AGLM_VERSION_STRING. */
AGLM_API const char *aglm_version(void);

#endif
