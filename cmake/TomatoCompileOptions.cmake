# Per-target compile options, applied with tomato_target_defaults(<target>) so that no
# directory-wide flags leak into consumers.
function(tomato_target_defaults target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local
        -Wnon-virtual-dtor -Wcast-align -Wformat=2)
    if(TOMATO_DEVELOPER)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
    if(TOMATO_SANITIZE)
        target_compile_options(${target} PRIVATE -fsanitize=address,undefined
            -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
        target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    endif()
    target_compile_definitions(${target} PRIVATE QT_NO_URL_CAST_FROM_STRING
        QT_NO_NARROWING_CONVERSIONS_IN_CONNECT)
endfunction()
