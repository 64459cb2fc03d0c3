# Checks that no file includes a header from a layer above its own:
#
#   messages  <-  os, job  <-  actors/*.hpp  <-  actors/agent, actors/bootstrap  <-  apps
#
# os and job do not use each other, nor agent and bootstrap. Beside the
# layers: integration/support (processes, directories, waits) uses none of
# baton's code, since it drives the binary; the integration tests use it and
# their harness; the benchmarks use it and the libraries below apps, never
# the gtest harness. Run as `cmake -DROOT=<source dir> -P
# CheckLayering.cmake`; fails listing every wrong-way include.

# What each folder may include, as regexes over the included path.
set(allowed_messages "^messages/")
set(allowed_os "^(messages|os)/")
set(allowed_job "^(messages|job)/")
set(allowed_actors "^(messages/|actors/[^/]+$)")
set(allowed_agent "^(messages/|os/|job/|actors/[^/]+$|actors/agent/)")
set(allowed_bootstrap "^(messages/|os/|job/|actors/[^/]+$|actors/bootstrap/)")
set(allowed_support "^integration/support/")
set(allowed_integration "^integration/")
set(allowed_bench "^(messages|os|job|actors|integration/support|bench)/")

set(violations "")

# Checks the includes of `files` against the rule `allowed_<rule>`.
function(check rule)
  foreach(source ${ARGN})
    file(STRINGS "${source}" includes REGEX "^#include \"")
    foreach(line ${includes})
      string(REGEX REPLACE "^#include \"([^\"]+)\".*" "\\1" header "${line}")
      if(NOT header MATCHES "${allowed_${rule}}")
        file(RELATIVE_PATH rel "${ROOT}" "${source}")
        list(APPEND violations "${rel} includes ${header}")
      endif()
    endforeach()
  endforeach()
  set(violations "${violations}" PARENT_SCOPE)
endfunction()

foreach(rule messages os job)
  file(GLOB_RECURSE sources "${ROOT}/${rule}/*.cpp" "${ROOT}/${rule}/*.hpp")
  check(${rule} ${sources})
endforeach()
foreach(rule agent bootstrap)
  file(GLOB_RECURSE sources "${ROOT}/actors/${rule}/*.cpp"
       "${ROOT}/actors/${rule}/*.hpp")
  check(${rule} ${sources})
endforeach()
# The files directly in actors/, not its subfolders.
file(GLOB sources "${ROOT}/actors/*.cpp" "${ROOT}/actors/*.hpp")
check(actors ${sources})
file(GLOB_RECURSE sources "${ROOT}/integration/support/*.cpp"
     "${ROOT}/integration/support/*.hpp")
check(support ${sources})
# The files directly in integration/, not its support library.
file(GLOB sources "${ROOT}/integration/*.cpp" "${ROOT}/integration/*.hpp")
check(integration ${sources})
file(GLOB_RECURSE sources "${ROOT}/bench/*.cpp" "${ROOT}/bench/*.hpp")
check(bench ${sources})

if(violations)
  list(JOIN violations "\n  " text)
  message(FATAL_ERROR "includes against the layering:\n  ${text}")
endif()
message(STATUS "layering: every include points down")
