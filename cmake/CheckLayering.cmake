# Checks that no file includes a header from a layer above its own:
#
#   messages  <-  os, job  <-  actors/*.hpp  <-  actors/agent, actors/bootstrap  <-  apps
#
# os and job do not use each other, nor agent and bootstrap. Run as
# `cmake -DROOT=<source dir> -P CheckLayering.cmake`; fails listing every
# wrong-way include.

# What each folder may include, as regexes over the included path.
set(allowed_messages "^messages/")
set(allowed_os "^(messages|os)/")
set(allowed_job "^(messages|job)/")
set(allowed_actors "^(messages/|actors/[^/]+$)")
set(allowed_agent "^(messages/|os/|job/|actors/[^/]+$|actors/agent/)")
set(allowed_bootstrap "^(messages/|os/|job/|actors/[^/]+$|actors/bootstrap/)")

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

if(violations)
  list(JOIN violations "\n  " text)
  message(FATAL_ERROR "includes against the layering:\n  ${text}")
endif()
message(STATUS "layering: every include points down")
