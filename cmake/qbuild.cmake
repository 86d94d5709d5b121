# qbuild from CMake. Every decision (model steps, the runtime's sources and flags, a board's flags, support sources and
# linker script, the footprint check) is qbuild's own, asked of `python -m qbuild`; this file only wires it into CMake.
#
#   include(path/to/qbuild.cmake)
#   qbuild_board(BOARD efr32)                       # the board's C/C++ flags for every target of this directory
#   qbuild_model(NAME digits_model MODEL models/digits/model.py [DATA raw.npz] [NORM mean_std] [OUT dir])
#   qbuild_runtime(TARGET qbuild_runtime MODEL digits_model)   # static library with only the model's ops
#   add_executable(firmware)                        # your sources, or:
#   qbuild_main(TARGET firmware MODEL digits_model BOARD efr32)  # qbuild's own main.cc for the board
#   target_link_libraries(firmware PRIVATE digits_model qbuild_runtime)
#   qbuild_firmware(TARGET firmware BOARD efr32)    # support sources, linker script, the board's link flags
#   qbuild_footprint(TARGET firmware BOARD efr32)   # after the link: flash/RAM check, fails the build over budget
#   qbuild_run(TARGET firmware MODEL digits_model BOARD qemu-m33)   # target firmware_run: bit-exact with the reference
#
# Cache variables: QBUILD_PYTHON (the interpreter that has qbuild: `QBUILD_PYTHON -m qbuild` must work) and
# QBUILD_PYTHONPATH (optional: a qbuild checkout that is not installed, put on PYTHONPATH for every qbuild command).
# Configure-time queries (source lists, flags, artifact paths) are not redone when qbuild itself changes: re-run cmake.
# Model commands run in the directory that called qbuild_model (relative MODEL/DATA paths are taken from there too).
include_guard(GLOBAL)

set(QBUILD_PYTHON "python3" CACHE FILEPATH "Python interpreter with qbuild (QBUILD_PYTHON -m qbuild)")
set(QBUILD_PYTHONPATH "" CACHE PATH "added to PYTHONPATH for python -m qbuild (a qbuild checkout not installed)")

# _qbuild_command(<var>): the command line prefix that runs `python -m qbuild`.
function(_qbuild_command var)
  if(QBUILD_PYTHONPATH)
    set(${var} "${CMAKE_COMMAND}" -E env "PYTHONPATH=${QBUILD_PYTHONPATH}" "${QBUILD_PYTHON}" -m qbuild PARENT_SCOPE)
  else()
    set(${var} "${QBUILD_PYTHON}" -m qbuild PARENT_SCOPE)
  endif()
endfunction()

