# SPDX-License-Identifier: Apache-2.0
# cmake -P script: installs the package into a temporary prefix, then builds and runs, as a
# user would, projects outside the tree against it:
# - consumer: find_package(TomatoRpc), Tomato::Rpc and tomato_add_stubs() in one program;
# - apilib + apiclient: a shared API library with hidden visibility holding an interface
#   and its exported stub, installed with its own package, and a client linked against the
#   installed copy.
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
    endif()
    message(STATUS "${out}")
endfunction()
function(build project)
    run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/${project} -B ${WORK_DIR}/${project} -G Ninja
        -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix
        -DCMAKE_BUILD_TYPE=Debug)
    run(${CMAKE_COMMAND} --build ${WORK_DIR}/${project} -j2)
endfunction()
set(ENV{LD_LIBRARY_PATH} ${WORK_DIR}/prefix/lib)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)

build(consumer)
run(${WORK_DIR}/consumer/consumer)

build(apilib)
run(${CMAKE_COMMAND} --install ${WORK_DIR}/apilib)
file(REMOVE_RECURSE ${WORK_DIR}/apilib) # the client must not find anything in the build tree
build(apiclient)
run(${WORK_DIR}/apiclient/calc-client)
