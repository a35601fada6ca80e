// The fulcrum CLI's subcommands. Each registers its options on the app and returns the
// function that runs it; the CLI uses only the public API in include/fulcrum.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace fulcrum::cli {

using Command = std::function<int()>;

Command add_run_command(CLI::App& app);
Command add_inspect_command(CLI::App& app);

// Prints "error: <message>" to stderr and returns the CLI's failure exit code (1).
int fail(const std::string& message);

}  // namespace fulcrum::cli
