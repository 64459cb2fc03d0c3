#include "os/process.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <climits>
#include <cstdlib>
#include <ctime>

#include <malloc.h>
#include <sys/auxv.h>
#include <unistd.h>

namespace baton {

std::string executable_path() {
  // AT_EXECFN: the path given to execve, needing no /proc.
  auto execfn = reinterpret_cast<const char*>(::getauxval(AT_EXECFN));
  char buf[PATH_MAX];
  if (execfn != nullptr && ::realpath(execfn, buf) != nullptr)
    return buf;
  auto n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n > 0)
    return std::string{buf, static_cast<size_t>(n)};
  return execfn != nullptr ? execfn : "baton";
}

std::string executable_dir() {
  auto path = executable_path();
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

int64_t wall_clock_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void setup_logging(const char* process, const char* level_name) {
  auto logger = spdlog::stderr_logger_mt(process);
  logger->set_pattern(std::string{"%Y-%m-%dT%H:%M:%S.%fZ "} + process
                        + " %l: %v",
                      spdlog::pattern_time_type::utc);
  auto level = spdlog::level::info;
  if (level_name == nullptr)
    level_name = std::getenv("BATON_LOG_LEVEL");
  if (level_name != nullptr)
    level = spdlog::level::from_str(level_name);
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

} // namespace baton
