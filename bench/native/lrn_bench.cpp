// Times the kernel core (no Node) against oneDNN's LRN (its best instruction set, and AVX2) and
// memcpy in one process, one thread, float32, across channels, interleaved over rounds. Prints one JSON line per contender.
//   lrn_bench [shapes=1x96x55x55,1x256x27x27,32x96x55x55] [rounds=3]
// Built by `make -C native bench`; oneDNN is compiled in when libdnnl-dev is installed.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../../native/core/lrn.h"

#ifdef LRN_WITH_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace {

// AlexNet's parameters: n = 5, a = alpha = 1e-4 (oneDNN is given alpha * n), beta 0.75, k 2.
constexpr int kSize = 5;
constexpr double kA = 1e-4, kBeta = 0.75, kK = 2;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The policy of bench/timing.mjs: samples of >= 5 ms, >= 7 samples and 0.25 s, <= 41 or 1.5 s.
std::vector<double> time_it(const std::function<void()>& f) {
  f();
  double t0 = now();
  f();
  const int inner = std::max(1, static_cast<int>(std::ceil(0.005 / std::max(now() - t0, 1e-9))));
  std::vector<double> per_call;
  const double start = now();
  for (;;) {
    const double a = now();
    for (int i = 0; i < inner; ++i) f();
    const double b = now();
    per_call.push_back((b - a) / inner);
    const double elapsed = b - start;
    if (per_call.size() >= 41 || (per_call.size() >= 7 && elapsed >= 0.25) || (per_call.size() >= 3 && elapsed >= 1.5)) break;
  }
  return per_call;
}

std::vector<int64_t> parse_shape(const std::string& s) {
  std::vector<int64_t> d;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, 'x')) d.push_back(std::atoll(part.c_str()));
  return d;
}

#ifdef LRN_WITH_ONEDNN
// oneDNN's LRN two ways, as rows "onednn" (the implementation it picks: its best instruction set)
// and "onednn-avx2" (the first of its implementations that uses no AVX-512: what it runs with
// ONEDNN_MAX_CPU_ISA=AVX2, which a process can set only once, so the bench walks the list).
template <class Record>
void time_onednn(const lrn::Params& p, const float* x, float* y, const Record& record) {
  using tag = dnnl::memory::format_tag;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  dnnl::memory::desc md({p.batch, p.channels, p.spatial[0], p.spatial[1]}, dnnl::memory::data_type::f32,
                        p.layout == lrn::Layout::NCHW ? tag::nchw : tag::nhwc);
  dnnl::lrn_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::lrn_across_channels, md,
                               kSize, static_cast<float>(kA * kSize), static_cast<float>(kBeta), static_cast<float>(kK));
  dnnl::lrn_forward::primitive_desc pd(desc, eng);
  const dnnl_version_t* v = dnnl_version();
  auto run = [&](const char* impl, const dnnl::lrn_forward::primitive_desc& chosen) {
    dnnl::lrn_forward prim(chosen);
    dnnl::memory src(md, eng, const_cast<float*>(x)), dst(chosen.dst_desc(), eng, y);
    char note[128];
    std::snprintf(note, sizeof note, "oneDNN %d.%d.%d %s", v->major, v->minor, v->patch, chosen.impl_info_str());
    record(impl, note, time_it([&] {
      prim.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
      strm.wait();
    }));
  };
  run("onednn", pd);
  do {
    if (std::strstr(pd.impl_info_str(), "avx512") == nullptr) return run("onednn-avx2", pd);
  } while (pd.next_impl());
}
#endif

struct Row {
  std::string impl, shape, layout, note;
  std::vector<double> samples;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string shapes = argc > 1 ? argv[1] : "1x96x55x55,1x256x27x27,32x96x55x55";
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  std::map<std::string, Row> rows;
  std::vector<std::string> order;
  auto record = [&](const std::string& impl, const std::string& shape, const std::string& layout,
                    const std::string& note, const std::vector<double>& s) {
    const std::string key = impl + "|" + shape + "|" + layout;
    if (!rows.count(key)) {
      rows[key] = {impl, shape, layout, note, {}};
      order.push_back(key);
    }
    rows[key].samples.insert(rows[key].samples.end(), s.begin(), s.end());
  };

  std::stringstream list(shapes);
  std::vector<std::string> shape_list;
  for (std::string s; std::getline(list, s, ',');) shape_list.push_back(s);

  size_t kernel_count = 0;
  const lrn::Kernel* const* kernels = lrn::all_kernels(&kernel_count);
  for (int round = 0; round < rounds; ++round) {
    for (const std::string& shape : shape_list) {
      const std::vector<int64_t> d = parse_shape(shape);  // N x C x H x W
      const int64_t N = d[0], C = d[1], H = d[2], W = d[3], n = N * C * H * W;
      std::vector<float> x(n), y(n);
      uint32_t s = 12345;
      for (float& v : x) {
        s ^= s << 13; s ^= s >> 17; s ^= s << 5;
        v = static_cast<float>(s / 4294967296.0 * 4 - 2);
      }
      record("memcpy", shape, "-", "", time_it([&] { std::memcpy(y.data(), x.data(), n * sizeof(float)); }));
      const int64_t spatial[] = {H, W};
      for (const char* layout : {"NCHW", "NHWC"}) {
        lrn::Params p;
        p.layout = std::strcmp(layout, "NCHW") == 0 ? lrn::Layout::NCHW : lrn::Layout::NHWC;
        p.batch = N;
        p.channels = C;
        p.spatial = spatial;
        p.spatial_rank = 2;
        p.spatial_size = H * W;
        p.before = p.after = kSize / 2;
        p.k = kK;
        p.a = kA;
        p.beta = kBeta;
        for (size_t i = 0; i < kernel_count; ++i) {
          const lrn::Kernel& k = *kernels[i];
          if (!k.supported()) continue;
          std::vector<unsigned char> work(k.workspace_bytes(p) + 64);
          void* w = work.data() + (64 - reinterpret_cast<uintptr_t>(work.data()) % 64) % 64;
          record(k.name, shape, layout, "", time_it([&] { k.forward_f32(p, x.data(), y.data(), w); }));
        }
#ifdef LRN_WITH_ONEDNN
        time_onednn(p, x.data(), y.data(), [&](const char* impl, const std::string& note, const std::vector<double>& t) {
          record(impl, shape, layout, note, t);
        });
#endif
      }
    }
  }
  for (const std::string& key : order) {
    Row& r = rows[key];
    std::sort(r.samples.begin(), r.samples.end());
    const size_t m = r.samples.size();
    const double median = m % 2 ? r.samples[m / 2] : 0.5 * (r.samples[m / 2 - 1] + r.samples[m / 2]);
    std::printf("{\"impl\":\"%s\",\"shape\":\"%s\",\"layout\":\"%s\",\"median_ms\":%.6f,\"min_ms\":%.6f,\"samples\":%zu,\"note\":\"%s\"}\n",
                r.impl.c_str(), r.shape.c_str(), r.layout.c_str(), median * 1e3, r.samples[0] * 1e3, m, r.note.c_str());
  }
#ifndef LRN_WITH_ONEDNN
  std::printf("{\"skipped\":\"oneDNN: libdnnl-dev is not installed (apt-get install libdnnl-dev), so it was not compiled in\"}\n");
#endif
  return 0;
}
