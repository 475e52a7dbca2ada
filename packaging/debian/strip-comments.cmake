# SPDX-License-Identifier: Apache-2.0
# CPack pre-build script: what dh_strip does beyond CPACK_STRIP_FILES. The compiler's
# identification (.comment) and the .note section are removed from every ELF file of the
# staging area (lintian: binary-has-unneeded-section), before the packages and their md5sums
# are made.
file(GLOB_RECURSE files LIST_DIRECTORIES false "${CPACK_TEMPORARY_DIRECTORY}/*")
set(stripped 0)
foreach(f IN LISTS files)
    if(IS_SYMLINK "${f}")
        continue()
    endif()
    file(READ "${f}" magic LIMIT 4 HEX)
    if(NOT magic STREQUAL "7f454c46")
        continue()
    endif()
    execute_process(COMMAND ${CPACK_TOMATO_STRIP} --remove-section=.comment --remove-section=.note "${f}"
        COMMAND_ERROR_IS_FATAL ANY)
    math(EXPR stripped "${stripped} + 1")
endforeach()
if(stripped EQUAL 0)
    message(FATAL_ERROR "strip-comments.cmake: no ELF file under ${CPACK_TEMPORARY_DIRECTORY}")
endif()
