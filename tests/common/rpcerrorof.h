// SPDX-License-Identifier: Apache-2.0
#pragma once
// What a call failed with, for tests: the RpcError it threw (a default one, code Ok, when it
// threw nothing), or just its code.
#include <tomato/core/rpcerror.h>

#include <functional>

inline Tomato::RpcError errorOf(const std::function<void()> &call)
{
    try {
        call();
    } catch (const Tomato::RpcError &e) {
        return e;
    }
    return Tomato::RpcError();
}

inline Tomato::RpcError::Code codeOf(const std::function<void()> &call)
{
    return errorOf(call).code();
}
