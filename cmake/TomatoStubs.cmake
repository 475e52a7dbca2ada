# tomato_add_stubs(<target> <interface headers>...)
#
# For each header: runs moc --output-json on it and tomato-stubgen on the result, and adds
# the generated <header>_stub.h/.cpp to <target>. Include "<header>_stub.h" to get
# <Interface>Stub classes. The target must link Tomato::Rpc and see the header's includes.
function(tomato_add_stubs target)
    if(TARGET Tomato::stubgen)
        set(_stubgen $<TARGET_FILE:Tomato::stubgen>)
    else()
        message(FATAL_ERROR "tomato_add_stubs: tomato-stubgen is not available")
    endif()
    set(_outdir ${CMAKE_CURRENT_BINARY_DIR}/tomato_stubs/${target})
    file(MAKE_DIRECTORY ${_outdir})
    foreach(_header IN LISTS ARGN)
        get_filename_component(_abs ${_header} ABSOLUTE)
        get_filename_component(_base ${_header} NAME_WE)
        set(_json ${_outdir}/moc_${_base}.cpp.json)
        add_custom_command(
            OUTPUT ${_json}
            COMMAND Qt6::moc --output-json -o ${_outdir}/moc_${_base}.cpp ${_abs}
            DEPENDS ${_abs} Qt6::moc
            COMMENT "moc --output-json ${_header}"
            VERBATIM)
        add_custom_command(
            OUTPUT ${_outdir}/${_base}_stub.h ${_outdir}/${_base}_stub.cpp
            COMMAND ${_stubgen} --json ${_json} --header ${_abs} --output-dir ${_outdir} --basename ${_base}
            DEPENDS ${_json} Tomato::stubgen
            COMMENT "tomato-stubgen ${_header}"
            VERBATIM)
        target_sources(${target} PRIVATE ${_outdir}/${_base}_stub.h ${_outdir}/${_base}_stub.cpp)
        set_source_files_properties(${_outdir}/${_base}_stub.h ${_outdir}/${_base}_stub.cpp
            PROPERTIES SKIP_AUTOMOC ON SKIP_AUTOUIC ON)
    endforeach()
    target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${_outdir}>)
endfunction()
