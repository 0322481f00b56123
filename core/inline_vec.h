// A vector of plain values kept inline up to a capacity and copied as one block while inline.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace foliocheck {

// The model's per-page counts: explore copies a model for every transition, and a general small
// vector copies element by element behind a capacity check and a call. Here a copy of an inline
// vector is one fixed-size block, whatever its size; past N the values live on the heap, whose
// capacity a copy of the same size reuses.
template <class T, uint32_t N>
class InlineVec {
  static_assert(std::is_trivially_copyable_v<T>, "copied with memcpy");

 public:
  using value_type = T;
  using iterator = T*;
  using const_iterator = const T*;

  InlineVec() = default;
  InlineVec(const InlineVec& o) { copy_from(o); }
  InlineVec(InlineVec&& o) noexcept { steal(o); }
  InlineVec& operator=(const InlineVec& o) {
    if (this == &o) return *this;
    // Both inline, as in every copy explore makes of a small folio: one block, no call.
    if (!(o.m_heap || m_heap)) {
      std::memcpy(m_inline, o.m_inline, sizeof m_inline);
      m_size = o.m_size;
      return *this;
    }
    copy_from(o);
    return *this;
  }
  InlineVec& operator=(InlineVec&& o) noexcept {
    if (this != &o) {
      release();
      steal(o);
    }
    return *this;
  }
  ~InlineVec() { release(); }

  void assign(size_t n, T value) {
    resize_for_overwrite(n);
    std::fill_n(data(), n, value);
  }
  void clear() {
    release();
    m_size = 0;
  }
  void push_back(T value) {
    if (m_size == N && !m_heap) {
      T* heap = new T[2 * N];
      std::memcpy(heap, m_inline, sizeof m_inline);
      m_heap = heap;
      m_capacity = 2 * N;
    } else if (m_heap && m_size == m_capacity) {
      T* heap = new T[2 * size_t{m_capacity}];
      std::memcpy(heap, m_heap, m_size * sizeof(T));
      delete[] m_heap;
      m_heap = heap;
      m_capacity *= 2;
    }
    data()[m_size++] = value;
  }
  size_t size() const { return m_size; }
  bool empty() const { return m_size == 0; }
  T* data() { return m_heap ? m_heap : m_inline; }
  const T* data() const { return m_heap ? m_heap : m_inline; }
  T* begin() { return data(); }
  T* end() { return data() + m_size; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + m_size; }
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }

 private:
  [[gnu::noinline]] void copy_from(const InlineVec& o) {
    if (!o.m_heap) {
      release();
      std::memcpy(m_inline, o.m_inline, sizeof m_inline);
      m_size = o.m_size;
      return;
    }
    resize_for_overwrite(o.m_size);
    std::memcpy(m_heap, o.m_heap, o.m_size * sizeof(T));
  }
  void steal(InlineVec& o) {
    std::memcpy(m_inline, o.m_inline, sizeof m_inline);
    m_size = o.m_size;
    m_capacity = o.m_capacity;
    m_heap = o.m_heap;
    o.m_heap = nullptr;
    o.m_size = o.m_capacity = 0;
  }
  // Sizes the vector to n values of unspecified content.
  void resize_for_overwrite(size_t n) {
    if (n <= N) {
      release();
    } else if (!m_heap || m_capacity < n) {
      release();
      m_heap = new T[n];
      m_capacity = static_cast<uint32_t>(n);
    }
    m_size = static_cast<uint32_t>(n);
  }
  void release() {
    delete[] m_heap;
    m_heap = nullptr;
    m_capacity = 0;
  }

  T m_inline[N]{};
  uint32_t m_size = 0;
  uint32_t m_capacity = 0;  // of m_heap
  T* m_heap = nullptr;
};

}  // namespace foliocheck
