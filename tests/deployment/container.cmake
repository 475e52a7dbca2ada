# SPDX-License-Identifier: Apache-2.0
# tst_deployment: the container image definition (packaging/container/Containerfile) and the
# Kubernetes manifests (packaging/kubernetes/), checked without a container engine or a
# cluster: the manifests parse and agree with each other and with the sources, the real
# sample server accepts every TOMATO_RPC_* variable they set, and the image installs what the
# packaging builds (check_deployment.py says what exactly). It runs `cmake --install` of this
# build into a temporary directory, so it needs the build done first.
if(TARGET tomato-sample-server)
    add_test(NAME tst_deployment
        COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/check_deployment.py
            --source ${PROJECT_SOURCE_DIR} --build ${PROJECT_BINARY_DIR}
            --sample-server $<TARGET_FILE:tomato-sample-server>)
    set_tests_properties(tst_deployment PROPERTIES TIMEOUT 180)
endif()
