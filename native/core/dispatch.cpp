// The kernel table: every kernel compiled for this architecture, best first.
#include <cstring>

#include "lrn.h"

namespace lrn {

#if defined(__x86_64__) || defined(_M_X64)
extern const Kernel kAvx512Kernel;
extern const Kernel kAvx2Kernel;
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
extern const Kernel kNeonKernel;
#endif
extern const Kernel kScalarKernel;

namespace {
const Kernel* const kAll[] = {
#if defined(__x86_64__) || defined(_M_X64)
    &kAvx512Kernel,
    &kAvx2Kernel,
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
    &kNeonKernel,
#endif
    &kScalarKernel,
};
}  // namespace

const Kernel* const* all_kernels(size_t* count) {
  *count = sizeof(kAll) / sizeof(kAll[0]);
  return kAll;
}

const Kernel* find_kernel(const char* name) {
  for (const Kernel* k : kAll) {
    if (std::strcmp(k->name, name) == 0) return k->supported() ? k : nullptr;
  }
  return nullptr;
}

const Kernel* best_kernel() {
  for (const Kernel* k : kAll) {
    if (k->supported()) return k;
  }
  return &kScalarKernel;
}

}  // namespace lrn
