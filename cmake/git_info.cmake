# Writes OUTPUT: a C++ file defining locus::io::git_commit() and git_dirty() from the git
# checkout at SOURCE_DIR, as it is now. Run at every build (a custom target, see the top-level
# CMakeLists.txt), so the values are those of the build, not of the last configure; the file is
# rewritten only when a value changes, so an unchanged checkout recompiles nothing.
# Outside a git checkout (a source tarball) the commit is "unknown" and dirty is false.
# Usage: cmake -DSOURCE_DIR=... -DOUTPUT=... -P git_info.cmake
execute_process(COMMAND git rev-parse HEAD WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
                RESULT_VARIABLE failed)
set(dirty false)
if(failed OR NOT commit)
  set(commit unknown)
else()
  # Tracked files that differ from HEAD (untracked files do not make a build dirty).
  execute_process(COMMAND git status --porcelain --untracked-files=no
                  WORKING_DIRECTORY ${SOURCE_DIR} OUTPUT_VARIABLE changes ERROR_QUIET)
  if(changes)
    set(dirty true)
  endif()
endif()
set(text "// Generated at build time by cmake/git_info.cmake. Do not edit.
namespace locus::io {
const char* git_commit() { return \"${commit}\"; }
bool git_dirty() { return ${dirty}; }
}  // namespace locus::io
")
set(old "")
if(EXISTS ${OUTPUT})
  file(READ ${OUTPUT} old)
endif()
if(NOT old STREQUAL text)
  file(WRITE ${OUTPUT} "${text}")
endif()
