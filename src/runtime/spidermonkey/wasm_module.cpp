#include "runtime/spidermonkey/wasm_module.h"

#include <algorithm>

namespace outlet::wasm {
namespace {

constexpr uint8_t kMagic[] = {0x00, 0x61, 0x73, 0x6d};
constexpr uint8_t kVersion1[] = {0x01, 0x00, 0x00, 0x00};
// Far above any real module, low enough that a forged count cannot make the
// reader reserve gigabytes before it notices the bytes are not there.
constexpr uint64_t kMaxEntries = 1'000'000;

enum SectionId : uint8_t {
  kCustomSection = 0,
  kTypeSection = 1,
  kImportSection = 2,
  kFunctionSection = 3,
  kTableSection = 4,
  kMemorySection = 5,
  kExportSection = 7,
};

std::string_view section_name(uint8_t id) {
  static constexpr std::string_view kNames[] = {
      "custom", "type",  "import",  "function", "table", "memory",     "global",
      "export", "start", "element", "code",     "data",  "data count", "tag"};
  return id < std::size(kNames) ? kNames[id] : "unknown";
}

class Reader {
 public:
  Reader(std::string_view bytes, size_t offset, size_t end, std::string_view where)
      : bytes_(bytes), offset_(offset), end_(end), where_(where) {}

  size_t offset() const { return offset_; }
  bool at_end() const { return offset_ >= end_; }
  const std::optional<Error>& error() const { return error_; }

  bool fail(const std::string& rule) {
    if (!error_) {
      error_ = Error(ErrorCode::kInvalidArgument,
                     "the wasm module is malformed: " + std::string(where_) + " at byte " +
                         std::to_string(offset_) + ": " + rule);
    }
    return false;
  }

  bool byte(uint8_t& out) {
    if (offset_ >= end_)
      return fail("unexpected end");
    out = static_cast<uint8_t>(bytes_[offset_++]);
    return true;
  }

  // Unsigned LEB128 of at most `bits` bits.
  bool leb(uint64_t& out, unsigned bits = 32) {
    out = 0;
    for (unsigned shift = 0;; shift += 7) {
      uint8_t b = 0;
      if (!byte(b))
        return false;
      if (shift >= bits || (shift + 7 > bits && (b & 0x7f) >> (bits - shift)) != 0)
        return fail("an integer is too large");
      out |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0)
        return true;
    }
  }

  bool count(uint64_t& out, const char* what) {
    if (!leb(out))
      return false;
    if (out > kMaxEntries || out > end_ - offset_)
      return fail(std::string("too many ") + what);
    return true;
  }

  bool name(std::string& out) {
    uint64_t length = 0;
    if (!leb(length))
      return false;
    if (length > end_ - offset_)
      return fail("a name runs past the section's end");
    out.assign(bytes_.substr(offset_, length));
    offset_ += length;
    return true;
  }

  bool limits(MemoryLimits& out) {
    uint8_t flags = 0;
    if (!byte(flags))
      return false;
    if (flags > 0x07)
      return fail("unknown limits flags " + std::to_string(flags));
    out.shared = (flags & 0x02) != 0;
    out.memory64 = (flags & 0x04) != 0;
    unsigned bits = out.memory64 ? 64 : 32;
    if (!leb(out.min_pages, bits))
      return false;
    if (flags & 0x01) {
      uint64_t max = 0;
      if (!leb(max, bits))
        return false;
      out.max_pages = max;
    }
    return true;
  }

  bool value_type(ValueType& out) {
    uint8_t b = 0;
    if (!byte(b))
      return false;
    switch (b) {
      case 0x7f:
      case 0x7e:
      case 0x7d:
      case 0x7c:
      case 0x7b:
      case 0x70:
      case 0x6f:
        out = static_cast<ValueType>(b);
        return true;
      default:
        return fail("unknown value type 0x" + hex(b));
    }
  }

