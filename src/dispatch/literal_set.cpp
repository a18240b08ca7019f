#include "dispatch/literal_set.h"

#include <algorithm>
#include <cstddef>
#include <deque>

namespace outlet {
namespace {

unsigned char fold(unsigned char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}

}  // namespace

uint32_t LiteralSet::child(uint32_t node, unsigned char byte) const {
  for (const auto& [b, target] : nodes_[node].next) {
    if (b == byte)
      return target;
  }
  return 0;
}

void LiteralSet::add(std::string_view literal, uint32_t id) {
  if (literal.empty())
    return;
  uint32_t node = 0;
  for (char raw : literal) {
    const unsigned char byte = fold(static_cast<unsigned char>(raw));
    uint32_t next = child(node, byte);
    if (next == 0) {
      next = static_cast<uint32_t>(nodes_.size());
      nodes_[node].next.emplace_back(byte, next);
      nodes_.emplace_back();
    }
    node = next;
  }
  nodes_[node].best = std::min(nodes_[node].best, id);
}

void LiteralSet::build() {
  class_of_.fill(0);
  classes_ = 1;
  for (const Node& node : nodes_) {
    for (const auto& [byte, target] : node.next) {
      if (class_of_[byte] == 0)
        class_of_[byte] = static_cast<uint16_t>(classes_++);
    }
  }
  // A byte in no literal behaves like any other such byte: class 0.
  const size_t width = classes_;
  auto at = [&](uint32_t node, unsigned char byte) -> uint32_t& {
    return delta_[size_t{node} * width + class_of_[byte]];
  };
  // Breadth first, so a node's fail target (a shorter suffix) is finished before it.
  delta_.assign(nodes_.size() * width, 0);
  std::deque<uint32_t> queue;
  for (const auto& [byte, target] : nodes_[0].next) {
    at(0, byte) = target;
    nodes_[target].fail = 0;
    queue.push_back(target);
  }
  while (!queue.empty()) {
    const uint32_t node = queue.front();
    queue.pop_front();
    Node& current = nodes_[node];
    current.best = std::min(current.best, nodes_[current.fail].best);
    std::copy_n(delta_.begin() + static_cast<std::ptrdiff_t>(size_t{current.fail} * width), width,
                delta_.begin() + static_cast<std::ptrdiff_t>(size_t{node} * width));
    for (const auto& [byte, target] : current.next) {
      nodes_[target].fail = at(current.fail, byte);
      at(node, byte) = target;
      queue.push_back(target);
    }
  }
}

uint32_t LiteralSet::first_match(std::string_view text) const {
  if (delta_.empty())
    return UINT32_MAX;
  uint32_t best = UINT32_MAX;
  uint32_t state = 0;
  for (char raw : text) {
    state = delta_[size_t{state} * classes_ + class_of_[fold(static_cast<unsigned char>(raw))]];
    best = std::min(best, nodes_[state].best);
  }
  return best;
}

}  // namespace outlet
