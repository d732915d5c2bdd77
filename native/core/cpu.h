// What this CPU and OS can run, checked once (cpuid and xgetbv on x86; NEON is part of aarch64).
#pragma once

namespace lrn::cpu {

bool has_avx2_fma();
bool has_avx512();
bool has_neon();

}  // namespace lrn::cpu