  static std::string hex(uint8_t b) {
    const char* digits = "0123456789abcdef";
    return {digits[b >> 4], digits[b & 15]};
  }

 private:
  std::string_view bytes_;
  size_t offset_;
  size_t end_;
  std::string_view where_;
  std::optional<Error> error_;
};

bool read_types(Reader& r, ModuleInfo& info) {
  uint64_t n = 0;
  if (!r.count(n, "types"))
    return false;
  info.types.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint8_t form = 0;
    if (!r.byte(form))
      return false;
    if (form != 0x60)
      return r.fail("type " + std::to_string(i) + " is not a function type");
    FunctionType type;
    for (auto* list : {&type.params, &type.results}) {
      uint64_t m = 0;
      if (!r.count(m, "parameters"))
        return false;
      for (uint64_t j = 0; j < m; ++j) {
        ValueType value{};
        if (!r.value_type(value))
          return false;
        list->push_back(value);
      }
    }
    info.types.push_back(std::move(type));
  }
  return true;
}

bool read_imports(Reader& r, ModuleInfo& info) {
  uint64_t n = 0;
  if (!r.count(n, "imports"))
    return false;
  for (uint64_t i = 0; i < n; ++i) {
    Import import;
    uint8_t kind = 0;
    if (!r.name(import.module) || !r.name(import.name) || !r.byte(kind))
      return false;
    switch (kind) {
      case 0: {
        uint64_t type = 0;
        if (!r.leb(type))
          return false;
        if (type >= info.types.size())
          return r.fail("import " + import.module + "." + import.name + " names type " +
                        std::to_string(type) + ", which does not exist");
        import.type_index = static_cast<uint32_t>(type);
        break;
      }
      case 1: {
        ValueType element{};
        MemoryLimits limits;
        if (!r.value_type(element) || !r.limits(limits))
          return false;
        break;
      }
      case 2: {
        MemoryLimits limits;
        if (!r.limits(limits))
          return false;
        break;
      }
      case 3: {
        ValueType type{};
        uint8_t mutability = 0;
        if (!r.value_type(type) || !r.byte(mutability))
          return false;
        break;
      }
      case 4: {
        uint8_t attribute = 0;
        uint64_t type = 0;
        if (!r.byte(attribute) || !r.leb(type))
          return false;
        break;
      }
      default:
        return r.fail("unknown import kind " + std::to_string(kind));
    }
    import.kind = static_cast<ExternalKind>(kind);
    info.imports.push_back(std::move(import));
  }
  return true;
}

bool read_functions(Reader& r, ModuleInfo& info) {
  uint64_t n = 0;
  if (!r.count(n, "functions"))
    return false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t type = 0;
    if (!r.leb(type))
      return false;
    info.function_types.push_back(static_cast<uint32_t>(type));
  }
  return true;
}

bool read_tables(Reader& r, ModuleInfo& info) {
  uint64_t n = 0;
  if (!r.count(n, "tables"))
    return false;
  for (uint64_t i = 0; i < n; ++i) {
    ValueType element{};
    MemoryLimits limits;
    if (!r.value_type(element) || !r.limits(limits))
      return false;
    if (element != ValueType::kFuncRef && element != ValueType::kExternRef)
      return r.fail("table " + std::to_string(i) + " does not hold references");
    limits.element = element;
    info.tables.push_back(limits);
  }
  return true;
}

bool read_memories(Reader& r, ModuleInfo& info) {
  uint64_t n = 0;
  if (!r.count(n, "memories"))
    return false;
  for (uint64_t i = 0; i < n; ++i) {
    MemoryLimits limits;
    if (!r.limits(limits))
      return false;
    info.memories.push_back(limits);
  }
  return true;
}

