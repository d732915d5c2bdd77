// The huge-page hint for large new outputs, which are ordinary typed arrays made in JavaScript.
#pragma once
#include <node_api.h>

namespace allocate {

// hugePages(array) -> boolean: on Linux, marks the whole 2 MiB blocks of a Float32Array's or
// Float64Array's memory MADV_HUGEPAGE when it spans 32 MiB or more (a hint about faults; the
// memory stays the runtime's and is neither touched nor changed). True when it marked any; a
// TypeError for any other argument. See docs/memory.md.
napi_value huge_pages(napi_env env, napi_callback_info info);

}  // namespace allocate
