#include "cli/table_options.hpp"

#include <iostream>

#include "locus/io/memory.hpp"

namespace locus::cli {

void add_list_options_flag(CLI::App* app, const TableFlags& flags) {
  // A callback flag runs while CLI11 parses, before it checks required options, so that
  // `locus analyze --list-options` works without --params.
  app->add_flag_callback(
      "--list-options",
      [&flags] {
        flags.apply();
        std::cout << flags.list() << std::flush;
        throw CLI::Success();
      },
      "print the options with their values (defaults unless given) and exit");
}

io::Json to_json(const OutputOptions& o) {
  // max_memory: the limit in effect, in GiB (--max-memory or its default).
  return {{"json", o.json},
          {"threads", o.threads},
          {"max_memory", io::max_memory_bytes() / double(1 << 30)}};
}

}  // namespace locus::cli