bool read_exports(Reader& r, ModuleInfo& info) {
  uint64_t n = 0;
  if (!r.count(n, "exports"))
    return false;
  for (uint64_t i = 0; i < n; ++i) {
    Export entry;
    uint8_t kind = 0;
    uint64_t index = 0;
    if (!r.name(entry.name) || !r.byte(kind) || !r.leb(index))
      return false;
    if (kind > 4)
      return r.fail("unknown export kind " + std::to_string(kind));
    entry.kind = static_cast<ExternalKind>(kind);
    entry.index = static_cast<uint32_t>(index);
    info.exports.push_back(std::move(entry));
  }
  return true;
}

void append_leb(std::string& out, uint64_t value) {
  do {
    uint8_t b = value & 0x7f;
    value >>= 7;
    if (value != 0)
      b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (value != 0);
}

}  // namespace

std::string_view value_type_name(ValueType type) {
  switch (type) {
    case ValueType::kI32:
      return "i32";
    case ValueType::kI64:
      return "i64";
    case ValueType::kF32:
      return "f32";
    case ValueType::kF64:
      return "f64";
    case ValueType::kV128:
      return "v128";
    case ValueType::kFuncRef:
      return "funcref";
    case ValueType::kExternRef:
      return "externref";
  }
  return "?";
}

std::string_view external_kind_name(ExternalKind kind) {
  switch (kind) {
    case ExternalKind::kFunction:
      return "function";
    case ExternalKind::kTable:
      return "table";
    case ExternalKind::kMemory:
      return "memory";
    case ExternalKind::kGlobal:
      return "global";
    case ExternalKind::kTag:
      return "tag";
  }
  return "?";
}

std::string describe(const FunctionType& type) {
  auto list = [](const std::vector<ValueType>& values) {
    std::string text;
    for (size_t i = 0; i < values.size(); ++i)
      text += (i ? ", " : "") + std::string(value_type_name(values[i]));
    return text;
  };
  std::string results = list(type.results);
  return "(" + list(type.params) + ") -> " + (results.empty() ? "()" : results);
}

const FunctionType* ModuleInfo::function_type(const Import& import) const {
  if (import.kind != ExternalKind::kFunction || import.type_index >= types.size())
    return nullptr;
  return &types[import.type_index];
}

const Export* ModuleInfo::find_export(std::string_view name, ExternalKind kind) const {
  for (const Export& entry : exports) {
    if (entry.name == name && entry.kind == kind)
      return &entry;
  }
  return nullptr;
}

const FunctionType* ModuleInfo::export_type(const Export& entry) const {
  if (entry.kind != ExternalKind::kFunction)
    return nullptr;
  size_t index = entry.index;
  for (const Import& import : imports) {
    if (import.kind != ExternalKind::kFunction)
      continue;
    if (index == 0)
      return function_type(import);
    --index;
  }
  if (index >= function_types.size() || function_types[index] >= types.size())
    return nullptr;
  return &types[function_types[index]];
}

Result<ModuleInfo> read_module(std::string_view bytes) {
  if (bytes.size() < 8 ||
      !std::equal(std::begin(kMagic), std::end(kMagic), bytes.begin(),
                  [](uint8_t a, char b) { return a == static_cast<uint8_t>(b); })) {
    return Error(ErrorCode::kInvalidArgument,
                 "not a wasm module: a module starts with the bytes \\0asm");
  }
  if (!std::equal(std::begin(kVersion1), std::end(kVersion1), bytes.begin() + 4,
                  [](uint8_t a, char b) { return a == static_cast<uint8_t>(b); })) {
    return Error(ErrorCode::kInvalidArgument,
                 "the wasm module has an unsupported binary version (only version 1 runs; a "
                 "component is not a module)");
  }
  ModuleInfo info;
  Reader sections(bytes, 8, bytes.size(), "the module");
  while (!sections.at_end()) {
    uint8_t id = 0;
    uint64_t size = 0;
    size_t header = sections.offset();
    if (!sections.byte(id) || !sections.leb(size))
      return *sections.error();
    size_t start = sections.offset();
    if (size > bytes.size() - start) {
      sections.fail("the " + std::string(section_name(id)) + " section runs past the end");
      return *sections.error();
    }
    std::string where = "the " + std::string(section_name(id)) + " section";
    Reader r(bytes, start, start + size, where);
    bool ok = true;
    switch (id) {
      case kTypeSection:
        ok = info.types.empty() && read_types(r, info);
        break;
      case kImportSection:
        ok = info.imports.empty() && read_imports(r, info);
        break;
      case kFunctionSection:
        ok = info.function_types.empty() && read_functions(r, info);
        break;
      case kTableSection:
        info.table_section_header = header;
        info.table_section_offset = start;
        info.table_section_size = size;
        ok = info.tables.empty() && read_tables(r, info);
        break;
      case kMemorySection:
        info.memory_section_header = header;
        info.memory_section_offset = start;
        info.memory_section_size = size;
        ok = info.memories.empty() && read_memories(r, info);
        break;
      case kExportSection:
        ok = info.exports.empty() && read_exports(r, info);
        break;
      default:
        break;
    }
    if (!ok) {
      if (!r.error())
        r.fail("the section appears twice");
      return *r.error();
    }
    sections = Reader(bytes, start + size, bytes.size(), "the module");
  }
  return info;
}

