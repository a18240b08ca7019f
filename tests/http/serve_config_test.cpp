#include "http/serve_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "support/test_support.h"

namespace outlet::http {
namespace {

using ::testing::HasSubstr;

class ServeConfigTest : public ::testing::Test {
 protected:
  std::string file(const std::string& content, const std::string& name = "outlet.json") {
    const std::string path = (dir_.path() / name).string();
    std::ofstream(path) << content;
    return path;
  }
  outlet::testing::TempDir dir_{"outlet-serve-config"};
};

TEST_F(ServeConfigTest, DefaultsAreUsableAsTheyAre) {
  auto config = load_serve_config({});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->listen_address, "127.0.0.1");
  EXPECT_EQ(config->listen_port, 8080);
  EXPECT_EQ(config->plugins_dir, "outlet-data/plugins");
  EXPECT_EQ(config->io_threads, 2u);
  EXPECT_TRUE(config->wasm_wasi);
}

TEST_F(ServeConfigTest, FlagsBeatTheEnvironmentWhichBeatsTheFile) {
  ServeConfigSources sources;
  sources.file = file(R"({"listen": "0.0.0.0:9000", "data_dir": "/srv/a", "io_threads": 3,
                          "strike_limit": 7, "wasm_wasi": false})");
  sources.env = {{"OUTLET_DATA_DIR", "/srv/b"}, {"OUTLET_IO_THREADS", "4"}};
  sources.flags = {{"io_threads", "5"}};
  auto config = load_serve_config(sources);
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->listen_address, "0.0.0.0");
  EXPECT_EQ(config->listen_port, 9000);
  EXPECT_EQ(config->data_dir, "/srv/b");
  EXPECT_EQ(config->plugins_dir, "/srv/b/plugins");
  EXPECT_EQ(config->io_threads, 5u);
  EXPECT_EQ(config->strike_limit, 7u);
  EXPECT_FALSE(config->wasm_wasi);
}

TEST_F(ServeConfigTest, TheConfigFileCanComeFromAFlagOrTheEnvironment) {
  const std::string path = file(R"({"tenant": "studio"})");
  EXPECT_EQ(load_serve_config({.flags = {{"config", path}}})->tenant, "studio");
  EXPECT_EQ(load_serve_config({.env = {{"OUTLET_CONFIG", path}}})->tenant, "studio");
}

TEST_F(ServeConfigTest, EveryBadValueIsReportedWithItsSourceAndRule) {
  ServeConfigSources sources;
  sources.file = file(R"({"listen": "nowhere", "io_threads": 0, "wasm_wasi": "yes",
                          "data_dri": "/x"})");
  sources.env = {{"OUTLET_MAX_BODY_BYTES", "lots"}};
  sources.flags = {{"strike_limit", "-1"}};
  auto config = load_serve_config(sources);
  ASSERT_FALSE(config.ok());
  const std::string text = config.error().to_string();
  EXPECT_THAT(text, HasSubstr("listen (" + sources.file + "): must be \"address:port\""));
  EXPECT_THAT(text, HasSubstr("io_threads (" + sources.file + "): must be between 1 and 64"));
  EXPECT_THAT(text, HasSubstr("wasm_wasi (" + sources.file + "): must be true or false"));
  EXPECT_THAT(text, HasSubstr("data_dri (" + sources.file + "): unknown setting"));
  EXPECT_THAT(text, HasSubstr("data_dir"));  // the suggestion
  EXPECT_THAT(text, HasSubstr("max_body_bytes (environment OUTLET_MAX_BODY_BYTES): must be a "
                              "whole number"));
  EXPECT_THAT(text, HasSubstr("strike_limit (--strike-limit): must be a whole number"));
}

TEST_F(ServeConfigTest, UnreadableMalformedAndTomlFilesAreRefused) {
  EXPECT_FALSE(load_serve_config({.file = (dir_.path() / "missing.json").string()}).ok());
  auto malformed = load_serve_config({.file = file("{\"listen\": ")});
  ASSERT_FALSE(malformed.ok());
  EXPECT_THAT(malformed.error().message(), HasSubstr("configuration file"));
  EXPECT_FALSE(load_serve_config({.file = file("[1, 2]")}).ok());
  auto toml = load_serve_config({.file = file("listen = \"x\"", "outlet.toml")});
  ASSERT_FALSE(toml.ok());
  EXPECT_THAT(toml.error().to_string(), HasSubstr("must be a JSON file"));
}

TEST_F(ServeConfigTest, ListenAcceptsBracketedIpv6AndPortZero) {
  auto config = load_serve_config({.flags = {{"listen", "[::1]:0"}}});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->listen_address, "::1");
  EXPECT_EQ(config->listen_port, 0);
  EXPECT_FALSE(load_serve_config({.flags = {{"listen", "127.0.0.1:70000"}}}).ok());
  EXPECT_FALSE(load_serve_config({.flags = {{"listen", ":80"}}}).ok());
}

}  // namespace
}  // namespace outlet::http
