// copies.h. A few large blocks at most (a job holds up to three, and calls are split into parts
// of equal size), so the idle list is a short vector searched whole, oldest first.
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

// Never destroyed: blocks may come back from pool threads while the process exits.
std::mutex& lock = *new std::mutex();
std::vector<Block>& idle = *new std::vector<Block>();
size_t idle_bytes = 0;
size_t fresh = 0;

// Frees idle blocks, oldest first, until `room` more bytes fit the bound (all, for room past it).
// Called with the lock held; returns what to free once it is released.
std::vector<void*> make_room(size_t room) {
  std::vector<void*> freed;
  while (!idle.empty() && idle_bytes + room > kIdleBytes) {
    freed.push_back(idle.front().data);
    idle_bytes -= idle.front().capacity;
    idle.erase(idle.begin());
  }
  return freed;
}

void free_all(const std::vector<void*>& blocks) {
  for (void* data : blocks) std::free(data);
}

void give_back(Block block) {
  if (block.capacity > kIdleBytes) {
    std::free(block.data);
    return;
  }
  std::vector<void*> freed;
  {
    std::lock_guard<std::mutex> guard(lock);
    freed = make_room(block.capacity);
    idle.push_back(block);
    idle_bytes += block.capacity;
  }
  free_all(freed);
}

// The smallest idle block that holds `bytes` without wasting more than as much again, taken off
// the list; {nullptr, 0} when none.
Block take_idle(size_t bytes) {
  std::lock_guard<std::mutex> guard(lock);
  size_t best = idle.size();
  for (size_t i = 0; i < idle.size(); ++i) {
    const size_t capacity = idle[i].capacity;
    if (capacity >= bytes && capacity / 2 <= bytes && (best == idle.size() || capacity < idle[best].capacity)) best = i;
  }
  if (best == idle.size()) return Block{nullptr, 0};
  const Block found = idle[best];
  idle.erase(idle.begin() + static_cast<std::ptrdiff_t>(best));
  idle_bytes -= found.capacity;
  return found;
}

}  // namespace

std::shared_ptr<void> acquire(size_t bytes) {
  Block found = take_idle(bytes);
  if (found.data == nullptr) {
    const size_t capacity = (bytes + 63) / 64 * 64;
    if (capacity < bytes) return nullptr;
    void* data = std::aligned_alloc(64, capacity);
    if (data == nullptr) {  // the idle blocks' memory may be what is missing
      std::vector<void*> freed;
      {
        std::lock_guard<std::mutex> guard(lock);
        freed = make_room(kIdleBytes + 1);
      }
      free_all(freed);
      data = std::aligned_alloc(64, capacity);
      if (data == nullptr) return nullptr;
    }
    found = Block{data, capacity};
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
