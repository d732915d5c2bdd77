// Force-included into every file of the addon on Linux (binding.gyp, CMakeLists.txt). The
// prebuilt binaries must load wherever Node's own Linux binaries do: glibc 2.28 and libstdc++
// 3.4.21 (docs/prebuilds.md). A few functions got a newer default symbol version in later
// releases with the same behaviour for our calls; these lines bind them to their first version,
// which every later glibc and libstdc++ still provides.
#pragma once
#if defined(__linux__) && defined(__has_include)
#if __has_include(<features.h>)
#include <features.h>
#endif
#if defined(__cplusplus) && __has_include(<version>)
#include <version>  // defines __GLIBCXX__ for libstdc++
#endif
#endif

#if defined(__GLIBC__)
#if defined(__x86_64__)
#define LRN_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define LRN_GLIBC_BASE "GLIBC_2.17"
#endif
#endif

#ifdef LRN_GLIBC_BASE
// Each only where the newer version exists: a version that no linked library defines fails the
// link. pow, exp2: 2.29 dropped the SVID error wrapper (errno only). dlopen, dlsym, dlclose,
// dlerror: moved from libdl into libc in 2.34; before that, Node's process has libdl loaded (it
// is how Node loads addons).
#if __GLIBC_PREREQ(2, 29)
__asm__(".symver pow,pow@" LRN_GLIBC_BASE);
__asm__(".symver exp2,exp2@" LRN_GLIBC_BASE);
#endif
#if __GLIBC_PREREQ(2, 34)
__asm__(".symver dlopen,dlopen@" LRN_GLIBC_BASE);
__asm__(".symver dlsym,dlsym@" LRN_GLIBC_BASE);
__asm__(".symver dlclose,dlclose@" LRN_GLIBC_BASE);
__asm__(".symver dlerror,dlerror@" LRN_GLIBC_BASE);
#endif
#if defined(__cplusplus) && defined(_GLIBCXX_RELEASE) && _GLIBCXX_RELEASE >= 12
// std::condition_variable::wait(std::unique_lock<std::mutex>&): re-versioned in GCC 12.
__asm__(".symver _ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE,"
        "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE@GLIBCXX_3.4.11");
#endif
#undef LRN_GLIBC_BASE
#endif
