{
  # The kernel core is built at the baseline ISA; each SIMD kernel is its own static library with
  # its own flags, and the dispatcher picks one at run time. Per-ISA libraries live in the
  # top-level conditions on target_arch, so an arm64 build never sees x86 flags.
  'variables': {
    'lrn_cflags': ['-std=c++17', '-O3', '-Wall', '-Wextra', '-Wno-uninitialized', '-fvisibility=hidden', '-ffp-contract=off'],
  },
  'target_defaults': {
    'cflags_cc': ['<@(lrn_cflags)'],
    'cflags_cc!': ['-std=gnu++17', '-std=gnu++20'],
    'xcode_settings': {
      'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
      'OTHER_CPLUSPLUSFLAGS': ['<@(lrn_cflags)'],
    },
    # Linux binaries load on glibc 2.28 and libstdc++ 3.4.21 (docs/prebuilds.md).
    'conditions': [
      ['OS=="linux"', {
        'cflags_cc': ['-include', '<(module_root_dir)/native/compat/old_glibc.h'],
        'include_dirs': ['native/compat'],
      }],
    ],
  },
  'targets': [
    {
      'target_name': 'lrn_core',
      'type': 'static_library',
      'sources': [
        'native/core/portable.cpp',
        'native/core/power.cpp',
        'native/core/series.cpp',
        'native/core/dispatch.cpp',
        'native/core/cpu.cpp',
        'native/core/kernel_neon.cpp',
      ],
    },
    {
      'target_name': 'lrn_scalar',
      'type': 'static_library',
      'sources': ['native/core/kernel_scalar.cpp'],
      'cflags_cc': ['-fno-tree-vectorize'],
    },
    {
      'target_name': 'local_response_norm',
      'sources': ['native/binding.cc', 'native/geometry.cpp', 'native/hold.cc', 'native/copies.cc', 'native/allocate.cc', 'native/test_gate.cc'],
      'defines': ['NAPI_VERSION=8'],
      'dependencies': ['lrn_core', 'lrn_scalar'],
      'conditions': [
        ['target_arch=="x64"', { 'dependencies': ['lrn_avx2', 'lrn_avx512'] }],
      ],
    },
  ],
  'conditions': [
    ['target_arch=="x64"', {
      'targets': [
        {
          'target_name': 'lrn_avx2',
          'type': 'static_library',
          'sources': ['native/core/kernel_avx2.cpp'],
          'cflags_cc': ['-mavx2', '-mfma'],
          'xcode_settings': { 'OTHER_CPLUSPLUSFLAGS': ['<@(lrn_cflags)', '-mavx2', '-mfma'] },
        },
        {
          'target_name': 'lrn_avx512',
          'type': 'static_library',
          'sources': ['native/core/kernel_avx512.cpp'],
          'cflags_cc': ['-mavx512f', '-mavx2', '-mfma'],
          'xcode_settings': { 'OTHER_CPLUSPLUSFLAGS': ['<@(lrn_cflags)', '-mavx512f', '-mavx2', '-mfma'] },
        },
      ],
    }],
  ],
}
