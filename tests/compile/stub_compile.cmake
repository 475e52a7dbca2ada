# SPDX-License-Identifier: Apache-2.0
# cmake -P script: generates the stub of HEADER as tomato_add_stubs() does and compiles it
# (syntax only); the compiler's output is printed for the test's PASS_REGULAR_EXPRESSION.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
get_filename_component(base ${HEADER} NAME_WE)
execute_process(COMMAND ${MOC} --output-json --no-notes -o ${WORK_DIR}/moc_${base}.cpp ${HEADER}
    COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${STUBGEN} --json ${WORK_DIR}/moc_${base}.cpp.json --header ${HEADER}
    --output-dir ${WORK_DIR} --basename ${base} COMMAND_ERROR_IS_FATAL ANY)
separate_arguments(flags UNIX_COMMAND "${FLAGS}")
execute_process(COMMAND ${CXX} -std=c++17 -fsyntax-only -fPIC ${flags} -I${WORK_DIR}
    -I${CMAKE_CURRENT_LIST_DIR} ${WORK_DIR}/${base}_stub.cpp
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(rc EQUAL 0)
    message(FATAL_ERROR "${base}_stub.cpp compiled, but it must not")
endif()
