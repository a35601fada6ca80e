// fulcrum: build, run and inspect inference engines from ONNX models.
#include <cstdio>
#include <exception>
#include <map>

#include "commands.h"
#include "fulcrum/fulcrum.h"

namespace fulcrum::cli {

int fail(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

}  // namespace fulcrum::cli

int main(int argc, char** argv) {
  using namespace fulcrum::cli;
  CLI::App app{"Fulcrum: an inference engine for ONNX models (FP32 on the CPU's reference backend today)."};
  app.set_version_flag("--version", std::string("fulcrum ") + fulcrum::version_string());
  app.require_subcommand(1);
  std::map<CLI::App*, Command> commands;
  auto add = [&](Command (*make)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    Command c = make(app);
    commands[app.get_subcommands({})[before]] = std::move(c);
  };
  add(add_run_command);
  add(add_inspect_command);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, run] : commands)
      if (sub->parsed()) return run();
  } catch (const std::exception& e) {
    return fail(std::string("unexpected failure: ") + e.what());
  }
  return fail("no command given");
}
