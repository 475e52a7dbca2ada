#pragma once
#include <tomato/core/rpcconfig.h>
#include <tomato/registry/registry.h>
#include <tomato/registry/zookeeper/tomato_zookeeper_export.h>

#include <memory>

namespace Tomato {

// The registry name-service-uri selects: empty -> none (direct stubs only);
// static://host:port,... -> a StaticRegistry; zookeeper://hosts or host:port[,host:port...]
// -> a ZooKeeperRegistry (session timeout registry-session-timeout-ms, empty-protection).
// Throws RpcError(BadArguments) for a malformed URI. The caller owns the result and uses it
// on the creating thread.
TOMATO_ZOOKEEPER_EXPORT std::unique_ptr<Registry> createRegistry(const RpcConfig &config,
                                                                QObject *parent = nullptr);

} // namespace Tomato
