// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/client/invokerstats.h>
#include <tomato/client/stub.h>
#include <tomato/core/endpoint.h>
#include <tomato/core/rpcconfig.h>
#include <tomato/core/tomato_export.h>
#include <tomato/registry/registry.h>
#include <QtCore/QObject>
#include <memory>

namespace Tomato {

// Entry point of the calling side: owns the client I/O threads and one connection per
// instance address, shared by every stub that targets it; creates stubs.
//
// Addresses carry their transport: tcp://host:port, tls://host:port, unix:///path; one without
// a scheme uses `transport` (tcp by default). Instances found through a registry say their
// transport themselves (a TLS instance is called over TLS).
//
// Threads: create and destroy it on one thread; stubs it creates may be used from any
// thread, many calls at once. The destructor fails every call in flight with ClientClosed
// and stops the I/O threads; stubs that outlive it fail their calls with ClientClosed.
// Never block on a call from inside a continuation that runs on a client I/O thread.
//
// Errors: stub creation throws RpcError(BadArguments) when the interface uses a type that
// cannot be marshalled or an address is malformed; calls fail with RpcError, as described in
// rpcerror.h (a connection that cannot be made or a TLS handshake that fails: ConnectFailed).
class TOMATO_EXPORT RpcClient : public QObject
{
    Q_OBJECT
public:
    explicit RpcClient(const RpcConfig &config = RpcConfig(), QObject *parent = nullptr);
    ~RpcClient() override;

    // A channel straight to one instance, without a registry (the original createDirectStub).
    // Channels with the same address and connection index share one connection.
    std::shared_ptr<Channel> directChannel(const Endpoint &address, int connection = 0);

    // A stub of Interface calling one address directly. The stub type is the generated
    // <Interface>Stub (tomato_add_stubs()); include its header.
    template<class Interface>
    std::unique_ptr<typename StubFor<Interface>::Type>
    createDirectStub(const Endpoint &address, const StubOptions &options = {})
    {
        return std::make_unique<typename StubFor<Interface>::Type>(directChannel(address, options.connection()),
                                                                   options);
    }
    // "tls://host:port", "unix:///path", or "host:port" with the configured transport. Throws
    // RpcError(BadArguments) when the text is none of these.
    template<class Interface>
    std::unique_ptr<typename StubFor<Interface>::Type>
    createDirectStub(const QString &address, const StubOptions &options = {})
    {
        return createDirectStub<Interface>(endpoint(address), options);
    }
    // host and port, with the configured transport.
    template<class Interface>
    std::unique_ptr<typename StubFor<Interface>::Type>
    createDirectStub(const QString &host, quint16 port, const StubOptions &options = {})
    {
        return createDirectStub<Interface>(Endpoint(config().transport(), host, port), options);
    }

    // Finds instances through a registry (not owned; it must outlive this client or be
    // unset first): starts it and subscribes to every `subscribed-services` entry in the
    // client's stage. Stubs from stub<Interface>() then call the instances of the client's
    // group, or of the group `subscribed-services-group` names for that service.
    void setRegistry(Registry *registry);
    Registry *registry() const;
    // Subscribes to one more service (stub<>() does it for services not configured). Called on
    // another thread than the client's, it is queued to the client's thread.
    void subscribe(const QString &microServiceId);
    // The instances calls of that service go to now, as addresses (tcp://host:port).
    QStringList instances(const QString &microServiceId) const;
    // How calls to each instance have gone (of one service, or of all with an empty id):
    // a thread-safe snapshot (docs/CLUSTER.md#statistics).
    QList<InvokerStats> invokers(const QString &microServiceId = {}) const;

    // A stub of Interface over the registry: each call goes to one known instance of the
    // interface's micro-service (Q_CLASSINFO "microServiceId"), chosen by the load balancer;
    // with none known, calls fail with NoProvider.
    template<class Interface>
    std::unique_ptr<typename StubFor<Interface>::Type> stub(const StubOptions &options = {})
    {
        return std::make_unique<typename StubFor<Interface>::Type>(
            clusterChannel(microServiceIdOf(Interface::staticMetaObject)), options);
    }
    std::shared_ptr<Channel> clusterChannel(const QString &microServiceId);
    static QString microServiceIdOf(const QMetaObject &interface);

    // `address` as an Endpoint, with the configured transport when it names none. Throws
    // RpcError(BadArguments) when malformed or without a port.
    Endpoint endpoint(const QString &address) const;
    const RpcConfig &config() const;
    // Calls in flight over all connections (for tests and monitoring).
    int callsInFlight() const;

Q_SIGNALS:
    void instancesChanged(const QString &microServiceId, const QStringList &addresses);
    // The live overrides of a service's instances changed and are applied.
    void overridesChanged(const QString &microServiceId);

private:
    void updateInstances(const QString &microServiceId, const QString &stage,
                         const QList<Tomato::InstanceInfo> &instances);
    void updateOverrides(const QString &microServiceId, const QString &stage,
                         const Tomato::InstanceOverrides &overrides);
    std::shared_ptr<class ClientCore> d;
};

} // namespace Tomato
