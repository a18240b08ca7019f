// What the host must know about a wasm module before it gives it to the engine:
// which functions it imports (and with what signatures, which SpiderMonkey does
// not check for imports implemented by the host), what it exports, and how large
// its memories may grow. The engine validates the rest of the module itself.
// Input is hostile: every read is bounds-checked and every failure names the
// section and byte offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outlet/result.h"

namespace outlet::wasm {

enum class ValueType : uint8_t {
  kI32 = 0x7f,
  kI64 = 0x7e,
  kF32 = 0x7d,
  kF64 = 0x7c,
  kV128 = 0x7b,
  kFuncRef = 0x70,
  kExternRef = 0x6f,
};
std::string_view value_type_name(ValueType type);

enum class ExternalKind : uint8_t { kFunction = 0, kTable = 1, kMemory = 2, kGlobal = 3, kTag = 4 };
std::string_view external_kind_name(ExternalKind kind);

struct FunctionType {
  std::vector<ValueType> params;
  std::vector<ValueType> results;
  bool operator==(const FunctionType&) const = default;
};
// "(i64, i64) -> i64", for messages.
std::string describe(const FunctionType& type);

struct Import {
  std::string module;
  std::string name;
  ExternalKind kind = ExternalKind::kFunction;
  uint32_t type_index = 0;  // functions only
};

struct Export {
  std::string name;
  ExternalKind kind = ExternalKind::kFunction;
  uint32_t index = 0;
};

// A memory's limits in pages, or a table's in elements.
struct MemoryLimits {
  uint64_t min_pages = 0;
  std::optional<uint64_t> max_pages;
  bool shared = false;
  bool memory64 = false;
  ValueType element = ValueType::kFuncRef;  // tables only
};

struct ModuleInfo {
  std::vector<FunctionType> types;
  std::vector<Import> imports;
  std::vector<Export> exports;
  std::vector<uint32_t> function_types;  // type index of each function the module defines
  std::vector<MemoryLimits> memories;    // defined by the module (imported ones are in `imports`)
  std::vector<MemoryLimits> tables;      // defined by the module; limits in elements
  // Where the memory section starts (its id byte), where its contents start and
  // how long they are (size 0: no memory section).
  size_t memory_section_header = 0;
  size_t memory_section_offset = 0;
  size_t memory_section_size = 0;
  size_t table_section_header = 0;  // the same for the table section
  size_t table_section_offset = 0;
  size_t table_section_size = 0;

  const FunctionType* function_type(const Import& import) const;
  const Export* find_export(std::string_view name, ExternalKind kind) const;
  // The type of an exported function (null for other exports or bad indices).
  const FunctionType* export_type(const Export& entry) const;
};

inline constexpr uint64_t kWasmPageBytes = 65536;

// Reads the sections the host needs; fails naming the section and offset.
Result<ModuleInfo> read_module(std::string_view bytes);

// The module with every memory it defines limited to `max_pages` (a declared
// maximum below that stays). Fails when a memory's minimum is already larger.
Result<std::string> cap_memories(std::string_view bytes, const ModuleInfo& info,
                                 uint64_t max_pages);

// The module with every table it defines limited to `max_elements` (tables are
// memory the engine allocates as they grow: 8 to 16 bytes an element).
Result<std::string> cap_tables(std::string_view bytes, const ModuleInfo& info,
                               uint64_t max_elements);

}  // namespace outlet::wasm
