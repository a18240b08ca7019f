// Many literal strings searched for in one pass over a text (Aho–Corasick over
// bytes, ASCII case-folded): the cost of a search grows with the text, not with the
// number of literals. Used for keyword triggers, where a chat of thousands of
// them must still match a message in microseconds.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace outlet {

class LiteralSet {
 public:
  // Adds a literal with the caller's id; an empty literal is ignored.
  void add(std::string_view literal, uint32_t id);
  // Builds the automaton; call once after the last add().
  void build();

  // The smallest id among the literals found in `text` (case-insensitive for ASCII),
  // or UINT32_MAX when none is.
  uint32_t first_match(std::string_view text) const;
  bool empty() const { return nodes_.size() <= 1; }

 private:
  struct Node {
    std::vector<std::pair<unsigned char, uint32_t>> next;  // sorted by byte while building
    uint32_t fail = 0;
    uint32_t best = UINT32_MAX;  // smallest id ending here or at any suffix (via fail links)
  };
  uint32_t child(uint32_t node, unsigned char byte) const;

  std::vector<Node> nodes_ = std::vector<Node>(1);
  // After build(): a dense transition table, one row per node and one column per
  // byte class (the bytes the literals use, each its own class; every other byte
  // shares class 0), for a branch-free inner loop in far less memory than 256
  // columns.
  std::array<uint16_t, 256> class_of_{};
  size_t classes_ = 1;
  std::vector<uint32_t> delta_;
};

}  // namespace outlet