namespace {

// `bytes` with one section's contents replaced (its id and size re-encoded).
std::string replace_section(std::string_view bytes, uint8_t id, size_t header, size_t offset,
                            size_t size, const std::string& contents) {
  std::string out(bytes.substr(0, header));
  out.push_back(static_cast<char>(id));
  append_leb(out, contents.size());
  out += contents;
  out += bytes.substr(offset + size);
  return out;
}

void append_limits(std::string& out, const MemoryLimits& limits, uint64_t max) {
  uint8_t flags = 0x01 | (limits.shared ? 0x02 : 0) | (limits.memory64 ? 0x04 : 0);
  out.push_back(static_cast<char>(flags));
  append_leb(out, limits.min_pages);
  append_leb(out, max);
}

}  // namespace

Result<std::string> cap_tables(std::string_view bytes, const ModuleInfo& info,
                               uint64_t max_elements) {
  if (info.tables.empty())
    return std::string(bytes);
  std::string contents;
  append_leb(contents, info.tables.size());
  for (size_t i = 0; i < info.tables.size(); ++i) {
    const MemoryLimits& table = info.tables[i];
    if (table.min_pages > max_elements) {
      return Error(ErrorCode::kResourceExhausted,
                   "the wasm module's table " + std::to_string(i) + " starts at " +
                       std::to_string(table.min_pages) + " elements, more than the " +
                       std::to_string(max_elements) + " a plugin's table may hold");
    }
    contents.push_back(static_cast<char>(table.element));
    append_limits(contents, table, std::min(table.max_pages.value_or(max_elements), max_elements));
  }
  return replace_section(bytes, kTableSection, info.table_section_header, info.table_section_offset,
                         info.table_section_size, contents);
}

Result<std::string> cap_memories(std::string_view bytes, const ModuleInfo& info,
                                 uint64_t max_pages) {
  if (info.memories.empty())
    return std::string(bytes);
  std::string contents;
  append_leb(contents, info.memories.size());
  for (size_t i = 0; i < info.memories.size(); ++i) {
    const MemoryLimits& memory = info.memories[i];
    if (memory.min_pages > max_pages) {
      return Error(ErrorCode::kResourceExhausted,
                   "the wasm module's memory " + std::to_string(i) + " starts at " +
                       std::to_string(memory.min_pages) + " pages (" +
                       std::to_string(memory.min_pages * kWasmPageBytes >> 20) +
                       " MiB), more than the plugin's memory limit allows (" +
                       std::to_string(max_pages) + " pages)");
    }
    append_limits(contents, memory, std::min(memory.max_pages.value_or(max_pages), max_pages));
  }
  return replace_section(bytes, kMemorySection, info.memory_section_header,
                         info.memory_section_offset, info.memory_section_size, contents);
}

}  // namespace outlet::wasm