# qbuild_query(<var> <args>... [WORKING_DIRECTORY dir]): `python -m qbuild <args>` at configure time, one item per line
# of its output -> a CMake list.
function(qbuild_query var)
  cmake_parse_arguments(PARSE_ARGV 1 Q "" "WORKING_DIRECTORY" "")
  if(NOT Q_WORKING_DIRECTORY)
    set(Q_WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}")
  endif()
  _qbuild_command(cmd)
  execute_process(COMMAND ${cmd} ${Q_UNPARSED_ARGUMENTS} WORKING_DIRECTORY "${Q_WORKING_DIRECTORY}"
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " args "${Q_UNPARSED_ARGUMENTS}")
    message(FATAL_ERROR "qbuild: `${QBUILD_PYTHON} -m qbuild ${args}` failed (${rc}): ${err}"
                        "Set QBUILD_PYTHON to a Python with qbuild (or QBUILD_PYTHONPATH to a qbuild checkout).")
  endif()
  string(REPLACE "\n" ";" out "${out}")
  set(${var} "${out}" PARENT_SCOPE)
endfunction()

# _qbuild_model_property(<var> <model target> <property>): a qbuild_model() property, with a clear error for a name that
# is not a qbuild_model.
function(_qbuild_model_property var model prop)
  if(NOT TARGET "${model}")
    message(FATAL_ERROR "qbuild: MODEL ${model} is not a target; declare it with qbuild_model(NAME ${model} ...) first")
  endif()
  get_target_property(value "${model}" "${prop}")
  if(value STREQUAL "value-NOTFOUND")
    message(FATAL_ERROR "qbuild: ${model} was not made by qbuild_model(); pass the NAME given to qbuild_model")
  endif()
  set(${var} "${value}" PARENT_SCOPE)
endfunction()

# qbuild_board(BOARD <id|board.toml>): the board's flags for every target declared after it in this directory: C flags
# for C and C++ (CPU, -ffunction-sections ...), the small-firmware C++ flags for C++ (`python -m qbuild board --cflags`,
# `--cxx-only-flags`). The compilers themselves come from the toolchain (e.g. examples/cmake/arm-none-eabi.cmake).
function(qbuild_board)
  cmake_parse_arguments(PARSE_ARGV 0 Q "" "BOARD" "")
  qbuild_query(cflags board "${Q_BOARD}" --cflags)
  qbuild_query(cxxonly board "${Q_BOARD}" --cxx-only-flags)
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:${cflags}>" "$<$<COMPILE_LANGUAGE:CXX>:${cxxonly}>")
endfunction()

# qbuild_model(NAME <target> MODEL <name|model.py|.keras|.tflite> [DATA raw.npz] [NORM mode] [OUT dir]): run
# `python -m qbuild build` (reruns when the model's inputs change; qbuild's own stamps skip steps whose inputs did not),
# and declare <target>: a static library of the model's C array whose include directory has sl_tflite_micro_model.h.
function(qbuild_model)
  cmake_parse_arguments(PARSE_ARGV 0 Q "" "NAME;MODEL;DATA;NORM;OUT" "")
  if(NOT Q_NAME OR NOT Q_MODEL)
    message(FATAL_ERROR "qbuild_model: NAME and MODEL are required")
  endif()
  set(args "${Q_MODEL}")
  if(Q_MODEL MATCHES "\\.(py|keras|h5|tflite)$")
    get_filename_component(model "${Q_MODEL}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    set(args "${model}")
  endif()
  if(Q_DATA)
    get_filename_component(data "${Q_DATA}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND args --data "${data}")
  endif()
  if(Q_NORM)
    list(APPEND args --norm "${Q_NORM}")
  endif()
  if(NOT Q_OUT)
    set(Q_OUT "${CMAKE_CURRENT_BINARY_DIR}/qbuild-models")
  endif()
  get_filename_component(out "${Q_OUT}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  list(APPEND args --out "${out}")

  foreach(what dir tflite samples carray inputs)
    qbuild_query(${what} firmware paths ${args} --get ${what})
  endforeach()
  # The model's inputs are known to CMake only through qbuild: re-configure when one is added (e.g. a new .py).
  set(stamp "${dir}/.cmake-build.stamp")
  set(outputs "${tflite}" ${carray})
  if(samples AND NOT samples IN_LIST inputs)
    list(APPEND outputs "${samples}")   # the dataset built from a spec
  endif()
  _qbuild_command(cmd)
  add_custom_command(
    OUTPUT "${stamp}" ${outputs}
    COMMAND ${cmd} build ${args}
    COMMAND "${CMAKE_COMMAND}" -E touch "${stamp}"
    DEPENDS ${inputs}
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
    COMMENT "qbuild: model ${Q_NAME} (${Q_MODEL})"
    VERBATIM)
  # One owner of the command: every target using its outputs depends on ${Q_NAME}_artifacts (with Makefiles, each
  # target that names an output gets its own copy of the rule; the order keeps the copies from running twice).
  add_custom_target(${Q_NAME}_artifacts DEPENDS "${stamp}")
  list(FILTER carray INCLUDE REGEX "\\.c$")
  add_library(${Q_NAME} STATIC ${carray})
  add_dependencies(${Q_NAME} ${Q_NAME}_artifacts)
  target_include_directories(${Q_NAME} PUBLIC "${dir}")
  set_target_properties(${Q_NAME} PROPERTIES QBUILD_MODEL_ARGS "${args}" QBUILD_WORKDIR "${CMAKE_CURRENT_SOURCE_DIR}"
                        QBUILD_TFLITE "${tflite}" QBUILD_SAMPLES "${samples}" QBUILD_STAMP "${stamp}")
endfunction()

# qbuild_runtime(TARGET <lib> [MODEL <qbuild_model target>]): qbuild's runtime as a static library compiled with the
# runtime's one flag set (`python -m qbuild runtime --cxxflags`, also for C++ sources of targets linking it) on top of
# the directory's flags. With MODEL, the op
# table source is compiled with `-include qbuild_ops.h` of that model: only its ops are linked.
function(qbuild_runtime)
  cmake_parse_arguments(PARSE_ARGV 0 Q "" "TARGET;MODEL" "")
  if(NOT Q_TARGET)
    message(FATAL_ERROR "qbuild_runtime: TARGET is required")
  endif()
  qbuild_query(sources runtime --sources)
  qbuild_query(op_table runtime --op-table-source)
  qbuild_query(includes runtime --include-dirs)
  qbuild_query(cxxflags runtime --cxxflags)
  list(REMOVE_ITEM sources "${op_table}")

  add_library(${Q_TARGET}_op_table OBJECT "${op_table}")
  if(Q_MODEL)
    _qbuild_model_property(tflite ${Q_MODEL} QBUILD_TFLITE)
    _qbuild_model_property(stamp ${Q_MODEL} QBUILD_STAMP)
    set(header "${CMAKE_CURRENT_BINARY_DIR}/${Q_TARGET}/qbuild_ops.h")
    _qbuild_command(cmd)
    add_custom_command(OUTPUT "${header}" COMMAND ${cmd} ops "${tflite}" "${header}" DEPENDS "${tflite}" "${stamp}"
                       COMMENT "qbuild: op table of ${Q_MODEL}" VERBATIM)
    target_sources(${Q_TARGET}_op_table PRIVATE "${header}")   # generated before registry.cc compiles
    add_dependencies(${Q_TARGET}_op_table ${Q_MODEL}_artifacts)
    target_compile_options(${Q_TARGET}_op_table PRIVATE "SHELL:-include \"${header}\"")
  endif()
  add_library(${Q_TARGET} STATIC ${sources} $<TARGET_OBJECTS:${Q_TARGET}_op_table>)
  # PUBLIC: C++ sources that include the runtime's headers (main.cc) get the same set, as in qbuild's own firmware.
  foreach(t ${Q_TARGET} ${Q_TARGET}_op_table)
    target_include_directories(${t} PUBLIC ${includes})
    target_compile_options(${t} PUBLIC "$<$<COMPILE_LANGUAGE:CXX>:${cxxflags}>")
  endforeach()
endfunction()

# qbuild_main(TARGET <executable> MODEL <qbuild_model target> BOARD <board> [OUTPUT main.cc]): qbuild's main.cc for
# the board as a source of TARGET: it runs the model on samples of its data and prints one line per sample (what
# qbuild_run compares with the reference). Default OUTPUT: <TARGET>-main.cc in the current binary directory.
function(qbuild_main)
  cmake_parse_arguments(PARSE_ARGV 0 Q "" "TARGET;OUTPUT;MODEL;BOARD" "")
  if(NOT Q_OUTPUT)
    set(Q_OUTPUT "${Q_TARGET}-main.cc")
  endif()
  _qbuild_model_property(args ${Q_MODEL} QBUILD_MODEL_ARGS)
  _qbuild_model_property(workdir ${Q_MODEL} QBUILD_WORKDIR)
  _qbuild_model_property(stamp ${Q_MODEL} QBUILD_STAMP)
  qbuild_query(board_file board "${Q_BOARD}" --board-file)
  get_filename_component(output "${Q_OUTPUT}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  _qbuild_command(cmd)
  add_custom_command(OUTPUT "${output}" COMMAND ${cmd} firmware main ${args} --board "${Q_BOARD}" "${output}"
                     DEPENDS "${stamp}" "${board_file}" WORKING_DIRECTORY "${workdir}"
                     COMMENT "qbuild: main.cc of ${Q_MODEL} for ${Q_BOARD}" VERBATIM)
  target_sources(${Q_TARGET} PRIVATE "${output}")
  add_dependencies(${Q_TARGET} ${Q_MODEL}_artifacts)
endfunction()

# qbuild_firmware(TARGET <executable> BOARD <board>): what the board's firmware links: startup/syscalls/stdout support
# sources, the generated linker script (bare-metal boards) and the board's link flags; linked by the C driver (there is
# no ARM libstdc++ to link, and the runtime needs none).
function(qbuild_firmware)
  cmake_parse_arguments(PARSE_ARGV 0 Q "" "TARGET;BOARD" "")
  qbuild_query(support board "${Q_BOARD}" --support-sources)
  qbuild_query(includes board "${Q_BOARD}" --include-dirs)
  qbuild_query(ldflags board "${Q_BOARD}" --ldflags)
  qbuild_query(bare_metal board "${Q_BOARD}" --bare-metal)
  qbuild_query(board_file board "${Q_BOARD}" --board-file)
  target_sources(${Q_TARGET} PRIVATE ${support})
  target_include_directories(${Q_TARGET} PRIVATE ${includes})
  target_link_options(${Q_TARGET} PRIVATE ${ldflags})
  if(bare_metal)
    set(script "${CMAKE_CURRENT_BINARY_DIR}/${Q_TARGET}.ld")
    _qbuild_command(cmd)
    add_custom_command(OUTPUT "${script}" COMMAND ${cmd} board "${Q_BOARD}" --linker-script "${script}"
                       DEPENDS "${board_file}" COMMENT "qbuild: linker script for ${Q_BOARD}" VERBATIM)
    add_custom_target(${Q_TARGET}_linker_script DEPENDS "${script}")
    add_dependencies(${Q_TARGET} ${Q_TARGET}_linker_script)
    target_link_options(${Q_TARGET} PRIVATE "SHELL:-T \"${script}\"")
    set_property(TARGET ${Q_TARGET} APPEND PROPERTY LINK_DEPENDS "${script}")
    set_target_properties(${Q_TARGET} PROPERTIES LINKER_LANGUAGE C SUFFIX ".elf")
    # The C driver: CMake must not add the C++ implicit libraries (-lstdc++) to the link either.
    set(CMAKE_CXX_IMPLICIT_LINK_LIBRARIES "" PARENT_SCOPE)
  endif()
endfunction()

# qbuild_footprint(TARGET <executable> BOARD <board> [MAP file.map] [BASELINE old.json] [MAX_GROWTH bytes]
#                  [MARGIN spec]...): after each link, `python -m qbuild size` writes <target>-footprint.json/.md and
# fails the build when over budget (the report is written first; the check reruns until it passes). Without MAP the
# link writes <target>.map next to the executable.
function(qbuild_footprint)
  cmake_parse_arguments(PARSE_ARGV 0 Q "" "TARGET;BOARD;MAP;BASELINE;MAX_GROWTH" "MARGIN")
  qbuild_query(board_file board "${Q_BOARD}" --board-file)
  if(NOT Q_MAP)
    set(Q_MAP "${CMAKE_CURRENT_BINARY_DIR}/${Q_TARGET}.map")
    target_link_options(${Q_TARGET} PRIVATE "LINKER:-Map=${Q_MAP}")
  endif()
  set(base "${CMAKE_CURRENT_BINARY_DIR}/${Q_TARGET}-footprint")
  set(opts --json "${base}.json" --markdown "${base}.md")
  set(deps "${board_file}")
  if(Q_BASELINE)
    list(APPEND opts --baseline "${Q_BASELINE}")
    list(APPEND deps "${Q_BASELINE}")
  endif()
  if(Q_MAX_GROWTH)
    list(APPEND opts --max-growth "${Q_MAX_GROWTH}")
  endif()
  foreach(m ${Q_MARGIN})
    list(APPEND opts --margin "${m}")
  endforeach()
  _qbuild_command(cmd)
  add_custom_command(
    OUTPUT "${base}.stamp"
    BYPRODUCTS "${base}.json" "${base}.md"
    COMMAND ${cmd} size "$<TARGET_FILE:${Q_TARGET}>" --board "${Q_BOARD}" --map "${Q_MAP}" ${opts}
    COMMAND "${CMAKE_COMMAND}" -E touch "${base}.stamp"
    DEPENDS ${Q_TARGET} ${deps}
    COMMENT "qbuild: footprint of ${Q_TARGET} on ${Q_BOARD}"
    VERBATIM)
  add_custom_target(${Q_TARGET}_footprint ALL DEPENDS "${base}.stamp")
endfunction()

# qbuild_run(TARGET <executable> MODEL <qbuild_model target> BOARD <board>): target <executable>_run runs firmware made
# with qbuild_main on the board's runner (QEMU or native) and fails unless its output is bit-exact with the reference;
# <executable>-run.json lists every differing value.
function(qbuild_run)
  cmake_parse_arguments(PARSE_ARGV 0 Q "" "TARGET;MODEL;BOARD" "")
  _qbuild_model_property(args ${Q_MODEL} QBUILD_MODEL_ARGS)
  _qbuild_model_property(workdir ${Q_MODEL} QBUILD_WORKDIR)
  _qbuild_model_property(stamp ${Q_MODEL} QBUILD_STAMP)
  set(base "${CMAKE_CURRENT_BINARY_DIR}/${Q_TARGET}-run")
  _qbuild_command(cmd)
  add_custom_command(
    OUTPUT "${base}.stamp"
    BYPRODUCTS "${base}.json"
    COMMAND ${cmd} firmware run ${args} --board "${Q_BOARD}" --elf "$<TARGET_FILE:${Q_TARGET}>" --json "${base}.json"
    COMMAND "${CMAKE_COMMAND}" -E touch "${base}.stamp"
    DEPENDS ${Q_TARGET} "${stamp}"
    WORKING_DIRECTORY "${workdir}"
    COMMENT "qbuild: run ${Q_TARGET} on ${Q_BOARD}"
    VERBATIM)
  add_custom_target(${Q_TARGET}_run DEPENDS "${base}.stamp")
  add_dependencies(${Q_TARGET}_run ${Q_MODEL}_artifacts)
endfunction()
