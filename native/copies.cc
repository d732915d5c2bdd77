// copies.h. A few large blocks at most (a job holds up to three, and calls are split into parts
// of equal size), so the idle list is a short vector searched whole.
#include "copies.h"

#include <cstdlib>
#include <mutex>
#include <vector>

namespace copies {

namespace {

struct Block {
  void* data;
  size_t capacity;
};

std::mutex lock;
std::vector<Block>* idle = new std::vector<Block>();  // never destroyed: deleters may run at exit
size_t idle_bytes = 0;
size_t fresh = 0;

void give_back(Block block) {
  {
    std::lock_guard<std::mutex> guard(lock);
    if (idle_bytes + block.capacity <= kIdleBytes) {
      idle->push_back(block);
      idle_bytes += block.capacity;
      return;
    }
  }
  std::free(block.data);
}

}  // namespace

std::shared_ptr<void> acquire(size_t bytes) {
  Block found{nullptr, 0};
  {
    std::lock_guard<std::mutex> guard(lock);
    // The smallest idle block that holds `bytes` without wasting more than as much again.
    size_t best = idle->size();
    for (size_t i = 0; i < idle->size(); ++i) {
      const size_t capacity = (*idle)[i].capacity;
      if (capacity >= bytes && capacity / 2 <= bytes && (best == idle->size() || capacity < (*idle)[best].capacity)) best = i;
    }
    if (best < idle->size()) {
      found = (*idle)[best];
      (*idle)[best] = idle->back();
      idle->pop_back();
      idle_bytes -= found.capacity;
    }
  }
  if (found.data == nullptr) {
    const size_t capacity = (bytes + 63) / 64 * 64;
    if (capacity < bytes) return nullptr;
    found = Block{std::aligned_alloc(64, capacity), capacity};
    if (found.data == nullptr) return nullptr;
    std::lock_guard<std::mutex> guard(lock);
    ++fresh;
  }
  return std::shared_ptr<void>(found.data, [capacity = found.capacity](void* data) { give_back(Block{data, capacity}); });
}

size_t fresh_blocks() {
  std::lock_guard<std::mutex> guard(lock);
  return fresh;
}

}  // namespace copies
