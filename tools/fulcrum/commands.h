// The fulcrum CLI's subcommands. Each registers its options on the app and returns the
// function that runs it; the CLI uses only the public API in include/fulcrum.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <string>

#include "fulcrum/fulcrum.h"

namespace fulcrum::cli {

using Command = std::function<int()>;

Command add_run_command(CLI::App& app);
Command add_inspect_command(CLI::App& app);
Command add_bench_command(CLI::App& app);

// Prints "error: <message>" to stderr and returns the CLI's failure exit code (1).
int fail(const std::string& message);

// The backends --backend accepts, by name.
const std::map<std::string, BackendKind>& backend_names();
std::string backend_name(BackendKind kind);

// Adds --threads and --backend to a command that builds an engine with `config`.
void add_engine_options(CLI::App& command, BuilderConfig& config);

// Reads an --input spec, NAME=FILE.npy.
Result<NamedTensor> load_input(const std::string& spec);

}  // namespace fulcrum::cli
