// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/registry/registry.h>

namespace Tomato {

// A fixed list of instances (`static://host:port,tls://host:port,...`; an address without a
// scheme is tcp), for fixed deployments and tests. Every subscription sees every listed address, as an instance of the subscribed
// service and stage with an empty group (which every client group accepts). Registering
// does nothing: there is nothing to announce to. Lives on its creating thread.
class StaticRegistry : public Registry
{
    Q_OBJECT
public:
    // `uri`: static://address[,address...]; throws RpcError(BadArguments) when malformed.
    explicit StaticRegistry(const QString &uri, QObject *parent = nullptr);

    void start() override;
    void stop() override;
    void registerInstance(const InstanceInfo &instance) override;
    void unregisterInstance(const InstanceInfo &instance) override;
    void subscribe(const QString &microServiceId, const QString &stage) override;
    QList<InstanceInfo> instances(const QString &microServiceId, const QString &stage) const override;
    bool isConnected() const override { return true; }

private:
    QList<Endpoint> m_addresses;
};

} // namespace Tomato
