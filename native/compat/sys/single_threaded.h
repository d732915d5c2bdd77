// Found before glibc's own <sys/single_threaded.h> (2.32 and later) on the addon's include path.
// libstdc++ reads __libc_single_threaded to skip atomic reference counts in a process with one
// thread; Node's process always has several, so a constant "no" changes nothing and keeps the
// binary free of a symbol that glibc 2.28 lacks (docs/prebuilds.md).
#pragma once
static const char __libc_single_threaded = 0;
