# SPDX-License-Identifier: Apache-2.0
# tomato_add_stubs(<target> [HEADERS] <interface header>...
#                  [INCLUDE_PREFIX <dir/>]
#                  [EXPORT_MACRO <name> [EXPORT_HEADER <file>]]
#                  [INSTALL_DESTINATION <include root>])
#
# Makes <target> (usually the API library that clients and servers link) carry the client
# stubs of the interfaces in each header: runs moc --output-json and tomato-stubgen on it and
# adds the generated <header>_stub.h/.cpp; include "<INCLUDE_PREFIX><header>_stub.h" to get
# the <Interface>Stub classes. tomato-stubgen refuses interface mistakes with one line each
# (docs/STUBS.md, "Build-time checks").
#
# - The interface's own moc output is compiled into <target> too, unless AUTOMOC already
#   does it (the header, or a source of the same name beside it, is among <target>'s sources
#   when this is called): a server implementing the interface links <target> and needs
#   nothing else. List the interface header in no other target.
# - INCLUDE_PREFIX: how users include the interface, e.g. "echo/" for <echo/echoservice.h>.
#   The generated header includes the interface that way and is itself found as
#   <echo/echoservice_stub.h>; the header's path must end with the prefix. Default: none,
#   the file name alone.
# - EXPORT_MACRO: put on every stub class, for a shared library built with hidden
#   visibility (GenerateExportHeader's <NAME>_EXPORT); EXPORT_HEADER is the header that
#   defines it, included by the generated header as written.
# - INSTALL_DESTINATION: installs the interface headers and their stub headers under
#   <include root>/<INCLUDE_PREFIX> and adds <include root> to <target>'s installed include
#   directories (install(TARGETS ... EXPORT ...) of <target> stays yours).
#
# <target> gets PUBLIC include directories for the stub and interface headers, and links
# Tomato::Rpc PUBLIC unless it already links it.
function(tomato_add_stubs target)
    if(NOT TARGET Tomato::stubgen)
        message(FATAL_ERROR "tomato_add_stubs: tomato-stubgen is not available (find_package(TomatoRpc) first)")
    endif()
    if(NOT TARGET ${target})
        message(FATAL_ERROR "tomato_add_stubs: ${target} is not a target: create it first (add_library or add_executable)")
    endif()
    cmake_parse_arguments(PARSE_ARGV 1 _arg "" "INCLUDE_PREFIX;EXPORT_MACRO;EXPORT_HEADER;INSTALL_DESTINATION" "HEADERS")
    set(_headers ${_arg_HEADERS} ${_arg_UNPARSED_ARGUMENTS})
    if(NOT _headers)
        message(FATAL_ERROR "tomato_add_stubs(${target}): no interface headers given")
    endif()
    if(_arg_EXPORT_HEADER AND NOT _arg_EXPORT_MACRO)
        message(FATAL_ERROR "tomato_add_stubs(${target}): EXPORT_HEADER without EXPORT_MACRO")
    endif()
    set(_prefix "${_arg_INCLUDE_PREFIX}")
    if(_prefix AND NOT _prefix MATCHES "/$")
        string(APPEND _prefix "/")
    endif()

    set(_root ${CMAKE_CURRENT_BINARY_DIR}/tomato_stubs/${target})
    set(_outdir ${_root}/${_prefix})
    file(MAKE_DIRECTORY ${_outdir})

    # What AUTOMOC will moc already: the target's sources, and the header beside each source
    # file of the same name (AUTOMOC's own rule), as absolute paths without extension.
    get_target_property(_sources ${target} SOURCES)
    get_target_property(_source_dir ${target} SOURCE_DIR)
    get_target_property(_automoc ${target} AUTOMOC)
    set(_automocced "")
    if(_automoc AND _sources)
        foreach(_s IN LISTS _sources)
            if(_s MATCHES "^\\$<")
                continue() # a generator expression: cannot be judged here
            endif()
            get_filename_component(_s ${_s} ABSOLUTE BASE_DIR ${_source_dir})
            get_filename_component(_sdir ${_s} DIRECTORY)
            get_filename_component(_sname ${_s} NAME_WLE)
            list(APPEND _automocced ${_s} ${_sdir}/${_sname})
        endforeach()
    endif()

    # moc sees what the compiler sees: the target's include directories and definitions.
    set(_moc_flags
        "$<$<BOOL:$<TARGET_PROPERTY:${target},INCLUDE_DIRECTORIES>>:-I$<JOIN:$<TARGET_PROPERTY:${target},INCLUDE_DIRECTORIES>,$<SEMICOLON>-I>>"
        "$<$<BOOL:$<TARGET_PROPERTY:${target},COMPILE_DEFINITIONS>>:-D$<JOIN:$<TARGET_PROPERTY:${target},COMPILE_DEFINITIONS>,$<SEMICOLON>-D>>")
    set(_stubgen_flags "")
    if(_arg_EXPORT_MACRO)
        list(APPEND _stubgen_flags --export-macro ${_arg_EXPORT_MACRO})
    endif()
    if(_arg_EXPORT_HEADER)
        list(APPEND _stubgen_flags --export-header ${_arg_EXPORT_HEADER})
    endif()

    set(_include_dirs "")
    set(_stub_headers "")
    foreach(_header IN LISTS _headers)
        get_filename_component(_abs ${_header} ABSOLUTE)
        get_filename_component(_name ${_header} NAME)
        get_filename_component(_base ${_header} NAME_WLE)
        get_filename_component(_dir ${_abs} DIRECTORY)
        if(NOT EXISTS ${_abs})
            message(FATAL_ERROR "tomato_add_stubs(${target}): ${_header} does not exist")
        endif()
        # The directory from which "<prefix><name>" resolves to this header.
        if(_prefix)
            string(LENGTH "/${_prefix}${_name}" _tail)
            string(LENGTH "${_abs}" _len)
            math(EXPR _start "${_len} - ${_tail}")
            if(_start LESS 0)
                set(_start 0)
            endif()
            string(SUBSTRING "${_abs}" ${_start} -1 _ending)
            if(NOT _ending STREQUAL "/${_prefix}${_name}")
                message(FATAL_ERROR "tomato_add_stubs(${target}): ${_header} is not found as "
                    "\"${_prefix}${_name}\": INCLUDE_PREFIX must be the end of the header's directory")
            endif()
            string(SUBSTRING "${_abs}" 0 ${_start} _dir)
        endif()
        list(APPEND _include_dirs ${_dir})

        set(_moc_cpp ${_root}/moc_${_base}.cpp)
        set(_json ${_moc_cpp}.json)
        add_custom_command(
            OUTPUT ${_moc_cpp} ${_json}
            COMMAND Qt6::moc --output-json --no-notes ${_moc_flags} -o ${_moc_cpp} ${_abs}
            DEPENDS ${_abs} Qt6::moc
            COMMENT "moc --output-json ${_header}"
            COMMAND_EXPAND_LISTS
            VERBATIM)
        add_custom_command(
            OUTPUT ${_outdir}${_base}_stub.h ${_outdir}${_base}_stub.cpp
            COMMAND Tomato::stubgen --json ${_json} --header ${_abs} --output-dir ${_outdir} --basename ${_base}
                    --include ${_prefix}${_name} ${_stubgen_flags}
            DEPENDS ${_json} ${_abs} Tomato::stubgen
            COMMENT "tomato-stubgen ${_header}"
            VERBATIM)
        set(_generated ${_outdir}${_base}_stub.h ${_outdir}${_base}_stub.cpp)
        get_filename_component(_abs_wle ${_abs} NAME_WLE)
        if(NOT (_abs IN_LIST _automocced OR "${_dir}/${_prefix}${_abs_wle}" IN_LIST _automocced))
            list(APPEND _generated ${_moc_cpp})
        endif()
        target_sources(${target} PRIVATE ${_generated})
        set_source_files_properties(${_generated} PROPERTIES SKIP_AUTOMOC ON SKIP_AUTOUIC ON SKIP_AUTORCC ON)
        list(APPEND _stub_headers ${_outdir}${_base}_stub.h)

        if(_arg_INSTALL_DESTINATION)
            install(FILES ${_abs} ${_outdir}${_base}_stub.h DESTINATION ${_arg_INSTALL_DESTINATION}/${_prefix})
        endif()
    endforeach()

    list(REMOVE_DUPLICATES _include_dirs)
    foreach(_dir IN LISTS _include_dirs ITEMS ${_root})
        target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${_dir}>)
    endforeach()
    if(_arg_INSTALL_DESTINATION)
        target_include_directories(${target} PUBLIC $<INSTALL_INTERFACE:${_arg_INSTALL_DESTINATION}>)
    endif()

    get_target_property(_links ${target} LINK_LIBRARIES)
    if(NOT ("Tomato::Rpc" IN_LIST _links OR "TomatoRpc" IN_LIST _links OR "TomatoRpcInternal" IN_LIST _links))
        target_link_libraries(${target} PUBLIC Tomato::Rpc)
    endif()
endfunction()
