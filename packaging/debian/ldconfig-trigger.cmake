# SPDX-License-Identifier: Apache-2.0
# CPack post-build script: the runtime package refreshes the loader's cache with dpkg's
# ldconfig trigger, as Debian policy asks (lintian: lacks-ldconfig-trigger), instead of the
# postinst and postrm calling ldconfig that CPack writes for every package holding a shared
# library in /usr/lib (maintscript-calls-ldconfig). The package is unpacked, those two
# scripts are replaced by a `triggers` file, and it is packed again.
foreach(deb IN LISTS CPACK_PACKAGE_FILES)
    get_filename_component(name ${deb} NAME)
    if(NOT name MATCHES "^${CPACK_TOMATO_RUNTIME_PACKAGE}_")
        continue()
    endif()
    set(root ${CPACK_TOPLEVEL_DIRECTORY}/ldconfig-trigger)
    file(REMOVE_RECURSE ${root})
    execute_process(COMMAND dpkg-deb -R ${deb} ${root} COMMAND_ERROR_IS_FATAL ANY)
    file(REMOVE ${root}/DEBIAN/postinst ${root}/DEBIAN/postrm)
    file(WRITE ${root}/DEBIAN/triggers "activate-noawait ldconfig\n")
    file(CHMOD ${root}/DEBIAN/triggers PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
    execute_process(COMMAND dpkg-deb --root-owner-group -Zxz --build ${root} ${deb}
        OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)
    file(REMOVE_RECURSE ${root})
endforeach()
