// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/tomato_export.h>
#include <tomato/registry/registry.h>

#include <QtCore/QSharedDataPointer>
#include <QtCore/QStringList>
#include <functional>
#include <memory>

namespace Tomato {

class RegistryFactoryData;
class RpcConfig;

// Makes the registry that name-service-uri names, by the URI's scheme. static:// is built in;
// a backend in a library of its own adds its scheme to a factory
// (Tomato::ZooKeeperRegistry::registerScheme(factory) for zookeeper://), so the core library
// never links a registry client and a new backend touches no other.
//
//     Tomato::RegistryFactory registries;
//     Tomato::ZooKeeperRegistry::registerScheme(registries);
//     std::unique_ptr<Tomato::Registry> registry = registries.create(config);
//
// A value, implicitly shared; one thread at a time. The registries it makes live on the
// thread that calls create().
class TOMATO_EXPORT RegistryFactory
{
public:
    // Makes a registry for `uri` (with its scheme) and `config`, owned by the caller. Throws
    // RpcError(BadArguments) for a URI it cannot use.
    using Creator = std::function<std::unique_ptr<Registry>(const QString &uri, const RpcConfig &config,
                                                           QObject *parent)>;

    RegistryFactory(); // knows static://
    RegistryFactory(const RegistryFactory &other);
    RegistryFactory &operator=(const RegistryFactory &other);
    ~RegistryFactory();

    // Adds a scheme; a creator for the same scheme is replaced.
    void registerScheme(const QString &scheme, Creator creator);
    QStringList schemes() const; // sorted

    // The registry of config.nameServiceUri(): null for an empty URI. A URI without a scheme
    // (Tomato-RPC's "127.0.0.1:2181") is zookeeper://. Throws RpcError(BadArguments) for a
    // scheme no backend registered (naming those known) or a malformed URI.
    std::unique_ptr<Registry> create(const RpcConfig &config, QObject *parent = nullptr) const;

private:
    QSharedDataPointer<RegistryFactoryData> d;
};

} // namespace Tomato
