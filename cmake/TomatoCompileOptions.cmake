# SPDX-License-Identifier: Apache-2.0
# Per-target compile options, applied with tomato_target_defaults(<target>) so that no
# directory-wide flags leak into consumers.
# tomato_target_defaults(<target> [WARN_ONLY <sources>...]): WARN_ONLY puts the warnings (errors
# in a developer build) on those sources alone, for a target that also compiles generated code
# (qmlcachegen's) that is not ours to keep warning-free.
set(TOMATO_WARNINGS -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor -Wcast-align -Wformat=2)
if(TOMATO_DEVELOPER)
    list(APPEND TOMATO_WARNINGS -Werror)
endif()
function(tomato_target_defaults target)
    cmake_parse_arguments(arg "" "" "WARN_ONLY" ${ARGN})
    if(arg_WARN_ONLY)
        set_source_files_properties(${arg_WARN_ONLY} PROPERTIES COMPILE_OPTIONS "${TOMATO_WARNINGS}")
    else()
        target_compile_options(${target} PRIVATE ${TOMATO_WARNINGS})
    endif()
    if(TOMATO_SANITIZE)
        target_compile_options(${target} PRIVATE -fsanitize=address,undefined
            -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
        target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    endif()
    if(TOMATO_TSAN)
        target_compile_options(${target} PRIVATE -fsanitize=thread -fno-omit-frame-pointer)
        target_link_options(${target} PRIVATE -fsanitize=thread)
    endif()
    target_compile_definitions(${target} PRIVATE QT_NO_URL_CAST_FROM_STRING
        QT_NO_NARROWING_CONVERSIONS_IN_CONNECT)
endfunction()
