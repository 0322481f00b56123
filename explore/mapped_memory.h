// Memory for the search's large arrays: a few pages at first, then whole transparent huge pages.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace foliocheck {

// A page fault costs as much as tens of thousands of instructions on the virtual machines the
// search runs on (docs/explore.md, "2026-12-03"): an array that grows by doubling through 4 KiB
// pages faults once per page, and a depth-4 search spent a fifth of its time there. Past a few
// pages, memory comes in huge pages, a fault each.
inline constexpr size_t kHugePage = size_t{2} << 20;
// What an array starts with: a search of a few hundred states stays in these pages.
inline constexpr size_t kFewPages = size_t{16} << 10;

// `bytes` of zeroed memory; from kHugePage up aligned to a huge page and advised to use them, since
// the kernel backs only aligned 2 MiB extents with one.
inline void* map_memory(size_t bytes) {
  if (bytes < kHugePage) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return p;
  }
  // A huge page more than asked for, and what lies outside the aligned part unmapped again.
  void* got =
      mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (got == MAP_FAILED) throw std::bad_alloc();
  char* p = static_cast<char*>(got);
  const uintptr_t at = (reinterpret_cast<uintptr_t>(p) + kHugePage - 1) & ~(kHugePage - 1);
  char* aligned = reinterpret_cast<char*>(at);
  if (aligned > p) munmap(p, static_cast<size_t>(aligned - p));
  munmap(aligned + bytes, static_cast<size_t>(p + kHugePage - aligned));
  madvise(aligned, bytes, MADV_HUGEPAGE);
  return aligned;
}
inline void unmap_memory(void* p, size_t bytes) { munmap(p, bytes); }
// The size to grow `bytes` of memory to: straight from a few pages to a huge page, then doubling.
inline size_t grown_size(size_t bytes) {
  return bytes == 0 ? kFewPages : std::max(2 * bytes, kHugePage);
}

// A growable array of a trivially copyable type in such memory, for the search's nodes and
// frontiers (hundreds of millions of entries at depth 8).
template <class T>
class MappedArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  MappedArray() = default;
  ~MappedArray() { release(); }
  MappedArray(const MappedArray&) = delete;
  MappedArray& operator=(const MappedArray&) = delete;
  MappedArray(MappedArray&& o) noexcept { swap(o); }
  MappedArray& operator=(MappedArray&& o) noexcept {
    MappedArray gone(std::move(o));
    swap(gone);
    return *this;
  }

  void push_back(const T& v) {
    if (m_size == m_capacity) grow();
    m_data[m_size++] = v;
  }
  T& operator[](size_t i) { return m_data[i]; }
  const T& operator[](size_t i) const { return m_data[i]; }
  size_t size() const { return m_size; }
  bool empty() const { return m_size == 0; }
  void clear() { m_size = 0; }

 private:
  void swap(MappedArray& o) noexcept {
    std::swap(m_data, o.m_data);
    std::swap(m_size, o.m_size);
    std::swap(m_bytes, o.m_bytes);
    std::swap(m_capacity, o.m_capacity);
  }
  void grow() {
    const size_t bytes = grown_size(m_bytes);
    T* bigger = static_cast<T*>(map_memory(bytes));
    if (m_size) std::memcpy(bigger, m_data, m_size * sizeof(T));
    release();
    m_data = bigger;
    m_bytes = bytes;
    m_capacity = bytes / sizeof(T);
  }
  void release() {
    if (m_data) unmap_memory(m_data, m_bytes);
    m_data = nullptr;
  }
  T* m_data = nullptr;
  size_t m_size = 0;
  size_t m_bytes = 0;
  size_t m_capacity = 0;
};

}  // namespace foliocheck
