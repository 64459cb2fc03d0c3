#include "actors/nodes.hpp"

#include "messages/atoms.hpp"

#include <caf/io/middleman.hpp>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include <malloc.h>

namespace baton {

node_config::node_config(size_t workers) {
  load<caf::io::middleman>();
  // Work sharing: idle workers block on a condition variable and wake at
  // once. The default work stealing polls and, once idle, sleeps 10 ms
  // between polls, which would add up to 10 ms to every hand-off.
  set("scheduler.policy", caf::atom("sharing"));
  set("scheduler.max-threads", workers);
  set("middleman.workers", 0);
  set("logger.verbosity", caf::atom("quiet"));
  baton::add_message_types(*this);
}

void setup_logging(const char* process) {
  auto logger = spdlog::stderr_logger_mt(process);
  logger->set_pattern(std::string{"%Y-%m-%dT%H:%M:%S.%fZ "} + process
                        + " %l: %v",
                      spdlog::pattern_time_type::utc);
  auto level = spdlog::level::info;
  if (auto text = std::getenv("BATON_LOG_LEVEL"))
    level = spdlog::level::from_str(text);
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

void use_one_arena() {
  mallopt(M_ARENA_MAX, 1);
}

void tune_allocator() {
  mallopt(M_MMAP_THRESHOLD, 2 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
}

int exit_status_for(int32_t wait_status) {
  if (wait_status < 0 || wait_status > 255)
    return 255;
  return wait_status;
}

} // namespace baton
