// What the sandbox leaves out: the banned globals and library members, binary
// chunks, oversized chunks, and garbage collector control.
#include "security/lua/lua_security_fixture.h"

namespace outlet::lua_security {
namespace {

struct BannedUse {
  std::string name;
  std::string attack;  // Lua statements using the banned member
  std::string error;   // what the failure says
};

void PrintTo(const BannedUse& use, std::ostream* out) {
  *out << use.name;
}

class LuaBannedGlobalTest : public LuaSecurityTest,
                            public ::testing::WithParamInterface<BannedUse> {};

TEST_P(LuaBannedGlobalTest, UsingItFailsAndNothingElseIsHarmed) {
  ASSERT_NO_FATAL_FAILURE(install_hostile(then_escape(GetParam().attack)));
  Attempt attack = request_attack();
  expect_failed(attack, ErrorCode::kPluginError, HasSubstr(GetParam().error));
  EXPECT_THAT(attack.message(), HasSubstr("plugin.lua:")) << "the error names the plugin's line";
  EXPECT_EQ(stats(HookKind::kRequest).failures, 1u);
  expect_all_well();
}

INSTANTIATE_TEST_SUITE_P(
    Sandbox, LuaBannedGlobalTest,
    ::testing::Values(
        BannedUse{"io", "return io.open('/etc/passwd'):read('a')",
                  "attempt to index a nil value (global 'io')"},
        BannedUse{"os_execute", "os.execute('touch /tmp/outlet-pwned')",
                  "attempt to index a nil value (global 'os')"},
        BannedUse{"os_exit", "os.exit(3)", "attempt to index a nil value (global 'os')"},
        BannedUse{"debug", "debug.sethook()", "attempt to index a nil value (global 'debug')"},
        BannedUse{"package", "return package.loadlib('libc.so.6', 'system')",
                  "attempt to index a nil value (global 'package')"},
        BannedUse{"dofile", "return dofile('/etc/passwd')",
                  "attempt to call a nil value (global 'dofile')"},
        BannedUse{"loadfile", "return loadfile('/etc/passwd')",
                  "attempt to call a nil value (global 'loadfile')"},
        BannedUse{"require", "return require('io')",
                  "attempt to call a nil value (global 'require')"},
        BannedUse{"loadstring", "return loadstring('return 1')",
                  "attempt to call a nil value (global 'loadstring')"},
        BannedUse{"string_dump", "return string.dump(function() end)",
                  "attempt to call a nil value (field 'dump')"},
        BannedUse{"string_dump_as_method", "return ('').dump(function() end)",
                  "attempt to call a nil value (field 'dump')"},
        BannedUse{"string_dump_via_metatable", "return getmetatable('').__index.dump",
                  "attempt to index a nil value (field '__index')"}),
    [](const auto& info) { return info.param.name; });

TEST_F(LuaSecurityTest, BannedGlobalsAreAbsentHoweverTheyAreLookedUp) {
  ASSERT_NO_FATAL_FAILURE(install_hostile(R"lua(
    local banned = { "io", "os", "debug", "package", "dofile", "loadfile", "require",
                     "loadstring", "module", "setfenv", "getfenv", "newproxy", "unpack" }
    local found = {}
    local function is_banned(name)
      for _, b in ipairs(banned) do
        if name == b then return true end
      end
      return false
    end
    for _, name in ipairs(banned) do
      if _G[name] ~= nil or _ENV[name] ~= nil or rawget(_G, name) ~= nil then
        found[#found + 1] = name
      end
    end
    for name in pairs(_G) do
      if is_banned(name) then found[#found + 1] = "pairs(_G)." .. name end
    end
    for name in pairs(string) do
      if name == "dump" then found[#found + 1] = "pairs(string).dump" end
    end
    if string.dump ~= nil or ("").dump ~= nil then found[#found + 1] = "string.dump" end
    -- The loaded-modules table is not reachable either.
    if load("return package")() ~= nil then found[#found + 1] = "load:package" end
    return {
      found = outlet.array(found),
      string_metatable = type(getmetatable("")),
      library_metatable = type(getmetatable(string)),
    }
  )lua"));
  Attempt attack = request_attack();
  ASSERT_TRUE(attack.ok()) << attack.message();
  EXPECT_EQ(attack.value().at("found"), Json::array());
  // getmetatable on shared tables answers a guard (a string), never the table.
  EXPECT_EQ(attack.value().at("string_metatable"), "string");
  EXPECT_EQ(attack.value().at("library_metatable"), "string");
  expect_all_well();
}

TEST_F(LuaSecurityTest, LoadRefusesABinaryChunkBuiltByHand) {
  // A Lua 5.4 binary chunk header (lundump.c checkHeader), then a function body.
  ASSERT_NO_FATAL_FAILURE(install_hostile(R"lua(
    local header = string.pack("<c4BBc6BBBjn", "\27Lua", 0x54, 0, "\x19\x93\r\n\x1a\n",
                               4, 8, 8, 0x5678, 370.5)
    local chunk = header .. "\1" .. string.rep("\0", 64)
    assert(#chunk > 31 and chunk:byte(1) == 27)
    local errors = {}
    local f, err = load(chunk)
    if f then return { loaded = "string" } end
    errors[#errors + 1] = err
    f, err = load(chunk, "=binary", "b")  -- asking for binary mode changes nothing
    if f then return { loaded = "mode b" } end
    errors[#errors + 1] = err
    local pieces, i = { "\27", chunk:sub(2) }, 0
    f, err = load(function() i = i + 1 return pieces[i] end)
    if f then return { loaded = "reader" } end
    errors[#errors + 1] = err
    -- Text chunks still load, in the plugin's own environment.
    assert(load("return 40 + 2")() == 42)
    error(table.concat(errors, " | "), 0)
  )lua"));
  Attempt attack = request_attack();
  expect_failed(attack, ErrorCode::kPluginError,
                HasSubstr("attempt to load a binary chunk (mode is 't') | attempt to load a binary "
                          "chunk (mode is 't') | attempt to load a binary chunk (mode is 't')"));
  expect_all_well();
}

TEST_F(LuaSecurityTest, LoadRefusesAChunkOverTheSizeLimit) {
  ASSERT_NO_FATAL_FAILURE(install_hostile(R"lua(
    -- Under the limit is fine.
    assert(load("return 41 + 1" .. string.rep(" ", 200 * 1024))() == 42)
    local errors = {}
    local f, err = load("return 1" .. string.rep(" ", 300 * 1024))
    if f then return { loaded = "string" } end
    errors[#errors + 1] = err
    local sent = 0
    f, err = load(function()
      if sent == 5 then return nil end
      sent = sent + 1
      return string.rep(" ", 64 * 1024)
    end)
    if f then return { loaded = "reader" } end
    errors[#errors + 1] = err
    error(table.concat(errors, " | "), 0)
  )lua"));
  Attempt attack = request_attack();
  expect_failed(attack, ErrorCode::kPluginError,
                ::testing::AllOf(HasSubstr("chunk of 307208 bytes is over the 256 KiB limit"),
                                 HasSubstr("| load: chunk of"),
                                 ::testing::ContainsRegex("over the 256 KiB limit.*over the 256 "
                                                          "KiB limit")));
  expect_all_well();
}

TEST_F(LuaSecurityTest, CollectGarbageOnlyCounts) {
  ASSERT_NO_FATAL_FAILURE(install_hostile(R"lua(
    local kilobytes = collectgarbage("count")
    assert(type(kilobytes) == "number" and kilobytes > 0, "count works")
    local options = { "stop", "restart", "step", "isrunning", "incremental", "generational",
                      "setpause", "setstepmul" }
    for _, option in ipairs(options) do
      local ok, err = pcall(collectgarbage, option)
      assert(not ok, option .. " was allowed")
      assert(err:find("only \"count\"", 1, true), err)
    end
    collectgarbage()  -- "collect", the default
    return { collected = true }
  )lua"));
  Attempt attack = request_attack();
  expect_failed(attack, ErrorCode::kPluginError,
                HasSubstr("collectgarbage(\"collect\") is not available to plugins (only "
                          "\"count\")"));
  expect_all_well();
}

}  // namespace
}  // namespace outlet::lua_security
